"""The command line a result was made by, for the provenance records files carry.

The CLI runs each command inside ``running(args)``; library code asks ``command_line``. Called
from Python without the CLI, the process's own ``sys.argv`` is the best answer there is.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

_recorded: list[str] | None = None


@contextlib.contextmanager
def running(args: list[str]) -> Iterator[None]:
    """While the block runs, ``command_line`` is ``args`` (the program's name and arguments)."""
    global _recorded
    before, _recorded = _recorded, list(args)
    try:
        yield
    finally:
        _recorded = before


def command_line() -> list[str]:
    """The recorded command, else this process's arguments (the script by its file name)."""
    if _recorded is not None:
        return list(_recorded)
    return [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv else []
