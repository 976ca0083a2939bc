"""Sample logs of lm-eval's other output types (multiple choice, several filters, rolling
log-likelihoods), written as ``lm_eval --log_samples`` writes them, into evaluation runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from contamkit.analysis.lm_eval_samples import is_samples_source, read_lm_eval_run
from contamkit.analysis.runs import Run
from contamkit.common.errors import UserError

TEXTS = ["What is the capital of France?\nParis\nLyon\nNice",
         "Which planet is the largest one?\nMars\nJupiter\nVenus",
         "Natalia sold clips to 48 of her friends in April.\n#### 72"]


def overlap_run(n: int) -> Run:
    rows = [{"id": f"set/test/{i:05d}", "ngrams": 10, "found": 0} for i in range(n)]
    return Run(Path("ov"), {"bench": "set", "split": "test"}, rows)


def write(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_multiple_choice_samples(tmp_path):
    lls = [[-1.0, -3.0, -0.5], [-4.0, -1.5, -2.0]]
    lines = [{"doc_id": i, "doc": {"question": TEXTS[i].split("\n")[0],
                                   "choices": TEXTS[i].split("\n")[1:]},
              "target": [0, 1][i], "filtered_resps": [[str(x), "False"] for x in lls[i]],
              "filter": "none", "metrics": ["acc", "acc_norm"], "acc": [0.0, 1.0][i],
              "acc_norm": [1.0, 1.0][i]} for i in range(2)]
    path = write(tmp_path / "samples_arc_2026-01-01T00-00-00.0.jsonl", lines)
    assert is_samples_source(path) and is_samples_source(tmp_path)
    run = read_lm_eval_run(path, overlap_run(2), TEXTS[:2])
    assert [m.name for m in run.metrics] == ["acc", "acc_norm"]
    assert [m.of(run.rows) for m in run.metrics] == [50.0, 100.0]
    assert [r["loss"] for r in run.rows] == [1.0, 1.5]  # the gold choice's NLL
    assert run.loss_label == "gold-choice NLL (nats)"
    assert [r["id"] for r in run.rows] == ["set/test/00000", "set/test/00001"]


def test_two_filters_give_two_metrics(tmp_path):
    doc = {"question": TEXTS[2].split("\n")[0], "answer": "She sold 72.\n#### 72"}
    lines = [{"doc_id": 0, "doc": doc, "target": doc["answer"], "filtered_resps": [text],
              "filter": name, "metrics": ["exact_match"], "exact_match": value}
             for name, text, value in (("strict-match", "[invalid]", 0),
                                       ("flexible-extract", "72", 1))]
    path = write(tmp_path / "samples_gsm8k_2026-01-01T00-00-00.0.jsonl", lines)
    run = read_lm_eval_run(path, overlap_run(1), TEXTS[2:])
    assert {m.name: m.of(run.rows) for m in run.metrics} == {
        "exact_match_strict-match": 0.0, "exact_match_flexible-extract": 100.0}
    assert run.rows[0]["loss"] is None and run.loss_label.startswith("undefined")


def test_rolling_loglikelihoods_are_pooled(tmp_path):
    docs = [("A first page of text that is long enough", -40.0, 9, 41),
            ("A second page, somewhat shorter here", -20.0, 6, 36)]
    lines = [{"doc_id": i, "doc": {"page": text}, "target": text, "filtered_resps": [str(ll)],
              "filter": "none", "metrics": ["word_perplexity", "byte_perplexity",
                                            "bits_per_byte"],
              "word_perplexity": [ll, words], "byte_perplexity": [ll, n_bytes],
              "bits_per_byte": [ll, n_bytes]} for i, (text, ll, words, n_bytes) in enumerate(docs)]
    path = write(tmp_path / "samples_wikitext_2026-01-01T00-00-00.0.jsonl", lines)
    run = read_lm_eval_run(path, overlap_run(2), [t for t, *_ in docs])
    got = {m.name: m.of(run.rows) for m in run.metrics}
    assert got["word_perplexity"] == pytest.approx(math.exp(60 / 15))
    assert got["byte_perplexity"] == pytest.approx(math.exp(60 / 77))
    assert got["bits_per_byte"] == pytest.approx(60 / 77 / math.log(2))
    np.testing.assert_allclose([r["loss"] for r in run.rows], [40 / 9, 20 / 6])
    assert not any(m.higher_is_better for m in run.metrics)


def test_malformed_logs_are_refused(tmp_path):
    bad = write(tmp_path / "samples_x_2026-01-01T00-00-00.0.jsonl", [{"doc_id": 0}])
    with pytest.raises(UserError, match=f"^{bad}:1: not an lm-eval sample"):
        read_lm_eval_run(bad, overlap_run(1), TEXTS[:1])
    twice = write(tmp_path / "samples_y_2026-01-01T00-00-00.0.jsonl", [
        {"doc_id": 0, "doc": {"t": TEXTS[0]}, "metrics": ["acc"], "acc": 1}] * 2)
    with pytest.raises(UserError, match=f"^{twice}:2: doc_id 0 repeated"):
        read_lm_eval_run(twice, overlap_run(1), TEXTS[:1])
    text = write(tmp_path / "samples_z_2026-01-01T00-00-00.0.jsonl", [
        {"doc_id": 0, "doc": {"t": TEXTS[0]}, "metrics": ["bleu"], "bleu": "n/a"}])
    with pytest.raises(UserError, match=f"^{text}: no numeric per-sample metric"):
        read_lm_eval_run(text, overlap_run(1), TEXTS[:1])
