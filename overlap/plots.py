"""PNG plots of per-example overlap that carry the finding at a glance.

Three figures, because in a real run almost every example has no overlap at all and one plot
cannot show both that and how the few overlapping ones are spread:

* ``bucket_bars``: the share of tested examples in each overlap bucket, "none" its own bar,
  the count of examples written on every bar;
* ``overlap_spread``: among the examples with any overlap only, how many have at least x % of
  their n-grams in the filter, x on a log axis (readable whether 3 or 3,000 examples overlap);
* ``contamination_by_bench``: one bar per benchmark (in the order given) for the share of
  examples with any overlap, with the share that false positives alone would flag marked.

Each ``*_figure`` function returns the matplotlib Figure (the tests inspect its axes); the
plain-named functions write it as PNG. matplotlib's object API: no pyplot state, no display.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from contamkit.common.atomic import write_figure

_SIZE = (7.0, 4.2)
_DPI = 100
_BAR = "#4477aa"
_NONE = "#bbbbbb"
_FP = "#cc3311"
NONE_LABEL = "none"
_PLAIN = FuncFormatter(lambda v, _: f"{v:g}")  # 0.01, 1, 100 rather than 10^-2, 10^0, 10^2


def _save(fig: Figure, path: Path) -> Path:
    return write_figure(fig, path, _DPI)


def _pct_text(share: float) -> str:
    """A share in percent with as many digits as it needs to be nonzero."""
    if share == 0:
        return "0 %"
    if 99 < share < 100:  # 99.92 % of examples is not "100 %"
        return f"{share:.2f} %"
    if share >= 10:
        return f"{share:.1f} %"
    if share >= 0.1:
        return f"{share:.1f} %"
    return f"{share:.2g} %"


def bucket_bars_figure(labels: Sequence[str], counts: Sequence[int], title: str) -> Figure:
    """Bars of the share of tested examples per bucket; ``labels[0]`` is the 0 % bucket."""
    counts = [int(c) for c in counts]
    tested = sum(counts)
    shares = [100.0 * c / tested if tested else 0.0 for c in counts]
    names = [NONE_LABEL if i == 0 else label for i, label in enumerate(labels)]
    fig = Figure(figsize=_SIZE)
    ax = fig.subplots()
    bars = ax.bar(names, shares, color=[_NONE] + [_BAR] * (len(names) - 1), width=0.6)
    ax.bar_label(bars, labels=[f"{c:,}\n({_pct_text(s)})" for c, s in zip(counts, shares,
                                                                         strict=True)],
                 padding=3, fontsize=9)
    ax.set_ylim(0, max(max(shares, default=0) * 1.25, 1.0))
    ax.set_xlabel("share of the example's n-grams found in the filter")
    ax.set_ylabel("tested examples (%)")
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def bucket_bars(labels: Sequence[str], counts: Sequence[int], title: str, path: Path) -> Path:
    return _save(bucket_bars_figure(labels, counts, title), path)


def overlap_spread_figure(pcts: np.ndarray, title: str) -> Figure:
    """Examples with overlap >= x among those with any (a step curve, log x from the smallest
    overlap to 100 %); a short note instead of a curve when no example overlaps."""
    pcts = np.asarray(pcts, dtype=float)
    hits = np.sort(pcts[pcts > 0])
    fig = Figure(figsize=_SIZE)
    ax = fig.subplots()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("overlap x: share of the example's n-grams found in the filter (%, log scale)")
    ax.set_ylabel("examples with overlap >= x")
    ax.spines[["top", "right"]].set_visible(False)
    if not len(hits):
        ax.set_xscale("log")
        ax.set_xlim(0.1, 100)
        ax.xaxis.set_major_formatter(_PLAIN)
        ax.set_yticks([])
        ax.text(0.5, 0.5, f"no example has any overlap (0 of {len(pcts):,} tested)",
                transform=ax.transAxes, ha="center", va="center")
        return fig
    at_least = len(hits) - np.searchsorted(hits, hits, side="left")  # examples >= each value
    low = hits[0] / 1.5
    # S(x) = examples with overlap >= x is constant on (hits[i-1], hits[i]] and 0 past the last
    ax.step(np.concatenate([[low], hits, [100.0]]), np.concatenate([[len(hits)], at_least, [0]]),
            where="pre", color=_BAR)
    ax.plot(hits, at_least, "o", ms=3, color=_BAR)
    ax.set_xscale("log")
    ax.set_xlim(low, 100 * 1.15)
    ax.xaxis.set_major_formatter(_PLAIN)
    ax.set_ylim(0, len(hits) * 1.08 + 0.5)
    ax.grid(alpha=0.3, which="both")
    full = int((hits >= 100).sum())
    ax.text(0.98, 0.96, f"{len(hits):,} of {len(pcts):,} tested examples overlap\n"
                        f"median {np.median(hits):.3g} %, {full:,} at 100 %",
            transform=ax.transAxes, fontsize=9, ha="right", va="top")
    return fig


def overlap_spread(pcts: np.ndarray, title: str, path: Path) -> Path:
    return _save(overlap_spread_figure(pcts, title), path)


def contamination_by_bench_figure(rows: Sequence[dict], title: str) -> Figure:
    """``rows``: {"label", "tested", "with_overlap", "expected_false_positive_examples"}, drawn
    top to bottom in the order given. Log x, since real shares and false-positive levels lie
    orders of magnitude apart; a benchmark with no overlapping example shows no bar, only its
    label."""
    labels = [r["label"] for r in rows]
    tested = np.array([r["tested"] for r in rows], dtype=float)
    found = np.array([r["with_overlap"] for r in rows], dtype=float)
    fp = np.array([r["expected_false_positive_examples"] for r in rows], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(tested > 0, 100 * found / tested, 0.0)
        fp_share = np.where(tested > 0, 100 * fp / tested, 0.0)
    positive = np.concatenate([share[share > 0], fp_share[fp_share > 0]])
    left = 10 ** np.floor(np.log10(positive.min() / 2)) if len(positive) else 1e-3
    fig = Figure(figsize=(_SIZE[0], 1.2 + 0.55 * len(rows)))
    ax = fig.subplots()
    y = np.arange(len(rows))
    ax.barh(y, np.where(share > 0, share - left, 0), left=left, color=_BAR, height=0.55,
            label="examples with any overlap")
    ax.plot(np.maximum(fp_share, left), y, "|", ms=18, mew=2.5, color=_FP,
            label="expected from false positives alone (n-grams × FPR)")
    for yi, s, p, f, t in zip(y, share, fp_share, found, tested, strict=True):
        ax.text(max(s, p, left) * 1.3, yi, f"{_pct_text(s)} ({int(f):,} / {int(t):,})",
                va="center", fontsize=9)
    ax.set_yticks(y, labels)
    ax.set_xscale("log")
    ax.set_xlim(left, 100 * 30)  # room for the text right of a 100 % bar
    ax.set_xticks([10.0**k for k in range(round(np.log10(left)), 3)])
    ax.xaxis.set_major_formatter(_PLAIN)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # top to bottom in the order given
    ax.set_xlabel("tested examples with any n-gram in the filter (%, log scale)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18 - 0.3 / len(rows)),
              ncols=2, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def contamination_by_bench(rows: Sequence[dict], title: str, path: Path) -> Path:
    return _save(contamination_by_bench_figure(rows, title), path)
