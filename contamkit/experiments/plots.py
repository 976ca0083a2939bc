"""The experiment's figures: memorization gap by copies, AUC by measure, ROC curves and
extraction by copies. matplotlib's object API (no display), written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from contamkit.analysis.plots import interval_errors
from contamkit.common.atomic import write_figure


def _save(fig: Figure, path: Path) -> str:
    return write_figure(fig, path).name


def gap_vs_copies(gaps: list[dict], metrics: dict[str, str], path: Path) -> str:
    """One panel per metric: injected - held-out (95 % CI) against copies, a line per model;
    reference models (trained without injection) dashed."""
    fig = Figure(figsize=(5.4 * len(metrics), 4.0))
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, (metric, label) in zip(axes, metrics.items(), strict=True):
        series = sorted({(g["model"], g["variant"]) for g in gaps if g["metric"] == metric})
        for j, (model, variant) in enumerate(series):
            rows = sorted((g for g in gaps if (g["metric"], g["model"], g["variant"])
                           == (metric, model, variant) and g["value"] is not None),
                          key=lambda g: g["copies"])
            if not rows:
                continue
            x = np.array([r["copies"] for r in rows], dtype=float) * (1 + 0.04 * j)
            ax.errorbar(x, [r["value"] for r in rows], yerr=interval_errors(rows), capsize=3,
                        marker="o", ls="--" if variant == "reference" else "-",
                        label=f"{model} ({variant})")
        ax.axhline(0, color="gray", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("copies in the training data")
        ax.set_ylabel(f"{label}: injected - held out")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Memorization gap (95 % bootstrap intervals)")
    return _save(fig, path)


def auc_bars(aucs: list[dict], path: Path) -> str:
    """AUC (injected vs held out) of each measure, a bar per target model, with intervals."""
    measures = list(dict.fromkeys(a["measure"] for a in aucs))
    models = list(dict.fromkeys(a["model"] for a in aucs))
    fig = Figure(figsize=(max(6.0, 1.4 * len(measures) * max(1, len(models)) / 2), 4.0))
    ax = fig.subplots()
    width = 0.8 / len(models)
    for j, model in enumerate(models):
        rows = [next((a for a in aucs if a["measure"] == m and a["model"] == model), None)
                for m in measures]
        x = np.arange(len(measures)) + (j - (len(models) - 1) / 2) * width
        present = [(xi, r) for xi, r in zip(x, rows, strict=True) if r and r["auc"] is not None]
        if not present:
            continue
        xs, rs = zip(*present, strict=True)
        err = interval_errors([{"value": r["auc"], "low": r["auc_low"], "high": r["auc_high"]}
                               for r in rs])
        ax.bar(xs, [r["auc"] for r in rs], width, yerr=err, capsize=3, label=model)
    ax.axhline(0.5, color="gray", lw=0.8, ls=":")
    ax.set_xticks(np.arange(len(measures)), measures, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("ROC AUC, injected vs held out")
    ax.legend(fontsize=8)
    ax.set_title("Membership measures (95 % bootstrap intervals)")
    return _save(fig, path)


def roc_curves(curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]], path: Path) -> str:
    """A panel per model: the ROC curve of each measure."""
    fig = Figure(figsize=(4.2 * len(curves), 4.0))
    axes = fig.subplots(1, len(curves), squeeze=False)[0]
    for ax, (model, by_measure) in zip(axes, curves.items(), strict=True):
        for measure, (fpr, tpr) in by_measure.items():
            ax.plot(fpr, tpr, label=measure, lw=1.2)
        ax.plot([0, 1], [0, 1], color="gray", lw=0.8, ls=":")
        ax.set_xlabel("false-positive rate (held out)")
        ax.set_ylabel("true-positive rate (injected)")
        ax.set_title(model)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    return _save(fig, path)


def extraction_by_copies(rows: list[dict], path: Path) -> str:
    """Share of examples whose suffix greedy decoding reproduces, against copies (0 = held
    out), a line per model."""
    fig = Figure(figsize=(5.4, 4.0))
    ax = fig.subplots()
    counts = sorted({r["copies"] for r in rows})
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = sorted((r for r in rows if r["model"] == model and r["checked"]),
                      key=lambda r: r["copies"])
        ax.plot([counts.index(r["copies"]) for r in mine],
                [100 * r["exact_rate"] for r in mine], marker="o", label=model)
    ax.set_xticks(range(len(counts)), [str(c) for c in counts])
    ax.set_xlabel("copies in the training data (0 = held out)")
    ax.set_ylabel("extractable (% exact greedy suffix)")
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)
