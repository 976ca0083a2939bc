import numpy as np

from overlap.ngrams import count_distinct, unique_pairs, window_starts


def test_count_distinct_equals_a_python_set():
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, 50, size=(2000, 2), dtype=np.uint64)  # many shared h1, some rows twice
    expected = {tuple(r) for r in pairs.tolist()}
    assert count_distinct(pairs) == len(expected)
    assert {tuple(r) for r in unique_pairs(pairs).tolist()} == expected
    assert count_distinct(pairs[:0]) == 0


def test_window_starts_keep_windows_inside_segments():
    # segments of 10, 3 and 9 codes; the last keeps only its first 2 windows (a lookahead)
    starts = window_starts(np.array([10, 3, 9]), np.array([10, 3, 2]), 4)
    assert starts.tolist() == [0, 1, 2, 3, 4, 5, 6, 13, 14]
