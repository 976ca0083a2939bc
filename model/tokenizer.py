"""One tokenizer interface for GPT-2's BPE (via tiktoken) and for BPEs trained here.

The ``overlap`` package's ``gpt2`` n-gram unit and the model both use this module, so a token
means the same thing in a filter and in a model.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

import tiktoken
import tokenizers
from tiktoken.load import data_gym_to_mergeable_bpe_ranks

from contamkit.common.atomic import write_json, write_text
from contamkit.common.errors import UserError
from contamkit.common.files import file_sha256, read_versioned_json
from contamkit.common.paths import gpt2_vocab_dir

# GPT-2's pre-tokenization pattern (PAPER.md), as tiktoken writes it.
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
EOT = "<|endoftext|>"
GPT2_FILES = ("encoder.json", "vocab.bpe")
GPT2_VOCAB = 50257  # token ids of GPT-2's BPE, EOT included


class Tokenizer(Protocol):
    name: str  # identity recorded in filters, manifests and checkpoints
    vocab_size: int
    eot_id: int  # ends a document (and a generation)
    prefix_id: int  # a document scored from its first token is predicted from this one
    context_prefix: list[int]  # ids put before every scored context (a model's BOS; or none)

    def encode(self, text: str) -> list[int]: ...

    def encode_batch(self, texts: list[str]) -> list[list[int]]: ...

    def decode(self, ids: list[int]) -> str: ...


class TiktokenGPT2:
    """GPT-2's byte-level BPE, id-identical to OpenAI's encoder, at tiktoken's speed."""

    def __init__(self, enc: tiktoken.Encoding, name: str):
        self.enc = enc
        self.name = name
        self.vocab_size = enc.n_vocab
        self.eot_id = self.prefix_id = enc.eot_token
        self.context_prefix: list[int] = []

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
    digests = {p.name: file_sha256(p) for p in paths}
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
            files = " and ".join(GPT2_FILES)
            message = f"no GPT-2 vocabulary: pass --gpt2-vocab DIR holding {files} ({e})"
            raise UserError(message) from None
        return TiktokenGPT2(enc, "gpt2")
    ranks = data_gym_to_mergeable_bpe_ranks(str(paths[1]), str(paths[0]))
    enc = tiktoken.Encoding(
        name="gpt2-local",
        pat_str=GPT2_PATTERN,
        mergeable_ranks=ranks,
        special_tokens={EOT: len(ranks)},
    )
    return TiktokenGPT2(enc, _identity(paths))


# A trained tokenizer directory: Hugging Face's tokenizer.json and our manifest that names it.
TRAINED_FILES = ("tokenizer.json", "tokenizer_meta.json")
TRAINED_FORMAT = "contamkit-bpe"
TRAINED_VERSION = 1


class TrainedBPE:
    """A byte-level BPE trained here (``tokenizers``), with GPT-2's pre-tokenization.

    Like :class:`TiktokenGPT2`, ``encode`` treats "<|endoftext|>" inside text as ordinary text;
    only ``eot_id`` placed by the caller means end of document.
    """

    def __init__(self, tok: tokenizers.Tokenizer):
        tok.encode_special_tokens = True  # runtime flag, not part of tokenizer.json
        self.tok = tok
        self.json = tok.to_str()
        self.vocab_size = tok.get_vocab_size(with_added_tokens=True)
        self.eot_id = self.prefix_id = tok.token_to_id(EOT)
        self.context_prefix: list[int] = []
        self.sha256 = hashlib.sha256(self.json.encode()).hexdigest()
        self.name = f"bpe{self.vocab_size}:{self.sha256[:16]}"

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.tok.encode_batch_fast(texts, add_special_tokens=False)]

    def decode(self, ids: list[int]) -> str:
        return self.tok.decode(list(ids), skip_special_tokens=False)

    def save(self, directory: str | Path) -> None:
        """tokenizer.json, then the manifest with its checksum (a half-written pair won't load)."""
        directory = Path(directory)
        write_text(directory / TRAINED_FILES[0], self.json)
        write_json(directory / TRAINED_FILES[1], {
            "format": TRAINED_FORMAT, "version": TRAINED_VERSION, "name": self.name,
            "vocab_size": self.vocab_size, "eot_id": self.eot_id,
            "sha256": self.sha256,
        })


def load_trained(directory: str | Path) -> TrainedBPE:
    """A tokenizer saved by :meth:`TrainedBPE.save`; refuses a foreign or altered directory."""
    directory = Path(directory)
    missing = [f for f in TRAINED_FILES if not (directory / f).is_file()]
    if missing:
        raise UserError(f"{directory}: tokenizer directory lacks {', '.join(missing)}")
    meta_path = directory / TRAINED_FILES[1]
    meta = read_versioned_json(meta_path, TRAINED_FORMAT, TRAINED_VERSION,
                               f"{directory}: tokenizer directory lacks {meta_path.name}")
    text = (directory / TRAINED_FILES[0]).read_text(encoding="utf-8")
    if hashlib.sha256(text.encode()).hexdigest() != meta.get("sha256"):
        raise UserError(f"{directory / TRAINED_FILES[0]}: checksum differs from {meta_path.name}")
    bpe = TrainedBPE(tokenizers.Tokenizer.from_str(text))
    if bpe.eot_id is None:
        raise UserError(f"{directory / TRAINED_FILES[0]}: vocabulary has no {EOT}")
    return bpe


def load_tokenizer(spec: str | Path) -> Tokenizer:
    """"gpt2" (the default GPT-2 files), a directory of GPT-2-format files, or a trained BPE."""
    if str(spec) == "gpt2":
        return load_gpt2()
    directory = Path(spec)
    if not directory.is_dir():
        raise UserError(f"{spec}: tokenizer is neither 'gpt2' nor a directory")
    if any((directory / f).exists() for f in GPT2_FILES):
        return load_gpt2(directory)
    if any((directory / f).exists() for f in TRAINED_FILES):
        return load_trained(directory)
    raise UserError(
        f"{directory}: no tokenizer files (want {' + '.join(TRAINED_FILES)} "
        f"or {' + '.join(GPT2_FILES)})"
    )
