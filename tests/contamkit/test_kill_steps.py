"""Kill every writing command at every step (``contamkit.common.faults``): nothing is lost.

Each command first writes an output from input A. Then, for N = 1, 2, ... it is run on input B
and killed (SIGKILL) at its Nth step, until a run gets through. After every kill the output must
be exactly A's (or exactly B's, when the kill came after publishing); the next uninterrupted run
must leave no temporary behind and write exactly the bytes of an uninterrupted run.

Runs are forked from the test process (``contamkit.cli.main`` in the child), so a run costs no
interpreter start-up; ``CONTAM_SLOW_TESTS=1`` kills at every step, CI at the last two
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
from pathlib import Path

import pytest

from contamkit.cli import main
from contamkit.common import faults
from tests.contamkit.analysis.test_analyze import synthetic_examples, write_runs
from tests.contamkit.common.output_checks import SLOW, listing, tree
from tests.overlap.test_table6 import table6_command, tiny_ptb


def run(args: list[str], kill_at: int | None = None) -> tuple[int, int]:
    """``main(args)`` in a forked child: (exit status or -signal, steps it took). ``kill_at``
    None counts steps without killing."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: quiet, killed at step ``kill_at``
        code = 1
        try:
            os.close(read)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.environ["CONTAM_KILL_AT"] = str(kill_at or 10**9)
            code = main(args)
            os.write(write, str(faults._steps).encode())
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as f:
        steps = f.read()
    _, status = os.waitpid(pid, 0)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    return code, int(steps or 0)


def kill_points(total: int) -> list[int]:
    """Steps to kill at: every one with ``CONTAM_SLOW_TESTS=1``; in CI the last two (for a
    folder: just before and just after it is swapped in; a filter: before and after its
    rename), which keeps CI within its time budget."""
    if SLOW:
        return list(range(1, total + 1))
    return sorted({max(1, total - 1), total})


def kill_everywhere(args_a: list[str], args_b: list[str], out: Path, state=tree) -> int:
    """The test itself; returns how many kills it checked."""
    folder = out.parent
    code, total = run(args_b)
    assert code == 0 and total >= 2
    after = state(out)
    assert run(args_a)[0] == 0
    before, entries = state(out), listing(folder)
    assert after != before  # else the test could not tell old from new
    points = kill_points(total)
    for n in points:
        code, _ = run(args_b, kill_at=n)
        assert code == -signal.SIGKILL, f"step {n} of {total}: exit {code}"
        now = state(out)
        assert now in (before, after), f"killed at step {n}: the output is neither old nor new"
        assert run(args_a)[0] == 0, f"step {n}: the next run failed"
        assert state(out) == before  # the same bytes as an uninterrupted run
        assert listing(folder) == entries, f"step {n}: debris {listing(folder)}"
    assert run(args_b)[0] == 0 and state(out) == after and listing(folder)[1] == []
    shards = " --shards" if "--shards" in args_b else ""
    print(f"{args_b[0]}{shards}: killed at {len(points)} of {total} steps")  # -s shows it
    return len(points)


def filter_state(out: Path) -> tuple:
    """A filter's logical content (a sharded one's shard names differ from build to build)."""
    from overlap.filters import open_filter

    f = open_filter(out)
    shards = getattr(f, "shards", [f])
    return (json.dumps(f.header()["params"], sort_keys=True),
            tuple(hashlib.sha256(bytes(s.bits)).hexdigest() for s in shards))


@pytest.fixture
def corpora(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for root, seed in ((a, 1), (b, 2)):
        root.mkdir()
        for i in range(2):
            words = [f"w{(seed * 7919 + i * 104729 + j * 31) % 997}" for j in range(400)]
            (root / f"doc{i}.jsonl").write_text(
                "".join(json.dumps({"text": " ".join(words[k:k + 40])}) + "\n"
                        for k in range(0, 400, 40)))
    return a, b


def test_build_filter_plain(corpora, tmp_path):
    a, b = corpora
    out = tmp_path / "out" / "f.bloom"
    out.parent.mkdir()
    common = ["build-filter", "-o", str(out), "--workers", "1", "--n", "4"]
    kill_everywhere([*common[:1], str(a), *common[1:]], [*common[:1], str(b), *common[1:]],
                    out, filter_state)


def test_build_filter_sharded(corpora, tmp_path):
    a, b = corpora
    out = tmp_path / "out" / "f.bloom"
    out.parent.mkdir()
    common = ["-o", str(out), "--workers", "1", "--n", "4", "--shards", "2"]
    kill_everywhere(["build-filter", str(a), *common], ["build-filter", str(b), *common],
                    out, filter_state)


def test_prepare(corpora, tmp_path, gpt2_vocab):
    a, b = corpora
    out = tmp_path / "out" / "data"
    out.parent.mkdir()
    common = ["-o", str(out), "--workers", "1", "--val-fraction", "0.3"]
    kill_everywhere(["prepare", str(a), *common], ["prepare", str(b), *common], out)


@pytest.fixture
def bench(corpora, tmp_path):
    """A benchmark sharing passages with both corpora."""
    a, b = corpora
    texts = [json.loads((a / "doc0.jsonl").read_text().splitlines()[1])["text"],
             json.loads((b / "doc1.jsonl").read_text().splitlines()[2])["text"]]
    path = tmp_path / "bench.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return path


def test_decontaminate(corpora, bench, tmp_path):
    a, b = corpora
    out = tmp_path / "out" / "clean"
    out.parent.mkdir()
    common = ["--bench", "jsonl", "--bench-path", str(bench), "--out", str(out), "--n", "8",
              "--min-piece", "10"]
    kill_everywhere(["decontaminate", str(a), *common], ["decontaminate", str(b), *common], out)


def test_overlap(corpora, bench, tmp_path):
    a, b = corpora
    filters = tmp_path / "filters"
    for root in (a, b):
        assert run(["build-filter", str(root), "-o", str(filters / f"{root.name}.bloom"),
                    "--workers", "1", "--n", "8"])[0] == 0
    out = tmp_path / "out" / "run"
    out.parent.mkdir()
    common = ["--bench", "jsonl", "--bench-path", str(bench), "--out", str(out)]
    kill_everywhere(["overlap", "--filter", str(filters / "a.bloom"), *common],
                    ["overlap", "--filter", str(filters / "b.bloom"), *common], out)


def test_table6(tmp_path):
    data = tiny_ptb(tmp_path / "data")
    out = tmp_path / "out" / "table6"
    out.parent.mkdir()
    kill_everywhere([str(a) for a in table6_command(data, out, 4)],
                    [str(a) for a in table6_command(data, out, 5)], out)


def test_analyze(tmp_path):
    runs = write_runs(tmp_path, synthetic_examples())
    out = tmp_path / "out" / "analysis"
    out.parent.mkdir()
    common = ["analyze", "--overlap", str(runs / "ov"), "--eval", str(runs / "ev"), "--out",
              str(out), "--bootstrap", "50", "--permutations", "50"]
    kill_everywhere([*common, "--seed", "0"], [*common, "--seed", "1"], out)


def test_decontaminate_resumes_after_a_kill(corpora, bench, tmp_path):
    a, _ = corpora
    out = tmp_path / "clean"
    args = ["decontaminate", str(a), "--bench", "jsonl", "--bench-path", str(bench), "--out",
            str(out), "--n", "8", "--min-piece", "10"]
    code, total = run(args)
    whole = tree(out)
    assert code == 0 and run(["decontaminate", str(a), *args[2:-6], "--out",
                              str(tmp_path / "x"), *args[-4:]])[0] == 0
    for n in (3, 5):  # after the first file was written; after both
        code, _ = run([*args, "--force"], kill_at=n)
        assert code == -signal.SIGKILL
        code, steps = run([*args, "--resume"])
        assert code == 0 and tree(out) == whole
        assert steps < total  # the files the killed run wrote were not written again
        assert listing(tmp_path)[1] == []


def test_overlap_of_several_benchmarks_resumes_after_a_kill(shared_data, tmp_path):
    src = shared_data / "ptb" / "ptb.valid.txt"
    f = tmp_path / "f.bloom"
    assert run(["build-filter", str(src), "-o", str(f), "--workers", "1"])[0] == 0
    out = tmp_path / "run"
    args = ["overlap", "--bench", "ptb,wikitext2", "--filter", str(f), "--out", str(out)]
    code, total = run(args)
    whole = tree(out)
    assert code == 0 and {"ptb", "wikitext2"} <= {p.name for p in out.iterdir()}
    code, _ = run(args, kill_at=total // 2 + 2)  # the first benchmark is done, not the second
    assert code == -signal.SIGKILL
    code, steps = run([*args, "--resume"])
    assert code == 0 and tree(out) == whole and steps < total - 4
    assert listing(tmp_path)[1] == []
