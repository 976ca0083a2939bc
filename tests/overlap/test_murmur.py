import mmh3
import numpy as np
import pytest

from overlap.murmur import ngram_hashes


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1])
def test_equals_mmh3_library(n, seed):
    rng = np.random.default_rng(n * 7 + seed)
    codes = rng.integers(0, 2**64, 40, dtype=np.uint64)
    h1, h2 = ngram_hashes(codes, n, seed)
    assert len(h1) == len(codes) - n + 1
    for i in range(len(h1)):
        key = codes[i : i + n].astype("<u8").tobytes()
        expected = mmh3.hash128(key, seed, signed=False)
        assert int(h1[i]) | (int(h2[i]) << 64) == expected


def test_short_input_has_no_ngrams():
    h1, h2 = ngram_hashes(np.arange(3, dtype=np.uint64), 8, 0)
    assert len(h1) == len(h2) == 0


def test_seed_changes_hashes():
    codes = np.arange(20, dtype=np.uint64)
    assert not np.array_equal(ngram_hashes(codes, 8, 0)[0], ngram_hashes(codes, 8, 1)[0])
