"""The coders of the n-gram units (``overlap.units`` is the registry naming them).

Both become uint64 codes, one per unit, which ``overlap.murmur`` hashes in windows of n:

* ``words``: a word's code is ``mmh3.hash64(word, seed=0)``'s first half (unsigned), computed for
  whole batches at once by ``overlap.murmur``. 64-bit codes make two different words share a
  code with probability ~2^-64 per pair.
* ``gpt2``: a token's code is its GPT-2 id, those of the normalized text (words joined by single
  spaces), so, as in the paper, the filter holds n-grams of tokens. The ids are built from each
  word's ids, which ``overlap.bpe_cache`` keeps (BPE never merges across a space).

Document and line boundaries: an n-gram never crosses a document boundary (a jsonl record, a
parquet row, a .txt file). Line breaks inside a document are whitespace like any other, so an
n-gram may span lines: normalization erases them, as in the paper, and benchmarks whose examples
are broken across lines (LAMBADA passages, WikiText paragraphs) still match.
"""

from __future__ import annotations

import functools
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from overlap.bpe_cache import WordIdCache
from overlap.fast_fold import FoldedTexts, fold_texts, left_apart
from overlap.murmur import word_codes


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

    def codes(self, texts: list[str]) -> list[np.ndarray]:
        """Unit codes of each text, exactly as ``build-filter`` codes a document."""
        return self.codes_batch(list(texts), [False] * len(texts))[0]

    def codes_batch(self, texts: list[str],
                    continues: list[bool]) -> tuple[list[np.ndarray], int]:
        """Codes of each text's words (each a continuation of the text before it where
        ``continues``), and the number of words."""
        return self.encode(self.prepare(texts), continues)

    def unit_words(self, codes: np.ndarray, words: list[str]) -> np.ndarray:
        """Index into ``words`` (the normalized words of a text) of the word each of the
        text's units (``codes``) lies in: how reports map an n-gram back to characters.
        A unit here is a word; token units override this."""
        return np.arange(len(codes), dtype=np.int64)


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
        self._token_bytes: np.ndarray | None = None
        self._caches: list[WordIdCache] = []  # idle ones; at most one per coding thread
        self._lock = threading.Lock()

    def unit_words(self, codes: np.ndarray, words: list[str]) -> np.ndarray:
        """A GPT-2 token never crosses a word of the normalized text (the pre-tokenizer splits
        at every space and BPE merges stay inside a piece): its word is the one its last byte
        falls in, found from the tokens' byte lengths."""
        if self._token_bytes is None:
            enc = self.encoding
            self._token_bytes = np.array([len(enc.decode_single_token_bytes(t))
                                          for t in range(enc.n_vocab)], dtype=np.int64)
        return token_words(codes, words, self._token_bytes)

    def prepare(self, texts: list[str]) -> FoldedTexts:
        return fold_texts(texts)

    def encode(self, prepared: FoldedTexts,
               continues: list[bool]) -> tuple[list[np.ndarray], int]:
        """Each text's ids from its words' ids (``overlap.bpe_cache``: tiktoken runs once
        per distinct word, in one call per batch for the words it has not seen)."""
        if not len(prepared.ends):
            return [], 0
        cache = self._acquire()
        try:
            apart = left_apart(prepared)
            per_text, words = cache.text_ids(apart.buf, prepared.ends, continues)
            if apart.indices:
                ids, more = cache.text_ids(apart.left_buf, apart.left_ends,
                                           [continues[j] for j in apart.indices])
                for j, a in zip(apart.indices, ids, strict=True):
                    per_text[j] = a
                words += more
        finally:
            with self._lock:
                self._caches.append(cache)
        return per_text, words

    def cache_stats(self) -> dict[str, int]:
        """``WordIdCache.stats`` summed over this coder's caches not in use."""
        with self._lock:
            stats = [c.stats for c in self._caches]
        return {k: sum(s[k] for s in stats) for k in WordIdCache.STATS}

    def _acquire(self) -> WordIdCache:
        """A cache no other thread is using: a build codes on two threads at once, and a
        cache kept per coder (not per thread) outlives the threads of one file."""
        with self._lock:
            return self._caches.pop() if self._caches else WordIdCache(self.encoding)


def token_words(codes: np.ndarray, words: list[str], token_bytes: np.ndarray) -> np.ndarray:
    """Index of the word of ``" ".join(words)`` that each token lies in (its last byte's word),
    given every token id's byte length."""
    if not len(codes):
        return np.empty(0, dtype=np.int64)
    token_ends = np.cumsum(token_bytes[codes.astype(np.int64)])
    word_bytes = np.fromiter((len(w.encode()) for w in words), dtype=np.int64, count=len(words))
    word_ends = np.cumsum(word_bytes + 1) - 1  # each word after the first has a space before it
    return np.searchsorted(word_ends, token_ends, side="left")


@functools.lru_cache(maxsize=4)
def gpt2_coder(vocab_dir: str | None) -> GPT2Coder:
    """Loading the BPE takes ~0.2 s, and a coder's word caches only ever hold exact ids, so
    one per vocabulary is kept."""
    return GPT2Coder(vocab_dir)
