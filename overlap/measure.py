"""``overlap``: benchmarks against a filter, with per-example results, summary, CSV and plots.

Every benchmark writes one sub-directory (named after it) and the run's summary, chart and
report go into the output directory (the layout is ``overlap.runs``'s), whatever the number of
benchmarks.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from contamkit.benchmarks import get_benchmark, load_benchmark
from contamkit.benchmarks.custom import BENCHMARK as CUSTOM
from contamkit.benchmarks.load import configured_benchmark
from contamkit.benchmarks.spec import canonical_split
from contamkit.common.atomic import atomic_open, write_json, write_jsonl
from contamkit.common.outputs import check_output, staged_dir
from contamkit.common.progress import log
from overlap.filters import check_compatible, open_filter
from overlap.normalize import NORMALIZER_VERSION
from overlap.options import OverlapOptions
from overlap.per_example import (
    ExampleOverlap,
    mark_scored,
    measure_texts,
    scored_offset,
    summarize,
)
from overlap.report import write_report
from overlap.runs import EXAMPLES, RUN_FORMAT, RUN_VERSION, SUMMARY
from overlap.spans import SpanCoder

CSV_COLUMNS = ("id", "units", "ngrams", "found", "overlap_pct", "status", "spans")


def run_overlap(benches: Sequence[str], filter_path: str | Path, out: str | Path,
                opts: OverlapOptions, measure: Callable = measure_texts) -> list[dict]:
    """Measure each benchmark's split against the filter; returns the summaries written.

    Writes the layout of ``overlap.runs``: OUT/<bench>/ per benchmark, then the run's
    summary.json, cross-benchmark chart and report in OUT. ``measure`` has ``measure_texts``'s
    signature; ``contamkit.scale.route`` passes one that runs on a Dask cluster
    (``contamkit.scale.dask_overlap``).
    """
    names = list(dict.fromkeys(get_benchmark(b).name for b in benches))  # unknown names fail now
    inputs = [filter_path] + ([opts.bench_path] if opts.bench_path else [])
    check_output(out, inputs, kind="overlap run folder", directory=True, own=is_run_folder,
                 force=opts.force, resume=opts.resume)
    for name in names:  # so does a template for a benchmark that takes none
        configured_benchmark(name, opts.text_template, opts.id_field)
    bloom = open_filter(filter_path)
    opts = replace(opts, n=opts.n or bloom.params.n, unit=opts.unit or bloom.params.unit)
    coder = SpanCoder(opts.unit, opts.gpt2_vocab)
    check_compatible(bloom, filter_path, opts.n, opts.unit, coder.tokenizer)
    fpr = bloom.stats()["estimated_fpr"]
    filter_info = {"path": str(filter_path), "params": asdict(bloom.params),
                   "estimated_fpr": fpr, "provenance": bloom.provenance}
    key = _resume_key(names, filter_path, opts)
    with staged_dir(out, key, opts.resume) as tmp:  # complete, or the previous one stays
        summaries = _measure_all(names, bloom, coder, filter_info, tmp, opts, measure)
        write_run(tmp, summaries, filter_info)
        write_report(tmp, Path(out).name or str(out))
    for summary in summaries:
        log.info(format_summary(summary, Path(out) / summary["bench"]))
    return summaries


def _resume_key(names: list[str], filter_path: str | Path, opts: OverlapOptions) -> str:
    """What a resumed run must share with the interrupted one: benchmarks, filter (name, size,
    time) and every option that changes the results."""
    stat = Path(filter_path).stat()
    options = {k: v for k, v in asdict(opts).items()
               if k not in ("force", "resume", "scheduler", "connect_timeout")}
    text = json.dumps([names, str(Path(filter_path).resolve()), stat.st_size, stat.st_mtime_ns,
                       options], default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` is a folder ``overlap`` wrote (it may replace it)."""
    return (path / "summary.json").is_file() or any(
        (child / "summary.json").is_file() for child in path.iterdir() if child.is_dir())


def _measure_all(names: list[str], bloom, coder: SpanCoder, filter_info: dict, out: Path,
                 opts: OverlapOptions, measure: Callable) -> list[dict]:
    """Each benchmark measured and written to OUT/<bench>/; their summaries."""
    fpr = filter_info["estimated_fpr"]
    summaries = []
    for name in names:
        if (out / name / SUMMARY).is_file():  # --resume: done before
            summaries.append(json.loads((out / name / SUMMARY).read_text("utf-8")))
            continue
        examples = load_benchmark(name, opts.split, opts.bench_path,
                                  text_template=opts.text_template, id_field=opts.id_field)
        texts = [e.text for e in examples]
        results = measure([e.id for e in examples], texts, bloom, coder, desc=name)
        scored_field = get_benchmark(name).scored_field
        if scored_field:
            missing = mark_scored(results, texts, [scored_offset(e.text, e.fields.get(
                scored_field)) for e in examples], coder)
            if missing:
                log.warning(f"{name}: {missing} matched examples have no {scored_field!r} at "
                            f"the end of their text: no scored part for them")
        summary = {
            "bench": name,
            "bench_label": bench_label(name, opts.bench_path),
            "split": canonical_split(opts.split or get_benchmark(name).default_split),
            # where the texts came from, so an analysis can read them again
            "bench_path": opts.bench_path,  # None: the default location
            "text_template": opts.text_template,
            "id_field": opts.id_field,
            "n": opts.n,
            "unit": opts.unit,
            "tokenizer": coder.tokenizer,
            "normalizer": NORMALIZER_VERSION,
            "scored_field": scored_field,
            **summarize(results, opts.edges),
            **false_positive_expectation(results, fpr),
            "filter": filter_info,
        }
        write_bench(out / name, results, texts, summary)
        summaries.append(summary)
    return summaries


def bench_label(name: str, bench_path: str | None) -> str:
    """How titles name a benchmark: a user's own file by its file name."""
    if name == CUSTOM.name and bench_path:
        return Path(bench_path).name
    return name


def filter_label(filter_info: dict) -> str:
    """How titles name a filter: its file, and the corpus folder it was built from."""
    prov = filter_info.get("provenance")
    corpus = f" (corpus {Path(prov['corpus']).name})" if prov else ""
    return Path(filter_info["path"]).name + corpus


def false_positive_expectation(results: Sequence[ExampleOverlap], fpr: float) -> dict:
    """What false positives alone would find: n-grams × FPR, and examples with at least one
    false-positive n-gram, sum over examples of 1 - (1 - FPR)^n-grams."""
    ngrams = np.array([r.ngrams for r in results], dtype=float)
    return {"expected_false_positive_ngrams": float(ngrams.sum() * fpr),
            "expected_false_positive_examples": float(-np.expm1(ngrams * np.log1p(-fpr)).sum())}


def write_bench(bench_dir: Path, results: Sequence[ExampleOverlap], texts: Sequence[str],
                summary: dict) -> None:
    """examples.jsonl (each row with the example's text, for the report), examples.csv, the
    plots, and summary.json (last: it marks a whole run)."""
    write_jsonl(bench_dir / EXAMPLES,
                ({**r.row(), "text": t} for r, t in zip(results, texts, strict=True)))
    with atomic_open(bench_dir / "examples.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for r in results:
            row = r.row()
            row["spans"] = " ".join(f"{s}-{e}" for s, e in r.spans)
            writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    summary["plots"] = write_plots(bench_dir, results, summary)
    write_json(bench_dir / SUMMARY, summary)


def plot_title(s: dict) -> str:
    return (f"{s['bench_label']} {s['split']} vs {filter_label(s['filter'])}\n"
            f"{s['n']}-grams of {s['unit']}, {s['tested']:,} tested examples")


def write_plots(bench_dir: Path, results: Sequence[ExampleOverlap], summary: dict) -> list[str]:
    from overlap import plots  # matplotlib: imported once results are in, not at start-up

    pcts = np.array([r.overlap_pct for r in results if not r.too_short], dtype=float)
    title = plot_title(summary)
    b = summary["buckets"]
    paths = [
        plots.bucket_bars([x["bucket"] for x in b], [x["examples"] for x in b], title,
                          bench_dir / "overlap_buckets.png"),
        plots.overlap_spread(pcts, title, bench_dir / "overlap_spread.png"),
    ]
    return [p.name for p in paths]


def run_row(s: dict) -> dict:
    """One benchmark's line of the run summary."""
    keys = ("bench", "bench_label", "split", "examples", "tested", "too_short",
            "examples_with_any_overlap", "ngrams", "ngrams_found", "overlap_pct",
            "mean_example_overlap_pct", "expected_false_positive_ngrams",
            "expected_false_positive_examples")
    return {k: s[k] for k in keys}


def write_run(out: Path, summaries: list[dict], filter_info: dict) -> None:
    """OUT/summary.json and the cross-benchmark chart of the run."""
    from overlap import plots  # matplotlib: imported once results are in, not at start-up

    rows = [run_row(s) for s in summaries]
    title = (f"Examples with any {summaries[0]['n']}-gram in {filter_label(filter_info)}"
             if summaries else "")
    chart = plots.contamination_by_bench(
        [{"label": f"{r['bench_label']} {r['split']}", "tested": r["tested"],
          "with_overlap": r["examples_with_any_overlap"],
          "expected_false_positive_examples": r["expected_false_positive_examples"]}
         for r in rows], title, out / "contamination.png")
    write_json(out / SUMMARY, {"format": RUN_FORMAT, "version": RUN_VERSION,
                               "benches": [s["bench"] for s in summaries],
                               "filter": filter_info, "benchmarks": rows,
                               "plots": [chart.name]})


def format_summary(s: dict, where: Path) -> str:
    pct = "n/a" if s["overlap_pct"] is None else f"{s['overlap_pct']:.3f} %"
    mean = "n/a" if s["mean_example_overlap_pct"] is None else \
        f"{s['mean_example_overlap_pct']:.3f} %"
    return (f"{s['bench']} {s['split']}: {s['examples']} examples ({s['too_short']} too short "
            f"to test), {s['ngrams_found']} of {s['ngrams']} {s['n']}-grams found ({pct}; "
            f"{s['expected_false_positive_ngrams']:.2g} expected from false positives), "
            f"mean per example {mean}, {s['examples_with_any_overlap']} with any overlap "
            f"-> {where}")
