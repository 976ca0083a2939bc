"""The three kinds of task of a spilled build, run on workers (Dask or in process).

1. ``map_task``: hash one reading task of the corpus and spill the hashes as runs partitioned
   by prefix (``contamkit.scale.spill``). Memory: one run.
2. ``count_task``: exact distinct n-grams of a range of partitions, read from every run. Memory:
   the range's spilled pairs, at most the count budget (an oversized partition is counted in
   several passes over disjoint sub-ranges of its prefix).
3. ``build_task``: fill one shard from its partitions of every run and save it. Memory: the
   shard's bits plus one run's slice.

Tasks take and return small objects (paths, counts, headers): hashes only move through the
spill directory, once written and once or twice read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from contamkit.common.errors import UserError
from contamkit.corpus.read import CorpusStats, Task
from contamkit.scale.spill import PAIR_BYTES, Run, sort_run, write_run
from overlap.bloom import BloomFilter, FilterParams
from overlap.ngrams import count_distinct
from overlap.pipeline import HashSpec, hash_task, ngram_stream
from overlap.sharded import ShardFile, prefix_bits


@dataclass(frozen=True)
class SpillLayout:
    directory: str
    partitions: int
    run_bytes: int


@dataclass
class MapResult:
    runs: list[str]
    rows: np.ndarray  # spilled pairs per partition
    occurrences: np.ndarray  # n-grams per partition, repeats included
    stats: CorpusStats
    words: int = 0
    ngrams: int = 0

    @classmethod
    def empty(cls, partitions: int) -> MapResult:
        return cls([], np.zeros(partitions, dtype=np.int64), np.zeros(partitions, dtype=np.int64),
                   CorpusStats())

    def merge(self, other: MapResult) -> None:
        """Add another task's result to this one (the map phase's total)."""
        self.runs += other.runs
        self.rows += other.rows
        self.occurrences += other.occurrences
        self.words += other.words
        self.ngrams += other.ngrams
        self.stats.merge(other.stats)


@dataclass
class _RunWriter:
    """Buffers hashes up to a run's size and spills them sorted and partitioned."""

    layout: SpillLayout
    index: int
    result: MapResult
    pending: list = field(default_factory=list)
    rows: int = 0

    def add(self, h1: np.ndarray, h2: np.ndarray) -> None:
        self.pending.append((h1, h2))
        self.rows += len(h1)
        if self.rows * PAIR_BYTES >= self.layout.run_bytes:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        h1 = np.concatenate([p[0] for p in self.pending])
        h2 = np.concatenate([p[1] for p in self.pending])
        self.pending, self.rows = [], 0
        pairs, rows, occurrences = sort_run(h1, h2, self.layout.partitions)
        directory = Path(self.layout.directory)
        if not directory.is_dir():  # the build stopped and removed it, or it is not shared
            raise UserError(f"{directory}: spill directory not found on a worker (the build "
                            "stopped, or it is not on a filesystem every worker sees)")
        path = str(directory / f"task-{self.index:06d}-{len(self.result.runs):04d}.run")
        write_run(path, pairs, rows)
        self.result.runs.append(path)
        self.result.rows += rows
        self.result.occurrences += occurrences


def map_task(item: tuple[int, Task], spec: HashSpec, layout: SpillLayout) -> MapResult:
    """Hash one reading task and spill its hashes; a file this worker cannot see is an error."""
    index, task = item
    if not Path(task.path).is_file():
        raise UserError(f"{task.path}: not found on a worker; every worker must see the corpus "
                        "at the same path (a shared filesystem)")
    result = MapResult.empty(layout.partitions)
    writer = _RunWriter(layout, index, result)
    for h in hash_task(task, ngram_stream(spec), spec.text_field, result.stats):
        result.words += h.words
        result.ngrams += len(h.h1)
        writer.add(h.h1, h.h2)
    writer.flush()
    return result


@dataclass(frozen=True)
class CountPiece:
    """Partitions [first, stop) counted together, or one partition counted in ``passes``."""

    first: int
    stop: int
    passes: int = 1


def _sub_range(pairs: np.ndarray, partitions: int, part: int, parts: int) -> np.ndarray:
    """The pairs whose next 32 bits of h1, after the partition prefix, fall in sub-range part."""
    below = (pairs[:, 0] << np.uint64(prefix_bits(partitions))) >> np.uint64(32)
    return pairs[(below * np.uint64(parts)) >> np.uint64(32) == part]


def _concat(chunks: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(chunks) if chunks else np.empty((0, 2), dtype=np.uint64)


def count_task(piece: CountPiece, runs: list[str], partitions: int) -> np.ndarray:
    """Exact distinct n-grams of each partition of ``piece`` (partitions are disjoint sets)."""
    opened = [Run(path, partitions) for path in runs]
    if piece.passes > 1:  # one partition over the budget: disjoint sub-ranges, one at a time
        j, total = piece.first, 0
        for q in range(piece.passes):
            total += count_distinct(_concat(
                [_sub_range(run.read(j, j + 1), partitions, q, piece.passes) for run in opened]))
        return np.array([total], dtype=np.int64)
    per_partition: list[list[np.ndarray]] = [[] for _ in range(piece.stop - piece.first)]
    for run in opened:
        pairs = run.read(piece.first, piece.stop)
        cuts = run.offsets[piece.first : piece.stop + 1] - run.offsets[piece.first]
        for j, chunks in enumerate(per_partition):
            chunks.append(pairs[cuts[j] : cuts[j + 1]])
    return np.array([count_distinct(_concat(chunks)) for chunks in per_partition],
                    dtype=np.int64)


@dataclass(frozen=True)
class ShardJob:
    """Shard ``index`` of ``count``: partitions [first, stop), saved to ``path``."""

    index: int
    count: int
    first: int
    stop: int
    params: FilterParams
    inserted: int  # n-gram occurrences routed here, repeats included (the header's count)
    path: str
    provenance: dict | None = None  # the corpus record (overlap.provenance), in every shard


def build_task(job: ShardJob, runs: list[str], partitions: int) -> dict:
    """Fill and save one shard; returns its header and fill statistics."""
    bloom = (ShardFile(job.params, job.index, job.count) if job.count > 1
             else BloomFilter(job.params))
    bloom.provenance = job.provenance
    for path in runs:
        pairs = Run(path, partitions).read(job.first, job.stop)
        bloom.add(np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1]))
    bloom.inserted = job.inserted
    bloom.save(job.path)
    return {"header": bloom.header(), "stats": bloom.stats()}
