"""The spilled (out-of-core, distributable) build behind ``build-filter --scheduler/--shards/
--max-memory``.

Three phases of tasks (``contamkit.scale.jobs``) over an executor (``contamkit.scale.executor``: in
process, or Dask): map (hash the corpus, spill the hashes partitioned by prefix), count (exact
distinct n-grams per partition), build (one shard per task, each sized for its own exact count). The
shards are published (renamed into place, then the manifest written) only when every task has
finished and the false-positive check passed. With one shard the output is an ordinary filter file,
byte for byte the one ``overlap.build`` writes for the same corpus and options when that one counts
exactly (or is given ``--capacity``). Why this design: contamkit/scale/README.md.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from functools import partial
from pathlib import Path

import numpy as np

from contamkit.common import faults
from contamkit.common.errors import UserError
from contamkit.common.outputs import (
    build_tag,
    check_output,
    pid_alive,
    remove_stale,
    temp_path,
)
from contamkit.common.progress import log
from contamkit.corpus.formats import corpus_files, file_format, plan_tasks
from contamkit.corpus.read import CorpusStats
from contamkit.scale.executor import open_executor
from contamkit.scale.jobs import (
    CountPiece,
    MapResult,
    ShardJob,
    SpillLayout,
    build_task,
    count_task,
    map_task,
)
from contamkit.scale.spill import PAIR_BYTES
from overlap.build import FPR_SLACK, exact_capacity, filter_params, format_summary, read_stats
from overlap.filters import is_filter
from overlap.options import BuildOptions
from overlap.pipeline import HashSpec, task_bytes
from overlap.provenance import corpus_provenance, drop_old_sidecars, write_sidecar
from overlap.sharded import (
    combined_stats,
    is_manifest,
    logical_params,
    prefix_bits,
    read_manifest,
    shard_files,
    shard_name,
    write_manifest,
)
from overlap.units import make_coder

RUN_BYTES = 32 << 20  # spilled pairs a map task buffers before writing a run
COUNT_BYTES = 512 << 20  # memory for counting, without --max-memory
SORT_OVERHEAD = 3  # counting pairs takes about three times their bytes (copies, sort, masks)
MAX_PARTITIONS = 1 << 14
COMPRESSED_RATIO = 8  # text bytes assumed per byte of a compressed file (partition count only)
MIN_WORDS_BYTES = 2  # a word takes at least a character and a separator


def _check_options(opts: BuildOptions) -> None:
    if opts.shards < 0 or (opts.shards and opts.shards & (opts.shards - 1)):
        raise UserError(f"--shards must be a power of two (or 0: automatic), got {opts.shards}")
    if opts.shards == 0 and not opts.max_memory:
        raise UserError("--shards 0 (automatic) needs --max-memory")
    if opts.max_memory is not None and opts.max_memory < 1 << 16:
        raise UserError(f"--max-memory {opts.max_memory} bytes is too small (at least 64 KiB)")


def _filter_bytes(opts: BuildOptions, capacity: int, tokenizer: str) -> int:
    return (filter_params(opts, capacity, tokenizer).m + 7) // 8


def _fitting_shards(opts: BuildOptions, capacity: int, tokenizer: str) -> int:
    """Fewest shards (a power of two) whose even share of ``capacity`` fits ``max_memory``."""
    shards = 1
    while _filter_bytes(opts, math.ceil(capacity / shards), tokenizer) > opts.max_memory:
        shards *= 2
    return shards


def _text_bytes(path: Path) -> int:
    fmt, compression = file_format(path)
    return path.stat().st_size * (COMPRESSED_RATIO if compression or fmt == "parquet" else 1)


def _least_shards(opts: BuildOptions, slots: int) -> int:
    """The requested shard count; automatic counts start at one per worker (a power of two) so
    that the build phase keeps every worker busy."""
    return opts.shards or 1 << (slots - 1).bit_length()


def _partition_count(files: list[Path], opts: BuildOptions, tokenizer: str, slots: int) -> int:
    """Prefix partitions of the spill: the shard count, or enough that ``--max-memory`` can
    always be met once the exact counts are known (n-grams are at most text bytes / 2)."""
    least = _least_shards(opts, slots)
    if opts.capacity is not None and not opts.shards:
        return min(MAX_PARTITIONS, max(least, _fitting_shards(opts, opts.capacity, tokenizer)))
    if opts.capacity is not None:
        return least
    if not opts.max_memory:
        return least
    most_ngrams = sum(map(_text_bytes, files)) // MIN_WORDS_BYTES + 1
    return min(MAX_PARTITIONS, max(least, _fitting_shards(opts, most_ngrams, tokenizer)))


@contextlib.contextmanager
def _spill_dir(out: Path, opts: BuildOptions) -> Iterator[Path]:
    root = Path(opts.spill_dir) if opts.spill_dir else out.parent
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f".{out.name}.spill-{os.getpid()}-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _map_phase(ex, tasks: list, spec: HashSpec, layout: SpillLayout) -> MapResult:
    total = MapResult.empty(layout.partitions)
    reported = 0
    fn = partial(map_task, spec=spec, layout=layout)
    for _, r in ex.run(fn, list(enumerate(tasks)), [t.path for t in tasks], "hashing",
                       [task_bytes(t) for t in tasks], "B"):
        total.merge(r)
        reported = total.stats.report_new(reported)
    total.runs.sort()  # the same order whatever order the tasks finished in
    return total


def count_pieces(rows: np.ndarray, budget: int, slots: int) -> list[CountPiece]:
    """Contiguous partition ranges whose pairs fit the count budget, about two per slot; a
    partition over the budget alone gets as many passes as it needs."""
    fit = max(1, budget // (PAIR_BYTES * SORT_OVERHEAD))
    target = max(1, min(fit, math.ceil(int(rows.sum()) / (2 * slots))))
    pieces: list[CountPiece] = []
    first, held = 0, 0
    for j, r in enumerate(rows.tolist()):
        if r > fit:
            if j > first:
                pieces.append(CountPiece(first, j))
            pieces.append(CountPiece(j, j + 1, math.ceil(r / fit)))
            first, held = j + 1, 0
            continue
        if held + r > target and j > first:
            pieces.append(CountPiece(first, j))
            first, held = j, 0
        held += r
    if first < len(rows):
        pieces.append(CountPiece(first, len(rows)))
    return pieces


def _count_phase(ex, mapped: MapResult, partitions: int, budget: int) -> np.ndarray:
    pieces = count_pieces(mapped.rows, budget, ex.slots)
    distinct = np.zeros(partitions, dtype=np.int64)
    fn = partial(count_task, runs=mapped.runs, partitions=partitions)
    names = [f"partitions {p.first}-{p.stop - 1}" for p in pieces]
    for i, counts in ex.run(fn, pieces, names, "counting"):
        distinct[pieces[i].first : pieces[i].stop] = counts
    return distinct


def _capacities(opts: BuildOptions, distinct: np.ndarray | None, shards: int) -> list[int]:
    """Each shard's capacity: its exact distinct count with the margin ``overlap.build`` uses,
    or an even share of ``--capacity``."""
    if distinct is None:
        return [math.ceil(opts.capacity / shards)] * shards
    return [exact_capacity(d) for d in distinct.reshape(shards, -1).sum(axis=1).tolist()]


def _shard_count(opts: BuildOptions, distinct: np.ndarray | None, partitions: int,
                 tokenizer: str, least: int) -> int:
    """The requested shard count (checked against --max-memory), or the fewest, from ``least``
    up, that fit it."""
    def largest(shards: int) -> int:
        return max(_filter_bytes(opts, c, tokenizer) for c in _capacities(opts, distinct, shards))

    if opts.shards:
        if opts.max_memory and largest(opts.shards) > opts.max_memory:
            raise UserError(f"--shards {opts.shards}: a shard needs {largest(opts.shards)} bytes, "
                            f"over --max-memory {opts.max_memory}; use more shards or --shards 0")
        return opts.shards
    for bits in range(prefix_bits(least), prefix_bits(partitions) + 1):
        if largest(1 << bits) <= opts.max_memory:
            return 1 << bits
    raise UserError(f"--max-memory {opts.max_memory}: even {partitions} shards need "
                    f"{largest(partitions)} bytes each; raise --max-memory or give --shards")


def _shard_jobs(opts: BuildOptions, out: Path, tokenizer: str, mapped: MapResult,
                capacities: list[int], provenance: dict | None) -> list[ShardJob]:
    """One job per shard. A single shard is built under a temporary name and renamed over
    ``out``; several are built under names of their own (``shard_name`` with this build's
    tag), which only the manifest, written last, makes part of the filter. Each carries the
    corpus ``provenance``."""
    count = len(capacities)
    width = len(mapped.occurrences) // count
    build = build_tag()
    jobs = []
    for s, capacity in enumerate(capacities):
        path = (temp_path(out, "partial") if count == 1
                else out.parent / shard_name(out, s, count, build))
        first, stop = s * width, (s + 1) * width
        jobs.append(ShardJob(s, count, first, stop, filter_params(opts, capacity, tokenizer),
                             int(mapped.occurrences[first:stop].sum()), str(path), provenance))
    return jobs


def _build_phase(ex, jobs: list[ShardJob], runs: list[str], partitions: int) -> list[dict]:
    results: list[dict] = [{}] * len(jobs)
    fn = partial(build_task, runs=runs, partitions=partitions)
    names = [f"shard {j.index} of {j.count}" for j in jobs]
    for i, result in ex.run(fn, jobs, names, "building shards"):
        results[i] = result
    return results


def _publish(out: Path, jobs: list[ShardJob], results: list[dict]) -> None:
    """Make the new shards the filter in one step: rename the single shard over ``out``, or
    replace the manifest (atomically) with one naming the new shards. Until that step ``out``
    is the previous filter, whole; after it, the previous build's shards are removed."""
    faults.step()
    if len(jobs) == 1:
        os.replace(jobs[0].path, out)
    else:
        write_manifest(out, [{"file": Path(j.path).name, **r["header"]}
                             for j, r in zip(jobs, results, strict=True)], jobs[0].provenance)
    faults.step()
    remove_unlisted_shards(out)


def remove_unlisted_shards(out: Path) -> int:
    """Delete the shard files of ``out`` that its manifest does not name, unless a build still
    running made them (its process is alive: it will publish or discard them itself)."""
    listed: set[str] = set()
    if out.is_file() and is_manifest(out):
        with contextlib.suppress(UserError):
            listed = {e.get("file") for e in read_manifest(out)["shards"] if isinstance(e, dict)}
    removed = 0
    for path, pid in shard_files(out):
        if path.name not in listed and (pid is None or pid == os.getpid() or not pid_alive(pid)):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _discard(jobs: list[ShardJob]) -> None:
    for job in jobs:
        Path(job.path).unlink(missing_ok=True)


def _checked_build(ex, opts: BuildOptions, out: Path, tokenizer: str, mapped: MapResult,
                   jobs: list[ShardJob], partitions: int) -> tuple[list[ShardJob], list[dict], int]:
    """Build the shards; if the false-positive estimate is over the target, an automatic size is
    rebuilt larger (as ``overlap.build`` does) and a user-given capacity is an error."""
    results = _build_phase(ex, jobs, mapped.runs, partitions)
    stats = combined_stats([r["stats"] for r in results], [j.params for j in jobs])
    if stats["estimated_fpr"] <= opts.fpr * FPR_SLACK:
        return jobs, results, 1
    _discard(jobs)
    if opts.capacity is not None:
        needed = math.ceil(min(stats["estimated_distinct"], mapped.ngrams) * 1.1)
        raise UserError(f"--capacity {opts.capacity} is too small: the filter's FPR would be "
                        f"{stats['estimated_fpr']:.3g} > target {opts.fpr:g}; use --capacity "
                        f"{needed} or leave it out. Nothing was written")
    log.warning("distinct estimate fell short (FPR %.3g > %g): rebuilding larger",
                stats["estimated_fpr"], opts.fpr)
    needed = [math.ceil(min(r["stats"]["estimated_distinct"], j.inserted) * 1.1)
              for j, r in zip(jobs, results, strict=True)]
    jobs = _shard_jobs(opts, out, tokenizer, mapped, needed, jobs[0].provenance)
    try:
        return jobs, _build_phase(ex, jobs, mapped.runs, partitions), 2
    except BaseException:
        _discard(jobs)
        raise


def build_scaled(corpus: str | Path, out: str | Path, opts: BuildOptions) -> dict:
    """Build and save the (possibly sharded) filter of ``corpus``; returns the summary figures."""
    start = time.perf_counter()
    out = Path(out)
    _check_options(opts)
    check_output(out, [corpus], kind="filter file", own=is_filter, force=opts.force)
    remove_unlisted_shards(out)  # left by a build killed after publishing
    if opts.spill_dir:
        remove_stale(out, Path(opts.spill_dir))
    tokenizer = make_coder(opts.unit, opts.gpt2_vocab).tokenizer  # fail early on a bad vocab
    scan = CorpusStats()
    files = corpus_files(corpus, scan)
    spec = HashSpec(opts.n, opts.unit, opts.seed, opts.text_field, opts.gpt2_vocab)
    budget = opts.max_memory or COUNT_BYTES
    timings: dict[str, float] = {}
    # the spill directory outlives the executor: a local cluster's workers are gone before it is
    # removed, and tasks still running elsewhere find it missing and stop (contamkit.scale.jobs)
    with _spill_dir(out, opts) as spill, \
            open_executor(opts.scheduler, opts.workers, opts.connect_timeout) as ex:
        partitions = _partition_count(files, opts, tokenizer, ex.slots)
        layout = SpillLayout(str(spill), partitions, min(RUN_BYTES, max(budget // 4, 1 << 16)))
        clock = time.perf_counter()
        mapped = _map_phase(ex, plan_tasks(files, ex.slots), spec, layout)
        timings["map_seconds"] = time.perf_counter() - clock
        if mapped.ngrams == 0:
            raise UserError(f"{corpus}: no n-grams: no document has {opts.n} or more "
                            f"{opts.unit}; nothing was written")
        clock = time.perf_counter()
        distinct = (_count_phase(ex, mapped, partitions, budget) if opts.capacity is None
                    else None)
        timings["count_seconds"] = time.perf_counter() - clock
        clock = time.perf_counter()
        shards = _shard_count(opts, distinct, partitions, tokenizer,
                              _least_shards(opts, ex.slots))
        provenance, listed = corpus_provenance(corpus, files, read_stats(mapped.stats, scan),
                                               out)
        jobs = _shard_jobs(opts, out, tokenizer, mapped, _capacities(opts, distinct, shards),
                           provenance)
        try:
            jobs, results, passes = _checked_build(ex, opts, out, tokenizer, mapped, jobs,
                                                   partitions)
        except BaseException:
            _discard(jobs)
            raise
        write_sidecar(out, provenance, listed)
        _publish(out, jobs, results)
        drop_old_sidecars(out, provenance)
        timings["build_seconds"] = time.perf_counter() - clock
        executor = (ex.name, ex.slots)
    scan.report_new(0)
    summary = _summary(out, mapped, scan, jobs, results, passes, executor, start,
                       None if distinct is None else int(distinct.sum()))
    summary.update(timings)
    log.info(format_summary(summary) + f"; {shards} shard(s) of at most "
             f"{summary['max_shard_bytes'] / 2**20:.2f} MiB, spilled "
             f"{summary['spill_bytes'] / 2**20:.2f} MiB")
    return summary


def _summary(out: Path, mapped: MapResult, scan: CorpusStats, jobs: list[ShardJob],
             results: list[dict], passes: int, executor: tuple[str, int], start: float,
             distinct: int | None) -> dict:
    stats = mapped.stats
    wall = time.perf_counter() - start
    params = [j.params for j in jobs]
    return {
        "output": str(out),
        "files": stats.files,
        "documents": stats.documents,
        "bytes": stats.bytes,
        "words": mapped.words,
        "ngrams": mapped.ngrams,
        **combined_stats([r["stats"] for r in results], params),
        "params": asdict(logical_params(params)),
        "passes": passes,
        "skipped_files": stats.skipped_files + scan.skipped_files,
        "bad_records": stats.bad_records,
        "invalid_utf8_files": stats.invalid_utf8_files,
        "workers": executor[1],
        "wall_seconds": wall,
        "mb_per_second": stats.bytes / wall / 1e6,
        "scheduler": executor[0],
        "distinct": distinct,
        "shards": len(jobs),
        "partitions": len(mapped.rows),
        "spill_bytes": int(mapped.rows.sum()) * PAIR_BYTES,
        "max_shard_bytes": max((p.m + 7) // 8 for p in params),
    }
