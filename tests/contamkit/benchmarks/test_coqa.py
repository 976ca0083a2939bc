"""CoQA on a hand-written file in the official coqa-dev-v1.0.json format."""

from __future__ import annotations

import json
import logging

import pytest

from contamkit.benchmarks import load_benchmark
from contamkit.common.errors import UserError


def test_stories(coqa_file):
    stories = load_benchmark("coqa", path=coqa_file)
    assert [s.id for s in stories] == [
        "coqa/valid/3fixture0cnn0story0aaaaaaaaaaaa",
        "coqa/valid/3fixture1mctest0story0bbbbbbbbb",
    ]
    cnn = stories[0]
    assert cnn.text.startswith("(CNN) -- A small ferry") and cnn.text == cnn.fields["story"]
    assert cnn.fields["source"] == "cnn"
    assert cnn.fields["questions"] == [
        "What ran aground?",
        "How many people were on it?",
        "Was anyone hurt?",
    ]
    # main answer first, then additional_answers "0", "1" in order
    assert cnn.fields["answers"] == [
        ["a small ferry", "a ferry", "small ferry"],
        ["40 passengers", "40", "forty passengers"],
        ["no", "No", "nobody"],
    ]
    assert stories[1].fields["answers"] == [["red", "Red"], ["at the beach", "the beach"]]


def test_turns(coqa_file):
    turns = load_benchmark("coqa", path=coqa_file, variant="turns")
    assert len(turns) == 5
    third = turns[2]
    assert third.id == "coqa/valid/3fixture0cnn0story0aaaaaaaaaaaa/3"
    assert third.text == "Was anyone hurt?" == third.fields["question"]
    assert third.fields["answers"] == ["no", "No", "nobody"]
    assert third.fields["history"] == [
        {"question": "What ran aground?", "answer": "a small ferry"},
        {"question": "How many people were on it?", "answer": "40 passengers"},
    ]
    assert turns[3].fields["history"] == [] and turns[3].fields["source"] == "mctest"


def _write(tmp_path, data) -> str:
    path = tmp_path / "coqa-dev-v1.0.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_answers_not_lining_up(tmp_path, coqa_file):
    data = json.loads(coqa_file.read_text())
    del data["data"][1]["additional_answers"]["0"][1]
    with pytest.raises(UserError, match=r"story 3fixture1mctest\w+: answers do not line up"):
        load_benchmark("coqa", path=_write(tmp_path, data))


def test_missing_field_names_story(tmp_path, coqa_file):
    data = json.loads(coqa_file.read_text())
    del data["data"][0]["questions"][1]["input_text"]
    with pytest.raises(
        UserError, match=r"story 3fixture0cnn\w+ turn 2: missing field 'input_text'"
    ):
        load_benchmark("coqa", path=_write(tmp_path, data))


def test_turn_id_mismatch_only_warns(tmp_path, coqa_file, caplog):
    data = json.loads(coqa_file.read_text())
    data["data"][1]["answers"][1]["turn_id"] = 7
    with caplog.at_level(logging.WARNING, logger="contam"):
        assert len(load_benchmark("coqa", path=_write(tmp_path, data))) == 2
    assert "turn 2: turn ids ['2', '7'] disagree" in caplog.text


def test_not_coqa(tmp_path):
    with pytest.raises(UserError, match="not a CoQA file"):
        load_benchmark("coqa", path=_write(tmp_path, [1, 2]))
