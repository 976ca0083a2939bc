"""The command line a result was made by, for the provenance records files carry.

The CLI records its arguments when it starts (``record``); library code asks ``command_line``.
Called from Python without the CLI, the process's own ``sys.argv`` is the best answer there is.
"""

from __future__ import annotations

import sys
from pathlib import Path

_recorded: list[str] | None = None


def record(args: list[str]) -> None:
    """Remember the command being run: the program's name and its arguments."""
    global _recorded
    _recorded = list(args)


def command_line() -> list[str]:
    """The recorded command, else this process's arguments (the script by its file name)."""
    if _recorded is not None:
        return list(_recorded)
    return [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv else []
