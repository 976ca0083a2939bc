"""n-gram units: normalized words, or GPT-2 BPE tokens of the normalized text.

Both become uint64 codes, one per unit, which ``overlap.murmur`` hashes in windows of n:

* ``words``: a word's code is ``mmh3.hash64(word, seed=0)``'s first half (unsigned). 64-bit codes
  make two different words share a code with probability ~2^-64 per pair.
* ``gpt2``: a token's code is its GPT-2 id. The normalized text is encoded as one string (words
  joined by single spaces), so, as in the paper, the filter holds n-grams of tokens.

Document and line boundaries: an n-gram never crosses a document boundary (a jsonl record, a
parquet row, a .txt file). Line breaks inside a document are whitespace like any other, so an
n-gram may span lines: normalization erases them, as in the paper, and benchmarks whose examples
are broken across lines (LAMBADA passages, WikiText paragraphs) still match.
"""

from __future__ import annotations

from pathlib import Path

import mmh3
import numpy as np

from common.errors import UserError

UNITS = ("words", "gpt2")
_CACHE_LIMIT = 2_000_000  # distinct words remembered before the cache is reset


class _CodeCache(dict):
    """word -> code; lookups of known words stay in C (``dict.__getitem__``)."""

    def __missing__(self, word: str) -> int:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        code = self[word] = mmh3.hash64(word, 0, signed=False)[0]
        return code


class WordCoder:
    unit = "words"
    tokenizer = ""

    def __init__(self) -> None:
        self._cache = _CodeCache()

    def codes(self, words: list[str], continues: bool = False) -> np.ndarray:
        return np.fromiter(map(self._cache.__getitem__, words), dtype=np.uint64, count=len(words))


class GPT2Coder:
    unit = "gpt2"

    def __init__(self, vocab_dir: str | Path | None = None) -> None:
        from model.tokenizer import load_gpt2

        self._tok = load_gpt2(vocab_dir)
        self.tokenizer = self._tok.name

    def codes(self, words: list[str], continues: bool = False) -> np.ndarray:
        text = " ".join(words)
        if continues and text:  # the piece follows a word of the same document: " word" tokens
            text = " " + text
        return np.array(self._tok.encode(text), dtype=np.uint64)


def make_coder(unit: str, gpt2_vocab: str | Path | None = None) -> WordCoder | GPT2Coder:
    if unit == "words":
        return WordCoder()
    if unit == "gpt2":
        return GPT2Coder(gpt2_vocab)
    raise UserError(f"unknown n-gram unit {unit!r} (known: {', '.join(UNITS)})")
