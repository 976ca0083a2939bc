"""MurmurHash3 x64_128 of every n-gram of a code array, vectorized with numpy.

An n-gram's key is its n unit codes as little-endian uint64 (8·n bytes), and its hash is exactly
``mmh3.hash128(key, seed)`` split into the low (h1) and high (h2) 64-bit halves; the tests check
this against the mmh3 library. Because keys are consecutive windows of one array, the per-block
mixing of every code is done once for the whole array and each 16-byte block of every window is
then a contiguous slice: the whole computation is ~80 numpy operations per batch, no Python loop
per n-gram.
"""

from __future__ import annotations

import numpy as np

U64 = np.uint64
C1 = U64(0x87C37B91114253D5)
C2 = U64(0x4CF5AD432745937F)
F1 = U64(0xFF51AFD7ED558CCD)
F2 = U64(0xC4CEB9FE1A85EC53)
N1 = U64(0x52DCE729)
N2 = U64(0x38495AB5)
FIVE = U64(5)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << U64(r)) | (x >> U64(64 - r))


def _fmix(h: np.ndarray) -> np.ndarray:
    h ^= h >> U64(33)
    h *= F1
    h ^= h >> U64(33)
    h *= F2
    h ^= h >> U64(33)
    return h


def finalize(h1: np.ndarray, h2: np.ndarray, length) -> tuple[np.ndarray, np.ndarray]:
    """Murmur's last step: mix in the key length, avalanche, and cross-add the halves."""
    with np.errstate(over="ignore"):
        h1 ^= length
        h2 ^= length
        h1 += h2
        h2 += h1
        h1 = _fmix(h1)
        h2 = _fmix(h2)
        h1 += h2
        h2 += h1
    return h1, h2


def ngram_hashes(codes: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(h1, h2) of the ``len(codes) - n + 1`` windows of ``n`` consecutive uint64 codes."""
    codes = np.ascontiguousarray(codes, dtype=U64)
    count = len(codes) - n + 1
    if count <= 0:
        empty = np.empty(0, dtype=U64)
        return empty, empty.copy()
    with np.errstate(over="ignore"):
        k1_all = _rotl(codes * C1, 31) * C2  # mixing of a code in a block's first half
        k2_all = _rotl(codes * C2, 33) * C1  # ... and in its second half
        h1 = np.full(count, seed & 0xFFFFFFFF, dtype=U64)
        h2 = h1.copy()
        for j in range(n // 2):
            h1 ^= k1_all[2 * j : 2 * j + count]
            h1 = _rotl(h1, 27)
            h1 += h2
            h1 = h1 * FIVE + N1
            h2 ^= k2_all[2 * j + 1 : 2 * j + 1 + count]
            h2 = _rotl(h2, 31)
            h2 += h1
            h2 = h2 * FIVE + N2
        if n % 2:  # an 8-byte tail: it only feeds k1
            h1 ^= k1_all[n - 1 : n - 1 + count]
        return finalize(h1, h2, U64(8 * n))
