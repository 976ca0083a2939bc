"""Builds on a dask.distributed LocalCluster of 2 worker processes, against in-process builds."""

import contextlib
import logging
import os
import socket
import sys
import time
from pathlib import Path

import cloudpickle
import pytest
from distributed import Client, LocalCluster, WorkerPlugin

from contamkit.common.errors import UserError
from contamkit.corpus.read import Task
from contamkit.scale.executor import NO_DASHBOARD
from contamkit.scale.jobs import SpillLayout, map_task
from contamkit.scale.route import build_filter
from overlap.options import BuildOptions
from overlap.pipeline import HashSpec
from tests.overlap.same_build import same_build

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/


class KillWorker(WorkerPlugin):
    """Kills the worker process as a task whose key starts with ``prefix`` starts executing:
    once (a marker file remembers it), or every time."""

    name = "kill-worker"

    def __init__(self, marker: str, prefix: str, every_time: bool = False):
        self.marker, self.prefix, self.every_time = marker, prefix, every_time

    def transition(self, key, start, finish, **kwargs):
        starting = finish == "executing" and str(key).startswith(self.prefix)
        if starting and (self.every_time or not os.path.exists(self.marker)):
            Path(self.marker).touch()
            os._exit(1)


@pytest.fixture(scope="module")
def cluster():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           silence_logs=logging.ERROR, **NO_DASHBOARD)
    client = Client(cluster, set_as_default=False)
    yield cluster.scheduler_address, client
    client.close()
    cluster.close()


@contextlib.contextmanager
def plugin(client, p):
    client.register_plugin(p)
    try:
        yield
    finally:
        client.unregister_worker_plugin(p.name)


@pytest.fixture(scope="module")
def corpus(shared_data, tmp_path_factory):
    """Two real files: a jsonl cut into byte ranges with a truncated last line, and a txt."""
    d = tmp_path_factory.mktemp("corpus")
    (d / "ptb.txt").symlink_to(shared_data / "ptb" / "ptb.valid.txt")
    (d / "web.jsonl").symlink_to(shared_data / "webtext" / "webtext.train.jsonl")
    return d


@pytest.fixture(scope="module")
def inline_sharded(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("inline") / "f.bloom"
    build_filter(corpus, out, BuildOptions(workers=1, shards=4))
    return out


def same_files(a: Path, b: Path) -> bool:
    assert len(list(a.parent.glob(a.name + "*"))) == 5  # manifest and 4 shards
    return same_build(a, b)


@pytest.mark.parametrize("layout", ["blocked", "classic"])
def test_two_workers_build_the_single_process_filter_bit_for_bit(cluster, corpus, tmp_path,
                                                                  layout):
    address, _ = cluster
    single = build_filter(corpus, tmp_path / "single.bloom", BuildOptions(workers=1,
                                                                          layout=layout))
    s = build_filter(corpus, tmp_path / "dask.bloom", BuildOptions(scheduler=address,
                                                                   layout=layout))
    assert s["params"]["layout"] == layout
    assert s["workers"] == 2 and s["bad_records"] == 1 and s["documents"] == single["documents"]
    assert same_build(tmp_path / "single.bloom", tmp_path / "dask.bloom")


def test_sharded_dask_build_equals_the_in_process_one(cluster, corpus, inline_sharded, tmp_path):
    address, _ = cluster
    build_filter(corpus, tmp_path / "f.bloom", BuildOptions(scheduler=address, shards=4))
    assert same_files(inline_sharded, tmp_path / "f.bloom")


def test_a_worker_dying_mid_build_is_retried(cluster, corpus, inline_sharded, tmp_path):
    address, client = cluster
    marker = tmp_path / "killed"
    with plugin(client, KillWorker(str(marker), "hashing-")):
        build_filter(corpus, tmp_path / "f.bloom", BuildOptions(scheduler=address, shards=4))
    assert marker.exists()  # a worker did die while hashing
    assert same_files(inline_sharded, tmp_path / "f.bloom")


def test_unreachable_scheduler_fails_fast(corpus, tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.perf_counter()
    with pytest.raises(UserError, match=f"127.0.0.1:{port}: cannot reach a Dask scheduler"):
        build_filter(corpus, tmp_path / "f.bloom",
                     BuildOptions(scheduler=f"tcp://127.0.0.1:{port}", connect_timeout=2))
    assert time.perf_counter() - start < 10
    assert list(tmp_path.iterdir()) == []


def test_scheduler_without_workers_fails_fast(corpus, tmp_path):
    with LocalCluster(n_workers=0, processes=False, silence_logs=logging.ERROR,
                      **NO_DASHBOARD) as empty, pytest.raises(UserError, match="has no workers"):
        build_filter(corpus, tmp_path / "f.bloom",
                     BuildOptions(scheduler=empty.scheduler_address, connect_timeout=1))
    with pytest.raises(UserError, match="at least one worker"):
        build_filter(corpus, tmp_path / "f.bloom", BuildOptions(scheduler="local:0"))


def test_a_worker_that_cannot_see_a_corpus_file_stops_the_build(tmp_path):
    layout = SpillLayout(str(tmp_path), 1, 1 << 20)
    with pytest.raises(UserError, match="every worker must see the corpus"):
        map_task((0, Task(str(tmp_path / "elsewhere.txt"))), HashSpec(), layout)


def test_a_task_that_kills_every_worker_is_reported(cluster, corpus, tmp_path):
    """Last of the tests on the shared cluster: its workers are left restarting, with the
    plugin still registered (unregistering it races their restarts)."""
    address, client = cluster
    out = tmp_path / "out"
    client.register_plugin(KillWorker(str(tmp_path / "m"), "building", every_time=True))
    with pytest.raises(UserError, match=r"shard \d of 2: its worker died on every try"):
        build_filter(corpus, out / "f.bloom", BuildOptions(scheduler=address, shards=2))
    assert not out.exists() or list(out.iterdir()) == []
