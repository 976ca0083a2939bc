"""n-gram units: normalized words, or GPT-2 BPE tokens of the normalized text.

Both become uint64 codes, one per unit, which ``overlap.murmur`` hashes in windows of n:

* ``words``: a word's code is ``mmh3.hash64(word, seed=0)``'s first half (unsigned), computed for
  whole batches at once by ``overlap.murmur``. 64-bit codes make two different words share a
  code with probability ~2^-64 per pair.
* ``gpt2``: a token's code is its GPT-2 id. The normalized text is encoded as one string (words
  joined by single spaces), so, as in the paper, the filter holds n-grams of tokens.

Document and line boundaries: an n-gram never crosses a document boundary (a jsonl record, a
parquet row, a .txt file). Line breaks inside a document are whitespace like any other, so an
n-gram may span lines: normalization erases them, as in the paper, and benchmarks whose examples
are broken across lines (LAMBADA passages, WikiText paragraphs) still match.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from contamkit.common.errors import UserError
from overlap.fast_fold import FoldedTexts, fold_texts, normalized_strings
from overlap.murmur import word_codes

UNITS = ("words", "gpt2")


class Coder(ABC):
    """Texts to unit codes in two steps, so that a pipeline can overlap them: ``prepare``
    normalizes (partly in Python, holding the GIL) and ``encode`` codes (compiled code or
    tiktoken, both release the GIL). What ``prepare`` returns only ``encode`` reads."""

    unit: str
    tokenizer: str  # identity of the tokenizer ("" for words), recorded in filters

    @abstractmethod
    def prepare(self, texts: list[str]) -> Any:
        """The texts normalized, in the form ``encode`` takes."""

    @abstractmethod
    def encode(self, prepared: Any, continues: list[bool]) -> tuple[list[np.ndarray], int]:
        """Codes of each prepared text, and the number of words."""

    def codes(self, words: list[str], continues: bool = False) -> np.ndarray:
        """Codes of already normalized words (a continuation of a text when ``continues``)."""
        return self.codes_batch([" ".join(words)], [continues])[0][0]

    def codes_batch(self, texts: list[str],
                    continues: list[bool]) -> tuple[list[np.ndarray], int]:
        """Codes of each text's words, and the number of words."""
        return self.encode(self.prepare(texts), continues)


class WordCoder(Coder):
    """Codes of normalized words: compiled folding and mmh3 over a whole batch of texts."""

    unit = "words"
    tokenizer = ""

    def prepare(self, texts: list[str]) -> FoldedTexts:
        return fold_texts(texts)

    def encode(self, prepared: FoldedTexts,
               continues: list[bool]) -> tuple[list[np.ndarray], int]:
        if not len(prepared.ends):
            return [], 0
        codes, starts = word_codes(prepared.buf)
        per_text = np.split(codes, np.searchsorted(starts, prepared.ends[:-1]))
        for j, text in prepared.left.items():
            per_text[j] = word_codes(np.frombuffer(text.encode("utf-8"), dtype=np.uint8))[0]
        return per_text, sum(map(len, per_text))


class GPT2Coder(Coder):
    """GPT-2 ids of the normalized text (words joined by single spaces)."""

    unit = "gpt2"

    def __init__(self, vocab_dir: str | Path | None = None) -> None:
        from model.tokenizer import load_gpt2

        self._tok = load_gpt2(vocab_dir)
        self.tokenizer = self._tok.name
        self.encoding = self._tok.enc  # the tiktoken Encoding, for mapping tokens to bytes
        (self._newline,) = self._tok.encode("\n")

    def prepare(self, texts: list[str]) -> list[str]:
        return normalized_strings(fold_texts(texts))

    def encode(self, prepared: list[str],
               continues: list[bool]) -> tuple[list[np.ndarray], int]:
        """One tiktoken call for the whole batch, texts joined by newlines: GPT-2's
        pre-tokenizer makes a newline before a word its own token and starts the word afresh,
        exactly as at the start of a text (empty texts are left out: two newlines before a
        space would merge), and normalized text holds no newline, so the ids split back into
        texts at the newline's id (tested against encoding each text). One
        call releases the GIL once, where a call per text fought the normalizing thread for
        it at every text."""
        full = [i for i, t in enumerate(prepared) if t]  # "\n\n" before " word" would merge
        out = [np.empty(0, dtype=np.uint64)] * len(prepared)
        if not full:
            return out, 0
        texts = [" " + prepared[i] if continues[i] else prepared[i] for i in full]
        ids = self.encoding.encode_to_numpy("\n".join(texts), disallowed_special=())
        ids = ids.astype(np.uint64)
        bounds = np.concatenate([[-1], np.flatnonzero(ids == self._newline), [len(ids)]])
        for i, a, b in zip(full, bounds[:-1], bounds[1:], strict=True):
            out[i] = ids[a + 1 : b]
        return out, sum(t.count(" ") + 1 for t in prepared if t)


def make_coder(unit: str, gpt2_vocab: str | Path | None = None) -> Coder:
    if unit == "words":
        return WordCoder()
    if unit == "gpt2":
        return _gpt2_coder(None if gpt2_vocab is None else str(gpt2_vocab))
    if unit.startswith("hf:") and len(unit) > 3:
        from overlap.hf_coder import hf_coder

        return hf_coder(unit[3:])
    raise UserError(f"unknown n-gram unit {unit!r} (known: {', '.join(UNITS)}, hf:DIR)")


def parse_unit(name: str) -> str:
    """``--unit``'s type: a known unit name."""
    if name in UNITS or (name.startswith("hf:") and len(name) > 3):
        return name
    raise UserError(f"unknown n-gram unit {name!r} (known: {', '.join(UNITS)}, hf:DIR)")


def same_unit(a: str, b: str) -> bool:
    """Whether two unit names are one unit: ``hf:`` units are told apart by their tokenizer's
    identity, not by where its file lies."""
    return a == b or (a.startswith("hf:") and b.startswith("hf:"))


@functools.lru_cache(maxsize=4)
def _gpt2_coder(vocab_dir: str | None) -> GPT2Coder:
    """Loading the BPE takes ~0.2 s; coders are stateless, so one per vocabulary is kept."""
    return GPT2Coder(vocab_dir)
