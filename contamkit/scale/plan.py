"""Capacity planning: from a corpus size to distinct n-grams, filter size, shards, memory and time.

Everything is extrapolated from a calibration run on a real sample, on one core of this machine:
n-grams per byte and distinct n-grams from the sample (with the growth exponent β of distinct
against all n-grams, fitted over prefixes of the sample), and the single-core throughput of each
phase of the spilled build (``contamkit.scale.dask_build``). The filter size then follows from the
Bloom arithmetic of the chosen layout (``overlap.layouts``: at 1e-8, 44.06 bits per element blocked,
38.34 classic, PAPER.md). A small sample cannot see the duplication of a large corpus (repeated
boilerplate, near-duplicate pages), so the distinct estimate is an upper bound, which is the safe
side for sizing; contamkit/scale/README.md compares it with real builds.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from contamkit.common.errors import UserError
from contamkit.common.paths import shared_data_dir
from contamkit.corpus.formats import corpus_files, plan_tasks
from contamkit.scale.dask_build import COUNT_BYTES, RUN_BYTES
from contamkit.scale.jobs import CountPiece, count_task
from contamkit.scale.spill import PAIR_BYTES, sort_run, write_run
from overlap.bloom import BloomFilter, FilterParams
from overlap.build import exact_capacity
from overlap.layouts import DEFAULT_LAYOUT
from overlap.ngrams import count_distinct
from overlap.pipeline import HashRun, HashSpec, task_bytes

GROWTH_FRACTIONS = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1)
RATE_PROBE_BYTES = 1 << 30
SAMPLE_BYTES = 64 << 20  # enough text to calibrate on; the rest of a larger sample is ignored
# What the end-to-end bench measured for whole Dask builds, MB/s of text by local workers
# (bench/bench_e2e.py, 300 MB, median of 3, on the 2-core guest; docs/performance.md). The
# plan's own rates are calibrated here at run time; this is the check.
BENCH_DASK_MB_PER_S = {1: 8.6, 2: 9.7}


def format_size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.3g} {unit}" if unit != "B" else f"{size:.0f} B"
        size /= 1024
    raise AssertionError("unreachable")


def default_sample() -> Path:
    path = shared_data_dir() / "webtext" / "webtext.train.jsonl"
    if not path.is_file():
        raise UserError(f"{path}: no calibration sample; pass --sample CORPUS")
    return path


@dataclass
class Calibration:
    """What one core of this machine measured on a real sample."""

    sample: str
    n: int
    sample_bytes: int
    ngrams: int
    distinct: int
    growth: float  # β in distinct ∝ ngrams^β, fitted over prefixes of the sample
    spill_ratio: float  # pairs spilled per n-gram (repeats inside a run are dropped)
    map_bytes_per_second: float  # read, normalize, hash, sort and spill
    count_pairs_per_second: float


def growth_exponent(h1: np.ndarray, h2: np.ndarray) -> tuple[int, float]:
    """Distinct n-grams of the whole stream, and the slope of log distinct over log n-grams."""
    pairs = np.stack([h1, h2], axis=1)
    sizes = [max(int(len(pairs) * f), 1) for f in GROWTH_FRACTIONS]
    counts = [count_distinct(pairs[:k]) for k in sizes]
    slope = float(np.polyfit(np.log(sizes), np.log(counts), 1)[0]) if len(pairs) > 16 else 1.0
    return counts[-1], min(slope, 1.0)


def calibrate(sample: str | Path | None = None, n: int = 8, unit: str = "words",
              gpt2_vocab: str | None = None) -> Calibration:
    """Hash (up to ``SAMPLE_BYTES`` of) the sample on one core, then spill and count its hashes
    with the build's own functions, timing each step; and fit the distinct growth."""
    sample = sample or default_sample()
    tasks, size = [], 0
    for task in plan_tasks(corpus_files(sample), 1):
        if size >= SAMPLE_BYTES:
            break
        tasks.append(task)
        size += task_bytes(task)
    run = HashRun(tasks, HashSpec(n, unit, 0, "text", gpt2_vocab), 1, "calibrating")
    clock = time.perf_counter()
    batches = list(run)
    hashing = time.perf_counter() - clock
    if not run.ngrams:
        raise UserError(f"{sample}: no {n}-grams to calibrate on")
    h1, h2 = np.concatenate([b.h1 for b in batches]), np.concatenate([b.h2 for b in batches])
    with tempfile.TemporaryDirectory(prefix="contam-plan-") as tmp:
        path = Path(tmp) / "sample.run"
        clock = time.perf_counter()
        pairs, rows, _ = sort_run(h1, h2, 1)
        write_run(path, pairs, rows)
        spilling = time.perf_counter() - clock
        clock = time.perf_counter()
        count_task(CountPiece(0, 1), [str(path)], 1)
        counting = time.perf_counter() - clock
    distinct, growth = growth_exponent(h1, h2)
    return Calibration(
        sample=str(sample), n=n, sample_bytes=run.stats.bytes, ngrams=len(h1), distinct=distinct,
        growth=growth, spill_ratio=len(pairs) / len(h1),
        map_bytes_per_second=run.stats.bytes / (hashing + spilling),
        count_pairs_per_second=len(pairs) / counting,
    )


def insert_rate(filter_bytes: int, layout: str = DEFAULT_LAYOUT, pairs: int = 1 << 20) -> float:
    """Pairs per second one core adds to a filter of this size (capped at ``RATE_PROBE_BYTES``):
    random access into a filter far larger than the cache is several times slower."""
    size = min(filter_bytes, RATE_PROBE_BYTES)
    per_million = _filter_bytes(1e6, 1e-8, layout)
    params = FilterParams.sized(max(size * 10**6 // per_million, 1), 1e-8, layout=layout, n=0,
                                unit="", normalizer="", tokenizer="", seed=0)
    bloom = BloomFilter(params)
    bloom.bits[:] = 0  # touch every page before timing
    rng = np.random.default_rng(0)
    h1, h2 = (rng.integers(0, 2**64, pairs, dtype=np.uint64, endpoint=False) for _ in range(2))
    start = time.perf_counter()
    bloom.add(h1, h2)
    return pairs / (time.perf_counter() - start)


@dataclass
class Plan:
    corpus_bytes: int
    n: int
    fpr: float
    layout: str
    workers: int
    max_memory: int
    ngrams: float
    distinct: float
    filter_bytes: int
    shards: int
    shard_bytes: int
    memory_per_worker: int
    spill_bytes: float
    map_seconds: float
    count_seconds: float
    build_seconds: float
    insert_pairs_per_second: float
    wall_seconds: float
    single_core_seconds: float


def _filter_bytes(distinct: float, fpr: float, layout: str) -> int:
    params = FilterParams.sized(exact_capacity(distinct), fpr, layout=layout, n=0, unit="",
                                normalizer="", tokenizer="", seed=0)
    return (params.m + 7) // 8


def estimate(corpus_bytes: int, fpr: float, workers: int, max_memory: int, cal: Calibration,
             rate: float | None = None, layout: str = DEFAULT_LAYOUT) -> Plan:
    """Extrapolate the calibration to ``corpus_bytes`` of similar text on ``workers`` cores.

    Shards: enough that one fits ``max_memory`` and, for a parallel build phase, at least one per
    worker (a power of two). Memory per worker: the largest of one shard plus a spill run being
    read, a spill run being written (three times its size while sorting), and the count budget.
    ``rate``: pairs per second into a shard of the planned size (default: measured here).
    """
    if corpus_bytes <= 0 or workers < 1:
        raise UserError("--corpus-bytes and --workers must be positive")
    ngrams = corpus_bytes * cal.ngrams / cal.sample_bytes
    distinct = min(ngrams, cal.distinct * (ngrams / cal.ngrams) ** cal.growth)
    filter_bytes = _filter_bytes(distinct, fpr, layout)
    shards = 1
    while shards < workers or _filter_bytes(distinct / shards, fpr, layout) > max_memory:
        shards *= 2
    shard_bytes = _filter_bytes(distinct / shards, fpr, layout)
    run = min(RUN_BYTES, max_memory // 4)
    spilled = ngrams * cal.spill_ratio
    map_s = corpus_bytes / cal.map_bytes_per_second
    count_s = spilled / cal.count_pairs_per_second
    rate = rate or insert_rate(shard_bytes, layout)
    build_s = spilled / rate
    return Plan(
        corpus_bytes=corpus_bytes, n=cal.n, fpr=fpr, layout=layout, workers=workers,
        max_memory=max_memory,
        ngrams=ngrams, distinct=distinct, filter_bytes=filter_bytes, shards=shards,
        shard_bytes=shard_bytes,
        memory_per_worker=max(shard_bytes + run, 3 * run, min(max_memory, COUNT_BYTES)),
        spill_bytes=spilled * PAIR_BYTES,
        map_seconds=map_s / workers, count_seconds=count_s / workers,
        build_seconds=build_s / min(workers, shards), insert_pairs_per_second=rate,
        wall_seconds=map_s / workers + count_s / workers + build_s / min(workers, shards),
        single_core_seconds=map_s + count_s + build_s,
    )


def format_plan(plan: Plan, cal: Calibration) -> str:
    """The plan as aligned lines, sizes in binary units, times in hours when long."""
    def duration(seconds: float) -> str:
        return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds:.1f} s"

    rows = [
        ("corpus", f"{format_size(plan.corpus_bytes)} ({plan.corpus_bytes:.4g} bytes)"),
        (f"{plan.n}-grams", f"{plan.ngrams:.3g}"),
        ("distinct (estimate)", f"{plan.distinct:.3g}  (β = {cal.growth:.4f})"),
        (f"filter at {plan.fpr:g}", f"{format_size(plan.filter_bytes)} ({plan.layout} layout)"),
        ("shards", f"{plan.shards} of {format_size(plan.shard_bytes)}"),
        ("memory per worker", f"{format_size(plan.memory_per_worker)} + process baseline"),
        ("spill disk", format_size(plan.spill_bytes)),
        (f"time on {plan.workers} worker(s)", f"{duration(plan.wall_seconds)} (map "
         f"{duration(plan.map_seconds)}, count {duration(plan.count_seconds)}, build "
         f"{duration(plan.build_seconds)} at {plan.insert_pairs_per_second / 1e6:.2f} M "
         "pairs/s per shard)"),
        ("time on one core", duration(plan.single_core_seconds)),
        ("calibrated on", f"{cal.sample} ({format_size(cal.sample_bytes)}: "
         f"{cal.map_bytes_per_second / 1e6:.2f} MB/s per core to spill)"),
        ("per-core rate assumed", f"{cal.map_bytes_per_second / 1e6:.2f} MB/s per core to spill"
         " (this calibration); bench_e2e measured whole Dask builds at " + ", ".join(
             f"{rate:.2f} MB/s on {w} worker(s)" for w, rate in BENCH_DASK_MB_PER_S.items())),
    ]
    return "\n".join(f"{k + ':':<22} {v}" for k, v in rows)


def plan_summary(plan: Plan, cal: Calibration) -> dict:
    return {"plan": asdict(plan), "calibration": asdict(cal)}
