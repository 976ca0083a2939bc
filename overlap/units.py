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
from pathlib import Path

import numpy as np

from common.errors import UserError
from overlap.murmur import word_codes
from overlap.normalize import spaced_words, words

UNITS = ("words", "gpt2")


class WordCoder:
    """Codes of normalized words: vectorized mmh3 over a whole batch of documents."""

    unit = "words"
    tokenizer = ""

    def codes(self, words: list[str], continues: bool = False) -> np.ndarray:
        """Codes of already normalized words."""
        return word_codes(np.frombuffer(" ".join(words).encode("utf-8"), dtype=np.uint8))[0]

    def codes_batch(self, texts: list[str],
                    continues: list[bool]) -> tuple[list[np.ndarray], int]:
        """Codes of each text's words, and the number of words."""
        prepared = [spaced_words(t) for t in texts]
        buf = np.frombuffer(" ".join(prepared).encode("utf-8"), dtype=np.uint8)
        codes, starts = word_codes(buf)
        sizes = [len(p.encode("utf-8")) + 1 for p in prepared]
        ends = np.cumsum(sizes) - 1  # byte offset where each document's text ends
        cuts = np.searchsorted(starts, ends)
        return np.split(codes, cuts[:-1]), len(codes)


class GPT2Coder:
    """GPT-2 ids of the normalized text (words joined by single spaces)."""

    unit = "gpt2"

    def __init__(self, vocab_dir: str | Path | None = None) -> None:
        from model.tokenizer import load_gpt2

        self._tok = load_gpt2(vocab_dir)
        self.tokenizer = self._tok.name
        self.encoding = self._tok.enc  # the tiktoken Encoding, for mapping tokens to bytes

    def codes(self, words: list[str], continues: bool = False) -> np.ndarray:
        """Token ids of already normalized words (a continuation starts with " word")."""
        text = " ".join(words)
        if continues and text:
            text = " " + text
        return np.array(self._tok.encode(text), dtype=np.uint64)

    def codes_batch(self, texts: list[str],
                    continues: list[bool]) -> tuple[list[np.ndarray], int]:
        """Token ids of each text, and the number of normalized words."""
        normalized = [words(t) for t in texts]
        out = [self.codes(ws, c) for ws, c in zip(normalized, continues, strict=True)]
        return out, sum(map(len, normalized))


def make_coder(unit: str, gpt2_vocab: str | Path | None = None) -> WordCoder | GPT2Coder:
    if unit == "words":
        return WordCoder()
    if unit == "gpt2":
        return _gpt2_coder(None if gpt2_vocab is None else str(gpt2_vocab))
    raise UserError(f"unknown n-gram unit {unit!r} (known: {', '.join(UNITS)})")


@functools.lru_cache(maxsize=4)
def _gpt2_coder(vocab_dir: str | None) -> GPT2Coder:
    """Loading the BPE takes ~0.2 s; coders are stateless, so one per vocabulary is kept."""
    return GPT2Coder(vocab_dir)
