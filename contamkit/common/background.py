"""Overlap a producer with its consumer: the caller's thread makes the next item while one
background thread works on the last, for work that releases the GIL (numba, tiktoken)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def map_in_background(fn: Callable[..., Any], args: Iterable[tuple]) -> Iterator[Any]:
    """``fn(*a)`` for each ``a`` of ``args``, in order, on one background thread, while the
    caller's thread produces the next ``a``. At most one call waits behind the running one,
    so memory stays at a couple of items."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        pending = None
        for a in args:
            job = thread.submit(fn, *a)
            if pending is not None:
                yield pending.result()
            pending = job
        if pending is not None:
            yield pending.result()


def overlapped_map(fn: Callable[..., Any], args: Iterable[tuple],
                   background: bool) -> Iterator[Any]:
    """``map_in_background`` when ``background``, else the same calls on the caller's thread
    (a build on one core)."""
    return map_in_background(fn, args) if background else itertools.starmap(fn, args)
