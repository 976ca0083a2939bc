"""Checkpoints (safetensors + JSON) and import of Hugging Face GPT-2 folders."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from contamkit.common.errors import UserError
from model.checkpoint import import_hf_gpt2, load_checkpoint, save_checkpoint
from model.gpt2 import GPT, GPTConfig


def tiny_model() -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig.named("tiny", block_size=64, vocab_size=211))


def hf_model():
    transformers = pytest.importorskip("transformers")
    warnings.filterwarnings("ignore")
    config = transformers.GPT2Config(
        n_layer=3, n_head=4, n_embd=64, n_positions=48, vocab_size=199,
        bos_token_id=198, eos_token_id=198,
    )
    torch.manual_seed(1)
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():  # move LayerNorms and biases off their 1/0 init so mistakes show
        for name, p in model.named_parameters():
            if "ln" in name or name.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.1)
    return model


def hf_logits(model, idx: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(idx).logits


@pytest.mark.parametrize("weights", ["model.safetensors", "pytorch_model.bin"])
def test_import_hf_gpt2_gives_transformers_logits(tmp_path, weights):
    hf = hf_model()
    hf.save_pretrained(tmp_path)
    if weights == "pytorch_model.bin":  # the older hub layout: a torch.save'd state dict
        state = load_file(tmp_path / "model.safetensors")
        (tmp_path / "model.safetensors").unlink()
        torch.save(state, tmp_path / weights)
    model = import_hf_gpt2(tmp_path)
    idx = torch.randint(0, 199, (2, 48))
    with torch.no_grad():
        ours = model(idx)[0]
    torch.testing.assert_close(ours, hf_logits(hf, idx), atol=1e-5, rtol=1e-5)
    assert model.num_params() == sum(p.numel() for p in hf.parameters())


def test_import_openai_hub_layout_without_prefix_and_with_mask_buffers(tmp_path):
    """The hub's gpt2 files name tensors h.0... (no "transformer.") and carry attn.bias."""
    hf = hf_model()
    hf.save_pretrained(tmp_path)
    state = load_file(tmp_path / "model.safetensors")
    state = {k.removeprefix("transformer."): v for k, v in state.items() if k != "lm_head.weight"}
    state["h.0.attn.bias"] = torch.tril(torch.ones(1, 1, 48, 48))
    save_file(state, tmp_path / "model.safetensors")
    idx = torch.randint(0, 199, (1, 30))
    with torch.no_grad():
        torch.testing.assert_close(import_hf_gpt2(tmp_path)(idx)[0], hf_logits(hf, idx),
                                   atol=1e-5, rtol=1e-5)


def test_import_refuses_other_variants_and_missing_files(tmp_path):
    with pytest.raises(UserError, match="lacks config.json"):
        import_hf_gpt2(tmp_path)
    hf = hf_model()
    hf.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "activation_function": "relu"}))
    with pytest.raises(UserError, match=r"config.json: unsupported GPT-2 variant \(activation"):
        import_hf_gpt2(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(UserError, match="lacks model.safetensors or pytorch_model.bin"):
        import_hf_gpt2(tmp_path)
    torch.save({"wte.weight": torch.zeros(2), "code": Path}, tmp_path / "pytorch_model.bin")
    with pytest.raises(UserError, match="pytorch_model.bin: cannot load tensors"):
        import_hf_gpt2(tmp_path)  # weights_only=True: a pickle of arbitrary objects is refused


def test_save_load_round_trip(tmp_path):
    model = tiny_model()
    save_checkpoint(model, tmp_path / "ck", "gpt2", extra={"step": 7})
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == ["config.json",
                                                                    "model.safetensors"]
    loaded, meta = load_checkpoint(tmp_path / "ck")
    assert meta["tokenizer"] == "gpt2" and meta["extra"] == {"step": 7}
    assert meta["config"] == {"block_size": 64, "vocab_size": 211, "n_layer": 2, "n_head": 4,
                              "n_embd": 128, "dropout": 0.0, "bias": True}
    assert loaded.lm_head.weight is loaded.transformer.wte.weight
    assert not loaded.training
    for (n, a), (m, b) in zip(model.state_dict().items(), loaded.state_dict().items(),
                              strict=True):
        assert n == m and torch.equal(a, b)


def _rewrite_weights(directory, edit, keep_header: bool) -> None:
    """Change the tensors but keep config.json's checksum consistent, as a real bad file would."""
    path = directory / "model.safetensors"
    with safe_open(path, "pt") as f:
        header = f.metadata() if keep_header else None
    tensors = load_file(path)
    edit(tensors)
    save_file(tensors, path, metadata=header)
    meta = json.loads((directory / "config.json").read_text())
    meta["weights_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (directory / "config.json").write_text(json.dumps(meta))


def test_bad_tensors_are_named(tmp_path):
    save_checkpoint(tiny_model(), tmp_path, "gpt2")

    def edit(t):
        del t["transformer.h.1.mlp.c_fc.bias"]
        t["transformer.h.0.attn.extra"] = torch.zeros(3)
        t["transformer.wpe.weight"] = torch.zeros(32, 128)

    _rewrite_weights(tmp_path, edit, keep_header=True)
    with pytest.raises(UserError) as e:
        load_checkpoint(tmp_path)
    message = str(e.value)
    assert "missing transformer.h.1.mlp.c_fc.bias" in message
    assert "unexpected transformer.h.0.attn.extra" in message
    assert "mis-shaped transformer.wpe.weight [32, 128] != [64, 128]" in message
    assert "\n" not in message


def test_corrupt_or_incomplete_checkpoints_are_refused(tmp_path):
    with pytest.raises(UserError, match="lacks config.json, model.safetensors"):
        load_checkpoint(tmp_path)
    save_checkpoint(tiny_model(), tmp_path, "gpt2")
    weights = tmp_path / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(UserError, match="checksum differs"):
        load_checkpoint(tmp_path)
    meta = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(UserError, match="not a contamkit-gpt v1 checkpoint"):
        load_checkpoint(tmp_path)
    save_checkpoint(tiny_model(), tmp_path, "gpt2")
    _rewrite_weights(tmp_path, lambda t: None, keep_header=False)  # a foreign safetensors file
    with pytest.raises(UserError, match="header format/config differ from config.json"):
        load_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UserError, match="config.json: not valid JSON"):
        load_checkpoint(tmp_path)
