"""Progress bars and log lines: the only way library code talks to the user."""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm.auto import tqdm

log = logging.getLogger("contam")


class BarSafeHandler(logging.Handler):
    """Log lines on stderr that never share a line with a progress bar.

    On a terminal ``tqdm.write`` clears the bars, prints the line and redraws them. In a file or
    pipe a bar cannot be erased (its updates are carriage returns on one line), so the message
    starts a new line of its own; the bar goes on on the line after it.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm.auto import tqdm  # here, not at the top: the CLI's start-up stays light

            stream = sys.stderr  # looked up now: tests and callers may have replaced it
            message = self.format(record)
            drawing = any(not bar.disable for bar in list(getattr(tqdm, "_instances", ())))
            if drawing and not (hasattr(stream, "isatty") and stream.isatty()):
                message = "\n" + message
            tqdm.write(message, file=stream)
        except Exception:  # logging must never raise into the caller
            self.handleError(record)


def setup_logging(verbose: bool = False) -> None:
    """Plain one-line messages on stderr, kept apart from progress bars; called once by the CLI.
    ``verbose`` adds debug lines (per-file progress and timing of a build)."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s",
                        handlers=[BarSafeHandler()])
    log.setLevel(logging.DEBUG if verbose else logging.INFO)


def progress(**kwargs: Any) -> tqdm:
    """A tqdm bar on stderr, hidden when CONTAM_PROGRESS=0 (tests, CI logs)."""
    from tqdm.auto import tqdm

    disable = kwargs.pop("disable", False) or os.environ.get("CONTAM_PROGRESS", "1") == "0"
    return tqdm(file=sys.stderr, dynamic_ncols=True, disable=disable, **kwargs)
