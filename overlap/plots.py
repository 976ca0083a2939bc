"""PNG plots of per-example overlap: histogram, CDF, and the share of examples per bucket.

Figures are drawn with matplotlib's object API (no pyplot state, no display needed) and
written atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from contamkit.common.atomic import write_figure

_SIZE = (6.4, 4.0)
_DPI = 100


def _save(fig: Figure, path: Path) -> Path:
    return write_figure(fig, path, _DPI)


def histogram(pcts: np.ndarray, title: str, path: Path) -> Path:
    """Examples per 2.5 %-wide overlap bin; log scale, since most examples sit at 0 %."""
    fig = Figure(figsize=_SIZE)
    ax = fig.subplots()
    ax.hist(pcts, bins=np.linspace(0, 100, 41), color="#4477aa", edgecolor="white")
    ax.set_yscale("log")
    ax.set_xlim(0, 100)
    ax.set_xlabel("n-grams found in the filter (% of the example's n-grams)")
    ax.set_ylabel("examples (log scale)")
    ax.set_title(title)
    return _save(fig, path)


def cdf(pcts: np.ndarray, title: str, path: Path) -> Path:
    """Share of examples with overlap at most x; the jump at 0 is the clean share."""
    fig = Figure(figsize=_SIZE)
    ax = fig.subplots()
    xs = np.sort(pcts)
    ys = np.arange(1, len(xs) + 1) / max(len(xs), 1) * 100
    ax.step(np.concatenate([[0], xs, [100]]), np.concatenate([[0], ys, [100]]), where="post",
            color="#4477aa")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100.5)
    ax.set_xlabel("overlap x (% of the example's n-grams)")
    ax.set_ylabel("examples with overlap <= x (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def buckets(labels: Sequence[str], shares: Sequence[float], counts: Sequence[int], title: str,
            path: Path) -> Path:
    """Bar per bucket, labelled with its number of examples."""
    fig = Figure(figsize=_SIZE)
    ax = fig.subplots()
    bars = ax.bar(list(labels), list(shares), color="#4477aa")
    ax.bar_label(bars, labels=[str(c) for c in counts], padding=2)
    ax.set_ylim(0, 110)
    ax.set_xlabel("overlap bucket")
    ax.set_ylabel("share of tested examples (%)")
    ax.set_title(title)
    return _save(fig, path)
