import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from contamkit.common.errors import UserError
from contamkit.corpus.formats import corpus_files, iter_documents, plan_tasks, read_task
from contamkit.corpus.read import CorpusStats, Task


def test_all_formats(tmp_path):
    (tmp_path / "a.txt").write_text("plain text\nsecond line\n")
    (tmp_path / "b.jsonl").write_text('{"text": "one"}\n{"text": "two"}\n')
    (tmp_path / "c.json").write_text(json.dumps([{"text": "three"}, {"text": "four"}]))
    (tmp_path / "d.jsonl.gz").write_bytes(gzip.compress(b'{"text": "five"}\n'))
    (tmp_path / "e.txt.zst").write_bytes(zstandard.ZstdCompressor().compress(b"six"))
    pq.write_table(pa.table({"text": ["seven", "eight"]}), tmp_path / "f.parquet")
    stats = CorpusStats()
    texts = sorted(d.text for d in iter_documents(tmp_path, stats=stats))
    assert texts == sorted(["plain text\nsecond line\n", "one", "two", "three", "four", "five",
                            "six", "seven", "eight"])
    assert stats.documents == 9 and stats.files == 6


def test_bad_inputs_are_counted_and_skipped(tmp_path):
    (tmp_path / "good.jsonl").write_text('{"text": "fine"}\nnot json\n{"other": 1}\n{"text": "cut')
    (tmp_path / "bad.gz").write_bytes(b"not gzip")
    (tmp_path / "broken.txt.gz").write_bytes(b"\x1f\x8b garbage")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "notes.docx").write_bytes(b"?")
    stats = CorpusStats()
    docs = list(iter_documents(tmp_path, stats=stats))
    assert [d.text for d in docs if d.source.endswith("good.jsonl")] == ["fine"]
    assert stats.bad_records == 3  # malformed line, missing field, truncated last line
    assert stats.invalid_utf8_files == 1
    assert any(d.text == "caf\ufffd" for d in docs)
    assert stats.skipped_files == 3  # bad.gz (unknown type), broken.txt.gz, notes.docx
    assert any("truncated JSON line" in p and "line 4" in p for p in stats.problems)


def test_empty_directory_and_missing_path(tmp_path):
    with pytest.raises(UserError, match="no corpus files"):
        corpus_files(tmp_path)
    with pytest.raises(UserError, match="no such file"):
        corpus_files(tmp_path / "nope")


def test_ranges_tile_a_file_exactly(tmp_path):
    lines = [f'{{"text": "doc {i} ' + "x" * (i % 500) + '"}\n' for i in range(12000)]
    path = tmp_path / "big.jsonl"
    path.write_text("".join(lines))
    tasks = plan_tasks([path], workers=8)
    assert len(tasks) > 1
    stats = CorpusStats()
    docs = [d.text for t in tasks for d in read_task(t, "text", stats)]
    assert docs == [json.loads(x)["text"] for x in lines]


def test_txt_range_lookahead_pieces(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("a b c\nd e f\ng h i\n")
    stats = CorpusStats()
    docs = list(read_task(Task(str(path), 0, 6), "text", stats))
    assert docs[0].text == "a b c\n" and not docs[0].lookahead
    assert "".join(d.text for d in docs[1:]) == "d e f\ng h i\n"
    assert all(d.lookahead for d in docs[1:])
