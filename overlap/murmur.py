"""MurmurHash3 x64_128, compiled with numba: of n-gram windows of codes, and of words.

Two keys are hashed, both bit-for-bit equal to the mmh3 library (the tests check):

* an n-gram: its n uint64 codes as little-endian bytes (8·n bytes), ``mmh3.hash128(key, seed)``
  split into the low (h1) and high (h2) 64-bit halves;
* a word (the ``words`` unit's code): the low half of ``mmh3.hash128(word_utf8, 0)``.

All windows of a batch are hashed in one compiled loop.
"""

from __future__ import annotations

import numba
import numpy as np

_U = np.uint64
_C1 = _U(0x87C37B91114253D5)
_C2 = _U(0x4CF5AD432745937F)
_N1 = _U(0x52DCE729)
_N2 = _U(0x38495AB5)
_SPACE = np.uint8(32)
JIT = {"nogil": True, "cache": True}  # cache: compiled once per machine, not per process
LANES = 16  # n-gram windows hashed side by side


@numba.njit(**JIT)
def fmix(h):
    """Murmur's 64-bit finalizer."""
    h ^= h >> _U(33)
    h *= _U(0xFF51AFD7ED558CCD)
    h ^= h >> _U(33)
    h *= _U(0xC4CEB9FE1A85EC53)
    h ^= h >> _U(33)
    return h


@numba.njit(**JIT)
def _rotl(x, r):
    return (x << _U(r)) | (x >> _U(64 - r))


@numba.njit(**JIT)
def _mix_k1(k1):
    return _rotl(k1 * _C1, 31) * _C2


@numba.njit(**JIT)
def _mix_k2(k2):
    return _rotl(k2 * _C2, 33) * _C1


@numba.njit(**JIT)
def _block(h1, h2, mixed1, mixed2):
    """Mix one 16-byte block, its halves through _mix_k1 and _mix_k2, into the state."""
    h1 = _rotl(h1 ^ mixed1, 27) + h2
    h1 = h1 * _U(5) + _N1
    h2 = _rotl(h2 ^ mixed2, 31) + h1
    return h1, h2 * _U(5) + _N2


@numba.njit(**JIT)
def _finalize(h1, h2, length):
    """Mix in the key length, avalanche, and cross-add the halves."""
    h1 ^= length
    h2 ^= length
    h1 += h2
    h2 += h1
    h1 = fmix(h1)
    h2 = fmix(h2)
    h1 += h2
    return h1, h2 + h1


@numba.njit(**JIT)
def window_hashes(codes, lengths, allowed, n, seed):
    """(h1, h2) arrays of the first ``allowed[j]`` complete n-code windows of each segment j
    (``lengths[j]`` consecutive codes of ``codes``), in order: windows never cross segments.
    The hash is mmh3.hash128 of the window's codes as little-endian bytes.

    One key's blocks form a chain of dependent steps that leaves most of the CPU idle, so
    ``LANES`` windows are hashed side by side. (The loops are written out: as called functions
    they ran 1.5x slower.)"""
    counts = np.empty(len(lengths), dtype=np.int64)
    total = 0
    for j in range(len(lengths)):  # a loop: array expressions compile for seconds
        counts[j] = min(max(lengths[j] - n + 1, 0), allowed[j])
        total += counts[j]
    h1_out = np.empty(total, dtype=_U)
    h2_out = np.empty_like(h1_out)
    h1, h2 = np.empty(LANES, dtype=_U), np.empty(LANES, dtype=_U)
    start = _U(seed & 0xFFFFFFFF)
    offset = out = 0
    for j in range(len(lengths)):
        end = offset + counts[j]
        for first in range(offset, end, LANES):
            size = min(LANES, end - first)
            for lane in range(size):
                h1[lane] = h2[lane] = start
            for b in range(n // 2):
                for lane in range(size):
                    s = first + lane + 2 * b
                    h1[lane], h2[lane] = _block(h1[lane], h2[lane], _mix_k1(codes[s]),
                                                _mix_k2(codes[s + 1]))
            if n % 2:  # an 8-byte tail only feeds k1
                for lane in range(size):
                    h1[lane] ^= _mix_k1(codes[first + lane + n - 1])
            for lane in range(size):
                h1_out[out + lane], h2_out[out + lane] = _finalize(h1[lane], h2[lane],
                                                                   _U(8 * n))
            out += size
        offset += lengths[j]
    return h1_out, h2_out


@numba.njit(**JIT)
def _load(buf, start):
    """The 8 bytes of ``buf`` from ``start`` as a little-endian uint64."""
    v = _U(0)
    for i in range(8):
        v |= _U(buf[start + i]) << _U(8 * i)
    return v


@numba.njit(**JIT)
def _word_hash(padded, start, length):
    """The low half of mmh3.hash128(padded[start:start + length], seed=0), where ``padded``
    has 16 bytes to spare after the word: its tail is read as two full 8-byte loads and
    masked, with no loop whose length changes from word to word (such loops mispredict)."""
    h1 = h2 = _U(0)
    for _ in range(length >> 4):
        h1, h2 = _block(h1, h2, _mix_k1(_load(padded, start)), _mix_k2(_load(padded, start + 8)))
        start += 16
    tail = length & 15
    k1, k2 = _load(padded, start), _load(padded, start + 8)
    if tail < 8:
        k1 &= (_U(1) << _U(8 * tail)) - _U(1)
    elif tail > 8:
        k2 &= ~_U(0) >> _U(8 * (16 - tail))
    if tail > 8:
        h2 ^= _mix_k2(k2)
    if tail > 0:
        h1 ^= _mix_k1(k1)
    return _finalize(h1, h2, _U(length))[0]


@numba.njit(**JIT)
def _word_bounds(buf):
    """(starts, ends) of the words of ``buf``: runs of bytes above 0x20. Branch-free: every
    byte is written to both outputs, and only a word's first (or past-last) byte advances."""
    cap = len(buf) // 2 + 1
    starts = np.empty(cap, dtype=np.int64)
    ends = np.empty(cap, dtype=np.int64)
    s = e = 0
    before = False
    for i in range(len(buf)):
        inside = buf[i] > _SPACE
        starts[s] = i
        s += inside and not before
        ends[e] = i
        e += before and not inside
        before = inside
    ends[e] = len(buf)
    return starts[:s], ends[:s]


@numba.njit(**JIT)
def word_code_spans(buf):
    """(code, start offset, end offset) of every word of the uint8 array ``buf`` (UTF-8, words
    separated by ASCII spaces or newlines: any byte up to 0x20)."""
    starts, ends = _word_bounds(buf)
    padded = np.zeros(len(buf) + 16, dtype=np.uint8)
    for i in range(len(buf)):  # a loop: slice assignment compiles for seconds
        padded[i] = buf[i]
    codes = np.empty(len(starts), dtype=_U)
    for w in range(len(starts)):
        codes[w] = _word_hash(padded, starts[w], ends[w] - starts[w])
    return codes, starts, ends


@numba.njit(**JIT)
def word_codes(buf):
    """(code, start offset) of every word of ``buf`` (``word_code_spans`` less the ends)."""
    codes, starts, _ = word_code_spans(buf)
    return codes, starts
