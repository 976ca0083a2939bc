"""The two CLI commands: ``benchmarks`` and ``fetch-bench``."""

from __future__ import annotations

from contamkit import cli


def test_benchmarks_lists_sets_splits_variants_and_local_files(shared_data, capsys):
    assert cli.main(["benchmarks"]) == 0
    out = capsys.readouterr().out
    rows = {tuple(line.split()[:3]): line.split()[3] for line in out.splitlines()[1:36]}
    assert rows[("lambada", "openai", "test")] == str(
        shared_data / "lambada" / "lambada_test.jsonl"
    )
    assert rows[("coqa", "stories", "valid")] == "-"
    assert rows[("1bw", "text", "train")] == "-"
    assert len(rows) == 35  # every (benchmark, variant, split)
    assert "wikitext103: WikiText-103" in out


def test_fetch_bench_prints_the_paths(http_dir, empty_cache, monkeypatch, capsys):
    url, served = http_dir
    (served / "webtext.valid.jsonl").write_text('{"text": "doc"}\n')
    monkeypatch.setenv("CONTAM_BENCH_MIRROR", url)
    monkeypatch.setenv("CONTAM_DATA_DIR", str(served / "none"))
    assert cli.main(["fetch-bench", "webtext", "--split", "valid"]) == 0
    assert capsys.readouterr().out == f"{empty_cache / 'webtext' / 'webtext.valid.jsonl'}\n"
    assert cli.main(["benchmarks"]) == 0
    assert str(empty_cache / "webtext" / "webtext.valid.jsonl") in capsys.readouterr().out


def test_errors_exit_2_with_one_line(capsys):
    assert cli.main(["fetch-bench", "squad"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown benchmark 'squad' (known: lambada, coqa,")
    assert err.count("\n") == 1
