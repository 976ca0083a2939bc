"""``build-filter``: a corpus in, a Bloom filter of its n-grams out, sized honestly.

Without ``--capacity`` a first pass counts distinct n-grams: exactly (unique 128-bit hashes) when
its hashes fit a memory budget — then they are inserted straight from memory, the corpus is read
once, and the filter is sized for the exact count plus 0.5 % — otherwise with HyperLogLog (0.8 %
standard error) plus 6 standard errors, and a second pass inserts. With ``--capacity`` the
corpus is read once. Either way the finished filter's false-positive rate, estimated from its
fill ratio, is checked against the target: an automatic size that fell short is rebuilt larger
(and logged); a user-given capacity that was too small is an error, and nothing is written.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from contamkit.common.background import overlapped_map
from contamkit.common.errors import UserError
from contamkit.common.progress import log
from contamkit.corpus.read import CorpusStats, corpus_files, plan_tasks
from overlap.bloom import BloomFilter, FilterParams
from overlap.hll import STD_ERROR, HyperLogLog
from overlap.ngrams import Hashes, count_distinct
from overlap.normalize import NORMALIZER_VERSION
from overlap.pipeline import HashRun, HashSpec, default_workers, hashing_processes
from overlap.provenance import corpus_provenance, drop_old_sidecars, write_sidecar
from overlap.units import make_coder

FPR_SLACK = 1.01  # the fill-ratio estimate's own noise, allowed above the target
KEEP_BYTES = 512 << 20  # hashes kept from the counting pass to avoid reading twice
EXACT_MARGIN = 1.005  # room above an exact distinct count for the fill-ratio estimate's noise


@dataclass
class BuildOptions:
    n: int = 8
    unit: str = "words"
    fpr: float = 1e-8
    capacity: int | None = None
    workers: int = 0  # 0: overlap.pipeline.default_workers()
    seed: int = 0
    text_field: str = "text"
    gpt2_vocab: str | None = None
    # scale-out (contamkit/scale/README.md): read by contamkit.scale.route, which runs the
    # spilled build (contamkit.scale.dask_build) when any of them is set
    scheduler: str | None = None  # Dask scheduler address, or local:N
    shards: int = 1  # power of two; 0: as few as --max-memory allows
    max_memory: int | None = None  # bytes one worker may hold: a shard, a spill run, a count
    spill_dir: str | None = None  # default: beside the output
    connect_timeout: float = 10.0  # seconds to reach the scheduler and its first worker

    def scaled(self) -> bool:
        """Whether the spilled build must run: ``build_filter`` here refuses these options."""
        return bool(self.scheduler or self.shards != 1 or self.max_memory)


def filter_params(opts: BuildOptions, capacity: int, tokenizer: str) -> FilterParams:
    """The filter's parameters for ``capacity`` distinct n-grams with these options."""
    return FilterParams.sized(capacity, opts.fpr, n=opts.n, unit=opts.unit,
                              normalizer=NORMALIZER_VERSION, tokenizer=tokenizer, seed=opts.seed)


def _count_pass(run: HashRun) -> tuple[int, list | None]:
    """Capacity to size for, and the hashes themselves if they fit in ``KEEP_BYTES``."""
    hll = HyperLogLog()
    kept: list | None = []
    size = 0
    for h in run:
        hll.add(h.h1, h.h2)
        if kept is not None:
            size += h.h1.nbytes + h.h2.nbytes
            if size <= KEEP_BYTES:
                kept.append(h)
            else:
                kept = None
    if kept is None:
        return math.ceil(hll.estimate() * (1 + 6 * STD_ERROR)) + 1, None
    pairs = np.empty((sum(len(h.h1) for h in kept), 2), dtype=np.uint64)
    pairs[:, 0] = np.concatenate([h.h1 for h in kept] or [np.empty(0, np.uint64)])
    pairs[:, 1] = np.concatenate([h.h2 for h in kept] or [np.empty(0, np.uint64)])
    return exact_capacity(count_distinct(pairs)), kept


def exact_capacity(distinct: int) -> int:
    """The capacity to size for when the distinct count is known exactly."""
    return math.ceil(distinct * EXACT_MARGIN) + 1


def _fill(bloom: BloomFilter, hashes: Iterable[Hashes], workers: int) -> None:
    """Insert every batch: on one core, in turn with producing it; on more, on a writer
    thread while the next batch is produced (the compiled insert releases the GIL).

    One thread writes the filter. Two threads each owning half the bytes (each pass sets only
    the probes in its half) built more slowly on 2 cores (timed ad hoc), the other threads
    needing the second core. Worker processes inserting into one shared filter were tried too
    (timed ad hoc): memory shared between processes gets 4 KiB pages where Linux's default
    leaves shared huge pages off, and a pass over half of a 24 MB filter then took 233 ns per
    n-gram instead of 96."""
    for _ in overlapped_map(bloom.add, ((h.h1, h.h2) for h in hashes), background=workers > 1):
        pass


def build_filter(corpus: str | Path, out: str | Path, opts: BuildOptions) -> dict:
    """Build and save the filter of ``corpus`` in this process; returns the summary figures.

    Sharded, spilled and Dask builds (``opts.scaled()``) run through
    ``contamkit.scale.route.build_filter``, which calls this one otherwise.
    """
    if opts.n < 1:
        raise UserError(f"n must be at least 1, got {opts.n}")
    if opts.scaled():
        raise ValueError("scale-out options: build with contamkit.scale.route.build_filter")
    start = time.perf_counter()
    workers = opts.workers or default_workers()
    tokenizer = make_coder(opts.unit, opts.gpt2_vocab).tokenizer  # fail early on a bad vocab
    scan = CorpusStats()
    files = corpus_files(corpus, scan)
    tasks = plan_tasks(files, max(hashing_processes(workers), 1))
    spec = HashSpec(opts.n, opts.unit, opts.seed, opts.text_field, opts.gpt2_vocab)

    first = HashRun(tasks, spec, workers, "counting" if opts.capacity is None else "building")
    passes = 1
    if opts.capacity is None:
        capacity, kept = _count_pass(first)
        bloom = BloomFilter(filter_params(opts, capacity, tokenizer))
        if kept is None:
            passes += 1
            _fill(bloom, HashRun(tasks, spec, workers, "building"), workers)
        else:
            _fill(bloom, kept, workers)
    else:
        bloom = BloomFilter(filter_params(opts, opts.capacity, tokenizer))
        _fill(bloom, first, workers)
    if first.ngrams == 0:
        raise UserError(f"{corpus}: no n-grams: no document has {opts.n} or more {opts.unit}; "
                        "nothing was written")

    figures = bloom.stats()  # one pass over the bits: they may be gigabytes
    achieved = figures["estimated_fpr"]
    if achieved > opts.fpr * FPR_SLACK:
        needed = math.ceil(min(figures["estimated_distinct"], first.ngrams) * 1.1)
        if opts.capacity is not None:
            raise UserError(f"--capacity {opts.capacity} is too small: the filter's FPR would be "
                            f"{achieved:.3g} > target {opts.fpr:g}; use --capacity {needed} or "
                            "leave it out. Nothing was written")
        log.warning("distinct estimate fell short (FPR %.3g > %g): rebuilding for %d n-grams",
                    achieved, opts.fpr, needed)
        bloom = BloomFilter(filter_params(opts, needed, tokenizer))
        passes += 1
        _fill(bloom, HashRun(tasks, spec, workers, "rebuilding"), workers)
        figures = bloom.stats()
    stats = first.stats
    bloom.provenance, listed = corpus_provenance(corpus, files, read_stats(stats, scan), out)
    write_sidecar(out, bloom.provenance, listed)
    bloom.save(out)
    drop_old_sidecars(out, bloom.provenance)

    scan.report_new(0)
    wall = time.perf_counter() - start
    summary = {
        "output": str(out),
        "files": stats.files,
        "documents": stats.documents,
        "bytes": stats.bytes,
        "words": first.words,
        "ngrams": first.ngrams,
        **figures,
        "params": asdict(bloom.params),
        "passes": passes,
        "skipped_files": stats.skipped_files + scan.skipped_files,
        "bad_records": stats.bad_records,
        "invalid_utf8_files": stats.invalid_utf8_files,
        "workers": workers,
        "wall_seconds": wall,
        "mb_per_second": stats.bytes / wall / 1e6,
    }
    log.info(format_summary(summary))
    return summary


def read_stats(read: CorpusStats, scan: CorpusStats) -> CorpusStats:
    """The reading's counts with the files the corpus scan skipped added."""
    total = CorpusStats()
    total.merge(read)
    total.skipped_files += scan.skipped_files
    return total


def format_summary(s: dict) -> str:
    return (
        f"built {s['output']}: {s['files']} files, {s['documents']} documents, {s['words']} words, "
        f"{s['ngrams']} n-grams (~{s['estimated_distinct']:.0f} distinct), "
        f"{s['bits_per_element']:.2f} bits/element, fill {s['fill_ratio']:.3f}, "
        f"est. FPR {s['estimated_fpr']:.2g}, {s['wall_seconds']:.1f} s, "
        f"{s['mb_per_second']:.1f} MB/s; skipped {s['skipped_files']} files, "
        f"{s['bad_records']} bad records"
    )
