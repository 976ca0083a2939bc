"""Shared inputs for the trainer tests: a slice of real WebText, prepared once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.config import TrainConfig, from_dict
from training.prepare import prepare_corpus
from training.tokenfile import HEADER_BYTES

SLICE_DOCS = 500  # complete WebText documents (the file's last line is cut off)


@pytest.fixture(scope="session")
def webtext_slice(shared_data, tmp_path_factory) -> Path:
    """The first SLICE_DOCS WebText records as a corpus directory (a temporary copy)."""
    lines = (shared_data / "webtext" / "webtext.train.jsonl").read_text().splitlines(True)
    path = tmp_path_factory.mktemp("corpus") / "webtext.jsonl"
    path.write_text("".join(lines[:SLICE_DOCS]))
    return path.parent


@pytest.fixture(scope="session")
def bpe_data(webtext_slice, tmp_path_factory) -> Path:
    """The slice prepared with a 2048-token BPE trained on its train split (configs/tiny.toml)."""
    out = tmp_path_factory.mktemp("data") / "bpe2048"
    prepare_corpus(webtext_slice, out, "bpe:2048", val_fraction=0.1, seed=0, workers=2)
    return out


def raw_tokens(path: Path) -> np.ndarray:
    """A token file's ids read with plain numpy (independent of the memory-mapping reader)."""
    itemsize = int.from_bytes(path.read_bytes()[12:16], "little")
    return np.fromfile(path, dtype=f"<u{itemsize}", offset=HEADER_BYTES)


def small_config(data_dir: Path, out_dir: Path, **overrides) -> TrainConfig:
    """A model small enough that a few steps take well under a second."""
    values = dict(data_dir=str(data_dir), out_dir=str(out_dir), tokenizer="bpe:2048",
                  model="tiny", n_layer=1, n_head=2, n_embd=32, block_size=32, batch_size=8,
                  micro_batch_size=4, max_steps=12, lr=1e-2, min_lr=1e-3, warmup_steps=3,
                  eval_interval=4, eval_iters=4, log_interval=1, checkpoint_interval=4,
                  device="cpu", threads=1)
    return from_dict({**values, **overrides}, "test config")
