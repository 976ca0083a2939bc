"""The analysis as a human reads it: blocks (``contamkit.common.render``) rendered to Markdown
and HTML."""

from __future__ import annotations

from pathlib import Path

from contamkit.common.render import Block
from contamkit.common.render import write_report as render


def fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def with_ci(e: dict) -> str:
    if e["value"] is None:
        return "–"
    if e["low"] is None:
        return fmt(e["value"])
    return f"{fmt(e['value'])} [{fmt(e['low'])}, {fmt(e['high'])}]"


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.3g} %"


def analysis_blocks(s: dict) -> list[Block]:
    ex, st, fit = s["examples"], s["settings"], s["regression"]
    level = f"{100 * st['level']:g} %"
    blocks: list[Block] = [
        ("h", 1, f"Overlap analysis: {s.get('bench_label', s['bench'])} {s['split']}"),
        ("p", f"Model {s['model']} (tokenizer {s['tokenizer']}); evaluation run "
              f"{s['eval_run']}; overlap run {s['overlap_run']} ({s['overlap_label']})."),
    ]
    if s["warnings"]:
        blocks += [("h", 2, "Warnings"), *(("p", f"**Warning:** {w}") for w in s["warnings"])]
    blocks += [
        ("h", 2, "Overlap"),
        ("table", ["examples", "clean", "dirty", "too short to test", "mean overlap",
                   "pooled overlap", "max overlap"],
         [[str(ex["n"]), str(ex["clean"]), f"{ex['dirty']} ({pct(ex['dirty'] / ex['n'])})",
           str(ex["too_short"]), pct(ex["mean_overlap"]), pct(ex["pooled_overlap"]),
           pct(ex["max_overlap"])]]),
        ("p", "Mean overlap: the mean over tested examples of the share of their n-grams found "
              "in the filter; pooled: found n-grams over all n-grams."),
        ("h", 2, "Metrics: all, clean, dirty"),
        ("p", f"Values with {level} bootstrap intervals. \"excluding overlap\" drops every "
              f"example with any overlap (the paper's recalculation; it equals clean unless "
              f"some examples are too short to test), \"change\" is it minus all; p is the "
              f"two-sided permutation p-value of dirty − clean."),
        ("table", ["metric", "all", "clean", "dirty", "excluding overlap", "change",
                   "dirty − clean", "p"],
         [[m["label"], *(with_ci(m[k]) for k in ("all", "clean", "dirty", "without_dirty",
                                                 "without_dirty_minus_all",
                                                 "dirty_minus_clean")),
           fmt(m["dirty_minus_clean"]["p_value"])] for m in s["metrics"].values()]),
    ]
    for m in s["metrics"].values():
        if m["without_dirty"]["value"] is not None:
            blocks.append(("p", f"Excluding every example with any overlap moves {m['label']} "
                                f"from {fmt(m['all']['value'])} to "
                                f"{fmt(m['without_dirty']['value'])} (change "
                                f"{with_ci(m['without_dirty_minus_all'])})."))
    blocks.append(("h", 2, "By overlap bucket"))
    for m in s["metrics"].values():
        blocks.append(("table", ["bucket", "n", "mean overlap", m["label"]],
                       [[b["bucket"], str(b["n"]),
                         "–" if b["mean_overlap"] is None else pct(b["mean_overlap"]), with_ci(b)]
                        for b in m["buckets"]]))
    blocks += [("img", "buckets.png", "metric by overlap bucket"),
               ("h", 2, "Loss against overlap")]
    if fit.get("slope") is None:
        blocks.append(("p", fit.get("note", "no regression")))
    else:
        sign = "−" if fit["slope"] < 0 else "+"
        blocks.append(("p", f"Least squares over {fit['n']} examples: {fit['loss']} = "
                            f"{fmt(fit['intercept'])} {sign} {fmt(abs(fit['slope']))} × overlap "
                            f"fraction; "
                            f"slope {level} interval [{fmt(fit['slope_low'])}, "
                            f"{fmt(fit['slope_high'])}], standard error {fmt(fit['slope_se'])}, "
                            f"permutation p = {fmt(fit['p_value'])}, R² = {fmt(fit['r2'])}."))
    blocks += [
        ("img", "loss_vs_overlap.png", "loss against overlap"),
        ("h", 2, "Method"),
        ("p", f"An example is dirty when any of its n-grams is in the training-data filter, "
              f"clean when none is, and too short to test when it has no n-gram. Intervals: "
              f"percentile bootstrap, {st['bootstrap']} resamples, clean, dirty and untested "
              f"examples resampled separately (ratio metrics resampled by example). "
              f"p-values: {st['permutations']} random relabellings of which examples are "
              f"dirty. Seed {st['seed']}. Buckets: {', '.join(st['buckets'])}."),
    ]
    return blocks


def write_report(summary: dict, out_dir: Path) -> None:
    render(analysis_blocks(summary), out_dir,
           f"Overlap analysis: {summary['bench']} {summary['split']}")
