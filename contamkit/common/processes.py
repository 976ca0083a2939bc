"""Signals: SIGTERM ends a command as cleanly as Ctrl-C, and worker processes die with it.

The CLI runs each command inside ``sigterm_raises``. Every worker process (hashing workers, Dask
workers of a local cluster) calls ``worker_setup`` first: it ignores the terminal's Ctrl-C (the
parent, which gets it too, stops its workers itself; a worker printing its own
``KeyboardInterrupt`` traceback would only bury the one-line ``interrupted``), restores SIGTERM's
default (die quietly), and asks the kernel to kill it if its parent dies
(``prctl(PR_SET_PDEATHSIG)``, Linux), so even a ``kill -9`` of the parent orphans no worker.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
from collections.abc import Iterator

from contamkit.common.errors import Terminated

_PR_SET_PDEATHSIG = 1


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into ``Terminated`` (a ``KeyboardInterrupt``) in the main thread while the
    block runs; the previous handler comes back after it, so a caller that runs commands
    in-process (a notebook, a test) keeps its own SIGTERM behaviour."""
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def die_with_parent(parent: int | None = None) -> None:
    """Have the kernel send SIGKILL to this process when the thread that forked it ends (Linux;
    elsewhere nothing). ``parent``: exit now if it is already gone (the race before prctl)."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    libc = ctypes.CDLL(libc_name, use_errno=True)
    if not hasattr(libc, "prctl"):
        return
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def worker_setup(parent: int | None = None) -> None:
    """First call in a worker process: quiet on Ctrl-C, default SIGTERM, dies with its parent.
    A worker forked inside ``sigint_blocked`` gets no Ctrl-C before this ignores it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    die_with_parent(parent)


@contextlib.contextmanager
def sigint_blocked() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while worker processes are forked: a fork inherits the
    block, so no worker sees them before ``worker_setup``; this process gets them when the
    block ends."""
    signals = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while processes are started that should never see it: "ignore" is the one
    disposition that survives exec, so a local Dask cluster's workers start with it, and the
    parent stops them itself when it is interrupted (a worker would print its own traceback).
    A Ctrl-C in the second or two this takes is lost: press it again."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
