"""``--bench hf``: any local dataset, its text from a template."""

from __future__ import annotations

import json

import pytest

from contamkit.benchmarks import load_benchmark
from contamkit.common.errors import UserError
from tests.contamkit.benchmarks.conftest import hf_release_rows


def test_folder_of_a_release_by_split_name(hf_release):
    rows = hf_release_rows()["gsm8k"]["rows"]
    examples = load_benchmark("hf", "test", hf_release / "gsm8k",
                              text_template="{question} {answer}")
    assert [e.id for e in examples] == ["hf/test/00000", "hf/test/00001"]
    assert [e.text for e in examples] == [f"{r['question']} {r['answer']}" for r in rows]
    assert examples[0].fields == rows[0]


def test_valid_means_validation_and_nested_fields_and_id_field(hf_release):
    examples = load_benchmark("hf", "valid", hf_release / "squad",
                              text_template="{question} -> {answers[text][0]}", id_field="id")
    assert [e.id for e in examples] == ["hf/valid/56be4db0acb8001400a502ec",
                                        "hf/valid/56be4db0acb8001400a502ed"]
    assert examples[1].text == "Which season did Super Bowl 50 determine the champion for? -> " \
                               "2015 season"


def test_listed_jsonl_files_are_read_in_order(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps({"q": "one", "n": 1}) + "\n" + json.dumps({"q": "two", "n": 2}) + "\n")
    b.write_text(json.dumps({"q": "three", "n": 3}) + "\n")
    examples = load_benchmark("hf", path=f"{a},{b}", text_template="{n}: {q}")
    assert [(e.id, e.text) for e in examples] == [
        ("hf/test/00000", "1: one"), ("hf/test/00001", "2: two"), ("hf/test/00002", "3: three")]


def test_default_template_reads_text(tmp_path):
    f = tmp_path / "test.jsonl"
    f.write_text(json.dumps({"text": "hello world"}) + "\n")
    assert [e.text for e in load_benchmark("hf", path=tmp_path)] == ["hello world"]


@pytest.mark.parametrize(("template", "id_field", "message"), [
    ("{question} {solution}", None, "names field 'solution', which the file does not have "
                                    "(fields: question, answer)"),
    ("{question}", "qid", "--id-field 'qid' is not a field of the file"),
    ("{question.__class__}", None, "must name a field"),
    ("no fields", None, "names no field"),
])
def test_bad_template_or_id_field_names_the_file(hf_release, template, id_field, message):
    with pytest.raises(UserError, match="^(--text-template|.*test-00000-of-00001.parquet)") as e:
        load_benchmark("hf", "test", hf_release / "gsm8k", text_template=template,
                       id_field=id_field)
    assert message in str(e.value)


def test_duplicate_ids_and_missing_split_files(tmp_path):
    f = tmp_path / "test.jsonl"
    f.write_text(json.dumps({"text": "a", "k": 1}) + "\n" + json.dumps({"text": "b", "k": 1}) +
                 "\n")
    with pytest.raises(UserError, match=r"test.jsonl:2: duplicate id '1'"):
        load_benchmark("hf", path=tmp_path, id_field="k")
    with pytest.raises(UserError, match=r"no valid files \(named validation/valid/dev"):
        load_benchmark("hf", "valid", path=tmp_path)
    with pytest.raises(UserError, match="hf: pass --bench-path"):
        load_benchmark("hf")


def test_template_is_refused_for_a_registered_benchmark():
    with pytest.raises(UserError, match="apply to --bench hf only"):
        load_benchmark("mmlu", text_template="{question}")
