"""The Bloom filter's probe loops, compiled with numba.

Each n-gram sets or tests k bits at g_i = (a + i·b + i(i-1)/2·c) mod m (``overlap.bloom``). In
numpy that means materializing a (k, batch) array of positions and touching all k bits even when
the first probe of an absent n-gram already answers; here each n-gram walks its own probes, with
g_{i+1} = g_i + d_i and d_{i+1} = d_i + c (mod m), so a position costs two additions and two
branch-free compares, and a query stops early once it meets a zero bit. Every position is below
m < 2^63, so no sum overflows. The loops release the GIL (``nogil``), so the build fills the
filter on a thread of its own while another reads and hashes the next batch.
"""

from __future__ import annotations

import numba
import numpy as np

from overlap.murmur import JIT, fmix

_U = np.uint64
LEAD = 4  # probes every query tests before it may stop early
GROUP = 512  # n-grams whose probes are set together


@numba.njit(**JIT)
def _steps(h1: np.uint64, h2: np.uint64, m: np.uint64) -> tuple[np.uint64, np.uint64]:
    """(b, c) of one n-gram: its first step and the step's increment, both below m."""
    return h2 % (m - _U(1)) + _U(1), fmix(h1 ^ ((h2 << _U(32)) | (h2 >> _U(32)))) % m


@numba.njit(**JIT)
def _advance(pos: np.uint64, step: np.uint64, c: np.uint64,
             m: np.uint64) -> tuple[np.uint64, np.uint64]:
    """The next (position, step): both stay below m, so each sum is below 2m."""
    pos += step
    pos = min(pos, pos - m)  # pos - m wraps around above pos when pos < m: branch-free
    step += c
    step = min(step, step - m)
    return pos, step


@numba.njit(**JIT)
def add(bits: np.ndarray, h1: np.ndarray, h2: np.ndarray, m: int, k: int) -> None:
    """Set the k bits of every n-gram (h1[j], h2[j]).

    N-grams go in groups of ``GROUP``: probe i of the whole group is set, then all their
    positions advance in one loop that compiles to SIMD instructions; the group's writes are
    independent, so the CPU overlaps their cache misses."""
    mm = _U(m)
    pos, step, c = np.empty(GROUP, _U), np.empty(GROUP, _U), np.empty(GROUP, _U)
    for start in range(0, len(h1), GROUP):
        size = min(GROUP, len(h1) - start)
        for g in range(size):
            pos[g] = h1[start + g] % mm
            step[g], c[g] = _steps(h1[start + g], h2[start + g], mm)
        for _ in range(k):
            for g in range(size):
                bits[pos[g] >> _U(3)] |= np.uint8(1) << np.uint8(pos[g] & _U(7))
            for g in range(size):
                pos[g], step[g] = _advance(pos[g], step[g], c[g], mm)


@numba.njit(**JIT)
def _is_set(bits: np.ndarray, pos: np.uint64) -> bool:
    return (bits[pos >> _U(3)] >> np.uint8(pos & _U(7))) & np.uint8(1) != 0


@numba.njit(**JIT)
def contains(bits: np.ndarray, h1: np.ndarray, h2: np.ndarray, m: int, k: int,
             out: np.ndarray) -> None:
    """out[j] = whether all k bits of n-gram j are set.

    A first pass tests the first LEAD probes of every n-gram without branching, so the CPU
    overlaps their memory reads across n-grams; only the few that pass (one in 2^LEAD when
    the filter is half full) are walked on, stopping at their first zero bit."""
    mm = _U(m)
    lead = min(LEAD, k)
    for j in range(len(h1)):
        pos = h1[j] % mm
        step, c = _steps(h1[j], h2[j], mm)
        found = _is_set(bits, pos)
        for _ in range(lead - 1):
            pos, step = _advance(pos, step, c, mm)
            found &= _is_set(bits, pos)
        out[j] = found
    for j in range(len(h1)):
        if not out[j]:
            continue
        pos = h1[j] % mm
        step, c = _steps(h1[j], h2[j], mm)
        for i in range(1, k):
            pos, step = _advance(pos, step, c, mm)
            if i >= lead and not _is_set(bits, pos):
                out[j] = False
                break


# ------------------------------------------------------------------ blocked layout
LINE_BITS = 512  # one 64-byte cache line (overlap.blocked: the scheme and its sizing)
LINES = 2  # lines per n-gram (_pattern writes both)
_WORDS = LINE_BITS // 64
_PER_WORD = 7  # 9-bit probe positions drawn from one 64-bit mixed word
_GOLDEN = _U(0x9E3779B97F4A7C15)


@numba.njit(**JIT)
def _patterns(h1: np.ndarray, h2: np.ndarray, start: int, size: int, lines: np.uint64, k: int,
              line: np.ndarray, mask: np.ndarray) -> None:
    """The LINES lines of n-grams start..start+size-1 and the bits each sets in them
    (``overlap.blocked``): line[g*2 + l] is the first word of line l of n-gram g,
    mask[(g*2 + l)*8 + w] the bits it sets in word w of that line."""
    per_line = k // LINES
    mask[: size * LINES * _WORDS] = 0
    for g in range(size):
        a, b = h1[start + g], h2[start + g]
        line[g * LINES] = a % lines * _U(_WORDS)
        line[g * LINES + 1] = b % lines * _U(_WORDS)
        s = a ^ ((b << _U(32)) | (b >> _U(32)))
        base = g * LINES * _WORDS
        i = 0
        t = _U(1)
        while i < k:
            r = fmix(s + t * _GOLDEN)
            t += _U(1)
            for _ in range(_PER_WORD):
                if i == k:
                    break
                bit = r & _U(LINE_BITS - 1)
                r >>= _U(9)
                word = base + (i >= per_line) * _WORDS + np.int64(bit >> _U(6))
                mask[word] |= _U(1) << (bit & _U(63))
                i += 1


@numba.njit(**JIT)
def blocked_add(words: np.ndarray, h1: np.ndarray, h2: np.ndarray, m: int, k: int) -> None:
    """OR every n-gram's pattern into its two lines of ``words`` (the filter as uint64).

    A group's patterns are computed first, then written in a loop of plain loads and stores
    with no dependence between n-grams, so the CPU keeps many lines' misses in flight."""
    lines = _U(m // LINE_BITS)
    line = np.empty(GROUP * LINES, _U)
    mask = np.empty(GROUP * LINES * _WORDS, _U)
    for start in range(0, len(h1), GROUP):
        size = min(GROUP, len(h1) - start)
        _patterns(h1, h2, start, size, lines, k, line, mask)
        for j in range(size * LINES):
            base = line[j]
            for w in range(_WORDS):
                words[base + _U(w)] |= mask[j * _WORDS + w]


@numba.njit(**JIT)
def blocked_contains(words: np.ndarray, h1: np.ndarray, h2: np.ndarray, m: int, k: int,
                     out: np.ndarray) -> None:
    """out[j] = whether every bit of n-gram j's pattern is set; the second line is read only
    when the first has all its bits (for absent n-grams, about one in 10^4 at 1e-8)."""
    lines = _U(m // LINE_BITS)
    line = np.empty(GROUP * LINES, _U)
    mask = np.empty(GROUP * LINES * _WORDS, _U)
    for start in range(0, len(h1), GROUP):
        size = min(GROUP, len(h1) - start)
        _patterns(h1, h2, start, size, lines, k, line, mask)
        for g in range(size):
            missing = _U(0)
            for j in range(g * LINES, (g + 1) * LINES):
                base = line[j]
                for w in range(_WORDS):
                    missing |= mask[j * _WORDS + w] & ~words[base + _U(w)]
                if missing:  # nearly every absent n-gram: its second line is not read
                    break
            out[start + g] = missing == _U(0)
