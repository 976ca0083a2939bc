"""Per-example contamination measures: the definitions practice disagrees on, side by side.

All are computed from one ``overlap`` run's ``examples.jsonl``: an example's unit count and its
matched *runs* (unit spans [start, end) of maximal runs of consecutive matched n-gram positions,
see ``overlap.per_example``), plus the filter's n. The runs fix every matched n-gram position,
so no measure needs the filter again.

* ``ngram_fraction``: matched n-gram positions / n-gram positions (the GPT-2 paper's measure);
* ``any_match``: 1 if any n-gram matched (GPT-3's "dirty" with n = 13);
* ``longest_run`` / ``longest_run_share``: the longest contiguous match, in units and as a share
  of the example (the measure Singh et al. 2024 found to predict the score gain best);
* ``coverage``: share of units inside some match;
* ``token_contamination``: share of units inside matches of at least L units (the Llama 2
  report's token contamination, L configurable; L <= n is plain coverage);
* ``matched_spans``: number of disjoint matched regions (touching matches are one region).

A measure may be restricted to a *part* of the example: ``scored`` (the units from the
benchmark's scored part on, e.g. LAMBADA's target word; an n-gram counts when it overlaps the
part) or ``context`` (the units before it). Examples too short for one n-gram, or without
the part asked for, have no value (nan): "not testable", never "clean".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from contamkit.common.errors import UserError

PARTS = ("all", "scored", "context")
DEFAULT_MIN_RUN = 10  # the Llama 2 report's minimum match length (tokens)


@dataclass(frozen=True)
class Matches:
    """One example's matched runs, seen through a region [start, end) of its units."""

    units: int
    n: int
    runs: np.ndarray  # (k, 2) unit spans, unclipped
    start: int = 0
    end: int | None = None  # None: units

    @property
    def stop(self) -> int:
        return self.units if self.end is None else self.end

    @property
    def windows(self) -> tuple[int, int]:
        """The n-gram positions [lo, hi) that overlap the region."""
        return max(0, self.start - self.n + 1), min(self.stop, self.units - self.n + 1)

    def clipped(self, min_length: int = 0) -> np.ndarray:
        """Runs of at least ``min_length`` units, clipped to the region, empty ones dropped."""
        runs = self.runs[self.runs[:, 1] - self.runs[:, 0] >= min_length]
        c = np.stack([np.maximum(runs[:, 0], self.start), np.minimum(runs[:, 1], self.stop)], 1)
        return c[c[:, 1] > c[:, 0]]


def union_length(spans: np.ndarray) -> int:
    """Units covered by the union of [start, end) spans."""
    return int(sum(e - s for s, e in merged(spans)))


def merged(spans: np.ndarray) -> list[tuple[int, int]]:
    """Disjoint sorted spans of the union (touching spans join)."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(map(tuple, spans.tolist())):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def ngram_fraction(m: Matches, min_run: int) -> float:
    lo, hi = m.windows
    hits = sum(max(0, min(e - m.n + 1, hi) - max(s, lo)) for s, e in m.runs.tolist())
    return hits / (hi - lo)


def any_match(m: Matches, min_run: int) -> float:
    return float(len(m.clipped()) > 0)


def longest_run(m: Matches, min_run: int) -> float:
    c = m.clipped()
    return float((c[:, 1] - c[:, 0]).max()) if len(c) else 0.0


def longest_run_share(m: Matches, min_run: int) -> float:
    return longest_run(m, min_run) / (m.stop - m.start)


def coverage(m: Matches, min_run: int) -> float:
    return union_length(m.clipped()) / (m.stop - m.start)


def token_contamination(m: Matches, min_run: int) -> float:
    return union_length(m.clipped(min_run)) / (m.stop - m.start)


def matched_spans(m: Matches, min_run: int) -> float:
    return float(len(merged(m.clipped())))


@dataclass(frozen=True)
class Measure:
    name: str
    description: str
    function: Callable[[Matches, int], float]  # (the example's matches, L) -> value
    uses_min_run: bool = False  # takes L (--min-run): one measure per L


MEASURES: dict[str, Measure] = {m.name: m for m in (
    Measure("ngram_fraction", "share of n-gram positions matched (GPT-2 paper)", ngram_fraction),
    Measure("any_match", "any n-gram matched (GPT-3)", any_match),
    Measure("longest_run", "longest contiguous match, in units", longest_run),
    Measure("longest_run_share", "longest contiguous match / units", longest_run_share),
    Measure("coverage", "share of units inside a match", coverage),
    Measure("token_contamination", "share of units inside matches of >= L units (Llama 2)",
            token_contamination, uses_min_run=True),
    Measure("matched_spans", "disjoint matched regions", matched_spans),
)}


def measure_label(name: str, min_run: int) -> str:
    """How results name a measure: ``token_contamination(L=10)`` for a measure with an L."""
    return f"{name}(L={min_run})" if MEASURES[name].uses_min_run else name


def example_matches(row: dict, n: int, part: str, where: str) -> Matches | None:
    """The region of ``row`` (an examples.jsonl row) a measure looks at; None if the example is
    too short for an n-gram or has no such part."""
    units = int(row["units"])
    if units < n:
        return None
    if "runs" not in row:
        raise UserError(f"{where}: no 'runs' (written by an older `overlap`): run `overlap` again")
    runs = np.asarray(row["runs"], dtype=np.int64).reshape(-1, 2)
    m = Matches(units, n, runs)
    if part == "all" or not len(runs):  # no match: clean in every part
        return m
    scored = row.get("scored_from")
    if scored is None:
        return None
    region = (scored, units) if part == "scored" else (0, scored)
    if region[1] <= region[0]:
        return None
    return Matches(units, n, runs, *region)


def measure_table(rows: Sequence[dict], n: int, names: Sequence[str], min_runs: Sequence[int],
                  part: str = "all", where: str = "examples.jsonl") -> dict[str, np.ndarray]:
    """label -> per-row values (nan: not testable) for every measure (one per L for a measure
    that takes one)."""
    if part not in PARTS:
        raise UserError(f"unknown part {part!r} (known: {', '.join(PARTS)})")
    unknown = [x for x in names if x not in MEASURES]
    if unknown:
        raise UserError(f"unknown measure {unknown[0]!r} (known: {', '.join(MEASURES)})")
    if any(L < 1 for L in min_runs):
        raise UserError(f"minimum run lengths must be >= 1, got {list(min_runs)}")
    regions = [example_matches(r, n, part, where) for r in rows]
    out = {}
    for name in names:
        fn = MEASURES[name].function
        for L in (min_runs if MEASURES[name].uses_min_run else (0,)):
            out[measure_label(name, L)] = np.array(
                [math.nan if m is None else fn(m, L) for m in regions], dtype=np.float64)
    return out
