"""Tiny models for the analysis tests: random GPT-2-vocabulary models that run in milliseconds."""

from __future__ import annotations

import pytest
import torch

from model.gpt2 import GPT, GPTConfig
from model.tokenizer import load_gpt2

BLOCK = 64
GPT2_VOCAB = 50257


def tiny_gpt(seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig.named("tiny", vocab_size=GPT2_VOCAB, block_size=BLOCK)).eval()


def forced_gpt(token: int) -> GPT:
    """A model whose greedy choice is always ``token``: the final LayerNorm outputs a constant
    (weight 0, bias = that token's enlarged embedding), so the logits are wte @ it."""
    model = tiny_gpt()
    with torch.no_grad():
        wte = model.transformer.wte.weight
        wte[token] *= 50
        model.transformer.ln_f.weight.zero_()
        model.transformer.ln_f.bias.copy_(wte[token])
    return model


@pytest.fixture(scope="session")
def gpt2_tok(gpt2_vocab):
    return load_gpt2(gpt2_vocab)


@pytest.fixture(scope="session")
def tiny_model() -> GPT:
    return tiny_gpt()


@pytest.fixture(scope="session")
def forced_model():
    """Factory: ``forced_model(token)`` always greedily predicts ``token``."""
    return forced_gpt
