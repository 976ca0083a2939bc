"""``verify``: the paper's false-positive check, with the statistics it lacked.

Probes are random n-grams of random unit codes (uniform 64-bit word codes, or uniform GPT-2 ids),
which are almost surely absent from any corpus: a random 8-gram of GPT-2 ids collides with one
of a billion real 8-grams with probability ~1e9 / 50257^8 ≈ 2.5e-29. Every hit is therefore a
false positive. Zero hits in P probes only bounds the rate below ~3/P (95 %): confirming 1e-8
needs ~3e8 probes.
"""

from __future__ import annotations

import math

import numpy as np

from contamkit.common.errors import UserError
from overlap.bloom import BloomFilter
from overlap.ngrams import ngram_hashes
from overlap.units import code_range

_BATCH = 1 << 20


def binomial_upper(hits: int, trials: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound on a rate observed as hits / trials."""
    if hits >= trials:
        return 1.0
    alpha = 1 - confidence

    def cdf(p: float) -> float:  # P(X <= hits) for X ~ Binomial(trials, p)
        if p <= 0:
            return 1.0
        logs = [math.lgamma(trials + 1) - math.lgamma(i + 1) - math.lgamma(trials - i + 1)
                + i * math.log(p) + (trials - i) * math.log1p(-p) for i in range(hits + 1)]
        top = max(logs)
        return math.exp(top) * sum(math.exp(v - top) for v in logs)

    lo, hi = hits / trials, 1.0
    for _ in range(100):  # cdf falls as p grows: bisect for cdf(p) = alpha
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) > alpha else (lo, mid)
    return hi


def random_probe_hashes(bloom: BloomFilter, count: int,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of ``count`` random n-grams: the windows of count + n - 1 random codes.

    Neighbouring windows share codes but are different n-grams, so their hashes, and the bits
    they probe, are independent; every code drawn serves n probes.
    """
    n = bloom.params.n
    high = code_range(bloom.params.unit)
    codes = rng.integers(0, high, size=count + n - 1, dtype=np.uint64, endpoint=False)
    return ngram_hashes(codes, n, bloom.params.seed)


def verify_filter(bloom: BloomFilter, probes: int = 1_000_000, seed: int = 0) -> dict:
    """Query ``probes`` random absent n-grams; the hits are false positives."""
    if probes < 1:
        raise UserError(f"verify: probes must be at least 1, got {probes}")
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, probes, _BATCH):
        h1, h2 = random_probe_hashes(bloom, min(_BATCH, probes - start), rng)
        hits += int(bloom.contains(h1, h2).sum())
    stats = bloom.stats()
    return {
        "probes": probes,
        "hits": hits,
        "observed_fpr": hits / probes,
        "upper_95": binomial_upper(hits, probes),
        "predicted_fpr": stats["estimated_fpr"],
        "target_fpr": bloom.params.target_fpr,
        "bits_per_element": stats["bits_per_element"],
        "k": bloom.params.k,
        "fill_ratio": stats["fill_ratio"],
    }
