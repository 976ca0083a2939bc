"""User mistakes: each is one UserError that names the file (and line) and the problem."""

from __future__ import annotations

import re

import pytest

from benchmarks import load_benchmark
from common.errors import UserError


def at(path, problem: str) -> str:
    """A regex for a message that starts with ``path`` and goes on with ``problem``."""
    return "^" + re.escape(str(path)) + problem


def test_malformed_json_line_names_file_and_line(tmp_path):
    path = tmp_path / "lambada_test.jsonl"
    path.write_text('{"text": "a passage ending in word"}\n{"text" "no colon"}\n')
    with pytest.raises(UserError, match=at(path, r":2: malformed JSON \(Expecting ':'")):
        load_benchmark("lambada", path=path)


def test_truncated_last_line_is_an_error_where_not_expected(tmp_path):
    path = tmp_path / "lambada_test.jsonl"
    path.write_text('{"text": "a passage ending in word"}\n{"text": "cut off')
    with pytest.raises(UserError, match=at(path, r":2: malformed JSON")):
        load_benchmark("lambada", path=path)


def test_missing_field_names_file_and_line(tmp_path):
    path = tmp_path / "winograd_wsc.jsonl"
    path.write_text('\n{"context_options": ["a", "b"], "gold": 0}\n')
    with pytest.raises(UserError, match=at(path, r":2: missing field 'continuation'")):
        load_benchmark("winograd", path=path)


def test_json_line_that_is_not_an_object(tmp_path):
    path = tmp_path / "webtext.test.jsonl"
    path.write_text('{"text": "ok"}\n[1, 2]\n')
    with pytest.raises(UserError, match=at(path, r":2: expected a JSON object, got list")):
        load_benchmark("webtext", path=path)


def test_malformed_xml_names_file_and_line(tmp_path):
    path = tmp_path / "WSCollection.xml"
    path.write_text('<?xml version="1.0"?>\n<collection>\n<schema><text>\n</collection>\n')
    with pytest.raises(UserError, match=at(path, r":4: malformed XML \(mismatched tag")):
        load_benchmark("winograd", path=path)


def test_short_xml_collection(tmp_path):
    path = tmp_path / "WSCollection.xml"
    path.write_text("<collection><schema/></collection>")
    with pytest.raises(UserError, match=r"1 <schema> entries, WSC273 needs 273"):
        load_benchmark("winograd", path=path)


def test_malformed_coqa_json_names_line(tmp_path):
    path = tmp_path / "coqa-dev-v1.0.json"
    path.write_text('{"data": [\n  {"id": "x",\n  "story": }\n]}')
    with pytest.raises(UserError, match=at(path, r":3: malformed JSON")):
        load_benchmark("coqa", path=path)


def test_not_utf8_names_line(tmp_path):
    path = tmp_path / "ptb.test.txt"
    path.write_bytes(b" fine \n caf\xe9 \n")
    with pytest.raises(UserError, match=at(path, r":2: not UTF-8")):
        load_benchmark("ptb", path=path)


def test_explicit_path_that_does_not_exist(tmp_path):
    with pytest.raises(UserError, match=at(tmp_path / "nope", r": no such file or directory")):
        load_benchmark("ptb", path=tmp_path / "nope")


def test_one_file_for_a_many_file_split(tmp_path):
    path = tmp_path / "news.en-00001-of-00100"
    path.write_text("x\n")
    with pytest.raises(UserError, match="1bw train .* needs 99 files; give the folder"):
        load_benchmark("1bw", "train", path=path)
