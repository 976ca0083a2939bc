"""The issue's command-line cases, end to end: one-line errors, nothing lost, clean Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from contamkit.common.paths import REPO_ROOT
from tests.contamkit.common.output_checks import one_line_error


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "cli.py", *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    words = [f"w{i}" for i in range(300)]
    (root / "a.txt").write_text(" ".join(words[(i * 7) % 300] for i in range(3000)))
    return root


def test_build_filter_never_writes_over_its_input(corpus):
    text = (corpus / "a.txt").read_bytes()
    one_line_error(cli("build-filter", corpus / "a.txt", "-o", corpus / "a.txt"), "input")
    one_line_error(cli("build-filter", corpus, "-o", corpus / "f.bloom"), "input")
    assert (corpus / "a.txt").read_bytes() == text and not (corpus / "f.bloom").exists()


def test_outputs_that_cannot_be_written_are_one_line_errors(corpus, tmp_path):
    (tmp_path / "file").write_text("notes")
    (tmp_path / "dir").mkdir()
    for out, words in ((tmp_path / "dir", ["is a directory"]),
                       (tmp_path / "file" / "f.bloom", ["is a file"]),
                       ("/proc/contamkit/f.bloom", ["cannot write"]),
                       (tmp_path / "file", ["not a filter file", "--force"])):
        one_line_error(cli("build-filter", corpus, "-o", out, "--workers", "1"), *words)
    assert (tmp_path / "file").read_text() == "notes"
    r = cli("build-filter", corpus, "-o", tmp_path / "file", "--workers", "1", "--force")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "file").read_bytes()[:8] == b"CTMBLOOM"


def test_overlap_out_naming_a_file_and_prepare_into_a_foreign_directory(corpus, tmp_path):
    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"text": "w0 w7 w14 w21 w28 w35 w42 w49 w56"}) + "\n")
    f = tmp_path / "f.bloom"
    assert cli("build-filter", corpus, "-o", f, "--workers", "1").returncode == 0
    notes = tmp_path / "notes.txt"
    notes.write_text("keep")
    one_line_error(cli("overlap", "--bench", "jsonl", "--bench-path", bench, "--filter", f,
                       "--out", notes), "is a file")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("keep")
    one_line_error(cli("prepare", corpus, "-o", mine, "--tokenizer", "bpe:300"),
                   "not a prepared data directory", "--force")
    assert notes.read_text() == "keep" and (mine / "thesis.tex").read_text() == "keep"


@pytest.mark.parametrize("args, words", [
    (["build-filter", "c", "-o", "f", "--workers", "0"], "--workers: must be at least 1"),
    (["build-filter", "c", "-o", "f", "--workers", "-2"], "--workers: must be at least 1"),
    (["build-filter", "c", "-o", "f", "--fpr", "1.5"], "--fpr: must be between 0 and 1"),
    (["verify", "f", "--probes", "0"], "--probes: must be at least 1"),
    (["verify", "f", "--probes", "-1"], "--probes: must be at least 1"),
    (["verify", "f", "--probes", "2.5"], "--probes: '2.5' is not a whole number"),
    (["prepare", "c", "-o", "d", "--val-fraction", "1"], "--val-fraction: must be at least 0"),
])
def test_options_out_of_range_are_refused_at_parse_time(args, words):
    r = cli(*args)
    assert r.returncode == 2 and words in r.stderr.strip().splitlines()[-1]


def test_probes_accept_1e6_as_the_help_writes_it(corpus, tmp_path):
    f = tmp_path / "f.bloom"
    assert cli("build-filter", corpus, "-o", f, "--workers", "1").returncode == 0
    r = cli("verify", f, "--probes", "1e5", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["probes"] == 100_000


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A corpus that takes several seconds to hash, to interrupt."""
    root = tmp_path_factory.mktemp("big")
    line = " ".join(f"v{(i * 7919) % 50021}" for i in range(20000))
    for j in range(4):
        (root / f"p{j}.txt").write_text((line + "\n") * 400)  # ~190 MB: still hashing
    return root


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    kids = [int(k) for k in out.split()]
    return kids + [g for k in kids for g in children(k)]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _default_sigint() -> None:
    """In the child before exec: Ctrl-C's default disposition, whatever the test runner
    inherited (a runner started with SIGINT ignored would pass "ignore" on, which Python, and
    so the command, respects)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt(args, sig, group: bool, tmp_path, workers: int = 2, started=lambda: True):
    """Start a build, wait for its worker processes (and ``started()``), signal it; (exit
    status, stderr, workers still alive)."""
    p = subprocess.Popen([sys.executable, "cli.py", *map(str, args)], cwd=REPO_ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, preexec_fn=_default_sigint)
    deadline = time.monotonic() + 120
    while not (len(children(p.pid)) >= workers and started()) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    workers = children(p.pid)
    assert workers, "the build started no worker processes"
    for _ in range(3):  # a Ctrl-C while a local cluster starts is lost: a user presses again
        (os.killpg if group else os.kill)(p.pid, sig)
        try:
            out, err = p.communicate(timeout=20)
            break
        except subprocess.TimeoutExpired:
            workers = children(p.pid)
    time.sleep(1.0)
    return p.returncode, err, [w for w in workers if alive(w)]


@pytest.mark.parametrize("sig, code, group", [(signal.SIGINT, 130, True),
                                              (signal.SIGTERM, 143, False)])
def test_interrupt_is_one_line_and_ends_every_worker(big, tmp_path, sig, code, group):
    out = tmp_path / "f.bloom"
    rc, err, left = interrupt(["build-filter", big, "-o", out, "--workers", "3"], sig, group,
                              tmp_path)
    assert rc == code and err.strip().splitlines()[-1] == "interrupted" and left == [], err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert list(tmp_path.iterdir()) == []  # no output, no temporary


def test_killing_the_parent_ends_its_workers(big, tmp_path):
    rc, _, left = interrupt(["build-filter", big, "-o", tmp_path / "f.bloom", "--workers", "3"],
                            signal.SIGKILL, False, tmp_path)
    assert rc == -signal.SIGKILL and left == []


def test_ctrl_c_in_a_dask_build_prints_no_worker_traceback(big, tmp_path):
    rc, err, left = interrupt(["build-filter", big, "-o", tmp_path / "f.bloom", "--scheduler",
                               "local:2"], signal.SIGINT, True, tmp_path, workers=3,
                               started=lambda: any(tmp_path.glob(".f.bloom.spill-*/*")))
    assert rc == 130 and err.strip().splitlines()[-1] == "interrupted" and left == [], err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


def test_two_sharded_builds_to_one_path_both_finish_and_one_wins(corpus, tmp_path):
    out = tmp_path / "f.bloom"
    args = [sys.executable, "cli.py", "build-filter", str(corpus), "-o", str(out), "--workers",
            "1", "--shards", "2", "--n", "4"]
    runs = [subprocess.Popen(args, cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    assert [p.wait(timeout=300) for p in runs] == [0, 0]
    from overlap.filters import open_filter

    assert len(open_filter(out).shards) == 2  # the last publisher's manifest and its shards
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert cli("build-filter", corpus, "-o", out, "--workers", "1", "--shards", "2", "--n",
               "4").returncode == 0
    assert len(list(tmp_path.iterdir())) == 3  # the manifest and two shards, nothing else
