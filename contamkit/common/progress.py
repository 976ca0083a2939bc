"""Progress bars and log lines: the only way library code talks to the user."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from tqdm.auto import tqdm

log = logging.getLogger("contam")


def setup_logging(verbose: bool = False) -> None:
    """Plain one-line messages on stderr; called once by the CLI."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(message)s", stream=sys.stderr
    )


def progress(**kwargs: Any) -> tqdm:
    """A tqdm bar on stderr, hidden when CONTAM_PROGRESS=0 (tests, CI logs)."""
    disable = kwargs.pop("disable", False) or os.environ.get("CONTAM_PROGRESS", "1") == "0"
    return tqdm(file=sys.stderr, dynamic_ncols=True, disable=disable, **kwargs)
