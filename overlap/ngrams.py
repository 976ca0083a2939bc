"""From documents to n-gram hashes: normalize, code, window, hash — in batches, on two threads.

``NgramStream`` takes the documents of one reading task in order and hands back (h1, h2) hash
arrays of every n-gram that lies inside one document. Pieces of a long document are joined by
carrying their last n - 1 codes over; lookahead pieces after a byte range only finish the
range's last n-grams.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np

from contamkit.common.background import overlapped_map
from contamkit.corpus.read import Document
from overlap import murmur
from overlap.coders import Coder

BATCH_BYTES = 1 << 18  # text coded and hashed per batch


@dataclass
class Hashes:
    h1: np.ndarray
    h2: np.ndarray
    words: int  # normalized words read for these n-grams
    end: int = -1  # how far into its file as stored reading got (``Document.end``)


def _joined(segments: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """All segments' codes in one uint64 array, and each segment's length."""
    lengths = np.fromiter(map(len, segments), dtype=np.int64, count=len(segments))
    codes = np.concatenate(segments) if segments else np.empty(0, dtype=np.uint64)
    return codes.astype(np.uint64, copy=False), lengths


def window_hashes(segments: list[np.ndarray], allowed: np.ndarray | None, n: int,
                  seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(h1, h2) of the n-grams of each segment, concatenated in order; segment j keeps its
    first ``allowed[j]`` complete windows (all when ``allowed`` is None). n-grams never cross
    segments."""
    codes, lengths = _joined(segments)
    allowed = lengths if allowed is None else np.asarray(allowed, dtype=np.int64)
    return murmur.window_hashes(codes, lengths, allowed, n, seed)


def segment_hashes(segments: list[np.ndarray], n: int,
                   seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(h1, h2, counts): the n-gram hashes of every segment, concatenated in order, and how
    many each segment has."""
    codes, lengths = _joined(segments)
    return (*murmur.window_hashes(codes, lengths, lengths, n, seed),
            np.maximum(lengths - n + 1, 0))


def ngram_hashes(codes: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(h1, h2) of all ``len(codes) - n + 1`` windows of ``n`` consecutive codes."""
    return window_hashes([codes], None, n, seed)


def unique_pairs(pairs: np.ndarray) -> np.ndarray:
    """The distinct rows of a (count, 2) uint64 array of (h1, h2) n-gram hashes."""
    rows = np.ascontiguousarray(pairs, dtype=np.uint64).view(np.dtype((np.void, 16)))
    return np.unique(rows).view(np.uint64).reshape(-1, 2)


def count_distinct(pairs: np.ndarray) -> int:
    """Exact number of distinct (h1, h2) rows, fast: sort h1 alone (a SIMD sort), and only the
    rare rows whose h1 repeats (the same n-gram, or a 64-bit collision) again by both halves."""
    if len(pairs) == 0:
        return 0
    h1 = np.sort(pairs[:, 0])
    repeated = np.zeros(len(h1), dtype=bool)
    same = h1[1:] == h1[:-1]
    repeated[1:] |= same
    repeated[:-1] |= same
    if not repeated.any():
        return len(h1)
    suspects = pairs[np.isin(pairs[:, 0], h1[repeated])]
    return int(len(h1) - repeated.sum() + len(unique_pairs(suspects)))


class NgramStream:
    """Hashes of the n-grams of a stream of documents, handed out in batches.

    ``threads`` share the work. With 1, all runs on the caller's thread. With 2, the caller's
    thread reads and normalizes batch i + 1 while a coding thread codes and hashes batch i
    (compiled code and tiktoken, which release the GIL). With 3, a helper thread codes half of
    each batch beside the coding thread: coding is the longest step of the ``gpt2`` unit
    (tiktoken), and a build on 2 cores has no other process to give the second core to.
    Batches are hashed in order, one at a time, so carries between them stay exact.
    """

    def __init__(self, coder: Coder, n: int, seed: int, threads: int = 2):
        self.coder, self.n, self.seed = coder, n, seed
        self.threads = threads
        self._carry = np.empty(0, dtype=np.uint64)
        self._lookahead: Document | None = None
        self._helper: ThreadPoolExecutor | None = None

    def hashes(self, docs: Iterable[Document]) -> Iterator[Hashes]:
        self._carry, self._lookahead = self._carry[:0], None
        docs = iter(docs)
        with ThreadPoolExecutor(max_workers=1) if self.threads > 2 else nullcontext() as helper:
            self._helper = helper
            prepared = ((b, self._prepare(b)) for b in self._batches(docs))
            yield from overlapped_map(self._code, prepared, self.threads > 1)
        if self._lookahead is not None:
            yield from self._finish_range(self._lookahead, docs)

    def _prepare(self, batch: list[Document]) -> list[tuple[int, Any]]:
        """The batch normalized, as (number of documents, prepared) parts: two of about equal
        size when the helper thread codes one of them."""
        texts = [d.text for d in batch]
        if self._helper is None or len(texts) < 2:
            return [(len(texts), self.coder.prepare(texts))]
        sizes = np.cumsum([len(t) for t in texts])
        cut = int(np.clip(np.searchsorted(sizes, sizes[-1] / 2), 1, len(texts) - 1))
        return [(cut, self.coder.prepare(texts[:cut])),
                (len(texts) - cut, self.coder.prepare(texts[cut:]))]

    def _encode(self, batch: list[Document],
                parts: list[tuple[int, Any]]) -> tuple[list[np.ndarray], int]:
        """Codes of each document of the batch, and the number of words."""
        continues = [d.continues for d in batch]
        if len(parts) == 1:
            return self.coder.encode(parts[0][1], continues)
        (cut, first), (_, second) = parts
        early = self._helper.submit(self.coder.encode, first, continues[:cut])
        late_codes, late_words = self.coder.encode(second, continues[cut:])
        codes, words = early.result()
        return codes + late_codes, words + late_words

    def _batches(self, docs: Iterator[Document]) -> Iterator[list[Document]]:
        """Batches of about BATCH_BYTES; a lookahead piece ends them and is kept aside."""
        batch: list[Document] = []
        size = 0
        for doc in docs:
            if doc.lookahead:
                self._lookahead = doc
                break
            batch.append(doc)
            size += len(doc.text)
            if size >= BATCH_BYTES:
                yield batch
                batch, size = [], 0
        if batch:
            yield batch

    def _code(self, batch: list[Document], parts: list[tuple[int, Any]]) -> Hashes:
        n = self.n
        all_codes, words = self._encode(batch, parts)
        segments, allowed = [], []
        for doc, codes in zip(batch, all_codes, strict=True):
            if doc.continues:
                codes = np.concatenate([self._carry, codes])
            segments.append(codes)
            allowed.append(len(codes))
            self._carry = codes[max(len(codes) - n + 1, 0) :] if n > 1 else codes[:0]
        return self._hash(segments, allowed, words, max(d.end for d in batch))

    def _finish_range(self, first: Document, rest: Iterable[Document]) -> Iterator[Hashes]:
        """Windows starting in a range's last n - 1 codes, completed from the lookahead text."""
        carry, needed = self._carry, self.n - 1
        if len(carry) == 0:
            return
        tail: list[np.ndarray] = []
        for doc in itertools.chain([first], rest):
            tail += self.coder.codes_batch([doc.text], [True])[0]
            if sum(map(len, tail)) >= needed:
                break
        yield self._hash([np.concatenate([carry, *tail])], [len(carry)], 0)

    def _hash(self, segments: list[np.ndarray], allowed: list[int], words: int,
              end: int = -1) -> Hashes:
        return Hashes(*window_hashes(segments, np.array(allowed), self.n, self.seed), words, end)
