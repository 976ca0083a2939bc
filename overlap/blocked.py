"""The blocked layout (docs/blocked-layout.md): the probes of an n-gram land in ``LINES`` = 2
lines of ``LINE_BITS`` = 512 bits, one 64-byte cache line each, ``k / 2`` in each (Putze,
Sanders & Singler, "Cache-, Hash- and Space-Efficient Bloom Filters", 2007): two memory reads
per n-gram. With N = m / 512 lines, line 0 is h1 mod N and line 1 is h2 mod N; the bits come
from r_t = fmix64(s + (t + 1)·G), s = h1 xor rotl32(h2), G = 0x9E3779B97F4A7C15: probe i is bit
(r_{i div 7} >> 9·(i mod 7)) & 511 of line i div (k/2). Lines hold different numbers of n-grams
(Poisson), and a crowded line answers yes more often, so a blocked filter needs more bits than
a classic one for the same rate; how many is computed exactly here, not guessed: 44.06 bits per
element at 1e-8 with k = 24, against the classic 38.34.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from overlap.layouts import STATS_BYTES, FillStats

LINE_BITS = 512  # one 64-byte cache line (overlap.probes has the same constants)
LINES = 2
MIN_LINES = 16  # below this, the two lines of an n-gram coincide too often for the model
MAX_PROBES_PER_LINE = 64
NOISE_SIGMAS = 3.0  # sizing margin: the fill check's estimate stays under the target


_MOMENTS: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _line_moments(per_line: int, loads: int) -> tuple[np.ndarray, np.ndarray]:
    """For a line that j = 0..loads-1 n-grams set ``per_line`` uniform bits each (with
    replacement): E[v] and E[v²] of v = (X/512)^per_line, X the bits set. v is the chance that a
    random query's ``per_line`` bits in that line are all set.

    X is the occupancy of 512 cells after j·per_line uniform draws, carried forward one draw at a
    time as a distribution over 0..512 (exact, no approximation). Cached per ``per_line``."""
    known = _MOMENTS.get(per_line)
    if known is not None and len(known[0]) >= loads:
        return known[0][:loads], known[1][:loads]
    cells = np.arange(LINE_BITS + 1)
    stay, move = cells / LINE_BITS, (LINE_BITS - cells) / LINE_BITS
    q = stay**per_line
    dist = np.zeros(LINE_BITS + 1)
    dist[0] = 1.0
    v1, v2 = np.empty(loads), np.empty(loads)
    for j in range(loads):
        v1[j], v2[j] = dist @ q, dist @ (q * q)
        for _ in range(per_line):
            nxt = dist * stay
            nxt[1:] += dist[:-1] * move[:-1]
            dist = nxt
    _MOMENTS[per_line] = v1, v2
    return v1, v2


def _poisson(mean: float, count: int) -> np.ndarray:
    j = np.arange(count)
    return np.exp(j * math.log(mean) - mean - _LOG_FACTORIALS[:count])


_LOG_FACTORIALS = np.array([math.lgamma(j + 1) for j in range(1 << 14)])


def blocked_model(bits_per_element: float, k: int, lines: int = LINES) -> tuple[float, float]:
    """(FPR, relative standard deviation of one line's v) of a blocked filter with this many bits
    per element and k probes spread over ``lines`` lines per n-gram, for n-grams spread at random.

    A line's load J is Poisson with mean λ = lines·512 / bits_per_element (each n-gram touches
    ``lines`` lines), so FPR = (Σ_j Pois(j; λ)·E[(X_j/512)^(k/lines)])^lines: the lines of a
    query are independent."""
    per_line = k // lines
    mean = lines * LINE_BITS / bits_per_element
    loads = int(mean + 12 * math.sqrt(mean) + 40)
    v1, v2 = _line_moments(per_line, loads)
    p = _poisson(mean, loads)
    first, second = float(p @ v1), float(p @ v2)
    return first**lines, math.sqrt(max(second - first * first, 0.0)) / first


def _solve_bits(fpr: float, k: int, capacity: int | None, lines: int = LINES) -> float:
    """Fewest bits per element at which the model's FPR is at most ``fpr``; with ``capacity``,
    the FPR plus ``NOISE_SIGMAS`` standard deviations of the fill check's estimate (a mean over
    the filter's m/512 lines, ``stats``) stays within it."""

    def excess(c: float) -> float:
        rate, spread = blocked_model(c, k, lines)
        if capacity is not None:
            total = max(capacity * c / LINE_BITS, MIN_LINES)
            rate *= 1 + NOISE_SIGMAS * lines * spread / math.sqrt(total)
        return math.log(rate) - math.log(fpr)

    lo = hi = -math.log(fpr) / math.log(2) ** 2 / 2  # half the classic bits: below any answer
    while excess(hi) > 0:
        lo, hi = hi, hi * 2
        if hi > 1e6:
            return math.inf  # too few probes for this rate
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if excess(mid) <= 0 else (mid, hi)
    return hi


@functools.lru_cache(maxsize=64)
def blocked_optimum(fpr: float, lines: int = LINES) -> tuple[float, int]:
    """(bits per element, k) with the fewest bits per element that reach ``fpr`` (no margin)
    with ``lines`` lines per n-gram (the layout uses ``LINES``; others are for the docs' table).

    Bits per element fall and then rise with k (one minimum), so the search walks from near
    the classic k's share per line towards fewer bits."""
    def bits(per_line: int) -> float:
        return _solve_bits(fpr, lines * per_line, None, lines)

    per_line = max(1, round(0.9 * math.log2(1 / fpr) / lines))
    here = bits(per_line)
    for step in (1, -1):
        while 1 <= per_line + step <= MAX_PROBES_PER_LINE:
            there = bits(per_line + step)
            if there >= here:
                break
            per_line, here = per_line + step, there
    return here, lines * per_line


def invalid(m: int, k: int) -> str | None:
    """Why a header's (m, k) cannot be this layout's (the probe loops assume both), or None."""
    if m % LINE_BITS:
        return f"m = {m} is not a whole number of {LINE_BITS}-bit lines"
    if k % LINES or k > LINES * MAX_PROBES_PER_LINE:
        return f"k = {k} is not a multiple of {LINES} up to {LINES * MAX_PROBES_PER_LINE}"
    return None


def size(capacity: int, fpr: float) -> tuple[int, int]:
    """(m, k) of the blocked layout: k from ``blocked_optimum``, m a whole number of lines."""
    _, k = blocked_optimum(fpr)
    bits = _solve_bits(fpr, k, capacity)
    lines = max(math.ceil(capacity * bits / LINE_BITS), MIN_LINES)
    return lines * LINE_BITS, k


def line_loads(bits: np.ndarray) -> np.ndarray:
    """How many lines have 0..512 bits set (memory: a 64 MiB piece of the filter at a time)."""
    words = bits.view(np.uint64)
    hist = np.zeros(LINE_BITS + 1, dtype=np.int64)
    step = STATS_BYTES // 8
    for i in range(0, len(words), step):
        per_line = np.bitwise_count(words[i : i + step]).reshape(-1, 8).sum(axis=1)
        hist += np.bincount(per_line, minlength=LINE_BITS + 1)
    return hist


def stats(bits: np.ndarray, m: int, k: int) -> FillStats:
    """The FPR of this very filter for a random absent query, (mean over lines of
    (X/512)^(k/2))², from its lines' bit counts X; distinct n-grams from the fill f, inverting
    E[f] = 1 - exp(-λ·(1 - (1 - 1/512)^(k/2))) with λ = 2·512·n/m."""
    hist = line_loads(bits)
    per_line = k // LINES
    loads = np.arange(LINE_BITS + 1)
    fill = float(hist @ loads) / m
    rate = (float(hist @ (loads / LINE_BITS) ** per_line) / float(hist.sum())) ** LINES
    per_ngram = 1 - (1 - 1 / LINE_BITS) ** per_line
    distinct = (-math.log1p(-fill) * m / (LINES * LINE_BITS * per_ngram) if fill < 1
                else math.inf)
    return FillStats(fill, distinct, rate)


def add(bits: np.ndarray, h1: np.ndarray, h2: np.ndarray, m: int, k: int) -> None:
    from overlap import probes

    probes.blocked_add(bits.view(np.uint64), h1, h2, m, k)


def contains(bits: np.ndarray, h1: np.ndarray, h2: np.ndarray, m: int, k: int,
             out: np.ndarray) -> None:
    from overlap import probes

    probes.blocked_contains(bits.view(np.uint64), h1, h2, m, k, out)
