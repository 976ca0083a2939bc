"""The folder an ``overlap`` run writes, and finding a benchmark's results in it.

Layout (always the same, whatever the number of benchmarks)::

    OUT/summary.json          the run: benchmarks in --bench order, filter and its provenance,
                              one row of figures per benchmark
    OUT/contamination.png     share of examples with any overlap, per benchmark
    OUT/report.md, .html      the report of the run
    OUT/<bench>/summary.json  one benchmark: every aggregate figure
    OUT/<bench>/examples.jsonl, examples.csv, overlap_buckets.png, overlap_spread.png

Readers (``analyze``, the report, the demo, the experiments) take either OUT with a benchmark
name or OUT/<bench> itself.

>>> from pathlib import Path
>>> bench_dir(Path("out/overlap"), "lambada", {"format": RUN_FORMAT, "benches": ["lambada"]})
PosixPath('out/overlap/lambada')
"""

from __future__ import annotations

import json
from pathlib import Path

from contamkit.common.errors import UserError

RUN_FORMAT = "contamkit-overlap-run"
RUN_VERSION = 1
SUMMARY = "summary.json"
EXAMPLES = "examples.jsonl"


def read_summary(path: Path) -> dict | None:
    """A summary.json's content, or None when it is missing or not JSON."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def is_run(summary: dict | None) -> bool:
    """A whole ``overlap`` run's summary (OUT/summary.json)."""
    return bool(summary) and summary.get("format") == RUN_FORMAT


def is_bench_run(summary: dict | None) -> bool:
    """One benchmark's summary (OUT/<bench>/summary.json)."""
    return bool(summary) and "bench" in summary and "ngrams_found" in summary


def bench_dir(out: Path, bench: str | None, summary: dict | None = None) -> Path:
    """Where ``bench``'s results are: OUT/<bench> of a run (``bench`` None: a run of one
    benchmark), or ``out`` if it is a benchmark's folder already."""
    summary = summary if summary is not None else read_summary(out / SUMMARY)
    if summary and "bench" in summary and not is_run(summary):
        return out  # a benchmark's folder (its reader checks the rest)
    if summary is None:
        raise UserError(f"{out}: no {SUMMARY} (not the output of `overlap`)")
    if not is_run(summary):
        raise UserError(f"{out}: {SUMMARY} is not that of an `overlap` run")
    if bench is None and len(summary["benches"]) == 1:
        bench = summary["benches"][0]
    if bench is None:
        raise UserError(f"{out}: a run of several benchmarks ({', '.join(summary['benches'])}); "
                        f"give one's folder, e.g. {out / summary['benches'][0]}")
    if bench not in summary["benches"]:
        raise UserError(f"{out}: no results for benchmark {bench!r} (it has "
                        f"{', '.join(summary['benches'])})")
    return out / bench


def bench_dirs(out: Path) -> list[Path]:
    """Every benchmark folder of the runs under ``out``, each run's in its --bench order.

    ``out`` may hold one run, be one benchmark's folder, or hold several runs below it (a demo
    or experiment folder); benchmark folders outside any run come last, sorted.
    """
    found: list[Path] = []
    for path in sorted(out.rglob(SUMMARY)):
        summary = read_summary(path)
        if is_run(summary):
            found += [path.parent / b for b in summary["benches"]
                      if (path.parent / b / SUMMARY).is_file()]
    for path in sorted(out.rglob(SUMMARY)):
        if path.parent not in found and is_bench_run(read_summary(path)):
            found.append(path.parent)
    return found
