"""Where the shared public data lives (never copied into the project)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path:
    """``$CONTAM_DATA_DIR`` if set, else ``../shared/data`` beside the repository."""
    env = os.environ.get("CONTAM_DATA_DIR")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def gpt2_vocab_dir() -> Path:
    """Default directory holding GPT-2's ``encoder.json`` and ``vocab.bpe``."""
    env = os.environ.get("CONTAM_GPT2_VOCAB")
    return Path(env) if env else shared_data_dir() / "gpt2_tokenizer"
