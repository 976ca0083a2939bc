"""``underfit``: perplexities against one forward pass per side, on a corpus and on prepared
data, models sorted by size."""

from __future__ import annotations

import json
import math

import pytest
import torch

from contamkit import cli
from contamkit.analysis.underfit import data_tokens, underfit
from contamkit.common.errors import UserError
from model.checkpoint import save_checkpoint
from model.gpt2 import GPT, GPTConfig
from tests.contamkit.common.output_checks import (
    keeps_previous_on_failure,
    refuses_foreign,
    refuses_inputs,
)
from training.prepare import prepare_corpus

TRAIN = ["The cat sat on the mat and looked at the door.", "A dog ran in the park."]
HELDOUT = ["Rain fell on the quiet town all night long."]


def write_corpus(path, texts):
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return path


def perplexity_by_hand(model, tokens: list[int]) -> float:
    with torch.no_grad():
        logp = model(torch.tensor([tokens]))[0][0].double().log_softmax(-1)
    lp = logp[torch.arange(len(tokens) - 1), torch.tensor(tokens[1:])]
    return math.exp(-lp.mean().item())


@pytest.fixture(scope="module")
def models(tmp_path_factory, tiny_model):
    root = tmp_path_factory.mktemp("models")
    torch.manual_seed(1)
    small = GPT(GPTConfig(block_size=64, vocab_size=50257, n_layer=1, n_head=2, n_embd=64))
    save_checkpoint(tiny_model, root / "b", "gpt2")
    save_checkpoint(small, root / "a", "gpt2")
    return {"small": (root / "a", small), "tiny": (root / "b", tiny_model)}


def test_corpus_sides(tmp_path, models, gpt2_tok):
    train = write_corpus(tmp_path / "train.jsonl", TRAIN)
    held = write_corpus(tmp_path / "held.jsonl", HELDOUT)
    out = tmp_path / "uf"
    assert cli.main(["underfit", "--models", f"{models['tiny'][0]},{models['small'][0]}",
                     "--train-data", str(train), "--heldout-data", str(held),
                     "--out", str(out), "--max-tokens", "20"]) == 0
    summary = json.loads((out / "underfit.json").read_text())
    rows = summary["models"]
    assert [r["model"] for r in rows] == [str(models["small"][0]), str(models["tiny"][0])]
    train_tokens = [gpt2_tok.eot_id, *gpt2_tok.encode(TRAIN[0]), gpt2_tok.eot_id,
                    *gpt2_tok.encode(TRAIN[1])][:20]
    held_tokens = [gpt2_tok.eot_id, *gpt2_tok.encode(HELDOUT[0])]
    for row, key in zip(rows, ("small", "tiny"), strict=True):
        model = models[key][1]
        assert row["train_perplexity"] == pytest.approx(perplexity_by_hand(model, train_tokens),
                                                        rel=1e-4)
        assert row["heldout_perplexity"] == pytest.approx(perplexity_by_hand(model, held_tokens),
                                                          rel=1e-4)
        assert row["train_tokens"] == 19 and row["heldout_tokens"] == len(held_tokens) - 1
    assert (out / "underfit.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "underfit.csv").read_text().splitlines()[0].startswith("model,num_params")


def test_prepared_data_uses_train_and_val(tmp_path, gpt2_tok):
    corpus = write_corpus(tmp_path / "c.jsonl", [f"Document number {i} is here." for i in
                                                  range(40)])
    manifest = prepare_corpus(corpus, tmp_path / "data", "gpt2", val_fraction=0.3, workers=1)
    train = data_tokens(tmp_path / "data", "train", gpt2_tok, 10_000)
    val = data_tokens(tmp_path / "data", "val", gpt2_tok, 10_000)
    assert len(train) == manifest["splits"]["train"]["tokens"]
    assert len(val) == manifest["splits"]["val"]["tokens"]
    assert len(data_tokens(tmp_path / "data", "train", gpt2_tok, 7)) == 7

    class Other:
        name = "bpe300:0000"

    with pytest.raises(UserError, match="data is tokenized with gpt2, the model uses bpe300"):
        data_tokens(tmp_path / "data", "train", Other(), 10)


def test_no_models():
    with pytest.raises(UserError, match="at least one"):
        underfit([], "a", "b", "c")


def test_output_is_never_an_input_nor_foreign_and_survives_a_failure(tmp_path, models, gpt2_tok,
                                                                      capsys, monkeypatch):
    train = write_corpus(tmp_path / "train.jsonl", TRAIN)
    held = write_corpus(tmp_path / "held.jsonl", HELDOUT)
    model = models["tiny"][0]

    def command(out, max_tokens=12):
        return ["underfit", "--models", model, "--train-data", train, "--heldout-data", held,
                "--out", out, "--max-tokens", max_tokens, "--device", "cpu"]

    refuses_inputs(capsys, command, [model, model / "underfit", train, held / "underfit"],
                   [model, train, held])
    refuses_foreign(capsys, command, tmp_path / "mine", "underfit folder")
    out = tmp_path / "out" / "underfit"
    out.parent.mkdir()
    keeps_previous_on_failure(capsys, monkeypatch, command(out, 12), command(out, 16), out)
