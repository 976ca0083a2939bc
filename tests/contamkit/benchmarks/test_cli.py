"""The two CLI commands: ``benchmarks`` and ``fetch-bench``."""

from __future__ import annotations

import os

from contamkit import cli
from contamkit.common.outputs import pid_alive


def test_benchmarks_lists_sets_splits_variants_and_local_files(shared_data, capsys):
    assert cli.main(["benchmarks"]) == 0
    out = capsys.readouterr().out
    table = out.split("\n\n")[0].splitlines()[1:]
    rows = {tuple(line.split()[:3]): line.split()[3] for line in table}
    assert rows[("lambada", "openai", "test")] == str(
        shared_data / "lambada" / "lambada_test.jsonl"
    )
    assert rows[("coqa", "stories", "valid")] == "-"
    assert rows[("1bw", "text", "train")] == "-"
    assert rows[("mmlu", "hf", "test")] == "-"
    assert rows[("hf", "files", "any")] == "(--bench-path)"
    # every (benchmark, variant, split): 38 of the 2019 sets and jsonl, 22 of today's, 1 hf
    assert len(rows) == len(table) == 61
    assert "wikitext103: WikiText-103" in out


def test_fetch_bench_prints_the_paths(http_dir, empty_cache, monkeypatch, capsys):
    url, served = http_dir
    (served / "webtext.valid.jsonl").write_text('{"text": "doc"}\n')
    monkeypatch.setenv("CONTAM_BENCH_MIRROR", url)
    monkeypatch.setenv("CONTAM_DATA_DIR", str(served / "none"))
    assert cli.main(["fetch-bench", "webtext", "--split", "valid"]) == 2  # no pinned sha256
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pass --trust-unverified" in err
    assert cli.main(["fetch-bench", "webtext", "--split", "valid", "--trust-unverified"]) == 0
    assert capsys.readouterr().out == f"{empty_cache / 'webtext' / 'webtext.valid.jsonl'}\n"
    assert cli.main(["benchmarks"]) == 0
    assert str(empty_cache / "webtext" / "webtext.valid.jsonl") in capsys.readouterr().out


def test_errors_exit_2_with_one_line(capsys):
    assert cli.main(["fetch-bench", "squad_v2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown benchmark 'squad_v2' (known: lambada, coqa,")
    assert err.count("\n") == 1


def test_fetch_bench_removes_what_a_killed_download_left(http_dir, empty_cache, monkeypatch,
                                                         tmp_path, capsys):
    """A download is written under a temporary name of its process's; the next fetch removes
    one whose process is gone (and keeps one whose process is alive: a download under way)."""
    url, served = http_dir
    (served / "webtext.valid.jsonl").write_text('{"text": "doc"}\n')
    monkeypatch.setenv("CONTAM_BENCH_MIRROR", url)
    monkeypatch.setenv("CONTAM_DATA_DIR", str(served / "none"))
    dead = next(pid for pid in range(4_000_000, 4_100_000) if not pid_alive(pid))
    for dest, extra in ((empty_cache / "webtext", []), (tmp_path / "mine", ["--bench-path"])):
        dest.mkdir(parents=True)
        killed = dest / f".webtext.valid.jsonl.{dead}-x1y2z3.tmp"
        running = dest / f".webtext.valid.jsonl.{os.getpid()}-a1b2c3.tmp"
        killed.write_text('{"text": "half')
        running.write_text('{"text": "half')
        args = ["fetch-bench", "webtext", "--split", "valid", "--trust-unverified"]
        assert cli.main(args + extra + [str(dest)] * len(extra)) == 0
        assert capsys.readouterr().out == f"{dest / 'webtext.valid.jsonl'}\n"
        assert sorted(p.name for p in dest.iterdir()) == [running.name, "webtext.valid.jsonl"]
