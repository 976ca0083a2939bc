"""Per-example overlap of a benchmark with a filter: the measurement behind ``overlap``.

For every example: its n-grams, how many the filter holds, the overlap fraction and the matched
character spans in the original text. An example with fewer than n units has no n-gram: it is
"too short to test", never "clean", and it stays out of every percentage.

Each example also keeps its matched *runs*: the unit spans [start, end) of maximal runs of
consecutive matched n-gram positions (k matched windows in a row match k + n - 1 units
contiguously, as far as the filter can tell). The runs determine every matched position, so the
contamination measures of ``overlap.contamination`` (longest match, coverage, Llama-2 style
token contamination, ...) are computed from ``examples.jsonl`` without a second pass over the
filter. Where the benchmark declares the part of an example the model is scored on
(``Benchmark.scored_field``, e.g. LAMBADA's target word), ``scored_from`` is the index of its
first unit, so matches can be restricted to the scored part or to its context.

Two aggregate measures, because they answer different questions:

* ``overlap_pct``: found n-gram positions / all n-gram positions of the benchmark, the measure
  of the paper's Table 6 (long examples weigh more);
* ``mean_example_overlap_pct``: the mean of the per-example percentages, the paper's "average
  overlap" of LAMBADA examples (every testable example weighs the same).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from contamkit.common.progress import progress
from overlap.bloom import BloomFilter
from overlap.ngrams import segment_hashes
from overlap.options import DEFAULT_EDGES
from overlap.spans import SpanCoder, merge_spans, window_spans

_CODE_BATCH = 1024  # texts coded per call (one progress step)


@dataclass
class ExampleOverlap:
    id: str
    units: int
    ngrams: int
    found: int
    spans: list[list[int]] = field(default_factory=list)  # merged [start, end) of matches
    matches: list[str] = field(default_factory=list)  # the text of each span
    runs: list[list[int]] = field(default_factory=list)  # unit [start, end) of matched runs
    scored_from: int | None = None  # first unit of the scored part (where runs are non-empty)

    @property
    def too_short(self) -> bool:
        return self.ngrams == 0

    @property
    def overlap_pct(self) -> float | None:
        return None if self.too_short else 100.0 * self.found / self.ngrams

    @property
    def status(self) -> str:
        if self.too_short:
            return "too short to test"
        return "overlap" if self.found else "clean"

    def row(self) -> dict:
        return {"id": self.id, "units": self.units, "ngrams": self.ngrams, "found": self.found,
                "overlap_pct": self.overlap_pct, "status": self.status, "spans": self.spans,
                "matches": self.matches, "runs": self.runs, "scored_from": self.scored_from}


def measure_texts(ids: Sequence[str], texts: Sequence[str], bloom: BloomFilter, coder: SpanCoder,
                  desc: str = "examples") -> list[ExampleOverlap]:
    """Look up every n-gram of every text in ``bloom`` (n and seed are the filter's)."""
    n, seed = bloom.params.n, bloom.params.seed
    codes: list[np.ndarray] = []
    with progress(total=len(texts), desc=desc, unit="ex") as bar:
        for start in range(0, len(texts), _CODE_BATCH):
            codes += coder.codes(texts[start : start + _CODE_BATCH])
            bar.update(min(_CODE_BATCH, len(texts) - start))
    h1, h2, counts = segment_hashes(codes, n, seed)
    hit = bloom.contains(h1, h2)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    owner = np.repeat(np.arange(len(texts)), counts)
    found = np.bincount(owner, weights=hit, minlength=len(texts)).astype(np.int64)
    results = []
    for i, text in enumerate(texts):
        result = ExampleOverlap(ids[i], len(codes[i]), int(counts[i]), int(found[i]))
        if found[i]:  # spans only where something matched: most examples are clean
            mine = hit[bounds[i] : bounds[i + 1]]
            windows = window_spans(coder.spans(text, codes[i]), n)[mine]
            result.spans = merge_spans(windows).tolist()
            result.matches = [text[s:e] for s, e in result.spans]
            result.runs = matched_runs(mine, n).tolist()
        results.append(result)
    return results


def matched_runs(hit: np.ndarray, n: int) -> np.ndarray:
    """Unit spans [start, end) of the maximal runs of consecutive matched n-gram positions:
    windows s..e-1 matched cover units s..e+n-2.

    >>> matched_runs(np.array([0, 1, 1, 0, 0, 1], bool), 3).tolist()
    [[1, 5], [5, 8]]
    """
    edges = np.diff(np.concatenate([[0], hit.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return np.stack([starts, ends + n - 1], axis=1).astype(np.int64)


def scored_offset(text: str, part: object) -> int | None:
    """Character offset in ``text`` where its scored part ``part`` (a string ending the text,
    e.g. LAMBADA's " word") begins; None when it is not found."""
    if not isinstance(part, str) or not part.strip():
        return None
    at = text.rfind(part.strip())
    return None if at < 0 else at


def mark_scored(results: Sequence[ExampleOverlap], texts: Sequence[str],
                offsets: Sequence[int | None], coder: SpanCoder) -> int:
    """Set ``scored_from`` (the first unit whose span ends after the offset) on the examples
    that have matched runs; returns how many of those have no scored part found."""
    todo = [i for i, r in enumerate(results) if r.runs]
    missing = 0
    for i, codes in zip(todo, coder.codes([texts[i] for i in todo]), strict=True):
        if offsets[i] is None:
            missing += 1
            continue
        ends = coder.spans(texts[i], codes)[:, 1]
        results[i].scored_from = int(np.searchsorted(ends, offsets[i], side="right"))
    return missing


def bucket_label(low: float, high: float | None) -> str:
    if high is None:
        return f"> {low:g} %"
    return f"{low:g} %" if low == high else f"({low:g}, {high:g} %]"


def bucket_bounds(edges: Sequence[float]) -> list[tuple[float, float | None]]:
    """``edges`` 0, 15 -> [0, 0], (0, 15], (15, inf): exactly zero is always its own bucket."""
    edges = sorted({0.0, *map(float, edges)})
    return [(0.0, 0.0), *zip(edges, [*edges[1:], None], strict=True)]


def summarize(results: Sequence[ExampleOverlap], edges: Sequence[float] = DEFAULT_EDGES) -> dict:
    """The aggregate figures of ``summary.json`` (benchmark and filter keys added by callers)."""
    tested = [r for r in results if not r.too_short]
    pcts = np.array([r.overlap_pct for r in tested], dtype=float)
    ngrams = sum(r.ngrams for r in results)
    found = sum(r.found for r in results)
    buckets = []
    for low, high in bucket_bounds(edges):
        if low == high:
            inside = pcts == low
        else:
            inside = (pcts > low) & (pcts <= high) if high is not None else pcts > low
        count = int(inside.sum())
        buckets.append({"bucket": bucket_label(low, high), "low": low, "high": high,
                        "examples": count, "share_pct": 100.0 * count / len(tested)
                        if tested else None})
    return {
        "examples": len(results),
        "too_short": len(results) - len(tested),
        "tested": len(tested),
        "ngrams": ngrams,
        "ngrams_found": found,
        "overlap_pct": 100.0 * found / ngrams if ngrams else None,
        "mean_example_overlap_pct": float(pcts.mean()) if len(pcts) else None,
        "examples_with_any_overlap": int((pcts > 0).sum()),
        "buckets": buckets,
    }
