"""``contamination-sweep``: which contamination definition explains the score gain.

For every contamination measure (``overlap.contamination``) and a grid of thresholds, an
example is *flagged* when its measure exceeds the threshold. The estimated performance gain
(Singh et al. 2024) is

    EPG = score(all examples) - score(examples not flagged)

with a percentile-bootstrap interval and a two-sided permutation p-value (flagged vs not
flagged under random relabelling; EPG is zero exactly when they score the same), both from
``analysis.shift``. Examples a measure cannot judge (too short for an n-gram, or without the
part asked for) are never flagged.

Choosing the measure and threshold with the largest significant EPG after looking at all of
them inflates that EPG (a winner's curse), so the report guards the choice twice:

* **split half**: the examples are cut at random into two halves; the cell (measure,
  threshold) is chosen on the first half (largest gain with p < alpha there) and its EPG,
  interval and p-value are reported on the second half, which took no part in the choice;
* **Holm**: on all examples, p-values are Holm-adjusted across every cell of the grid (family-
  wise error <= alpha), and only cells significant after adjustment are named.

"Gain" is EPG oriented so that positive means contamination helps (EPG for a metric where
higher is better, -EPG for perplexity or loss).

>>> # sweep("out/overlap", "out/eval", "out/sweep")  writes report.md, sweep.csv, epg.png, ...
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from contamkit.analysis import plots
from contamkit.analysis.analyze import read_evaluation
from contamkit.analysis.evaluators import LOSS_LABELS
from contamkit.analysis.metrics import TASK_METRICS, Metric
from contamkit.analysis.options import SweepOptions
from contamkit.analysis.runs import Joined, Run, join_runs
from contamkit.analysis.shift import LEVEL, compare_groups
from contamkit.common.atomic import write_json, write_text
from contamkit.common.errors import UserError
from contamkit.common.outputs import check_output, has_format, staged_dir
from contamkit.common.progress import log, progress
from contamkit.common.render import write_report
from overlap.contamination import MEASURES, measure_table
from overlap.results import read_overlap_run

FORMAT = "contamkit-contamination-sweep"
VERSION = 1
is_sweep = has_format("summary.json", FORMAT)  # a folder ``sweep`` wrote: it may replace it


def loss_metric(loss_label: str) -> Metric:
    """The mean per-example ``loss`` in bits: a small model's headline metric can sit at its
    floor (LAMBADA accuracy 0) while the loss still moves."""
    return Metric("loss_bits", "loss", None, "bits", False,
                  "loss: " + loss_label.replace("nats", "bits"))


def task_metrics(task: str) -> tuple[Metric, ...]:
    """The metrics of an ``evaluate`` task and its loss in bits."""
    if task not in TASK_METRICS:
        raise UserError(f"unknown task {task!r} (known: {', '.join(TASK_METRICS)})")
    return (*TASK_METRICS[task], loss_metric(LOSS_LABELS[task]))


def run_metrics(evaluation: Run) -> tuple[Metric, ...]:
    """What a run can be scored by: its metrics (an lm-eval log's own included) and, where
    every example has a loss, the loss in bits."""
    has_loss = all(isinstance(r.get("loss"), int | float) for r in evaluation.rows)
    return (*evaluation.metrics, *([loss_metric(evaluation.loss_label)] if has_loss else []))


def pick_metric(metrics: tuple[Metric, ...], name: str | None) -> Metric:
    if name is None:
        return metrics[0]
    for m in metrics:
        if m.name == name:
            return m
    raise UserError(f"--metric {name!r}: this run has {', '.join(m.name for m in metrics)}")


def threshold_grid(values: np.ndarray, count: int) -> list[float]:
    """0 and the distinct lower quantiles of the positive values at 1/count .. (count-1)/count;
    flagged = value > threshold, so the largest value is never a threshold (it flags none)."""
    positive = values[np.isfinite(values) & (values > 0)]
    if not len(positive):
        return [0.0]
    qs = np.quantile(positive, np.arange(1, count) / count, method="lower") if count > 1 else []
    return sorted({0.0, *(float(q) for q in qs if q < positive.max())})


def holm(pvalues: list[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values (None stays None and does not count as a test)."""
    known = [(p, i) for i, p in enumerate(pvalues) if p is not None]
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(known)):
        running = max(running, min(1.0, (len(known) - rank) * p))
        out[i] = running
    return out


@dataclass
class Cell:
    """One (measure, threshold) of the grid on one set of examples."""

    measure: str
    threshold: float
    examples: int
    flagged: int
    score_all: float | None
    score_clean: float | None
    score_dirty: float | None
    epg: float | None
    epg_low: float | None
    epg_high: float | None
    p_value: float | None
    gain: float | None = None  # EPG oriented: > 0 when contamination helps
    p_holm: float | None = None

    @property
    def share_flagged(self) -> float:
        return self.flagged / self.examples if self.examples else float("nan")

    def row(self) -> dict:
        return {**asdict(self), "share_flagged": self.share_flagged}


def epg_cell(metric: Metric, num: np.ndarray, den: np.ndarray, flagged: np.ndarray,
             measure: str, threshold: float, n_boot: int, n_perm: int,
             rng: np.random.Generator) -> Cell:
    """EPG of one flagging with its bootstrap interval and permutation p-value."""
    g = compare_groups(metric, num, den, flagged, n_boot, n_perm, rng)
    minus = g["without_dirty_minus_all"]  # = clean - all (nothing is untested here)
    epg = None if minus["value"] is None else -minus["value"]
    sign = 1.0 if metric.higher_is_better else -1.0
    return Cell(measure, threshold, len(num), int(flagged.sum()), g["all"]["value"],
                g["clean"]["value"], g["dirty"]["value"], epg,
                None if minus["high"] is None else -minus["high"],
                None if minus["low"] is None else -minus["low"],
                g["dirty_minus_clean"]["p_value"], None if epg is None else sign * epg)


def grid_cells(metric: Metric, num: np.ndarray, den: np.ndarray,
               values: dict[str, np.ndarray], grid: dict[str, list[float]], n_boot: int,
               n_perm: int, seed: int, desc: str) -> list[Cell]:
    """Every (measure, threshold) whose flagging is neither empty nor everything, skipping a
    threshold that flags the same examples as the one before it. Every cell resamples with
    the same seed (common random numbers): two measures that flag the same examples get the
    same interval and p-value, and differences between cells are not resampling noise."""
    cells = []
    total = sum(len(t) for t in grid.values())
    with progress(total=total, desc=desc, unit="cell") as bar:
        for label, thresholds in grid.items():
            previous = None
            for t in thresholds:
                bar.update(1)
                flagged = np.nan_to_num(values[label], nan=-np.inf) > t
                if not 0 < flagged.sum() < len(flagged) or (
                        previous is not None and np.array_equal(flagged, previous)):
                    continue
                previous = flagged
                cells.append(epg_cell(metric, num, den, flagged, label, t, n_boot, n_perm,
                                      np.random.default_rng(seed)))
    return cells


def best(cells: list[Cell], key: str, alpha: float) -> Cell | None:
    """The cell of largest positive gain among those with ``key`` (a p-value) below alpha."""
    ok = [c for c in cells if getattr(c, key) is not None and getattr(c, key) < alpha
          and c.gain is not None and c.gain > 0]
    return max(ok, key=lambda c: c.gain) if ok else None


def sweep(overlap_dir: str | Path, eval_dir: str | Path, out_dir: str | Path,
          opts: SweepOptions | None = None, force: bool = False) -> dict:
    """Join the runs, sweep every measure and threshold, write the outputs; return the
    summary. ``out_dir`` is replaced whole once complete (never an input; a folder ``sweep``
    did not write only with ``force``)."""
    opts = opts or SweepOptions()
    opts.check()
    check_output(out_dir, [overlap_dir, eval_dir], kind="contamination-sweep folder",
                 directory=True, own=is_sweep, force=force)
    overlap = read_overlap_run(overlap_dir)  # a run of one benchmark, or a benchmark's folder
    evaluation = read_evaluation(eval_dir, overlap)
    joined = join_runs(evaluation, overlap)
    ov_file = overlap.directory / "summary.json"
    n = overlap.summary.get("n")
    if not isinstance(n, int) or n < 1:
        raise UserError(f"{ov_file}: no n-gram length 'n'")
    if opts.part != "all" and not overlap.summary.get("scored_field"):
        raise UserError(f"{ov_file}: benchmark {overlap.summary['bench']!r} declares no scored "
                        f"part (run `overlap` again, or use --part all)")
    values = measure_table(joined.matched, n, opts.measures, opts.min_runs, opts.part,
                           str(overlap.directory / "examples.jsonl"))
    metric = pick_metric(run_metrics(evaluation), opts.metric)
    summary = sweep_summary(joined, values, metric, opts)
    summary.update({"bench": evaluation.summary["bench"], "split": evaluation.summary["split"],
                    "task": evaluation.summary["task"], "model": evaluation.summary.get("model"),
                    "n": n, "unit": overlap.summary.get("unit"),
                    "eval_run": str(evaluation.directory.resolve()),
                    "overlap_run": str(overlap.directory.resolve()),
                    "warnings": joined.warnings})
    with staged_dir(out_dir) as tmp:
        write_outputs(summary, joined, values, tmp)
    log.info(headline(summary) + f" -> {out_dir}")
    return summary


def sweep_summary(joined: Joined, values: dict[str, np.ndarray], metric: Metric,
                  opts: SweepOptions) -> dict:
    """Every figure of a sweep over ``values`` (label -> per-example measure) for ``metric``."""
    num, den = metric.columns(joined.rows)
    grid = {label: threshold_grid(v, opts.thresholds) for label, v in values.items()}
    cells = grid_cells(metric, num, den, values, grid, opts.n_boot, opts.n_perm, opts.seed,
                       "sweep")
    for c, p in zip(cells, holm([c.p_value for c in cells]), strict=True):
        c.p_holm = p
    guard = split_half(metric, num, den, values, grid, opts)
    untestable = {label: int(np.isnan(v).sum()) for label, v in values.items()}
    posthoc = best(cells, "p_holm", opts.alpha)
    return {
        "format": FORMAT, "version": VERSION,
        "metric": {"name": metric.name, "label": metric.label,
                   "higher_is_better": metric.higher_is_better},
        "examples": len(num),
        "part": opts.part,
        "settings": {"measures": list(opts.measures), "min_runs": list(opts.min_runs),
                     "thresholds": opts.thresholds, "bootstrap": opts.n_boot,
                     "permutations": opts.n_perm, "alpha": opts.alpha, "seed": opts.seed,
                     "level": LEVEL},
        "measures": {label: MEASURES[label.split("(")[0]].description for label in values},
        "untestable": untestable,
        "cells": [c.row() for c in cells],
        "best_holm": posthoc.row() if posthoc else None,
        "guard": guard,
    }


def split_half(metric: Metric, num: np.ndarray, den: np.ndarray,
               values: dict[str, np.ndarray], grid: dict[str, list[float]],
               opts: SweepOptions) -> dict:
    """Choose the cell on a random half of the examples, report it on the other half."""
    order = np.random.default_rng(opts.seed + 1).permutation(len(num))
    first, second = np.sort(order[: len(num) // 2]), np.sort(order[len(num) // 2:])
    half = {k: v[first] for k, v in values.items()}
    chosen_cells = grid_cells(metric, num[first], den[first], half, grid, 1, opts.n_perm,
                              opts.seed, "choosing on half A")
    chosen = best(chosen_cells, "p_value", opts.alpha)
    out = {"method": "split half", "selection_examples": len(first),
           "report_examples": len(second), "chosen": chosen.row() if chosen else None,
           "held_out": None}
    if chosen is not None:
        flagged = np.nan_to_num(values[chosen.measure][second], nan=-np.inf) > chosen.threshold
        if 0 < flagged.sum() < len(second):
            out["held_out"] = epg_cell(metric, num[second], den[second], flagged,
                                       chosen.measure, chosen.threshold, opts.n_boot,
                                       opts.n_perm, np.random.default_rng(opts.seed)).row()
    return out


# ------------------------------------------------------------------------------ outputs

CSV_COLUMNS = ("measure", "threshold", "examples", "flagged", "share_flagged", "score_all",
               "score_clean", "score_dirty", "epg", "epg_low", "epg_high", "gain", "p_value",
               "p_holm")


def write_outputs(summary: dict, joined: Joined, values: dict[str, np.ndarray],
                  out: Path) -> None:
    """sweep.csv, measures.csv, epg.png, report.md/html, summary.json (last)."""
    write_text(out / "sweep.csv", rows_csv(summary["cells"], CSV_COLUMNS))
    per_example = [{"id": r["id"], **{k: _num(v[i]) for k, v in values.items()}}
                   for i, r in enumerate(joined.rows)]
    write_text(out / "measures.csv", rows_csv(per_example, ("id", *values)))
    chosen = summary["guard"]["chosen"]
    ringed = next((c for c in summary["cells"] if chosen and (c["measure"], c["threshold"])
                   == (chosen["measure"], chosen["threshold"])), None)
    plots.plot_epg(summary["cells"], summary["metric"]["label"], plot_title(summary),
                   out / "epg.png", ringed)
    summary["files"] = ["summary.json", "sweep.csv", "measures.csv", "epg.png", "report.md",
                        "report.html"]
    write_report(report_blocks(summary), out, plot_title(summary))
    write_json(out / "summary.json", summary)


def plot_title(s: dict) -> str:
    part = "" if s["part"] == "all" else f", {s['part']} part"
    return f"{s['bench']} {s['split']}: EPG by contamination measure ({s['n']}-grams{part})"


def rows_csv(rows: list[dict], columns: tuple[str, ...]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r[c] for c in columns])
    return buf.getvalue()


def _num(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _f(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}g}"


def describe(c: dict) -> str:
    """``coverage > 0.25``: a cell's flagging rule."""
    return f"{c['measure']} > {c['threshold']:.4g}"


def ci_text(c: dict) -> str:
    """``EPG [low, high]`` of a cell."""
    ci = "" if c["epg_low"] is None else f" [{_f(c['epg_low'])}, {_f(c['epg_high'])}]"
    return f"{_f(c['epg'])}{ci}"


def epg_text(c: dict) -> str:
    return f"EPG {ci_text(c)}, p = {_f(c['p_value'], 2)}"


def headline(s: dict) -> str:
    g = s["guard"]
    if g["chosen"] is None:
        return (f"{s['bench']} {s['split']}: no measure and threshold shows a significant gain "
                f"on the selection half ({len(s['cells'])} cells)")
    held = g["held_out"]
    result = epg_text(held) if held else "not estimable on the other half"
    return (f"{s['bench']} {s['split']}: {describe(g['chosen'])} chosen on half A "
            f"({g['selection_examples']} examples); on half B {result}")


def report_blocks(s: dict) -> list[tuple]:
    m, g = s["metric"], s["guard"]
    direction = "higher" if m["higher_is_better"] else "lower"
    blocks: list[tuple] = [
        ("h", 1, plot_title(s)),
        ("p", f"{s['examples']} examples of {s['bench']} {s['split']} (model {s['model']}), "
              f"metric {m['label']} ({direction} is better). For each contamination measure and "
              f"threshold an example is flagged when its measure exceeds the threshold; "
              f"EPG = score(all) - score(not flagged), with a {100 * s['settings']['level']:g} % "
              f"bootstrap interval ({s['settings']['bootstrap']} resamples) and a two-sided "
              f"permutation p-value ({s['settings']['permutations']} relabellings). Gain is EPG "
              f"oriented so that positive means contamination helps."),
    ]
    if s["warnings"]:
        blocks += [("p", f"**Warning:** {w}") for w in s["warnings"]]
    blocks += [("h", 2, "Result, guarded against the post-hoc choice")]
    if g["chosen"] is None:
        blocks.append(("p", f"No cell has a positive gain with p < {s['settings']['alpha']} on "
                            f"the selection half: no definition of contamination explains a "
                            f"significant gain here."))
    else:
        held = g["held_out"]
        blocks.append(("p", f"Chosen on a random half of the examples ({g['selection_examples']}"
                            f"): {describe(g['chosen'])} ({_pct(g['chosen']['share_flagged'])} "
                            f"flagged, {epg_text(g['chosen'])} on that half). Reported on the "
                            f"other half ({g['report_examples']} examples), which took no part "
                            f"in the choice: "
                            + (f"{_pct(held['share_flagged'])} flagged, {epg_text(held)}."
                               if held else "the rule flags none or all of them.")))
    b = s["best_holm"]
    floor = len(s["cells"]) / (s["settings"]["permutations"] + 1)
    if floor >= s["settings"]["alpha"]:
        blocks.append(("p", f"**Warning:** with {s['settings']['permutations']} permutations the "
                            f"smallest Holm-adjusted p-value over {len(s['cells'])} cells is "
                            f"{floor:.2g} >= alpha: raise --permutations for the Holm "
                            f"correction to be able to find anything."))
    blocks.append(("p", "On all examples, the largest gain significant after a Holm correction "
                        f"across all {len(s['cells'])} cells (family-wise alpha = "
                        f"{s['settings']['alpha']}): "
                        + (f"{describe(b)}, {_pct(b['share_flagged'])} flagged, {epg_text(b)}, "
                           f"Holm-adjusted p = {_f(b['p_holm'], 2)}." if b else "none.")))
    blocks.append(("p", "Caveat: the measure and threshold with the largest EPG were picked "
                        "after looking at every cell, so their EPG on the same examples is "
                        "biased upwards (winner's curse); the split-half figure is the "
                        "unbiased estimate for the chosen rule, at the price of half the "
                        "examples, and the Holm correction only controls false positives."))
    blocks += [
        ("img", "epg.png", "EPG against share flagged"),
        ("h", 2, "Every measure and threshold"),
        ("table", ["measure", "threshold", "flagged", "score all", "score clean",
                   "score dirty", "EPG [95 % CI]", "p", "p (Holm)"],
         [[c["measure"], f"{c['threshold']:.4g}", f"{c['flagged']} ({_pct(c['share_flagged'])})",
           _f(c["score_all"], 4), _f(c["score_clean"], 4), _f(c["score_dirty"], 4),
           ci_text(c), _f(c["p_value"], 2),
           _f(c["p_holm"], 2)] for c in s["cells"]]),
        ("h", 2, "Measures"),
        ("table", ["measure", "what", "examples not testable"],
         [[k, v, str(s["untestable"][k])] for k, v in s["measures"].items()]),
    ]
    return blocks


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"
