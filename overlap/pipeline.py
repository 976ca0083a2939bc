"""Run the hashing of a corpus on a number of cores, with bounded memory and a progress bar.

On one or two cores the build's own process reads, normalizes, codes and hashes (on one thread,
or three that overlap: ``NgramStream``). On more, worker processes do, and the parent only
receives (h1, h2) arrays, through a queue whose size bounds memory no matter how large the
corpus is. The parent owns the filter, so memory is the filter plus a few batches, not one
filter per worker.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contamkit.common import faults
from contamkit.common.errors import UserError
from contamkit.common.processes import sigint_blocked, worker_setup
from contamkit.common.progress import log, progress
from contamkit.corpus.formats import read_task
from contamkit.corpus.read import CorpusStats, Document, Task, split_long
from overlap.ngrams import Hashes, NgramStream
from overlap.units import make_coder

_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class HashSpec:
    """What decides the hashes: everything a worker needs to turn text into n-gram hashes."""

    n: int = 8
    unit: str = "words"
    seed: int = 0
    text_field: str = "text"
    gpt2_vocab: str | None = None


def default_workers() -> int:
    """Cores a build uses when ``--workers`` is not given: all this process may run on (its
    CPU affinity, where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def hashing_processes(workers: int) -> int:
    """Processes that read and hash for a build on ``workers`` cores; 0: the build's own
    process does, on one thread (1 core) or three (2 cores, while another thread fills the
    filter: on 2 cores a second process only adds hand-over costs). From 3 cores on, one core
    is left to the parent's filling threads."""
    return 0 if workers <= 2 else workers - 1


def task_bytes(task: Task) -> int:
    return (task.end - task.start) if task.end >= 0 else Path(task.path).stat().st_size


def log_task(desc: str, task: Task, elapsed: float) -> None:
    """A debug line (``-v``) per finished file or byte range, with its size and the time."""
    where = "" if task.start == 0 and task.end < 0 else f" bytes {task.start:,}-{task.end:,}"
    log.debug("%s: %s%s done (%.2f MB), %.1f s after the start", desc, task.path, where,
              task_bytes(task) / 1e6, elapsed)


def hash_task(task: Task, stream: NgramStream, text_field: str,
              stats: CorpusStats) -> Iterator[Hashes]:
    """The n-gram hashes of one task (also the unit of work for Dask in ``scale/``); long
    documents are hashed in pieces (``split_long``), so memory never grows with one."""
    yield from stream.hashes(split_long(read_task(task, text_field, stats)))


def ngram_stream(spec: HashSpec, threads: int = 2) -> NgramStream:
    """The hasher of ``spec``; each worker process makes its own."""
    return NgramStream(make_coder(spec.unit, spec.gpt2_vocab), spec.n, spec.seed, threads)


def _worker(spec: HashSpec, tasks: mp.Queue, results: mp.Queue, parent: int) -> None:
    worker_setup(parent)  # quiet on Ctrl-C (the parent stops it), dies with the parent
    stream = ngram_stream(spec)
    while (item := tasks.get()) is not None:
        index, task = item
        stats = CorpusStats()
        try:
            for h in hash_task(task, stream, spec.text_field, stats):
                results.put(("hashes", index, h))
            results.put(("done", index, stats))
        except Exception as e:  # noqa: BLE001 - reported to the parent, which stops the build
            results.put(("error", index, f"{task.path}: {type(e).__name__}: {e}"))
            break
    results.put(("exit", None, None))


class HashRun:
    """Iterate the hashes of all tasks, in about the order given, on ``workers`` cores
    (``hashing_processes``); ``stats`` and ``words`` are complete at the end.

    ``read_bytes`` says how much of the tasks (in bytes as stored) the hashes handed out so far
    come from: finished tasks whole, a task under way up to where its reader got
    (``Hashes.end``). It moves the progress bar, and lets a build size its filter from what it
    has read so far (``overlap.build``)."""

    def __init__(self, tasks: list[Task], spec: HashSpec, workers: int, desc: str = "hashing"):
        self.tasks, self.spec, self.desc = tasks, spec, desc
        self.workers = max(1, workers)
        self.processes = hashing_processes(self.workers)
        self.stats = CorpusStats()
        self.words = 0
        self.ngrams = 0
        self.read_bytes = 0
        self.sizes = [task_bytes(t) for t in tasks]  # one stat per file, not one per batch
        self.finished = 0  # tasks
        self.current = -1  # index of the task the hashes handed out last come from
        self._read: dict[int, int] = {}  # task index -> its bytes read so far
        self._reported = 0

    def __iter__(self) -> Iterator[Hashes]:
        total = sum(self.sizes)
        with progress(total=total, desc=self.desc, unit="B", unit_scale=True) as bar:
            source = self._parallel() if self.processes else self._serial()
            for index, item in source:
                task = self.tasks[index]
                if item is None:  # the task is finished
                    faults.step()
                    self._advance(bar, index, self.sizes[index])
                    self.finished += 1
                    self._reported = self.stats.report_new(self._reported)
                    log_task(self.desc, task, bar.format_dict["elapsed"])
                    continue
                if item.end >= 0:
                    self._advance(bar, index, item.end - task.start)
                self.words += item.words
                self.ngrams += len(item.h1)
                rate = self.ngrams / max(bar.format_dict["elapsed"], 1e-9)
                bar.set_postfix(docs=self.stats.documents, ngrams=self.ngrams,
                                ngrams_per_s=f"{rate:,.0f}", refresh=False)
                self.current = index
                yield item

    def read_of(self, index: int) -> int:
        """Bytes (as stored) of task ``index`` its hashes handed out so far come from."""
        return self._read.get(index, 0)

    def _advance(self, bar: Any, index: int, upto: int) -> None:
        """Task ``index`` has been read up to ``upto`` bytes (as stored) from its start."""
        upto = min(upto, self.sizes[index])
        step = upto - self._read.get(index, 0)
        if step > 0:
            self._read[index] = upto
            self.read_bytes += step
            bar.update(step)

    def _serial(self) -> Iterator[tuple[int, Hashes | None]]:
        stream = ngram_stream(self.spec, threads=1 if self.workers == 1 else 3)
        for index, task in enumerate(self.tasks):
            for h in hash_task(task, stream, self.spec.text_field, self.stats):
                yield index, h
            yield index, None

    def _parallel(self) -> Iterator[tuple[int, Hashes | None]]:
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        if ctx.get_start_method() == "fork":  # compile (or load) the kernels once, not per worker
            list(ngram_stream(self.spec, threads=1).hashes([Document("", 0, "warm " * 9)]))
        tasks: mp.Queue = ctx.Queue()
        results: mp.Queue = ctx.Queue(maxsize=4 * self.processes)  # bounds memory in flight
        for item in enumerate(self.tasks):
            tasks.put(item)
        for _ in range(self.processes):
            tasks.put(None)
        procs = [ctx.Process(target=_worker, args=(self.spec, tasks, results, os.getpid()),
                             daemon=True) for _ in range(self.processes)]
        with sigint_blocked():  # no worker may see a Ctrl-C before it ignores it
            for p in procs:
                p.start()
        running, done = len(procs), 0
        try:
            while running:
                try:
                    kind, index, payload = results.get(timeout=_POLL_SECONDS)
                except queue.Empty:
                    if any(p.exitcode not in (None, 0) for p in procs):
                        codes = [p.exitcode for p in procs]
                        raise UserError(f"a worker process died (exit codes {codes}); "
                                        "out of memory? nothing was written") from None
                    continue
                if kind == "hashes":
                    yield index, payload
                elif kind == "done":
                    self.stats.merge(payload)
                    done += 1
                    yield index, None
                elif kind == "error":
                    raise UserError(payload)
                else:
                    running -= 1
            if done != len(self.tasks):
                raise UserError(f"only {done} of {len(self.tasks)} reading tasks finished")
        finally:
            for p in procs:
                if p.is_alive():
                    p.terminate()
                p.join()
