"""The one record every benchmark loader yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Example:
    """One benchmark item.

    ``id`` is stable across runs and machines (``"<benchmark>/<split>/<key>"``), so overlap
    results and evaluation scores can be joined on it. ``text`` is the item as the release
    writes it, so character spans found in it by the overlap tools point into the original.
    ``fields`` holds what an evaluation needs (see benchmarks/README.md per benchmark).
    """

    id: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)
