"""MurmurHash3 x64_128 of every word of a text at once: the ``words`` unit's codes.

A word's code is the low half of ``mmh3.hash128(word_utf8, seed=0)`` (= ``mmh3.hash64(word)[0]``),
computed for all words of a byte buffer together: 8-byte little-endian loads at each word's
offsets, with the bytes past the word's end masked to zero (murmur's tail reads zero-padded
blocks, so this is exact), and the block mixing runs over all words at once. Most words are one
tail block; longer ones loop over 16-byte blocks with a shrinking active set. Words are runs of
bytes other than the ASCII space.
"""

from __future__ import annotations

import numpy as np

from overlap.murmur import C1, C2, FIVE, N1, N2, U64, _rotl, finalize

SPACE = 32


def word_bounds(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) byte offsets of the space-separated words of ``buf``."""
    inside = np.zeros(len(buf) + 2, dtype=bool)
    np.not_equal(buf, SPACE, out=inside[1:-1])
    before, after = inside[:-1], inside[1:]
    return np.flatnonzero(after & ~before), np.flatnonzero(before & ~after)


def _loader(buf: np.ndarray):
    """A function reading the little-endian uint64 at any byte offsets (zeros past the end)."""
    pad = np.concatenate([buf, np.zeros(16, dtype=np.uint8)])
    views = [np.frombuffer(pad.data, "<u8", count=(len(pad) - o) // 8, offset=o) for o in range(8)]
    lengths = np.array([len(v) for v in views])
    base = np.cumsum(lengths) - lengths
    flat = np.concatenate(views)  # the buffer 8 times, once per alignment

    def load(offsets: np.ndarray, remaining: np.ndarray) -> np.ndarray:
        """8 bytes from each offset, keeping only the first ``remaining`` (0..8+) of them."""
        words = flat[base[offsets & 7] + (offsets >> 3)]
        return words & _KEEP[np.minimum(np.maximum(remaining, 0), 8)]

    return load


_KEEP = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [2**64 - 1], dtype=U64)


def word_codes(buf: np.ndarray) -> np.ndarray:
    """uint64 code of every word in the uint8 array ``buf`` (UTF-8, words separated by spaces)."""
    starts, ends = word_bounds(buf)
    count = len(starts)
    if count == 0:
        return np.empty(0, dtype=U64)
    load = _loader(buf)
    lens = ends - starts
    full, tail = lens // 16, lens % 16
    h1 = np.zeros(count, dtype=U64)
    h2 = np.zeros(count, dtype=U64)
    with np.errstate(over="ignore"):
        for b in range(int(full.max())):  # 16-byte blocks of words longer than 15 bytes
            act = np.flatnonzero(full > b)
            at = starts[act] + 16 * b
            k1 = _rotl(load(at, 8 + at * 0) * C1, 31) * C2
            k2 = _rotl(load(at + 8, 8 + at * 0) * C2, 33) * C1
            a1 = _rotl(h1[act] ^ k1, 27) + h2[act]
            a1 = a1 * FIVE + N1
            a2 = _rotl(h2[act] ^ k2, 31) + a1
            h1[act], h2[act] = a1, a2 * FIVE + N2
        at = starts + 16 * full  # the tail: up to 15 bytes, read zero-padded
        long_tail = np.flatnonzero(tail > 8)
        k2 = load(at[long_tail] + 8, tail[long_tail] - 8)
        h2[long_tail] ^= _rotl(k2 * C2, 33) * C1
        some_tail = np.flatnonzero(tail > 0)
        k1 = load(at[some_tail], tail[some_tail])
        h1[some_tail] ^= _rotl(k1 * C1, 31) * C2
    return finalize(h1, h2, lens.astype(U64))[0]
