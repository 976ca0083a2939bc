"""The model package's CLI commands: import-gpt2 and train-tokenizer."""

from __future__ import annotations

import json
import warnings

import pytest
import torch

from contamkit.cli import main
from model.checkpoint import load_checkpoint
from model.tokenizer import load_tokenizer


def test_import_gpt2_command(tmp_path, capsys):
    transformers = pytest.importorskip("transformers")
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    hf = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        n_layer=2, n_head=2, n_embd=32, n_positions=40, vocab_size=120,
        bos_token_id=119, eos_token_id=119)).eval()
    hf.save_pretrained(tmp_path / "hf")
    assert main(["import-gpt2", str(tmp_path / "hf"), "-o", str(tmp_path / "ck")]) == 2
    assert "vocab_size 120 is not GPT-2's 50257" in capsys.readouterr().err
    args = ["import-gpt2", str(tmp_path / "hf"), "-o", str(tmp_path / "ck"), "--tokenizer", "t"]
    assert main(args) == 0
    model, meta = load_checkpoint(tmp_path / "ck")
    assert meta["tokenizer"] == "t" and meta["num_params"] == model.num_params()
    idx = torch.randint(0, 120, (1, 40))
    with torch.no_grad():
        torch.testing.assert_close(model(idx)[0], hf(idx).logits, atol=1e-5, rtol=1e-5)


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
