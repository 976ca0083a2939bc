"""Each evaluator against an independent computation: one unbatched forward pass per text."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from contamkit.analysis.evaluators import (
    EVALUATORS,
    coqa_prompt,
    evaluate_coqa,
    evaluate_lambada,
    evaluate_lm,
    evaluate_winograd,
    evaluator_for,
)
from contamkit.analysis.metrics import summarize
from contamkit.analysis.options import EvalOptions
from contamkit.benchmarks import Example, load_benchmark
from contamkit.benchmarks.lambada import context_target
from contamkit.benchmarks.registry import REGISTRY
from contamkit.common.errors import UserError

OPTS = EvalOptions(batch_size=3)
BLOCK = 64  # the tiny models' block size (conftest)


@pytest.fixture(scope="module")
def model(tiny_model):
    assert tiny_model.config.block_size == BLOCK
    return tiny_model


def logprobs_by_hand(model, tokens: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """log p(tokens[j] | tokens[:j]) and argmax == tokens[j], for j = 1..len-1."""
    with torch.no_grad():
        logp = model(torch.tensor([tokens]))[0][0].double().log_softmax(-1)
    targets = torch.tensor(tokens[1:])
    rows = torch.arange(len(tokens) - 1)
    return logp[rows, targets].numpy(), (logp.argmax(-1)[:-1] == targets).numpy()


def lambada_example(i: int, text: str) -> Example:
    return Example(f"lambada/test/{i:05d}", text, context_target(text, "test"))


def test_lambada_scores_the_last_word_in_context(model, gpt2_tok):
    texts = ["The old man walked to the harbor every morning to watch the boats",
             "She opened the letter, read it twice, and handed it to her brother Tomasz",
             "\u201cWhere is it?\u201d he asked. \u201cIn the kitchen,\u201d said Mary"]
    rows = evaluate_lambada(model, gpt2_tok, [lambada_example(i, t) for i, t in
                                              enumerate(texts)], OPTS)
    for text, row in zip(texts, rows, strict=True):
        tokens = gpt2_tok.encode(text)
        n_ctx = len(gpt2_tok.encode(text.rpartition(" ")[0]))
        lp, greedy = logprobs_by_hand(model, tokens)
        assert row["tokens"] == len(tokens) - n_ctx
        assert row["nll"] == pytest.approx(-lp[n_ctx - 1:].sum(), rel=1e-4)
        assert row["correct"] == int(greedy[n_ctx - 1:].all())
        assert row["loss"] == row["nll"] and row["target"] == " " + text.rpartition(" ")[2]
    assert [r["id"] for r in rows] == ["lambada/test/00000", "lambada/test/00001",
                                       "lambada/test/00002"]
    expected_ppl = math.exp(np.mean([r["nll"] for r in rows]))
    assert summarize("lambada", rows)["perplexity"] == pytest.approx(expected_ppl)


def test_lambada_accuracy_with_a_model_that_always_says_no(gpt2_tok, forced_model):
    (no,) = gpt2_tok.encode(" no")
    rows = evaluate_lambada(forced_model(no), gpt2_tok, [
        lambada_example(0, "Are you coming with us? she asked. He said no"),
        lambada_example(1, "Are you coming with us? she asked. He said yes"),
        lambada_example(2, "The answer was a firm no, no"),
    ], OPTS)
    assert [r["correct"] for r in rows] == [1, 0, 1]
    assert rows[0]["nll"] == pytest.approx(0.0, abs=1e-3)
    assert summarize("lambada", rows)["accuracy"] == pytest.approx(200 / 3)


def test_winograd_partial_scoring(model, gpt2_tok):
    options = ["The trophy doesn't fit into the suitcase because the trophy",
               "The trophy doesn't fit into the suitcase because the suitcase"]
    examples = [Example("winograd/test/00000", "", {"options": options,
                                                    "continuation": "is too large.", "label": 0}),
                Example("winograd/test/00001", "", {"options": options[::-1],
                                                    "continuation": "is too large.", "label": 1})]
    rows = evaluate_winograd(model, gpt2_tok, examples, OPTS)
    sums = []
    for option in options:
        n_ctx = len(gpt2_tok.encode(option))
        lp, _ = logprobs_by_hand(model, gpt2_tok.encode(option + " is too large."))
        sums.append(lp[n_ctx - 1:].sum())
    assert rows[0]["logprobs"] == pytest.approx(sums, rel=1e-4)
    assert rows[1]["logprobs"] == pytest.approx(sums[::-1], rel=1e-4)
    assert rows[0]["pred"] == int(np.argmax(sums)) and rows[1]["pred"] == 1 - rows[0]["pred"]
    assert rows[0]["correct"] == rows[1]["correct"] == int(sums[0] > sums[1])
    assert rows[0]["loss"] == pytest.approx(-sums[0] / rows[0]["tokens"][0])


def test_lm_document_nll_tokens_words_bytes(model, gpt2_tok):
    short = "Hello world, this is a caf\u00e9 test."
    long = " ".join(f"word{i}" for i in range(60))  # > BLOCK tokens: sliding window
    rows = evaluate_lm(model, gpt2_tok, [Example("ptb/test/00000", short),
                                         Example("ptb/test/00001", long),
                                         Example("ptb/test/00002", "")],
                       EvalOptions(batch_size=2, stride=16))
    ids = gpt2_tok.encode(short)
    lp, _ = logprobs_by_hand(model, [gpt2_tok.eot_id, *ids])
    assert rows[0]["nll"] == pytest.approx(-lp.sum(), rel=1e-4)
    assert (rows[0]["tokens"], rows[0]["words"], rows[0]["bytes"]) == (len(ids), 7, 34)
    assert rows[0]["loss"] == pytest.approx(rows[0]["nll"] / len(ids))
    assert rows[1]["tokens"] == len(gpt2_tok.encode(long)) > BLOCK
    assert rows[2] == {"id": "ptb/test/00002", "nll": 0.0, "tokens": 0, "words": 0, "bytes": 0,
                       "loss": None}
    total = rows[0]["nll"] + rows[1]["nll"]
    assert summarize("lm", rows)["bits_per_byte"] == pytest.approx(
        total / (34 + len(long)) / math.log(2))


COQA = {"version": "1.0", "data": [
    {"id": "story1", "source": "cnn", "story": "It was a dry day. The car was red.",
     "questions": [{"input_text": "Was it raining?", "turn_id": 1},
                   {"input_text": "Was the car blue?", "turn_id": 2}],
     "answers": [{"input_text": "no", "turn_id": 1}, {"input_text": "yes, no", "turn_id": 2}],
     "additional_answers": {
         "0": [{"input_text": "No.", "turn_id": 1}, {"input_text": "yes", "turn_id": 2}],
         "1": [{"input_text": "nope", "turn_id": 1}, {"input_text": "yes", "turn_id": 2}]}},
    {"id": "story2", "source": "race", "story": "A cat sat.",
     "questions": [{"input_text": "Who sat?", "turn_id": 1}],
     "answers": [{"input_text": "the cat", "turn_id": 1}]},
]}


def test_coqa_prompt_layout():
    turn = {"story": "S.", "history": [{"question": "Q1?", "answer": "A1"}],
            "question": "Q2?", "answers": ["x"]}
    assert coqa_prompt(turn) == "S.\n\nQ: Q1?\n\nA: A1\n\nQ: Q2?\n\nA:"


@pytest.mark.parametrize("variant", ["stories", "turns"])
def test_coqa_f1_of_a_model_that_always_says_no(tmp_path, gpt2_tok, forced_model, variant):
    path = tmp_path / "coqa-dev-v1.0.json"
    path.write_text(json.dumps(COQA))
    examples = load_benchmark("coqa", "valid", path, variant)
    (no,) = gpt2_tok.encode(" no")
    rows = evaluate_coqa(forced_model(no), gpt2_tok, examples, EvalOptions(max_new_tokens=1))
    # turn 1: golds no / No. / nope -> every leave-one-out max is 1
    # turn 2: golds "yes, no" / yes / yes -> (0 + 2/3 + 2/3) / 3; story 2: "the cat" -> 0
    per_turn = [f for r in rows for f in r["f1"]]
    assert per_turn == pytest.approx([1.0, 4 / 9, 0.0])
    assert all(p == "no" for r in rows for p in r["predictions"])
    assert summarize("coqa", rows)["f1"] == pytest.approx(100 * (1 + 4 / 9) / 3)
    assert rows[0]["loss"] is not None and math.isfinite(rows[0]["loss"])
    if variant == "stories":
        assert [r["id"] for r in rows] == ["coqa/valid/story1", "coqa/valid/story2"]
        assert rows[0]["turns"] == 2 and rows[0]["source"] == "cnn"


def test_coqa_answers_end_at_their_first_line_break(tmp_path, gpt2_tok, model, monkeypatch):
    """lm-eval's coqa keeps the first line of the stripped generation."""
    path = tmp_path / "coqa-dev-v1.0.json"
    path.write_text(json.dumps(COQA))
    generated = gpt2_tok.encode(" no\nyes, no")
    monkeypatch.setattr("contamkit.analysis.evaluators.generate", lambda *a, **k: generated)
    rows = evaluate_coqa(model, gpt2_tok, load_benchmark("coqa", "valid", path), OPTS)
    assert all(p == "no" for r in rows for p in r["predictions"])
    assert [f for r in rows for f in r["f1"]] == pytest.approx([1.0, 4 / 9, 0.0])


def test_every_benchmark_task_has_an_evaluator():
    assert all(b.task in EVALUATORS for b in REGISTRY.values())
    assert [REGISTRY[b].task for b in ("lambada", "coqa", "winograd", "ptb", "wikitext103")] == [
        "lambada", "coqa", "winograd", "lm", "lm"]
    assert evaluator_for("lambada") is EVALUATORS["lambada"]
    with pytest.raises(UserError, match="no evaluator for task 'nonsense'"):
        evaluator_for("nonsense")
