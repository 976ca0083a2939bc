import mmh3
import numpy as np
import pytest

from contamkit.corpus.read import Document
from overlap import ngrams
from overlap.ngrams import count_distinct, ngram_hashes, segment_hashes, unique_pairs, window_hashes
from overlap.units import make_coder


def test_count_distinct_equals_a_python_set():
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, 50, size=(2000, 2), dtype=np.uint64)  # many shared h1, some rows twice
    expected = {tuple(r) for r in pairs.tolist()}
    assert count_distinct(pairs) == len(expected)
    assert {tuple(r) for r in unique_pairs(pairs).tolist()} == expected
    assert count_distinct(pairs[:0]) == 0


def mmh3_of(codes):
    return mmh3.hash128(np.asarray(codes, dtype="<u8").tobytes(), 3, signed=False)


def test_window_hashes_keep_windows_inside_segments():
    # segments of 10, 3 and 9 codes; the last keeps only its first 2 windows (a lookahead)
    segments = [np.arange(10, dtype=np.uint64) + 100 * j for j, _ in enumerate((10, 3, 9))]
    segments[1], segments[2] = segments[1][:3], segments[2][:9]
    h1, h2 = window_hashes(segments, np.array([10, 3, 2]), 4, 3)
    expected = [mmh3_of(segments[0][i : i + 4]) for i in range(7)]
    expected += [mmh3_of(segments[2][i : i + 4]) for i in range(2)]
    assert [int(a) | (int(b) << 64) for a, b in zip(h1, h2, strict=True)] == expected


def test_segment_hashes_count_windows_per_segment():
    segments = [np.arange(n, dtype=np.uint64) for n in (5, 0, 2, 9)]
    h1, h2, counts = segment_hashes(segments, 3, 0)
    assert counts.tolist() == [3, 0, 0, 7] and len(h1) == len(h2) == 10
    all1, _ = ngram_hashes(segments[3], 3, 0)
    assert np.array_equal(h1[3:], all1)
    assert len(ngram_hashes(np.arange(2, dtype=np.uint64), 3, 0)[0]) == 0


@pytest.mark.parametrize("unit", ["words", "gpt2"])
def test_streams_on_one_two_or_three_threads_give_the_same_hashes(unit, monkeypatch, request):
    """Pieces that continue a document carry their n - 1 codes over, across batches and across
    the halves the helper thread codes; every thread count gives the one-thread hashes."""
    if unit == "gpt2":
        request.getfixturevalue("shared_data")
    monkeypatch.setattr(ngrams, "BATCH_BYTES", 300)  # many batches, each cut in two
    rng = np.random.default_rng(1)
    vocabulary = ["the", "Cat", "sat", "ON", "a", "mat", "é", "naïve", "Σ", "…", "x\u0301"]
    docs = [Document("f", i, " ".join(rng.choice(vocabulary, rng.integers(0, 40))),
                     continues=bool(i % 3)) for i in range(60)]
    coder = make_coder(unit)

    def hashes(threads: int) -> list[tuple[int, int]]:
        stream = ngrams.NgramStream(coder, 4, 7, threads)
        return [pair for h in stream.hashes(docs) for pair in zip(h.h1.tolist(), h.h2.tolist(),
                                                                  strict=True)]

    one = hashes(1)
    assert len(one) > 500 and hashes(2) == one and hashes(3) == one
