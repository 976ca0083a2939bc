"""Hugging Face causal LMs behind the scoring interface, against the models' own forward pass."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from contamkit.common.errors import UserError
from model.generate import generate
from model.hf import is_hf_model_dir, load_hf_model, load_hf_tokenizer
from model.scoring import continuation_scores, token_logprobs

ARCHS = ("llama", "gpt_neox")


def direct_logprobs(model, fed: list[int]) -> torch.Tensor:
    """log-softmax of the transformers model's own logits for one unpadded input."""
    with torch.no_grad():
        return model.hf(input_ids=torch.tensor([fed])).logits[0].double().log_softmax(-1)


def test_tokenizer_keeps_the_models_conventions(hf_tokenizer_dir):
    tok = load_hf_tokenizer(hf_tokenizer_dir)
    assert (tok.prefix_id, tok.eot_id, tok.context_prefix, tok.vocab_size) == (0, 1, [0], 400)
    ids = tok.encode("import json")
    assert 0 not in ids and tok.decode(ids) == "import json"
    assert tok.encode_batch(["import json", "x"]) == [ids, tok.encode("x")]
    assert tok.name.startswith("hf:") and tok.name == load_hf_tokenizer(hf_tokenizer_dir).name


@pytest.mark.parametrize("arch", ARCHS)
def test_scores_match_the_models_own_forward(tmp_path, tiny_hf, arch):
    directory = tiny_hf(arch, tmp_path / arch, context=16)
    assert is_hf_model_dir(directory)
    model, tok = load_hf_model(directory)
    assert (model.config.block_size, model.config.vocab_size) == (16, 400)
    rng = np.random.default_rng(0)
    seqs = [rng.integers(2, 400, n).tolist() for n in (2, 9, 16, 17)]
    for seq, lp in zip(seqs, token_logprobs(model, seqs, batch_size=3), strict=True):
        ref = direct_logprobs(model, seq[:16])
        expected = ref[torch.arange(min(len(seq), 16) - 1), torch.tensor(seq[1:16])]
        np.testing.assert_allclose(lp[:15], expected.numpy(), atol=1e-5)
    # longer than the context: lm-eval's (context + continuation)[-(block + 1):][:-1]
    ctx, cont = rng.integers(2, 400, 30).tolist(), [5, 6, 7]
    (lp, greedy), = continuation_scores(model, [ctx], [cont])
    fed = (ctx + cont)[-17:][:-1]
    ref = direct_logprobs(model, fed)
    np.testing.assert_allclose(lp, ref[[-3, -2, -1], cont].numpy(), atol=1e-5)
    assert greedy == bool((ref[-3:].argmax(-1) == torch.tensor(cont)).all())


def test_generation_with_the_models_cache_equals_rerunning_it(tmp_path, tiny_hf):
    model, _ = load_hf_model(tiny_hf("llama", tmp_path / "llama", context=32, seed=1))
    prompt = [0, 17, 42, 99, 3]
    cached = generate(model, prompt, 12)
    assert cached == generate(model, prompt, 12, use_cache=False) and len(cached) == 12
    tokens = list(prompt)
    for _ in range(12):  # greedy from the full forward, by hand
        tokens.append(int(direct_logprobs(model, tokens)[-1].argmax()))
    assert cached == tokens[len(prompt):]


def test_dtype_is_applied(tmp_path, tiny_hf):
    model, _ = load_hf_model(tiny_hf("llama", tmp_path / "m"), dtype="bfloat16")
    assert next(model.parameters()).dtype == torch.bfloat16
    [lp] = token_logprobs(model, [[0, 5, 6, 7]])
    assert lp.dtype == np.float32 and np.isfinite(lp).all()


def test_bad_directories_are_refused_in_one_line(tmp_path, tiny_hf):
    good = tiny_hf("llama", tmp_path / "good")
    no_tok = tmp_path / "no_tok"
    no_tok.mkdir()
    for name in ("config.json", "model.safetensors"):
        (no_tok / name).write_bytes((good / name).read_bytes())
    with pytest.raises(UserError, match=f"^{no_tok}: no tokenizer files"):
        load_hf_model(no_tok)
    for model_type, why in (("t5", "unsupported architecture 't5'"),
                            ("no_such_arch", "unsupported architecture")):
        bad = tmp_path / model_type
        bad.mkdir()
        for f in good.iterdir():
            (bad / f.name).write_bytes(f.read_bytes())
        (bad / "config.json").write_text(json.dumps({"model_type": model_type}))
        save_file({"x": torch.zeros(1)}, bad / "model.safetensors")
        with pytest.raises(UserError, match=f"^{bad / 'config.json'}: {why}") as e:
            load_hf_model(bad)
        assert "\n" not in str(e.value)
    no_weights = tmp_path / "no_weights"
    no_weights.mkdir()
    for f in good.iterdir():
        if f.name != "model.safetensors":
            (no_weights / f.name).write_bytes(f.read_bytes())
    with pytest.raises(UserError, match="no weights"):
        load_hf_model(no_weights)
    cut = tmp_path / "cut"
    cut.mkdir()
    for f in good.iterdir():
        data = f.read_bytes()
        (cut / f.name).write_bytes(data[:len(data) // 2] if f.suffix == ".safetensors" else data)
    with pytest.raises(UserError, match=f"^{cut}: cannot load its weights"):
        load_hf_model(cut)
    with pytest.raises(UserError, match="--dtype 'int8'"):
        load_hf_model(good, dtype="int8")
