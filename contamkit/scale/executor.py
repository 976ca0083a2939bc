"""Where the build's tasks run: in this process, or on a Dask cluster.

A scheduler is a Dask scheduler address (``tcp://host:8786``) or ``local:N`` for a local cluster
of N single-threaded worker processes. Connecting is bounded by a timeout, and so is waiting for
a first worker, so a wrong address is an error, never a hang. A task whose worker dies is rerun
elsewhere by the Dask scheduler (up to its ``allowed-failures``, 3 by default); past that the
build stops with an error naming the task, and nothing is written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from contamkit.common import faults
from contamkit.common.errors import UserError
from contamkit.common.processes import sigint_ignored
from contamkit.common.progress import progress

_LOCAL = re.compile(r"local:(\d+)")
# no dashboard, and the scheduler's small HTTP server on a free port (not a fixed 8787)
NO_DASHBOARD = {"dashboard_address": None,
                "scheduler_kwargs": {"dashboard": False, "dashboard_address": ":0"}}


def _bar(items: Sequence, sizes: Sequence[int] | None, desc: str, unit: str):
    return progress(total=sum(sizes) if sizes else len(items), desc=desc, unit=unit,
                    unit_scale=bool(sizes))


class InlineExecutor:
    """Runs tasks one after the other in this process: one worker, no cluster to start."""

    slots = 1
    name = "inline"

    def run(self, fn: Callable, items: Sequence, names: Sequence[str], desc: str,
            sizes: Sequence[int] | None = None, unit: str = "task") -> Iterator[tuple[int, Any]]:
        """Yield (index, fn(item)) as tasks finish; ``names`` label tasks in errors."""
        with _bar(items, sizes, desc, unit) as bar:
            for i, item in enumerate(items):
                result = fn(item)
                faults.step()
                bar.update(sizes[i] if sizes else 1)
                yield i, result


class DaskExecutor:
    """Runs tasks on a Dask cluster through ``client.map``; results come back as they finish."""

    def __init__(self, client, name: str):
        self.client, self.name = client, name
        self.slots = max(1, sum(client.nthreads().values()))

    def run(self, fn: Callable, items: Sequence, names: Sequence[str], desc: str,
            sizes: Sequence[int] | None = None, unit: str = "task") -> Iterator[tuple[int, Any]]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        token = uuid.uuid4().hex[:12]
        keys = [f"{desc}-{i}-{token}" for i in range(len(items))]
        futures = self.client.map(fn, items, key=keys, pure=False)
        position = {f.key: i for i, f in enumerate(futures)}
        try:
            with _bar(items, sizes, desc, unit) as bar:
                for future in as_completed(futures, loop=self.client.loop):
                    i = position[future.key]
                    if future.status == "error":
                        error = future.exception()
                        if isinstance(error, KilledWorker):
                            raise UserError(f"{names[i]}: its worker died on every try "
                                            f"({desc}; out of memory?); nothing was written")
                        raise error
                    bar.update(sizes[i] if sizes else 1)
                    yield i, future.result()
        finally:
            self.client.cancel([f for f in futures if not f.done()])


def _connect(scheduler: str, timeout: float):
    """A Client for ``scheduler``, with at least one worker, or a one-line error in bounded time."""
    from distributed import Client, LocalCluster

    local = _LOCAL.fullmatch(scheduler)
    if local:
        count = int(local.group(1))
        if count < 1:
            raise UserError(f"--scheduler {scheduler}: a local cluster needs at least one worker")
        cluster = None
        try:
            # workers' own logs stay quiet (their failures come back through the futures): a
            # heartbeat failing while the cluster closes after a Ctrl-C would print a traceback
            with sigint_ignored():  # inherited by the workers: Ctrl-C stops them through us
                cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", silence_logs=logging.CRITICAL,
                                       preload=["contamkit.scale.worker_preload"],
                                       **NO_DASHBOARD)
            return Client(cluster, set_as_default=False), cluster
        except BaseException:  # a Ctrl-C held back while starting: close what was started
            if cluster is not None:
                cluster.close()
            raise
    try:
        client = Client(scheduler, timeout=timeout, set_as_default=False)
    except Exception as e:  # noqa: BLE001 - any failure to connect is a bad address to the user
        raise UserError(f"{scheduler}: cannot reach a Dask scheduler within {timeout:g} s "
                        f"({type(e).__name__}: {e})") from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        client.close()
        raise UserError(f"{scheduler}: the Dask scheduler has no workers (waited "
                        f"{timeout:g} s)") from None
    return client, None


@contextlib.contextmanager
def open_executor(scheduler: str | None, workers: int,
                  timeout: float = 10.0) -> Iterator[InlineExecutor | DaskExecutor]:
    """No scheduler: inline for one worker, else a local cluster of ``workers`` (0: all cores)."""
    workers = workers or os.cpu_count() or 1
    if scheduler is None and workers == 1:
        yield InlineExecutor()
        return
    import distributed  # noqa: F401 - configures its loggers on import; quiet them after

    scheduler = scheduler or f"local:{workers}"
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # Dask's INFO chatter would bury our progress and summary
    try:
        client, cluster = _connect(scheduler, timeout)
        try:
            yield DaskExecutor(client, scheduler)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    finally:
        quiet.setLevel(level)
