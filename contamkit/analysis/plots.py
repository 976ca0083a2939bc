"""PNG figures of an analysis: the metric by overlap bucket, and loss against overlap."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from contamkit.common.atomic import write_figure


def pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and in tests
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: Path) -> None:
    fig.tight_layout()
    write_figure(fig, path)


def interval_errors(rows: list[dict]) -> np.ndarray:
    """[2, n] distances from each ``value`` to its ``low``/``high`` ends (0 where there is none),
    the ``yerr`` matplotlib's errorbar takes."""
    v = np.array([r["value"] for r in rows], dtype=float)
    low = np.array([np.nan if r["low"] is None else r["low"] for r in rows], dtype=float)
    high = np.array([np.nan if r["high"] is None else r["high"] for r in rows], dtype=float)
    return np.nan_to_num(np.stack([v - low, high - v]))


def plot_buckets(metrics: dict[str, dict], title: str, overlap_label: str, path: Path) -> None:
    """One panel per metric: its value in each non-empty overlap bucket with the 95 % interval,
    and the value on all and on clean examples as reference lines."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics), 4), squeeze=False)
    for ax, (name, m) in zip(axes[0], metrics.items(), strict=True):
        rows = [b for b in m["buckets"] if b["n"] and b["value"] is not None]
        x = np.arange(len(rows))
        ax.errorbar(x, [b["value"] for b in rows], yerr=interval_errors(rows), fmt="o",
                    capsize=4, color="C0", label="bucket (95 % CI)")
        for subset, style in (("all", "--"), ("clean", ":")):
            if m[subset]["value"] is not None:
                ax.axhline(m[subset]["value"], ls=style, color="gray", lw=1, label=subset)
        ax.set_xticks(x, [f"{b['bucket']}\nn={b['n']}" for b in rows], fontsize=8)
        if m["scale"] == "exp":  # perplexities span orders of magnitude
            ax.set_yscale("log")
        ax.set_xlabel(overlap_label)
        ax.set_ylabel(m["label"])
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    save_png(fig, path)


def plot_loss_scatter(fraction: np.ndarray, loss: np.ndarray, fit: dict, loss_label: str,
                      title: str, overlap_label: str, path: Path) -> None:
    """Per-example loss against overlap fraction, with the least-squares line."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.2))
    ax.scatter(100 * fraction, loss, s=10, alpha=0.4, color="C0", linewidths=0)
    if fit.get("slope") is not None:
        xs = np.linspace(0, max(float(fraction.max()), 1e-9), 50)
        ax.plot(100 * xs, fit["intercept"] + fit["slope"] * xs, color="C3",
                label=f"least squares: {fit['slope']:+.3g} per 100 % overlap "
                      f"(p = {fit['p_value']:.3g})")
        ax.legend(fontsize=8)
    ax.set_xlabel(f"{overlap_label} (%)")
    ax.set_ylabel(loss_label)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    save_png(fig, path)


def plot_epg(cells: list[dict], metric_label: str, title: str, path: Path,
             chosen: dict | None = None) -> None:
    """EPG against the share of examples flagged, one line (with its 95 % band) per measure;
    ``chosen`` (a cell on all examples: the rule chosen on the selection half) ringed."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    measures = list(dict.fromkeys(c["measure"] for c in cells))
    for i, name in enumerate(measures):
        mine = sorted((c for c in cells if c["measure"] == name and c["epg"] is not None),
                      key=lambda c: c["share_flagged"])
        x = np.array([100 * c["share_flagged"] for c in mine])
        y = np.array([c["epg"] for c in mine])
        color = f"C{i % 10}"
        ax.plot(x, y, marker="o", ms=4, color=color, label=name)
        low = np.array([np.nan if c["epg_low"] is None else c["epg_low"] for c in mine])
        high = np.array([np.nan if c["epg_high"] is None else c["epg_high"] for c in mine])
        ax.fill_between(x, low, high, color=color, alpha=0.12, linewidth=0)
    if chosen is not None:
        ax.scatter([100 * chosen["share_flagged"]], [chosen["epg"]], s=160,
                   facecolors="none", edgecolors="k", linewidths=1.5,
                   label="chosen on half A (its EPG on all)")
    ax.axhline(0, color="gray", lw=1)
    ax.set_xlabel("examples flagged (%)")
    ax.set_ylabel(f"EPG: score(all) - score(clean)\n{metric_label}")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_png(fig, path)
