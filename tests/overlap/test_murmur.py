import mmh3
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from overlap.murmur import LANES, fmix, window_hashes, word_codes

word = st.text(alphabet=st.characters(min_codepoint=0x21, blacklist_categories=("Cs",)),
               min_size=1, max_size=70)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1])
def test_window_hashes_equal_mmh3_library(n, seed):
    codes = np.random.default_rng(n * 7 + seed).integers(0, 2**64, 40, dtype=np.uint64)
    h1, h2 = window_hashes(codes, np.array([40]), np.array([40]), n, seed)
    assert len(h1) == len(h2) == 40 - n + 1
    for start in range(len(h1)):
        key = codes[start : start + n].astype("<u8").tobytes()
        assert int(h1[start]) | (int(h2[start]) << 64) == mmh3.hash128(key, seed, signed=False)


@pytest.mark.parametrize("n", [3, 8])
def test_window_hashes_of_many_segments_equal_mmh3_library(n):
    """Segments with fewer and more windows than LANES, some cut short by ``allowed``."""
    lengths = np.array([0, 1, 7, 8, LANES + 7, 3 * LANES + 11, 100])
    allowed = np.array([5, 5, 0, 1, LANES + 7, LANES + 1, 1000])
    codes = np.random.default_rng(9).integers(0, 2**64, lengths.sum(), dtype=np.uint64)
    h1, h2 = window_hashes(codes, lengths, allowed, n, 5)
    expected, offset = [], 0
    for length, keep in zip(lengths.tolist(), allowed.tolist(), strict=True):
        for start in range(offset, offset + min(max(length - n + 1, 0), keep)):
            key = codes[start : start + n].astype("<u8").tobytes()
            expected.append(mmh3.hash128(key, 5, signed=False))
        offset += length
    assert [int(a) | (int(b) << 64) for a, b in zip(h1, h2, strict=True)] == expected


def test_fmix_is_murmurs_finalizer():
    def reference(v):
        for mult in (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53):
            v = ((v ^ (v >> 33)) * mult) % 2**64
        return v ^ (v >> 33)
    for v in (0, 1, 12345678901234567, 2**64 - 1):
        assert int(fmix(np.uint64(v))) == reference(v)


@settings(max_examples=200, deadline=None)
@given(st.lists(word, max_size=30), st.text(" \n", min_size=1, max_size=3), st.integers(0, 2))
def test_word_codes_equal_mmh3(words, gap, edge):
    text = " " * edge + gap.join(words) + "\n" * edge
    buf = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    codes, starts = word_codes(buf)
    assert codes.tolist() == [mmh3.hash64(w, 0, signed=False)[0] for w in words]
    assert all(buf[s - 1] <= 32 for s in starts if s) and all(buf[s] > 32 for s in starts)
