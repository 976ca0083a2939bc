"""The model package's CLI commands: import-gpt2 and train-tokenizer."""

from __future__ import annotations

import json
import warnings

import pytest
import torch

from contamkit.cli import main
from model.checkpoint import load_checkpoint
from model.tokenizer import load_tokenizer
from tests.contamkit.common.output_checks import (
    keeps_previous_on_failure,
    refuses_foreign,
    refuses_inputs,
)


def tiny_hf_gpt2(directory, seed: int = 0):
    """A random 2-layer GPT-2 of 120 ids in Hugging Face's format, saved in ``directory``."""
    transformers = pytest.importorskip("transformers")
    warnings.filterwarnings("ignore")
    torch.manual_seed(seed)
    hf = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        n_layer=2, n_head=2, n_embd=32, n_positions=40, vocab_size=120,
        bos_token_id=119, eos_token_id=119)).eval()
    hf.save_pretrained(directory)
    return hf


def test_import_gpt2_command(tmp_path, capsys):
    hf = tiny_hf_gpt2(tmp_path / "hf")
    assert main(["import-gpt2", str(tmp_path / "hf"), "-o", str(tmp_path / "ck")]) == 2
    assert "vocab_size 120 is not GPT-2's 50257" in capsys.readouterr().err
    args = ["import-gpt2", str(tmp_path / "hf"), "-o", str(tmp_path / "ck"), "--tokenizer", "t"]
    assert main(args) == 0
    model, meta = load_checkpoint(tmp_path / "ck")
    assert meta["tokenizer"] == "t" and meta["num_params"] == model.num_params()
    idx = torch.randint(0, 120, (1, 40))
    with torch.no_grad():
        torch.testing.assert_close(model(idx)[0], hf(idx).logits, atol=1e-5, rtol=1e-5)


def test_import_gpt2_output_is_never_its_input_nor_foreign_and_survives_a_failure(
        tmp_path, capsys, monkeypatch):
    for seed in (0, 1):
        tiny_hf_gpt2(tmp_path / f"hf{seed}", seed)

    def command(out, seed=0):
        return ["import-gpt2", tmp_path / f"hf{seed}", "-o", out, "--tokenizer", "t"]

    hf = tmp_path / "hf0"
    refuses_inputs(capsys, command, [hf, hf / "ours"], [hf])
    refuses_foreign(capsys, command, tmp_path / "mine", "checkpoint directory")
    out = tmp_path / "out" / "ck"
    out.parent.mkdir()

    def state(out):  # safetensors writes its header's keys in no fixed order: compare contents
        model, meta = load_checkpoint(out)  # refuses weights that are not config.json's
        weights = {k: v.numpy().tobytes() for k, v in model.state_dict().items()}
        return {**meta, "weights_sha256": None}, weights

    keeps_previous_on_failure(capsys, monkeypatch, command(out, 0), command(out, 1), out, state)


def test_train_tokenizer_command(tmp_path, shared_data, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = (shared_data / "webtext" / "webtext.test.jsonl").read_text().splitlines()[:300]
    (corpus / "web.jsonl").write_text("\n".join(lines) + "\n")
    (corpus / "notes.txt").write_text("A plain text document, naïve and short.\n")
    out = tmp_path / "tok"
    assert main(["train-tokenizer", str(corpus), "-o", str(out), "--vocab-size", "400"]) == 0
    tok = load_tokenizer(out)
    assert tok.vocab_size == 400
    assert json.loads((out / "tokenizer_meta.json").read_text())["name"] == tok.name
    text = json.loads(lines[0])["text"]
    assert tok.decode(tok.encode(text)) == text
    assert main(["train-tokenizer", str(tmp_path / "none"), "-o", str(out),
                 "--vocab-size", "400"]) == 2
    assert "none: no such file or directory" in capsys.readouterr().err


def test_train_tokenizer_output_is_never_its_input_nor_foreign_and_survives_a_failure(
        tmp_path, capsys, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("the cat sat on the mat; the dog sat on the log.\n" * 20)

    def command(out, vocab=260):
        return ["train-tokenizer", corpus, "-o", out, "--vocab-size", vocab]

    refuses_inputs(capsys, command, [corpus, corpus / "a.txt", corpus / "tok"], [corpus])
    refuses_foreign(capsys, command, tmp_path / "mine", "tokenizer directory")
    out = tmp_path / "out" / "tok"
    out.parent.mkdir()
    keeps_previous_on_failure(capsys, monkeypatch, command(out, 260), command(out, 264), out)
