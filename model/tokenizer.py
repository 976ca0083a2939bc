"""One tokenizer interface for GPT-2's BPE (via tiktoken) and for BPEs trained here.

The ``overlap`` package's ``gpt2`` n-gram unit and the model both use this module, so a token
means the same thing in a filter and in a model.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

import tiktoken
from tiktoken.load import data_gym_to_mergeable_bpe_ranks

from common.errors import UserError
from common.paths import gpt2_vocab_dir

# GPT-2's pre-tokenization pattern (PAPER.md), as tiktoken writes it.
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
EOT = "<|endoftext|>"
GPT2_FILES = ("encoder.json", "vocab.bpe")


class Tokenizer(Protocol):
    name: str  # identity recorded in filters, manifests and checkpoints
    vocab_size: int
    eot_id: int

    def encode(self, text: str) -> list[int]: ...

    def encode_batch(self, texts: list[str]) -> list[list[int]]: ...

    def decode(self, ids: list[int]) -> str: ...


class TiktokenGPT2:
    """GPT-2's byte-level BPE, id-identical to OpenAI's encoder, at tiktoken's speed."""

    def __init__(self, enc: tiktoken.Encoding, name: str):
        self.enc = enc
        self.name = name
        self.vocab_size = enc.n_vocab
        self.eot_id = enc.eot_token

    def encode(self, text: str) -> list[int]:
        return self.enc.encode_ordinary(text)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return self.enc.encode_ordinary_batch(texts)

    def decode(self, ids: list[int]) -> str:
        return self.enc.decode(list(ids))


# The sha256 of OpenAI's files, the ones tiktoken checks: files with these hashes are "gpt2".
GPT2_SHA256 = {
    "encoder.json": "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    "vocab.bpe": "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
}


def _identity(paths: list[Path]) -> str:
    """"gpt2" for OpenAI's files; any other vocabulary is named by a digest of its files."""
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    if digests == GPT2_SHA256:
        return "gpt2"
    combined = hashlib.sha256("".join(digests[n] for n in GPT2_FILES).encode()).hexdigest()
    return f"bpe-files:{combined[:16]}"


def load_gpt2(vocab_dir: str | Path | None = None) -> TiktokenGPT2:
    """GPT-2 BPE from a local ``encoder.json`` + ``vocab.bpe``; tiktoken's cache as fallback.

    With ``vocab_dir`` given, its files must exist. Without it, the default directory
    (``$CONTAM_GPT2_VOCAB`` or the shared data) is used when present, else tiktoken's own
    ``gpt2`` encoding (its cache, or a download).
    """
    explicit = vocab_dir is not None
    directory = Path(vocab_dir) if explicit else gpt2_vocab_dir()
    paths = [directory / f for f in GPT2_FILES]
    missing = [p.name for p in paths if not p.is_file()]
    if missing and explicit:
        raise UserError(f"{directory}: GPT-2 vocabulary directory lacks {', '.join(missing)}")
    if missing:
        try:
            enc = tiktoken.get_encoding("gpt2")
        except Exception as e:  # network or cache failure: tell the user what to provide
            raise UserError(
                f"no GPT-2 vocabulary: pass --gpt2-vocab DIR holding {' and '.join(GPT2_FILES)} ({e})"
            ) from None
        return TiktokenGPT2(enc, "gpt2")
    ranks = data_gym_to_mergeable_bpe_ranks(str(paths[1]), str(paths[0]))
    enc = tiktoken.Encoding(
        name="gpt2-local",
        pat_str=GPT2_PATTERN,
        mergeable_ranks=ranks,
        special_tokens={EOT: len(ranks)},
    )
    return TiktokenGPT2(enc, _identity(paths))
