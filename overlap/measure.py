"""``overlap``: benchmarks against a filter, with per-example results, summary, CSV and plots.

One benchmark writes its files straight into the output directory; several write one
sub-directory each (named after the benchmark). A report (``report.md`` / ``report.html``)
of all of them is rendered into the output directory at the end.
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
from overlap.spans import SpanCoder

CSV_COLUMNS = ("id", "units", "ngrams", "found", "overlap_pct", "status", "spans")


def run_overlap(benches: Sequence[str], filter_path: str | Path, out: str | Path,
                opts: OverlapOptions, measure: Callable = measure_texts) -> list[dict]:
    """Measure each benchmark's split against the filter; returns the summaries written.

    ``measure`` has ``measure_texts``'s signature; ``contamkit.scale.route`` passes one that runs
    on a Dask cluster (``contamkit.scale.dask_overlap``).
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
    key = _resume_key(names, filter_path, opts)
    with staged_dir(out, key, opts.resume) as tmp:  # complete, or the previous one stays
        summaries = _measure_all(names, bloom, coder, filter_path, tmp, opts, measure)
        write_report(tmp, Path(out).name or str(out))
    for summary in summaries:
        log.info(format_summary(summary, Path(out) / summary.pop("_where")))
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


def _measure_all(names: list[str], bloom, coder: SpanCoder, filter_path: str | Path, out: Path,
                 opts: OverlapOptions, measure: Callable) -> list[dict]:
    summaries = []
    for name in names:
        run_dir = out / name if len(names) > 1 else out
        if len(names) > 1 and (run_dir / "summary.json").is_file():  # --resume: done before
            summary = json.loads((run_dir / "summary.json").read_text("utf-8"))
            summaries.append({**summary, "_where": name})
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
            "filter": {"path": str(filter_path), "params": asdict(bloom.params),
                       "estimated_fpr": bloom.stats()["estimated_fpr"]},
        }
        write_run(run_dir, results, summary)
        summaries.append({**summary, "_where": run_dir.relative_to(out).as_posix()})
    return summaries


def write_run(run_dir: Path, results: Sequence[ExampleOverlap], summary: dict) -> None:
    """examples.jsonl, examples.csv, the plots, and summary.json (last: it marks a whole run)."""
    write_jsonl(run_dir / "examples.jsonl", (r.row() for r in results))
    with atomic_open(run_dir / "examples.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for r in results:
            row = r.row()
            row["spans"] = " ".join(f"{s}-{e}" for s, e in r.spans)
            writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    summary["plots"] = write_plots(run_dir, results, summary)
    write_json(run_dir / "summary.json", summary)


def write_plots(run_dir: Path, results: Sequence[ExampleOverlap], summary: dict) -> list[str]:
    from overlap import plots  # matplotlib: imported once results are in, not at start-up

    pcts = np.array([r.overlap_pct for r in results if not r.too_short], dtype=float)
    title = (f"{summary['bench']} {summary['split']}: {summary['n']}-gram overlap "
             f"({summary['tested']} tested examples)")
    b = summary["buckets"]
    paths = [
        plots.histogram(pcts, title, run_dir / "overlap_hist.png"),
        plots.cdf(pcts, title, run_dir / "overlap_cdf.png"),
        plots.buckets([x["bucket"] for x in b], [x["share_pct"] or 0.0 for x in b],
                      [x["examples"] for x in b], title, run_dir / "overlap_buckets.png"),
    ]
    return [p.name for p in paths]


def format_summary(s: dict, where: Path) -> str:
    pct = "n/a" if s["overlap_pct"] is None else f"{s['overlap_pct']:.3f} %"
    mean = "n/a" if s["mean_example_overlap_pct"] is None else \
        f"{s['mean_example_overlap_pct']:.3f} %"
    return (f"{s['bench']} {s['split']}: {s['examples']} examples ({s['too_short']} too short "
            f"to test), {s['ngrams_found']} of {s['ngrams']} {s['n']}-grams found ({pct}), "
            f"mean per example {mean}, {s['examples_with_any_overlap']} with any overlap "
            f"-> {where}")
