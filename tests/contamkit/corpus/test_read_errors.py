"""Every decode error is a counted, reported skip naming the file (and line); nothing is lost
silently and nothing ends in a traceback."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from contamkit.common.paths import REPO_ROOT
from contamkit.corpus.formats import iter_documents
from contamkit.corpus.read import CorpusStats

GOOD = "".join(json.dumps({"text": f"document {i} " + "word " * 20}) + "\n" for i in range(200))


def read(path):
    stats = CorpusStats()
    docs = list(iter_documents(path, stats=stats))
    return docs, stats


def flip(data: bytes, where: float = 0.5) -> bytes:
    b = bytearray(data)
    b[int(len(b) * where)] ^= 0xFF
    return bytes(b)


def test_corrupt_gzip_is_a_counted_skip_after_the_documents_it_held(tmp_path):
    path = tmp_path / "c.jsonl.gz"
    path.write_bytes(flip(gzip.compress(GOOD.encode())))
    docs, stats = read(path)
    assert stats.skipped_files == 1 and len(docs) < 200 and stats.documents == len(docs)
    (problem,) = stats.problems
    assert problem.startswith(f"{path}: unreadable after {len(docs)} documents")


def test_corrupt_zstd_is_a_counted_skip(tmp_path):
    path = tmp_path / "c.jsonl.zst"
    path.write_bytes(flip(zstandard.ZstdCompressor().compress(GOOD.encode())))
    docs, stats = read(path)
    assert stats.skipped_files == 1 and "ZstdError" in stats.problems[0]


@pytest.mark.parametrize("suffix, compress", [
    (".jsonl.zst", lambda b: zstandard.ZstdCompressor().compress(b)),
    (".jsonl.gz", gzip.compress)])
def test_a_stream_that_ends_early_is_reported_truncated(tmp_path, suffix, compress):
    raw = compress(GOOD.encode())
    path = tmp_path / f"t{suffix}"
    path.write_bytes(raw[: len(raw) * 3 // 4])
    docs, stats = read(path)
    assert stats.skipped_files == 1 and len(docs) < 200
    assert stats.problems[0].startswith(f"{path}: truncated after {len(docs)} documents")


def test_zstd_of_several_frames_is_read_whole(tmp_path):
    half = len(GOOD) // 2
    cut = GOOD.rindex("\n", 0, half) + 1
    c = zstandard.ZstdCompressor()
    path = tmp_path / "two.jsonl.zst"
    path.write_bytes(c.compress(GOOD[:cut].encode()) + c.compress(GOOD[cut:].encode()))
    docs, stats = read(path)
    assert len(docs) == 200 and stats.problems == []


def test_bad_json_lines_never_drop_the_rest_of_the_file(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "first"}\n'
                    '{"n": ' + "9" * 5000 + '}\n'  # an integer over Python's 4,300 digits
                    + "[" * 100_000 + "]" * 100_000 + "\n"  # nested beyond the recursion limit
                    '{"text": "last"}\n')
    docs, stats = read(path)
    assert [d.text for d in docs] == ["first", "last"]
    assert stats.bad_records == 2 and stats.skipped_files == 0
    assert [p.split(": ")[1] for p in stats.problems] == ["line 2", "line 3"]


def test_deeply_nested_json_file_and_corrupt_parquet_are_skipped(tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    pq.write_table(pa.table({"text": ["a", "b"] * 100}), tmp_path / "p.parquet")
    data = (tmp_path / "p.parquet").read_bytes()
    (tmp_path / "p.parquet").write_bytes(data[: len(data) // 2] + data[-8:])
    (tmp_path / "ok.txt").write_text("fine")
    docs, stats = read(tmp_path)
    assert [d.text for d in docs] == ["fine"] and stats.skipped_files == 2
    assert any("deep.json" in p and "nested too deeply" in p for p in stats.problems)


def cli(*args):
    return subprocess.run([sys.executable, "cli.py", *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def damaged(tmp_path):
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "good.jsonl").write_text(GOOD)
    (root / "bad.jsonl.gz").write_bytes(flip(gzip.compress(GOOD.encode())))
    raw = zstandard.ZstdCompressor().compress(GOOD.encode())
    (root / "cut.jsonl.zst").write_bytes(raw[: len(raw) // 2])
    (root / "deep.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n")
    return root


@pytest.mark.parametrize("command", ["build-filter", "prepare", "train-tokenizer"])
def test_commands_report_unreadable_files_and_never_crash(damaged, tmp_path, command):
    extra = {"build-filter": ["--workers", "1"], "prepare": ["--tokenizer", "bpe:300"],
             "train-tokenizer": ["--vocab-size", "300"]}[command]
    r = cli(command, damaged, "-o", tmp_path / "out", *extra)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    for name in ("bad.jsonl.gz: unreadable after", "cut.jsonl.zst: truncated after",
                 "deep.jsonl: line 1: malformed JSON line"):
        assert name in r.stderr, (name, r.stderr)


def test_decontaminate_refuses_a_corpus_it_could_not_read_whole(damaged, tmp_path):
    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"text": "document 7 " + "word " * 20}) + "\n")
    out = tmp_path / "clean"
    args = ["decontaminate", damaged, "--bench", "jsonl", "--bench-path", bench, "--out", out,
            "--n", "8"]
    r = cli(*args)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith(f"error: {damaged}: 2 file(s) and 1 record")
    assert "cut.jsonl.zst: truncated after" in r.stderr and not out.exists()
    r = cli(*args, "--allow-unreadable")
    assert r.returncode == 0, r.stderr
    assert "skipped 2 files, 1 bad records" in r.stderr.strip().splitlines()[-1]
    assert "document 7 " not in (out / "good.jsonl").read_text()
