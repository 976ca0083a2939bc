"""``analyze``: how a benchmark's metrics shift with overlap, from an evaluate and an overlap run.

Writes ``summary.json`` (every figure), ``shift.csv`` (metric x subset, with intervals),
``examples.csv`` (the joined per-example table), ``buckets.png``, ``loss_vs_overlap.png`` and
``report.md`` / ``report.html``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from contamkit.analysis import plots, report
from contamkit.analysis.lm_eval_samples import is_samples_source, read_lm_eval_run
from contamkit.analysis.options import AnalysisOptions
from contamkit.analysis.runs import Joined, Run, join_runs, read_eval_run
from contamkit.analysis.shift import LEVEL, bucket_labels, by_bucket, compare_groups, regression
from contamkit.benchmarks import load_benchmark
from contamkit.common.atomic import write_json, write_text
from contamkit.common.errors import UserError
from contamkit.common.outputs import check_output, has_format, staged_dir
from contamkit.common.progress import log
from overlap.results import read_overlap_run

FORMAT = "contamkit-analysis"
VERSION = 1
is_analysis = has_format("summary.json", FORMAT)  # a folder ``analyze`` wrote: it may replace it
SUBSETS = ("all", "clean", "dirty", "without_dirty", "without_dirty_minus_all",
           "dirty_minus_clean")


def analyze(overlap_dir: str | Path, eval_dir: str | Path, out_dir: str | Path,
            opts: AnalysisOptions | None = None, force: bool = False) -> dict:
    """Join the runs, compute every figure, write the outputs; return the summary.

    ``eval_dir`` is an ``evaluate`` run, or lm-evaluation-harness's ``--log_samples`` output
    (its directory or one ``samples_<task>_*.jsonl``), joined by document order. ``out_dir`` is
    replaced whole once every file is written; it may not be, or lie in, an input, nor replace
    a folder ``analyze`` did not write unless ``force``.

    >>> analyze("out/overlap/lambada", "out/lm-eval/samples_lambada_openai_X.jsonl",
    ...         "out/analysis")  # doctest: +SKIP
    """
    opts = opts or AnalysisOptions()
    opts.check()
    check_output(out_dir, [overlap_dir, eval_dir], kind="analysis folder", directory=True,
                 own=is_analysis, force=force)
    evaluation = None if is_samples_source(eval_dir) else read_eval_run(eval_dir)
    overlap = read_overlap_run(overlap_dir, evaluation.summary["bench"] if evaluation else None)
    evaluation = evaluation or read_evaluation(eval_dir, overlap)
    joined = join_runs(evaluation, overlap)
    summary = shift_summary(evaluation, overlap, joined, opts)
    out = Path(out_dir)
    filter_name = Path(summary["overlap_filter"].get("path", "?")).name
    title = (f"{summary['bench_label']} {summary['split']}, model "
             f"{Path(str(summary['model'])).name}, filter {filter_name}")
    with staged_dir(out) as tmp:
        write_outputs(summary, joined, evaluation, title, tmp)
    headline = next(iter(summary["metrics"].items()))
    shift = headline[1]["without_dirty_minus_all"]["value"]
    log.info(f"{title}: {summary['examples']['dirty']} of {summary['examples']['n']} examples "
             f"dirty; excluding them moves {headline[0]} by {shift:+.4g} -> {out}")
    return summary


def write_outputs(summary: dict, joined: Joined, evaluation: Run, title: str, out: Path) -> None:
    """summary.json, the CSVs, the plots and the report, into ``out``."""
    write_json(out / "summary.json", summary)
    write_text(out / "shift.csv", shift_csv(summary))
    write_text(out / "examples.csv", examples_csv(joined, evaluation))
    plots.plot_buckets(summary["metrics"], title, summary["overlap_label"], out / "buckets.png")
    fraction, loss = loss_points(joined)
    plots.plot_loss_scatter(fraction, loss, summary["regression"], summary["regression"]["loss"],
                            title, summary["overlap_label"], out / "loss_vs_overlap.png")
    report.write_report(summary, out)


def read_evaluation(path: str | Path, overlap: Run) -> Run:
    """An ``evaluate`` run, or lm-eval samples joined to the overlap run's benchmark texts."""
    if not is_samples_source(path):
        return read_eval_run(path)
    ov = overlap.summary
    examples = load_benchmark(ov["bench"], ov["split"], ov.get("bench_path"),
                              text_template=ov.get("text_template"), id_field=ov.get("id_field"))
    ids = [r["id"] for r in overlap.rows]
    if [e.id for e in examples[:len(ids)]] != ids:
        raise UserError(f"{overlap.directory / 'examples.jsonl'}: ids are not those of "
                        f"{ov['bench']} {ov['split']} in order; cannot join lm-eval documents")
    return read_lm_eval_run(path, overlap, [e.text for e in examples])


def loss_points(joined: Joined) -> tuple[np.ndarray, np.ndarray]:
    """Overlap fraction and loss of the tested examples whose loss is defined."""
    loss = np.array([np.nan if r["loss"] is None else float(r["loss"]) for r in joined.rows])
    keep = np.isfinite(loss) & joined.tested
    return joined.fraction[keep], loss[keep]


def shift_summary(evaluation: Run, overlap: Run, joined: Joined, opts: AnalysisOptions) -> dict:
    task = evaluation.summary["task"]
    rng = np.random.default_rng(opts.seed)
    metrics = {}
    for metric in evaluation.metrics:
        num, den = metric.columns(joined.rows)
        metrics[metric.name] = {
            "label": metric.label,
            "scale": metric.scale,
            "higher_is_better": metric.higher_is_better,
            **compare_groups(metric, num, den, joined.dirty, opts.n_boot, opts.n_perm, rng,
                             joined.tested),
            "buckets": by_bucket(metric, num, den, joined.fraction, opts.fractions(), opts.n_boot,
                                 rng),
        }
    fraction, loss = loss_points(joined)
    fit = regression(fraction, loss, opts.n_boot, opts.n_perm, rng)
    ov = overlap.summary
    unit = ov.get("unit", "?")
    return {
        "format": FORMAT,
        "version": VERSION,
        "bench": evaluation.summary["bench"],
        "bench_label": ov.get("bench_label", evaluation.summary["bench"]),
        "split": evaluation.summary["split"],
        "task": task,
        "eval_run": str(evaluation.directory.resolve()),
        "overlap_run": str(overlap.directory.resolve()),
        "model": evaluation.summary.get("model"),
        "tokenizer": evaluation.summary.get("tokenizer"),
        "overlap_unit": unit,
        "overlap_filter": ov.get("filter", {}),
        "overlap_label": f"{ov.get('n', 'n')}-gram overlap ({unit})",
        "warnings": joined.warnings,
        "settings": {"level": LEVEL, "bootstrap": opts.n_boot, "permutations": opts.n_perm,
                     "seed": opts.seed, "bucket_edges": list(opts.edges),
                     "buckets": bucket_labels(opts.fractions())},
        "examples": overlap_stats(joined),
        "metrics": metrics,
        "regression": {"loss": evaluation.loss_label, "x": "overlap fraction (0..1)", **fit},
    }


def overlap_stats(joined: Joined) -> dict:
    """Counts, and the overlap of tested examples: mean of fractions, and pooled n-grams."""
    tested, dirty = joined.tested, joined.dirty
    total = joined.ngrams.sum()
    fractions = joined.fraction[tested]
    return {
        "n": len(joined.rows),
        "tested": int(tested.sum()),
        "clean": int((tested & ~dirty).sum()),
        "dirty": int(dirty.sum()),
        "too_short": int((~tested).sum()),
        "mean_overlap": float(fractions.mean()) if fractions.size else None,
        "pooled_overlap": float(joined.found.sum() / total) if total else None,
        "max_overlap": float(fractions.max()) if fractions.size else None,
    }


def shift_csv(summary: dict) -> str:
    """metric, subset, n, value, low, high, p_value: the subsets, then every bucket."""
    stats = summary["examples"]
    sizes = {"all": stats["n"], "clean": stats["clean"], "dirty": stats["dirty"],
             "without_dirty": stats["n"] - stats["dirty"]}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["metric", "subset", "n", "value", "low", "high", "p_value"])
    for name, m in summary["metrics"].items():
        for subset in SUBSETS:
            e = m[subset]
            w.writerow([name, subset, sizes.get(subset, ""), *_cells(e["value"], e["low"],
                                                                     e["high"], e.get("p_value"))])
        for b in m["buckets"]:
            w.writerow([name, f"bucket {b['bucket']}", b["n"],
                        *_cells(b["value"], b["low"], b["high"], None)])
    return buf.getvalue()


def examples_csv(joined: Joined, evaluation: Run) -> str:
    """One row per evaluated example: id, overlap, the metric fields and the loss."""
    fields = list(dict.fromkeys(f for m in evaluation.metrics for f in (m.num, m.den) if f))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "overlap", "found", "ngrams", *fields, "loss"])
    for row, frac, found, ngrams in zip(joined.rows, joined.fraction, joined.found,
                                        joined.ngrams, strict=True):
        w.writerow([row["id"], *_cells(frac), int(found), int(ngrams),
                    *(row[f] for f in fields), *_cells(row["loss"])])
    return buf.getvalue()


def _cells(*values) -> list[str]:
    """Numbers as text; None and nan (undefined) as empty cells."""
    return ["" if v is None or np.isnan(v) else f"{float(v):.6g}" for v in values]
