"""Shared fixtures: the public data in ../shared/data (skip locally when absent, fail in CI)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from contamkit.common.paths import gpt2_vocab_dir, shared_data_dir

os.environ.setdefault("CONTAM_PROGRESS", "0")


def _require(path: Path) -> Path:
    if path.exists():
        return path
    reason = f"shared data not found at {path} (set CONTAM_DATA_DIR)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " -- required in CI")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return _require(shared_data_dir())


@pytest.fixture(scope="session")
def gpt2_vocab() -> Path:
    return _require(gpt2_vocab_dir())


# ----------------------------------------------------- tiny Hugging Face models (no download)

@pytest.fixture(scope="session")
def hf_tokenizer_dir(tmp_path_factory) -> Path:
    """A 400-id byte-level BPE trained here on a few stdlib docstrings, saved as a Hugging Face
    tokenizer that puts <s> before a text (as Llama's does); </s> ends one."""
    import json as json_module
    import re as re_module
    import textwrap

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([m.__doc__ for m in (json_module, os, re_module, textwrap)], trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A",
                                                       special_tokens=[("<s>", 0)])
    directory = tmp_path_factory.mktemp("hf_tokenizer")
    PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>",
                            eos_token="</s>").save_pretrained(directory)
    return directory


def _save_tiny_hf(arch: str, directory: Path, tokenizer_dir: Path, context: int = 128,
                  seed: int = 0) -> Path:
    """A randomly initialized ``arch`` causal LM (2 layers, width 32) with the tokenizer of
    ``tokenizer_dir``, saved in Hugging Face format."""
    import shutil

    import torch
    import transformers as tf

    vocab = len(tf.AutoTokenizer.from_pretrained(tokenizer_dir))
    common = {"vocab_size": vocab, "bos_token_id": 0, "eos_token_id": 1}
    torch.manual_seed(seed)
    if arch == "llama":
        model = tf.LlamaForCausalLM(tf.LlamaConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=context, **common))
    elif arch == "gpt_neox":
        model = tf.GPTNeoXForCausalLM(tf.GPTNeoXConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            max_position_embeddings=context, **common))
    else:
        raise ValueError(arch)
    model.save_pretrained(directory)
    for f in tokenizer_dir.iterdir():
        shutil.copy(f, directory / f.name)
    return directory


@pytest.fixture(scope="session")
def tiny_hf(hf_tokenizer_dir):
    """Factory: ``tiny_hf("llama" | "gpt_neox", directory, context=128, seed=0)`` saves a tiny
    random model with the test tokenizer and returns its directory."""
    return lambda arch, directory, **kw: _save_tiny_hf(arch, Path(directory), hf_tokenizer_dir,
                                                       **kw)
