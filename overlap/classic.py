"""The classic layout: k probes anywhere in m bits, as ``overlap.bloom`` describes; m is the
first prime >= -n·ln p / ln²2, k = round(log2(1/p)). An insert or a query of a filter larger
than the caches pays up to k random memory reads."""

from __future__ import annotations

import math

import numpy as np

from overlap.layouts import STATS_BYTES, FillStats


def _is_prime(n: int) -> bool:
    """Deterministic Miller-Rabin: these bases decide every n < 3.3e24."""
    if n < 2:
        return False
    bases = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
    if n in bases:
        return True
    if any(n % p == 0 for p in bases):
        return False
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def next_prime(n: int) -> int:
    """The smallest prime >= n (about ln n candidates are tried)."""
    while not _is_prime(n):
        n += 1
    return n


def size(capacity: int, fpr: float) -> tuple[int, int]:
    """(m, k) of the classic layout: m is rounded up to a prime (``overlap.bloom``)."""
    m = next_prime(max(math.ceil(-capacity * math.log(fpr) / math.log(2) ** 2), 64))
    return m, max(round(math.log2(1 / fpr)), 1)


def stats(bits: np.ndarray, m: int, k: int) -> FillStats:
    """Fill ratio f; distinct n-grams -m/k·ln(1 - f) (Swamidass & Baldi); FPR f^k."""
    fill = popcount(bits) / m
    distinct = -m / k * math.log1p(-fill) if fill < 1 else math.inf
    return FillStats(fill, distinct, fill**k)


def popcount(bits: np.ndarray) -> int:
    step = STATS_BYTES
    return sum(int(np.bitwise_count(bits[i : i + step]).sum())
               for i in range(0, len(bits), step))


def add(bits: np.ndarray, h1: np.ndarray, h2: np.ndarray, m: int, k: int) -> None:
    from overlap import probes

    probes.add(bits, h1, h2, m, k)


def contains(bits: np.ndarray, h1: np.ndarray, h2: np.ndarray, m: int, k: int,
             out: np.ndarray) -> None:
    from overlap import probes

    probes.contains(bits, h1, h2, m, k, out)
