"""The blocked layout: documented bits, exact sizing model, FPR at a loose target, refusals."""

import math
from fractions import Fraction

import numpy as np
import pytest

from contamkit.common.errors import UserError
from overlap import probes
from overlap.blocked import LINE_BITS, _line_moments, blocked_model, blocked_optimum
from overlap.blocked import size as blocked_size
from overlap.blocked import stats as blocked_stats
from overlap.bloom import BloomFilter, FilterParams
from overlap.filters import open_filter
from overlap.normalize import NORMALIZER_VERSION

META = dict(n=8, unit="words", normalizer=NORMALIZER_VERSION, tokenizer="", seed=0)
M64 = 2**64 - 1


def random_hashes(count, seed):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 2**64, count, dtype=np.uint64),
            rng.integers(0, 2**64, count, dtype=np.uint64))


def fmix64(x):
    for shift, mult in ((33, 0xFF51AFD7ED558CCD), (33, 0xC4CEB9FE1A85EC53), (33, None)):
        x ^= x >> shift
        x = x * mult % 2**64 if mult else x
    return x


def documented_bits(x1: int, x2: int, m: int, k: int) -> set[int]:
    """The global bit numbers overlap.blocked's docstring promises, in plain Python integers."""
    lines = m // 512
    line = (x1 % lines, x2 % lines)
    s = x1 ^ (((x2 << 32) | (x2 >> 32)) & M64)
    out = set()
    for i in range(k):
        r = fmix64((s + (i // 7 + 1) * 0x9E3779B97F4A7C15) & M64)
        out.add(line[i // (k // 2)] * 512 + ((r >> (9 * (i % 7))) & 511))
    return out


def bit_set(bits: np.ndarray) -> set[int]:
    return set(np.flatnonzero(np.unpackbits(np.asarray(bits), bitorder="little")).tolist())


def test_add_sets_exactly_the_documented_bits():
    params = FilterParams.sized(300, 1e-4, layout="blocked", **META)
    m, k = params.m, params.k
    h1, h2 = random_hashes(probes.GROUP * 2 + 37, 3)  # several groups and a ragged one
    bloom = BloomFilter(params)
    bloom.add(h1, h2)
    expected = set().union(*(documented_bits(int(a), int(b), m, k)
                             for a, b in zip(h1, h2, strict=True)))
    assert bit_set(bloom.bits) == expected
    assert bloom.bits.ctypes.data % 64 == 0  # a line is a cache line


def test_contains_is_all_documented_bits_set():
    bloom = BloomFilter(FilterParams.sized(2000, 1e-3, layout="blocked", **META))
    bloom.add(*random_hashes(4000, 5))  # overfull: many false positives to check
    have = bit_set(bloom.bits)
    q1, q2 = random_hashes(20_000, 6)
    expected = [documented_bits(int(a), int(b), bloom.params.m, bloom.params.k) <= have
                for a, b in zip(q1, q2, strict=True)]
    assert bloom.contains(q1, q2).tolist() == expected
    assert 100 < sum(expected) < 19_000


def occupancy_moment(per_line: int, draws: int) -> Fraction:
    """E[(X/512)^per_line], X the cells of 512 hit by ``draws`` uniform draws, by inclusion and
    exclusion: the query's draws cover s distinct cells (Stirling numbers), all of them hit."""
    b = LINE_BITS
    stirling = [[Fraction(0)] * (per_line + 1) for _ in range(per_line + 1)]
    stirling[0][0] = Fraction(1)
    for n in range(1, per_line + 1):
        for s in range(1, n + 1):
            stirling[n][s] = s * stirling[n - 1][s] + stirling[n - 1][s - 1]
    total = Fraction(0)
    for s in range(1, per_line + 1):
        falling = math.perm(b, s)
        all_hit = sum((-1) ** r * math.comb(s, r) * Fraction(b - r, b) ** draws
                      for r in range(s + 1))
        total += stirling[per_line][s] * falling * all_hit
    return total / Fraction(b) ** per_line


def test_line_moments_equal_the_closed_form():
    v1, v2 = _line_moments(12, 41)
    for j in (0, 1, 7, 40):
        assert v1[j] == pytest.approx(float(occupancy_moment(12, 12 * j)), rel=1e-9, abs=1e-300)
        assert v2[j] == pytest.approx(float(occupancy_moment(24, 12 * j)), rel=1e-9, abs=1e-300)


def test_sizing_at_1e8():
    bits, k = blocked_optimum(1e-8)
    assert k == 24 and 44.0 < bits < 44.1
    assert bits <= 1.3 * 38.34  # why blocked may be the default
    exhaustive = min((blocked_model_bits(1e-8, 2 * per), 2 * per) for per in range(6, 20))
    assert exhaustive[1] == k
    m, k = blocked_size(10**8, 1e-8)
    assert m % 512 == 0 and 44.0 < m / 1e8 < 44.2  # the noise margin is small for big filters
    small_m, _ = blocked_size(1000, 1e-8)
    assert small_m / 1000 > m / 1e8  # and larger for small ones


def blocked_model_bits(fpr, k):
    lo, hi = 20.0, 200.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if blocked_model(mid, k)[0] <= fpr else (mid, hi)
    return hi


def binomial_tails(hits: int, trials: int, p: float) -> tuple[float, float]:
    """P(X <= hits) and P(X >= hits) for X ~ Binomial(trials, p), summed over mean ± 40 sd."""
    sd = math.sqrt(trials * p * (1 - p))
    lo, hi = max(0, int(trials * p - 40 * sd)), min(trials, int(trials * p + 40 * sd) + 1)
    lo, hi = min(lo, hits), max(hi, hits)

    def pmf(x):
        return math.exp(math.lgamma(trials + 1) - math.lgamma(x + 1) - math.lgamma(trials - x + 1)
                        + x * math.log(p) + (trials - x) * math.log1p(-p))

    return sum(map(pmf, range(lo, hits + 1))), sum(map(pmf, range(hits, hi + 1)))


def test_fpr_at_1e3_inside_its_binomial_interval():
    n, target = 50_000, 1e-3
    bloom = BloomFilter(FilterParams.sized(n, target, layout="blocked", **META))
    members = random_hashes(n, 1)
    bloom.add(*members)
    assert bloom.contains(*members).all()
    trials = 2_000_000
    hits = int(bloom.contains(*random_hashes(trials, 2)).sum())
    stats = blocked_stats(bloom.bits, bloom.params.m, bloom.params.k)
    # the observed count is what this filter's bits predict (two-sided test at 0.1 %)...
    below, above = binomial_tails(hits, trials, stats.estimated_fpr)
    assert below > 5e-4 and above > 5e-4, (hits, stats.estimated_fpr)
    # ...which is within the target, and the observed rate is not above it (one-sided, 0.05 %)
    assert stats.estimated_fpr <= target
    assert binomial_tails(hits, trials, target)[1] > 5e-4
    # the sizing model agrees with this filter, and its count estimate with the truth
    model, _ = blocked_model(bloom.params.m / n, bloom.params.k)
    assert stats.estimated_fpr == pytest.approx(model, rel=0.1)
    assert stats.estimated_distinct == pytest.approx(n, rel=0.02)


def test_round_trip_union_and_layout_mismatch(tmp_path):
    params = FilterParams.sized(3000, 1e-6, layout="blocked", **META)
    xs, ys = random_hashes(1500, 3), random_hashes(1500, 4)
    a, b = BloomFilter(params), BloomFilter(params)
    a.add(*xs)
    b.add(*ys)
    union = a.union(b)  # equal to the filter of both sets: test_bloom's union test
    assert union.inserted == 3000
    union.save(tmp_path / "u.bloom")
    loaded = open_filter(tmp_path / "u.bloom")
    assert loaded.params.layout == "blocked" and loaded.contains(*xs).all()
    assert np.array_equal(np.asarray(loaded.bits), union.bits)
    classic = BloomFilter(FilterParams.sized(3000, 1e-6, layout="classic", **META))
    with pytest.raises(UserError, match="layout: 'blocked' vs 'classic'"):
        a.union(classic)


def test_older_format_and_unknown_layout_refused(tmp_path):
    bloom = BloomFilter(FilterParams.sized(100, 1e-3, layout="blocked", **META))
    bloom.save(tmp_path / "f.bloom")
    data = bytearray((tmp_path / "f.bloom").read_bytes())
    data[8] = 2  # format version 2: written before layouts were recorded
    (tmp_path / "old.bloom").write_bytes(bytes(data))
    with pytest.raises(UserError, match=r"old.bloom: filter format version 2, .*rebuild"):
        open_filter(tmp_path / "old.bloom")
    with pytest.raises(UserError, match="unknown filter layout 'striped'"):
        FilterParams.sized(100, 1e-3, layout="striped", **META)
