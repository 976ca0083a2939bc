"""From documents to n-gram hashes: normalize, code, window, hash — in large vectorized batches.

``NgramStream`` takes the documents of one reading task in order and hands back (h1, h2) hash
arrays of every n-gram that lies inside one document. Pieces of a long document are joined by
carrying their last n - 1 codes over; lookahead pieces after a byte range only finish the
range's last n-grams.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from overlap.corpus import Document
from overlap.murmur import ngram_hashes
from overlap.normalize import words as normalized_words

BATCH_CODES = 1 << 20  # codes hashed per vectorized batch


@dataclass
class Hashes:
    h1: np.ndarray
    h2: np.ndarray
    words: int  # normalized words read for these n-grams


def window_starts(lengths: np.ndarray, allowed: np.ndarray, n: int) -> np.ndarray:
    """Start offsets, in the concatenation of segments, of the windows to keep.

    Segment j has ``lengths[j]`` codes and keeps its first ``allowed[j]`` complete windows.
    """
    counts = np.minimum(np.maximum(lengths - n + 1, 0), allowed)
    offsets = np.cumsum(lengths) - lengths
    total = int(counts.sum())
    seg_of = np.repeat(np.arange(len(lengths)), counts)
    first_of_seg = np.cumsum(counts) - counts
    return offsets[seg_of] + (np.arange(total) - first_of_seg[seg_of])


class NgramStream:
    """Hashes of the n-grams of a stream of documents, handed out in batches."""

    def __init__(self, coder, n: int, seed: int):
        self.coder, self.n, self.seed = coder, n, seed

    def hashes(self, docs: Iterable[Document]) -> Iterator[Hashes]:
        n = self.n
        segments: list[np.ndarray] = []
        allowed: list[int] = []
        pending = words = 0
        carry = np.empty(0, dtype=np.uint64)
        tail: list[np.ndarray] = []  # lookahead codes gathered after the range
        for doc in docs:
            if doc.lookahead:
                tail.append(self.coder.codes(normalized_words(doc.text), True))
                if sum(map(len, tail)) >= n - 1:
                    break  # the range's last n-grams are complete: stop reading
                continue
            ws = normalized_words(doc.text)
            codes = self.coder.codes(ws, doc.continues)
            if doc.continues:
                codes = np.concatenate([carry, codes])
            segments.append(codes)
            allowed.append(len(codes))
            pending += len(codes)
            words += len(ws)
            carry = codes[max(len(codes) - n + 1, 0) :] if n > 1 else codes[:0]
            if pending >= BATCH_CODES:
                yield self._hash(segments, allowed, words)
                segments, allowed, pending, words = [], [], 0, 0
        if tail and len(carry):  # windows starting in the range's last n - 1 codes
            segments.append(np.concatenate([carry, *tail]))
            allowed.append(len(carry))
        if segments:
            yield self._hash(segments, allowed, words)

    def _hash(self, segments: list[np.ndarray], allowed: list[int], words: int) -> Hashes:
        lengths = np.array([len(s) for s in segments], dtype=np.int64)
        starts = window_starts(lengths, np.array(allowed, dtype=np.int64), self.n)
        h1, h2 = ngram_hashes(np.concatenate(segments), self.n, self.seed)
        return Hashes(h1[starts], h2[starts], words)
