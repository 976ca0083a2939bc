"""``verify``: the paper's false-positive check, with the statistics it lacked.

Probes are random n-grams of random unit codes (uniform 64-bit word codes, or uniform GPT-2 ids),
which are almost surely absent from any corpus: a random 8-gram of GPT-2 ids collides with one
of a billion real 8-grams with probability ~1e9 / 50257^8 ≈ 2.5e-29. Every hit is therefore a
false positive. Zero hits in P probes only bounds the rate below ~3/P (95 %): confirming 1e-8
needs ~3e8 probes.

The verdict is a one-sided binomial test of "the rate is at most the target": FAIL when the hits
are too many for the target at the chosen confidence, else PASS, with a note when the probes
are too few for a PASS to confirm the target (and how many would).
"""

from __future__ import annotations

import math

import numpy as np

from contamkit.common.errors import UserError
from contamkit.common.progress import log, progress
from overlap.bloom import BloomFilter
from overlap.ngrams import ngram_hashes
from overlap.units import code_range

_BATCH = 1 << 20


def _log_pmf(i: int, trials: int, p: float) -> float:
    return (math.lgamma(trials + 1) - math.lgamma(i + 1) - math.lgamma(trials - i + 1)
            + i * math.log(p) + (trials - i) * math.log1p(-p))


def _log_sum(logs: list[float]) -> float:
    top = max(logs)
    return top + math.log(sum(math.exp(v - top) for v in logs))


def binomial_cdf(hits: int, trials: int, p: float) -> float:
    """P(X <= hits) for X ~ Binomial(trials, p), summed in log space (trials may be 1e9)."""
    if hits < 0:
        return 0.0
    if p <= 0 or hits >= trials:
        return 1.0
    if p >= 1:
        return 0.0
    return min(math.exp(_log_sum([_log_pmf(i, trials, p) for i in range(hits + 1)])), 1.0)


def at_least(hits: int, trials: int, p: float) -> float:
    """P(X >= hits): how surprising ``hits`` false positives are if the rate is ``p``."""
    if hits <= 0 or p >= 1:
        return 1.0
    if hits > trials or p <= 0:
        return 0.0
    if hits <= trials * p:  # the lower tail is the small one: no cancellation in 1 - cdf
        return max(1.0 - binomial_cdf(hits - 1, trials, p), 0.0)
    logs = []  # the upper tail's terms fall geometrically from the first
    for i in range(hits, trials + 1):
        logs.append(_log_pmf(i, trials, p))
        if logs[-1] < logs[0] - 40:
            break
    return min(math.exp(_log_sum(logs)), 1.0)


def _bisect(f, target: float, lo: float, hi: float) -> float:
    """The p in [lo, hi] where the increasing function f crosses ``target``."""
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) < target else (lo, mid)
    return hi


def binomial_upper(hits: int, trials: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound on a rate observed as hits / trials."""
    if hits >= trials:
        return 1.0
    return _bisect(lambda p: -binomial_cdf(hits, trials, p), -(1 - confidence), hits / trials,
                   1.0)


def binomial_lower(hits: int, trials: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson lower bound on a rate observed as hits / trials."""
    if hits <= 0:
        return 0.0
    return _bisect(lambda p: at_least(hits, trials, p), 1 - confidence, 0.0, hits / trials)


def probes_to_confirm(target: float, confidence: float = 0.95) -> int:
    """Probes whose zero hits put the upper bound at ``target``: ln(1/alpha) / target."""
    return math.ceil(math.log(1 - confidence) / math.log1p(-target))


def verdict(hits: int, probes: int, target: float, confidence: float = 0.95) -> dict:
    """PASS unless the hits are too many for ``target`` at ``confidence`` (one-sided binomial
    test); a note when the probes are too few for a PASS to confirm the target.

    >>> verdict(0, 1_000_000, 1e-8)["verdict"], verdict(30, 1_000_000, 1e-5)["verdict"]
    ('PASS', 'FAIL')
    """
    p_value = at_least(hits, probes, target)
    upper = binomial_upper(hits, probes, confidence)
    failed = p_value < 1 - confidence
    confirmed = not failed and upper <= target
    needed = probes_to_confirm(target, confidence)
    level = f"{100 * confidence:g} %"
    if failed:
        note = (f"{hits} hits in {probes:,} probes: the rate is above the target {target:g} "
                f"(p = {p_value:.2g}; at {level} it is at least "
                f"{binomial_lower(hits, probes, confidence):.3g})")
    elif confirmed:
        note = f"the rate is below the target {target:g} at {level} (at most {upper:.3g})"
    else:
        note = (f"consistent with the target, but {probes:,} probes cannot confirm {target:g}: "
                f"{hits} hits bound the rate below {upper:.3g} only; confirming it takes at "
                f"least {needed:,} probes without a hit (--probes {needed})")
    return {"verdict": "FAIL" if failed else "PASS", "target_confirmed": confirmed,
            "confidence": confidence, "p_value": p_value,
            "fpr_lower": binomial_lower(hits, probes, confidence), "fpr_upper": upper,
            "probes_to_confirm": needed, "note": note}


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


def verify_filter(bloom: BloomFilter, probes: int = 1_000_000, seed: int = 0,
                  confidence: float = 0.95) -> dict:
    """Query ``probes`` random absent n-grams; the hits, their bounds and the verdict."""
    if probes < 1:
        raise UserError(f"--probes must be at least 1, got {probes}")
    if not 0 < confidence < 1:
        raise UserError(f"--confidence must be in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    hits = 0
    with progress(total=probes, desc="verify", unit="probe", unit_scale=True) as bar:
        for start in range(0, probes, _BATCH):
            h1, h2 = random_probe_hashes(bloom, min(_BATCH, probes - start), rng)
            hits += int(bloom.contains(h1, h2).sum())
            bar.update(len(h1))
            bar.set_postfix(hits=hits, refresh=False)
    stats = bloom.stats()
    result = {
        "probes": probes,
        "hits": hits,
        "observed_fpr": hits / probes,
        **verdict(hits, probes, bloom.params.target_fpr, confidence),
        "predicted_fpr": stats["estimated_fpr"],
        "target_fpr": bloom.params.target_fpr,
        "bits_per_element": stats["bits_per_element"],
        "k": bloom.params.k,
        "fill_ratio": stats["fill_ratio"],
    }
    log.info(format_verdict(result))
    return result


def format_verdict(r: dict) -> str:
    """The one-line summary: verdict, hits, bounds and the note."""
    return (f"{r['verdict']}: {r['hits']} hits in {r['probes']:,} probes (observed FPR "
            f"{r['observed_fpr']:.3g}, predicted {r['predicted_fpr']:.3g}, target "
            f"{r['target_fpr']:g}); {r['note']}")
