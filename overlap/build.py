"""``build-filter``: a corpus in, a Bloom filter of its n-grams out, sized honestly, in one pass.

Without ``--capacity`` the corpus is read once, sample first (``sample_first``): a spread of
``SAMPLE_WINDOWS`` byte ranges of plain files (whole files where a file cannot be cut: .gz,
.zst, .json, .parquet), ``SAMPLE_BYTES`` in all, the kinds of file taken in turn. Its hashes are
kept (at most ``SAMPLE_NGRAMS``), counted exactly, and the count is extrapolated by bytes to the
whole corpus, each kind of file by its own density, with ``SAMPLE_MARGIN`` to spare; the filter
is made that size, the kept hashes go in, and the same reading goes on into it. A corpus no
larger than the sample is counted exactly. With ``--capacity`` the filter is made that size at
once. Either way the finished filter's false-positive rate, estimated from its fill ratio, is
checked against the target: an automatic size that fell short is rebuilt larger in a second pass
(logged as a warning); a user-given capacity that was too small is an error, and nothing is
written. docs/engine-build.md says why.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from contamkit.common.background import overlapped_map
from contamkit.common.errors import UserError
from contamkit.common.outputs import check_output
from contamkit.common.progress import log
from contamkit.corpus.formats import corpus_files, file_format, plan_tasks
from contamkit.corpus.read import CorpusStats, Task, line_start_after
from overlap.bloom import BloomFilter, FilterParams
from overlap.filters import is_filter
from overlap.ngrams import Hashes
from overlap.normalize import NORMALIZER_VERSION
from overlap.options import BuildOptions
from overlap.pipeline import HashRun, HashSpec, default_workers, hashing_processes, task_bytes
from overlap.provenance import corpus_provenance, drop_old_sidecars, write_sidecar
from overlap.units import make_coder

FPR_SLACK = 1.01  # the fill-ratio estimate's own noise, allowed above the target
EXACT_MARGIN = 1.005  # room above an exact distinct count for the fill-ratio estimate's noise
SAMPLE_BYTES = 16 << 20  # corpus bytes (as stored) read first to size the filter
SAMPLE_WINDOWS = 64  # places the sample is taken from, evenly spread over the corpus
SAMPLE_NGRAMS = 1 << 20  # n-gram hashes kept from the sample at most (16 MiB): the
# sample is read before the filter exists, so nothing fills it meanwhile; 1 Mi sized the
# 300 MB bench corpus within 0.3 % of 4 Mi (docs/engine-build.md)
SAMPLE_MARGIN = 1.1  # room above the count extrapolated from the sample
MAX_REBUILDS = 2
FILL_NGRAMS = 1 << 20  # n-grams per insert call of the writer thread (16 MiB of hashes)


def filter_params(opts: BuildOptions, capacity: int, tokenizer: str) -> FilterParams:
    """The filter's parameters for ``capacity`` distinct n-grams with these options."""
    return FilterParams.sized(capacity, opts.fpr, layout=opts.layout, n=opts.n, unit=opts.unit,
                              normalizer=NORMALIZER_VERSION, tokenizer=tokenizer, seed=opts.seed)


def exact_capacity(distinct: int) -> int:
    """The capacity to size for when the distinct count is known exactly."""
    return math.ceil(distinct * EXACT_MARGIN) + 1


def _grouped(hashes: Iterable[Hashes], size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The batches' (h1, h2) joined into groups of at least ``size`` n-grams (the last smaller)."""
    h1s: list[np.ndarray] = []
    h2s: list[np.ndarray] = []
    held = 0
    for h in hashes:
        h1s.append(h.h1)
        h2s.append(h.h2)
        held += len(h.h1)
        if held >= size:
            yield np.concatenate(h1s), np.concatenate(h2s)
            h1s, h2s, held = [], [], 0
    if h1s:
        yield np.concatenate(h1s), np.concatenate(h2s)


def _fill(bloom: BloomFilter, hashes: Iterable[Hashes], workers: int) -> None:
    """Insert every batch: on one core, in turn with producing it; on more, on a writer
    thread while the next batches are produced (the compiled insert releases the GIL).

    The writer gets ``FILL_NGRAMS`` at a time: after each insert it needs the GIL back from the
    reading thread, which lets go of it only every switch interval (5 ms), longer than one
    256 KiB batch takes to insert; per batch, the writer sat idle about half the time (300 MB
    bench corpus: 8.8-9.1 s per build against 6.4-8.3 s grouped, timed ad hoc).

    One thread writes the filter. Two threads each owning half the bytes (each pass sets only
    the probes in its half) built more slowly on 2 cores (timed ad hoc), the other threads
    needing the second core. Worker processes inserting into one shared filter were tried too
    (timed ad hoc): memory shared between processes gets 4 KiB pages where Linux's default
    leaves shared huge pages off, and a pass over half of a 24 MB filter then took 233 ns per
    n-gram instead of 96."""
    groups = _grouped(hashes, FILL_NGRAMS)
    for _ in overlapped_map(bloom.add, groups, background=workers > 1):
        pass


def _bit_reversed(count: int) -> list[int]:
    """0 .. count - 1 in bit-reversed order: every prefix is spread over the whole range."""
    bits = max(count - 1, 0).bit_length()
    return sorted(range(count), key=lambda i: int(f"{i:0{bits}b}"[::-1] or "0", 2))


def _kind(task: Task) -> tuple[str, str] | None:
    """(format, compression) of a task's file: a kind of file holds about the same text per
    byte as stored (a gzipped byte about twice a plain one)."""
    return file_format(Path(task.path))


def _cuttable(task: Task) -> bool:
    return _kind(task) in (("txt", ""), ("jsonl", ""))


def _kinds_in_turn(tasks: list[Task]) -> list[Task]:
    """The tasks with each kind of file taken in turn, plain kinds first, keeping each kind's
    order: a sample cut short by a whole compressed file still has some of every plain kind."""
    by_kind: dict[tuple[str, str] | None, list[Task]] = {}
    for task in tasks:
        by_kind.setdefault(_kind(task), []).append(task)
    queues = sorted(by_kind.values(), key=lambda q: not _cuttable(q[0]))
    return [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]


def sample_first(tasks: list[Task]) -> tuple[list[Task], int]:
    """The tasks reordered so that a sample of the corpus comes first, and how many tasks it
    has: ``SAMPLE_WINDOWS`` windows of ``SAMPLE_BYTES`` in all, at evenly spaced offsets of the
    corpus (its files end to end, in bytes as stored), in bit-reversed order (so that a sample
    cut short is still spread). A window takes the tasks it overlaps: a task no larger than a
    window, or of a file that cannot be cut (.gz, .zst, .json, .parquet), whole; of a larger
    plain file, the lines from the first line start in the window to the first past it (none
    where one long line covers the window). Kinds of file take turns (``_kinds_in_turn``).
    Every byte still belongs to exactly one task."""
    sizes = [task_bytes(t) for t in tasks]
    total = sum(sizes)
    if total <= SAMPLE_BYTES:
        return tasks, len(tasks)
    offsets = np.cumsum([0, *sizes])
    width = max(SAMPLE_BYTES // SAMPLE_WINDOWS, 1)
    windows: dict[int, list[tuple[int, int, int]]] = {}  # task -> [(window, from, to)] in file
    for w in range(SAMPLE_WINDOWS):
        a = w * total // SAMPLE_WINDOWS + (total // SAMPLE_WINDOWS - width) // 2
        i = int(np.searchsorted(offsets, a, side="right")) - 1
        while i < len(tasks) and offsets[i] < a + width:
            shift = tasks[i].start - int(offsets[i])
            lo, hi = max(a, int(offsets[i])) + shift, min(a + width, int(offsets[i + 1])) + shift
            windows.setdefault(i, []).append((w, lo, hi))
            i += 1
    sample: dict[int, list[Task]] = {}  # window -> its tasks
    rest = []
    for i, task in enumerate(tasks):
        if i not in windows:
            rest.append(task)
        elif not _cuttable(task) or sizes[i] <= width:
            sample.setdefault(windows[i][0][0], []).append(task)
        else:
            pos, end = task.start, task.start + sizes[i]
            for w, a, b in windows[i]:
                lo = line_start_after(task.path, max(a, pos), width)
                hi = None if lo is None else line_start_after(task.path, max(b, lo + 1), width)
                if lo is None or hi is None or lo >= end:
                    continue  # inside a long line: the task that reads the line has it
                hi = min(hi, end)
                rest += [Task(task.path, pos, lo)] if lo > pos else []
                sample.setdefault(w, []).append(Task(task.path, lo, hi))
                pos = hi
            rest += [Task(task.path, pos, end)] if end > pos else []
    chosen = [t for w in _bit_reversed(SAMPLE_WINDOWS) for t in sample.get(w, [])]
    return _kinds_in_turn(chosen) + rest, len(chosen)


def _read_sample(run: HashRun, hashes: Iterator[Hashes],
                 sampled: int) -> tuple[list[Hashes], list[int], bool]:
    """The hashes of the sample, the index of the task each batch came from, and whether that
    was the whole corpus. The sample ends with its ``sampled`` tasks, or at ``SAMPLE_NGRAMS``
    hashes, or past ``SAMPLE_BYTES`` read (its windows fell inside long lines, or a whole file
    is larger)."""
    kept, owners, count = [], [], 0
    for h in hashes:
        kept.append(h)
        owners.append(run.current)
        count += len(h.h1)
        if ((sampled and run.finished >= sampled) or count >= SAMPLE_NGRAMS
                or run.read_bytes > SAMPLE_BYTES):
            return kept, owners, False
    return kept, owners, True


def count_distinct_h1(kept: list[Hashes]) -> int:
    """Distinct n-grams among the batches, counted by their first 64-bit hash half alone,
    sorted in place: two different n-grams share it with probability ~N²/2^65 (1e-6 for 8 Mi
    n-grams), far below the margins, and memory stays at one copy of that half."""
    h1 = np.concatenate([h.h1 for h in kept] or [np.empty(0, np.uint64)])
    h1.sort()
    return int(len(h1) > 0) + int(np.count_nonzero(h1[1:] != h1[:-1]))


def sample_capacity(kept: list[Hashes], owners: list[int], run: HashRun, whole: bool) -> int:
    """The capacity to size for: the sample's distinct count (exact when the sample was the
    corpus), else extrapolated by bytes as stored, each kind of file (``_kind``) by its own
    density of distinct n-grams per byte, with ``SAMPLE_MARGIN`` to spare. Kinds the sample did
    not reach count at the sample's overall density. Summing kinds counts an n-gram found in two
    kinds twice: the estimate errs on the large side."""
    if whole:
        return exact_capacity(count_distinct_h1(kept))
    totals: dict[tuple[str, str] | None, int] = {}  # bytes of each kind in the corpus
    for task, size in zip(run.tasks, run.sizes, strict=True):
        totals[_kind(task)] = totals.get(_kind(task), 0) + size
    kind_of = {i: _kind(run.tasks[i]) for i in set(owners)}
    estimate, distinct_read, bytes_read = 0.0, 0, 0
    for kind in set(kind_of.values()):
        distinct = count_distinct_h1([h for h, i in zip(kept, owners, strict=True)
                                      if kind_of[i] == kind])
        read = sum(run.read_of(i) for i, k in kind_of.items() if k == kind)
        estimate += distinct * totals.pop(kind) / max(read, 1)
        distinct_read, bytes_read = distinct_read + distinct, bytes_read + read
    estimate += distinct_read * sum(totals.values()) / max(bytes_read, 1)  # kinds not reached
    capacity = math.ceil(estimate * SAMPLE_MARGIN) + 1
    total_bytes = sum(run.sizes)
    log.info("sized for %d distinct n-grams: %d in a sample of %.1f MB, %.2f%% of the corpus",
             capacity, distinct_read, bytes_read / 1e6, 100 * bytes_read / max(total_bytes, 1))
    return capacity


def _drain(kept: list[Hashes]) -> Iterator[Hashes]:
    """The kept batches in order, each let go of once handed out."""
    kept.reverse()
    while kept:
        yield kept.pop()


def _rebuild_capacity(figures: dict, ngrams: int, capacity: int, attempt: int) -> int:
    """A capacity for a filter that fell short: the distinct count its fill ratio gives, with
    10 % to spare, while that estimate is reliable (fill below 0.9, first retry); else the
    n-grams read, duplicates included, which no distinct count exceeds."""
    if attempt == 0 and figures["fill_ratio"] < 0.9:
        needed = math.ceil(figures["estimated_distinct"] * 1.1)
        return max(min(needed, exact_capacity(ngrams)), math.ceil(capacity * 1.1))
    return exact_capacity(ngrams)


def build_filter(corpus: str | Path, out: str | Path, opts: BuildOptions) -> dict:
    """Build and save the filter of ``corpus`` in this process; returns the summary figures.

    Sharded, spilled and Dask builds (``opts.scaled()``) run through
    ``contamkit.scale.route.build_filter``, which calls this one otherwise.
    """
    if opts.n < 1:
        raise UserError(f"n must be at least 1, got {opts.n}")
    check_output(out, [corpus], kind="filter file", own=is_filter, force=opts.force)
    if opts.scaled():
        raise ValueError("scale-out options: build with contamkit.scale.route.build_filter")
    start = time.perf_counter()
    workers = opts.workers or default_workers()
    coder = make_coder(opts.unit, opts.gpt2_vocab)  # fail early on a bad vocab
    # the coder's own unit name (hf:DIR with DIR made absolute) and tokenizer identity
    opts, tokenizer = replace(opts, unit=coder.unit), coder.tokenizer
    scan = CorpusStats()
    files = corpus_files(corpus, scan)
    tasks = plan_tasks(files, max(hashing_processes(workers), 1))
    spec = HashSpec(opts.n, opts.unit, opts.seed, opts.text_field, opts.gpt2_vocab)

    if opts.capacity is None:
        tasks, sampled = sample_first(tasks)
    run = HashRun(tasks, spec, workers, "building")
    hashes = iter(run)
    if opts.capacity is None:
        kept, owners, whole = _read_sample(run, hashes, sampled)
        capacity = sample_capacity(kept, owners, run, whole)
        hashes = itertools.chain(_drain(kept), hashes)
    else:
        capacity = opts.capacity
    bloom = BloomFilter(filter_params(opts, capacity, tokenizer))
    _fill(bloom, hashes, workers)
    if run.ngrams == 0:
        raise UserError(f"{corpus}: no n-grams: no document has {opts.n} or more {opts.unit}; "
                        "nothing was written")

    passes = 1
    figures = bloom.stats()  # one pass over the bits: they may be gigabytes
    while figures["estimated_fpr"] > opts.fpr * FPR_SLACK:
        achieved = figures["estimated_fpr"]
        if opts.capacity is not None:
            needed = math.ceil(min(figures["estimated_distinct"], run.ngrams) * 1.1)
            raise UserError(f"--capacity {opts.capacity} is too small: the filter's FPR would be "
                            f"{achieved:.3g} > target {opts.fpr:g}; use --capacity {needed} or "
                            "leave it out. Nothing was written")
        if passes > MAX_REBUILDS:
            raise UserError(f"the filter's FPR stays {achieved:.3g} > target {opts.fpr:g} after "
                            f"{MAX_REBUILDS} rebuilds; nothing was written")
        capacity = _rebuild_capacity(figures, run.ngrams, bloom.params.capacity, passes - 1)
        log.warning("the sample's estimate fell short (FPR %.3g > %g): reading the corpus again "
                    "for a filter sized for %d n-grams", achieved, opts.fpr, capacity)
        bloom = BloomFilter(filter_params(opts, capacity, tokenizer))
        passes += 1
        _fill(bloom, HashRun(tasks, spec, workers, "rebuilding"), workers)
        figures = bloom.stats()
    stats = run.stats
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
        "words": run.words,
        "ngrams": run.ngrams,
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
