"""``overlap --scheduler``: per-example overlap computed on Dask workers.

Examples go out in chunks; each worker opens the filter itself (memory-mapped from the shared
filesystem, so only the pages its queries touch are read, and a sharded filter's shards are
opened where they are needed) and sends back only the per-example results. Nothing filter-sized
crosses the network.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from contamkit.scale.executor import open_executor
from overlap.filters import open_filter
from overlap.per_example import ExampleOverlap, measure_texts
from overlap.spans import SpanCoder

CHUNK = 2000  # examples per task


@functools.lru_cache(maxsize=4)
def _worker_state(filter_path: str, unit: str, gpt2_vocab: str | None):
    """The filter and coder of one worker process, opened once per process."""
    os.environ["CONTAM_PROGRESS"] = "0"  # the parent shows progress over chunks
    return open_filter(filter_path, verify=False), SpanCoder(unit, gpt2_vocab)


def _measure_chunk(job: tuple) -> list[ExampleOverlap]:
    filter_path, unit, gpt2_vocab, ids, texts = job
    bloom, coder = _worker_state(filter_path, unit, gpt2_vocab)
    return measure_texts(ids, texts, bloom, coder)


@contextlib.contextmanager
def distributed_measure(scheduler: str, filter_path: str | Path, gpt2_vocab: str | None,
                        timeout: float = 10.0) -> Iterator[Callable]:
    """A drop-in for ``measure_texts`` that runs on the cluster at ``scheduler``."""
    path = str(Path(filter_path).resolve())
    with open_executor(scheduler, 0, timeout) as executor:

        def measure(ids: Sequence[str], texts: Sequence[str], bloom, coder,
                    desc: str = "examples") -> list[ExampleOverlap]:
            jobs = [(path, coder.unit, gpt2_vocab, list(ids[i : i + CHUNK]),
                     list(texts[i : i + CHUNK]))
                    for i in range(0, len(ids), CHUNK)]
            names = [f"{desc} examples {i * CHUNK}..{i * CHUNK + len(j[3]) - 1}"
                     for i, j in enumerate(jobs)]
            parts = dict(executor.run(_measure_chunk, jobs, names, desc, unit="chunk"))
            return [r for i in range(len(jobs)) for r in parts[i]]

        yield measure
