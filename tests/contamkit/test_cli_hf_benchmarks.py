"""Today's benchmarks end to end from the command line: ``overlap --bench mmlu,gsm8k,hellaswag``
against a filter of the WebText sample with one MMLU question planted in it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from contamkit import cli
from overlap.normalize import words
from tests.contamkit.benchmarks.conftest import hf_release_rows, write_hf_release

PLANTED = hf_release_rows()["mmlu"]["rows"][1]["question"]  # "Which of ... S_3 is true?"


@pytest.fixture(scope="module")
def setup(shared_data, tmp_path_factory) -> tuple[Path, Path]:
    """(filter of the WebText test sample + one forum post quoting an MMLU question, release)."""
    root = tmp_path_factory.mktemp("hfbench")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "webtext.test.jsonl").symlink_to(shared_data / "webtext" / "webtext.test.jsonl")
    post = f"Homework help, please: {PLANTED} I think it has order 6 but I am not sure."
    (corpus / "forum.jsonl").write_text(json.dumps({"text": post}) + "\n")
    bloom = root / "webtext.bloom"
    assert cli.main(["build-filter", str(corpus), "-o", str(bloom), "--workers", "1"]) == 0
    return bloom, write_hf_release(root / "release")


def test_overlap_of_three_sets_finds_the_planted_question_with_its_span(setup, tmp_path):
    bloom, release = setup
    out = tmp_path / "out"
    assert cli.main(["overlap", "--bench", "mmlu,gsm8k,hellaswag", "--filter", str(bloom),
                     "--bench-path", str(release), "--out", str(out)]) == 0
    summaries = {b: json.loads((out / b / "summary.json").read_text())
                 for b in ("mmlu", "gsm8k", "hellaswag")}
    assert {b: (s["split"], s["examples"]) for b, s in summaries.items()} == {
        "mmlu": ("test", 3), "gsm8k": ("test", 2), "hellaswag": ("valid", 3)}
    rows = [json.loads(line) for line in (out / "mmlu" / "examples.jsonl").open()]
    found = {r["id"]: r for r in rows if r["found"]}
    assert list(found) == ["mmlu/test/abstract_algebra/00001"]
    hit = found["mmlu/test/abstract_algebra/00001"]
    # every 8-gram of the question's words, and none reaching into the choices after it
    assert hit["found"] == len(words(PLANTED)) - 7
    (start, end), = hit["spans"]
    text = next(e for e in _mmlu_texts(release) if e.startswith(PLANTED))
    assert text[start:end] == PLANTED.rstrip("?")
    assert summaries["gsm8k"]["ngrams_found"] == summaries["hellaswag"]["ngrams_found"] == 0
    report = (out / "report.md").read_text()
    assert all(f"## {b} (" in report for b in summaries)


def _mmlu_texts(release: Path) -> list[str]:
    from contamkit.benchmarks import load_benchmark

    return [e.text for e in load_benchmark("mmlu", path=release)]


def test_generic_loader_from_the_command_line(setup, tmp_path):
    bloom, release = setup
    out = tmp_path / "out"
    assert cli.main(["overlap", "--bench", "hf", "--filter", str(bloom), "--bench-path",
                     str(release / "mmlu"), "--text-template", "{question}", "--out",
                     str(out)]) == 0
    rows = [json.loads(line) for line in (out / "hf" / "examples.jsonl").open()]
    assert [r["id"] for r in rows if r["found"]] == ["hf/test/00001"]


def test_bad_input_is_one_line_naming_the_file(setup, tmp_path, capsys):
    bloom, release = setup
    wrong = tmp_path / "wrong"
    shutil.copytree(release, wrong)
    mmlu_file = wrong / "mmlu" / "all" / "test-00000-of-00001.parquet"
    shutil.copy(wrong / "gsm8k" / "main" / "test-00000-of-00001.parquet", mmlu_file)
    (tmp_path / "empty").mkdir()
    common = ["overlap", "--filter", str(bloom), "--out", str(tmp_path / "out")]
    cases = [
        (["--bench", "hf", "--bench-path", str(release / "gsm8k"), "--text-template",
          "{question} {solution}"], "names field 'solution', which the file does not have"),
        (["--bench", "mmlu", "--bench-path", str(wrong)], f"{mmlu_file}: not mmlu's schema"),
        (["--bench", "mmlu,mmlu_pro", "--bench-path", str(release)],
         "unknown benchmark 'mmlu_pro' (known: lambada,"),
        (["--bench", "gsm8k", "--bench-path", str(tmp_path / "empty")],
         "gsm8k test (hf) needs main/test-00000-of-00001.parquet, not found"),
    ]
    for args, message in cases:
        assert cli.main(common + args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
