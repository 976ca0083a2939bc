"""Per-example overlap of a benchmark with a filter: the measurement behind ``overlap``.

For every example: its n-grams, how many the filter holds, the overlap fraction and the matched
character spans in the original text. An example with fewer than n units has no n-gram: it is
"too short to test", never "clean", and it stays out of every percentage.

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
                "matches": self.matches}


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
            windows = window_spans(coder.spans(text, codes[i]), n)[hit[bounds[i] : bounds[i + 1]]]
            result.spans = merge_spans(windows).tolist()
            result.matches = [text[s:e] for s, e in result.spans]
        results.append(result)
    return results


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
