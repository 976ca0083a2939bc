"""The registry's ``jsonl`` benchmark: a user's own file of {text, optional id} records."""

from __future__ import annotations

import json

import pytest

from contamkit.benchmarks import get_benchmark, load_benchmark
from contamkit.common.errors import UserError


def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_ids_text_and_extra_fields(tmp_path):
    path = write(tmp_path / "mine.jsonl", [{"id": "q1", "text": "first", "label": 1},
                                           {"id": 7, "text": "second"}])
    examples = load_benchmark("jsonl", path=path)
    assert [(e.id, e.text, e.fields) for e in examples] == [
        ("jsonl/test/q1", "first", {"label": 1}), ("jsonl/test/7", "second", {})]


def test_without_ids_the_position_is_the_key(tmp_path):
    path = write(tmp_path / "mine.jsonl", [{"text": "a"}, {"text": "b"}])
    assert [e.id for e in load_benchmark("jsonl", path=path)] == ["jsonl/test/00000",
                                                                  "jsonl/test/00001"]


def test_a_folder_holds_one_file_per_split(tmp_path):
    write(tmp_path / "valid.jsonl", [{"text": "v"}])
    write(tmp_path / "test.jsonl", [{"text": "t"}])
    assert load_benchmark("jsonl", "valid", path=tmp_path)[0].text == "v"
    assert load_benchmark("jsonl", path=tmp_path)[0].text == "t"
    assert get_benchmark("jsonl").splits == ("train", "valid", "test")


@pytest.mark.parametrize("rows, message", [
    ([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}], "mine.jsonl:2: duplicate id 'a'"),
    ([{"id": True, "text": "x"}], "mine.jsonl:1: field 'id' must be a non-empty string"),
    ([{"id": "a"}], "mine.jsonl:1: missing field 'text'"),
    ([{"text": 3}], "mine.jsonl:1: field 'text' must be str"),
])
def test_mistakes_name_the_file_and_line(tmp_path, rows, message):
    path = write(tmp_path / "mine.jsonl", rows)
    with pytest.raises(UserError) as e:
        load_benchmark("jsonl", path=path)
    assert message in str(e.value)


def test_without_a_path_the_message_says_to_pass_one(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTAM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CONTAM_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(UserError, match="pass --bench-path"):
        load_benchmark("jsonl")
