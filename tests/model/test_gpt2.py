"""GPT-2 architecture: published sizes, a from-scratch reference forward, init, loss, cache."""

from __future__ import annotations

import math

import pytest
import torch

from contamkit.common.errors import UserError
from model.gpt2 import GPT, GPTConfig

# Hugging Face's published parameter counts (tied embeddings counted once).
PUBLISHED = {"124M": 124_439_808, "355M": 354_823_168, "774M": 774_030_080, "1558M": 1_557_611_200}


def tiny(**overrides) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig.named("tiny", block_size=32, vocab_size=97, **overrides))


def formula_params(c: GPTConfig) -> int:
    """Embeddings + per block (qkv, proj, 2 MLP matrices, their biases, 2 LayerNorms) + ln_f."""
    d = c.n_embd
    block = (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d) + 4 * d
    return c.vocab_size * d + c.block_size * d + c.n_layer * block + 2 * d


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_named_sizes_have_published_parameter_counts(name):
    config = GPTConfig.named(name)
    with torch.device("meta"):  # shapes only: no memory for 1.5B parameters
        model = GPT(config)
    assert model.num_params() == PUBLISHED[name]
    assert formula_params(config) == PUBLISHED[name]


@pytest.mark.parametrize("name", ["tiny", "mini", "small"])
def test_cpu_sizes_count_by_formula(name):
    config = GPTConfig.named(name)
    with torch.device("meta"):
        assert GPT(config).num_params() == formula_params(config)


def test_named_config_overrides_and_errors():
    c = GPTConfig.named("tiny", vocab_size=300, dropout=0.1)
    assert (c.n_layer, c.n_head, c.n_embd, c.block_size, c.vocab_size, c.dropout) == (
        2, 4, 128, 256, 300, 0.1)
    with pytest.raises(UserError, match="known: 124M, 355M, 774M, 1558M, tiny, mini, small"):
        GPTConfig.named("125M")
    with pytest.raises(UserError, match="n_lyer"):
        GPTConfig.named("tiny", n_lyer=3)


def reference_logits(model: GPT, idx: torch.Tensor) -> torch.Tensor:
    """GPT-2 written out by hand from the paper/OpenAI's model.py, reading model's weights."""
    sd = {k: v.detach() for k, v in model.state_dict().items()}
    c = model.config
    hd = c.n_embd // c.n_head

    def ln(x, p):
        mu = x.mean(-1, keepdim=True)
        var = ((x - mu) ** 2).mean(-1, keepdim=True)
        return (x - mu) / torch.sqrt(var + 1e-5) * sd[p + ".weight"] + sd[p + ".bias"]

    def gelu(x):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))

    def lin(x, p):
        return x @ sd[p + ".weight"].T + sd[p + ".bias"]

    B, T = idx.shape
    x = sd["transformer.wte.weight"][idx] + sd["transformer.wpe.weight"][:T]
    future = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    for i in range(c.n_layer):
        p = f"transformer.h.{i}."
        q, k, v = lin(ln(x, p + "ln_1"), p + "attn.c_attn").split(c.n_embd, -1)
        q, k, v = (t.reshape(B, T, c.n_head, hd).transpose(1, 2) for t in (q, k, v))
        w = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        a = w.masked_fill(future, float("-inf")).softmax(-1) @ v
        x = x + lin(a.transpose(1, 2).reshape(B, T, c.n_embd), p + "attn.c_proj")
        x = x + lin(gelu(lin(ln(x, p + "ln_2"), p + "mlp.c_fc")), p + "mlp.c_proj")
    return ln(x, "transformer.ln_f") @ sd["transformer.wte.weight"].T


def test_forward_equals_handwritten_reference():
    model = tiny().eval()
    with torch.no_grad():  # perturb LayerNorm/bias params so a swapped or missing one shows
        for name, p in model.named_parameters():
            if "ln" in name or name.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.1)
            if "c_fc.weight" in name:  # GELU inputs of order 1, where tanh and erf GELU differ
                p.mul_(10)
    idx = torch.randint(0, 97, (3, 19))
    logits, loss = model(idx)
    assert loss is None and logits.shape == (3, 19, 97)
    torch.testing.assert_close(logits, reference_logits(model, idx), atol=1e-5, rtol=1e-5)


def test_tied_embeddings_and_residual_init():
    torch.manual_seed(0)
    model = GPT(GPTConfig.named("mini", vocab_size=1000))
    assert model.lm_head.weight is model.transformer.wte.weight
    L = model.config.n_layer
    params = dict(model.named_parameters())
    proj = torch.cat([p.flatten() for n, p in params.items() if n.endswith("c_proj.weight")])
    other = torch.cat([p.flatten() for n, p in params.items() if n.endswith("c_fc.weight")])
    assert proj.std().item() == pytest.approx(0.02 / math.sqrt(2 * L), rel=0.02)
    assert other.std().item() == pytest.approx(0.02, rel=0.02)
    assert all((p == 0).all() for n, p in model.named_parameters() if n.endswith(".bias")
               and ".ln_" not in n)


def test_loss_is_mean_cross_entropy_ignoring_minus_one():
    model = tiny()
    idx = torch.randint(0, 97, (2, 10))
    targets = torch.randint(0, 97, (2, 10))
    targets[0, :4] = -1
    logits, loss = model(idx, targets)
    logp = logits.log_softmax(-1)
    picked = [-logp[b, t, targets[b, t]] for b in range(2) for t in range(10) if targets[b, t] >= 0]
    assert loss.item() == pytest.approx(torch.stack(picked).mean().item(), rel=1e-6)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_causal_future_tokens_do_not_change_past_logits():
    model = tiny().eval()
    a = torch.randint(0, 97, (1, 20))
    b = a.clone()
    b[0, 12:] = (b[0, 12:] + 1) % 97
    with torch.no_grad():
        la, lb = model(a)[0], model(b)[0]
    torch.testing.assert_close(la[0, :12], lb[0, :12])
    assert not torch.allclose(la[0, 12:], lb[0, 12:])


def test_dropout_only_in_training():
    model = tiny(dropout=0.2)
    idx = torch.randint(0, 97, (2, 16))
    model.train()
    assert not torch.equal(model(idx)[0], model(idx)[0])
    model.eval()
    assert torch.equal(model(idx)[0], model(idx)[0])


def test_kv_cache_logits_equal_full_forward():
    model = tiny().eval()
    idx = torch.randint(0, 97, (2, 30))
    cache = model.new_cache(batch=2)
    with torch.no_grad():
        full = model(idx)[0]
        cuts = ((0, 9), (9, 10), (10, 21), (21, 30))  # prefill, one step, a chunk, the rest
        parts = [model(idx[:, a:b], cache=cache)[0] for a, b in cuts]
    torch.testing.assert_close(torch.cat(parts, 1), full, atol=1e-5, rtol=1e-5)
    assert cache.length == 30


def test_too_long_input_is_refused():
    model = tiny()
    with pytest.raises(ValueError, match="exceeds block_size 32"):
        model(torch.zeros(1, 33, dtype=torch.long))
    with pytest.raises(UserError, match="multiple"):
        GPTConfig(n_embd=130, n_head=4)
