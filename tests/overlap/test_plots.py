"""The overlap plots show what they claim: every plotted point inside the axes, "none" its own
bar, counts on the bars, the false-positive level marked, benchmarks in the order given."""

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.patches import Rectangle

from overlap import plots


def _inside(ax, xs, ys):
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    return bool(np.all((xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)))


def _bars(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def test_bucket_bars_none_bar_counts_and_range():
    counts = [9_990, 8, 2]  # a real run: almost everything in "none"
    fig = plots.bucket_bars_figure(["0 %", "(0, 15 %]", "> 15 %"], counts, "t")
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["none", "(0, 15 %]", "> 15 %"]
    heights = [b.get_height() for b in _bars(ax)]
    assert np.allclose(heights, [100 * c / sum(counts) for c in counts])
    assert all(_inside(ax, [b.get_x(), b.get_x() + b.get_width()], [0, b.get_height()])
               for b in _bars(ax))
    texts = [t.get_text() for t in ax.texts]
    assert [t.split("\n")[0] for t in texts] == ["9,990", "8", "2"]
    assert "99.90 %" in texts[0]  # not rounded up to "100 %"
    assert ax.get_ylim()[1] > max(heights)  # room above the tallest bar for its label


def test_spread_among_overlapping_examples_only():
    pcts = np.concatenate([np.zeros(9_990), [0.4, 1.2, 1.2, 3.0, 12.5, 40.0, 100.0, 100.0,
                                             100.0, 100.0]])
    fig = plots.overlap_spread_figure(pcts, "t")
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    step, points = ax.get_lines()
    hits = np.sort(pcts[pcts > 0])
    assert list(points.get_xdata()) == list(hits)
    # examples with overlap >= x, computed here by counting
    assert list(points.get_ydata()) == [int((hits >= h).sum()) for h in hits]
    for line in (step, points):
        assert _inside(ax, line.get_xdata(), line.get_ydata())
    assert step.get_ydata()[-1] == 0  # nothing above 100 %
    assert any("10 of 10,000" in t.get_text() for t in ax.texts)


def test_spread_without_overlap_says_so():
    fig = plots.overlap_spread_figure(np.zeros(273), "t")
    (ax,) = fig.axes
    assert not ax.get_lines()
    assert [t.get_text() for t in ax.texts] == ["no example has any overlap (0 of 273 tested)"]


def test_contamination_by_bench_order_shares_and_false_positive_marks():
    rows = [{"label": "ptb test", "tested": 3454, "with_overlap": 1,
             "expected_false_positive_examples": 0.0005},
            {"label": "lambada test", "tested": 5153, "with_overlap": 4,
             "expected_false_positive_examples": 0.0026},
            {"label": "winograd test", "tested": 273, "with_overlap": 0,
             "expected_false_positive_examples": 2.6e-5}]
    fig = plots.contamination_by_bench_figure(rows, "t")
    ax = fig.axes[0]
    ticks = {round(t.get_position()[1]): t.get_text() for t in ax.get_yticklabels()}
    bars = sorted(_bars(ax)[:3], key=lambda b: b.get_y())
    y0, y1 = ax.get_ylim()
    assert y0 > y1  # inverted: the first benchmark at the top
    assert [ticks[round(b.get_y() + b.get_height() / 2)] for b in bars] == [
        "ptb test", "lambada test", "winograd test"]
    ends = [b.get_x() + b.get_width() for b in bars]
    assert np.allclose(ends[:2], [100 / 3454, 400 / 5153])
    assert bars[2].get_width() == 0  # no overlap: no bar
    marks = [line for line in ax.get_lines() if line.get_marker() == "|"]
    (mark,) = marks
    assert np.allclose(mark.get_xdata(), [100 * r["expected_false_positive_examples"] / r["tested"]
                                          for r in rows])
    assert _inside(ax, mark.get_xdata(), mark.get_ydata())
    assert _inside(ax, ends, [b.get_y() for b in bars])
    assert any("0.078 % (4 / 5,153)" in t.get_text() for t in ax.texts)
    assert not [c for c in ax.collections if isinstance(c, LineCollection)]
