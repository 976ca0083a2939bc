"""Bloom filter layouts: where an n-gram's k probes land, how many bits a target false-positive
rate needs, and what a filter's bits say about its contents. ``LAYOUTS`` is the one table of
them (``build-filter --layout`` reads its choices from it); each row names the module that
implements the layout, imported when first used, so that reading the table costs nothing:

* ``classic`` (``overlap.classic``): k probes anywhere in the filter, the paper's Bloom filter;
* ``blocked`` (``overlap.blocked``): k probes in two 64-byte cache lines (docs/blocked-layout.md),
  the default for new filters.

A layout module defines ``size(capacity, fpr) -> (m, k)``, ``add(bits, h1, h2, m, k)``,
``contains(bits, h1, h2, m, k, out)`` and ``stats(bits, m, k) -> FillStats``; bits are uint8.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

STATS_BYTES = 1 << 26  # the filter is read 64 MiB at a time for its statistics


@dataclass(frozen=True)
class FillStats:
    fill_ratio: float
    estimated_distinct: float
    estimated_fpr: float


@dataclass(frozen=True)
class Layout:
    name: str
    help: str
    module: str

    def impl(self) -> ModuleType:
        return importlib.import_module(self.module)


LAYOUTS: dict[str, Layout] = {
    "classic": Layout("classic", "k probes anywhere in the filter (the paper's Bloom filter)",
                      "overlap.classic"),
    "blocked": Layout("blocked", "k probes in two 64-byte cache lines (fewer memory reads, "
                      "~15 % more bits at 1e-8)", "overlap.blocked"),
}
DEFAULT_LAYOUT = "blocked"
