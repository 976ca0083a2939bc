"""The data order: epochs are permutations, batches compose, exposures match brute force."""

from __future__ import annotations

import numpy as np
import pytest

from contamkit.common.errors import UserError
from training.dataset import open_prepared
from training.exposure import document_exposures
from training.sequences import WindowOrder, fixed_windows, gather, window_counts


def test_each_epoch_visits_every_window_once():
    order = WindowOrder(num_tokens=1001, block_size=10, seed=5)  # (1001 - 1) // 10 windows
    assert order.num_windows == 100
    seen = order.windows(0, 300)
    for epoch in range(3):
        assert sorted(seen[epoch * 100:(epoch + 1) * 100]) == list(range(100))
    assert not np.array_equal(seen[:100], seen[100:200])  # a new order each epoch


def test_pieces_compose_like_one_call():
    """What makes resume and DDP exact: any split of the positions gives the same windows."""
    order, fresh = WindowOrder(5000, 7, seed=1), WindowOrder(5000, 7, seed=1)
    whole = order.windows(0, 2000)
    pieces = np.concatenate([fresh.windows(a, b - a) for a, b in
                             [(0, 3), (3, 700), (700, 715), (715, 1600), (1600, 2000)]])
    np.testing.assert_array_equal(whole, pieces)
    assert not np.array_equal(whole, WindowOrder(5000, 7, seed=2).windows(0, 2000))


def test_gather_matches_slicing():
    tokens = np.arange(100, 200, dtype=np.uint16)
    x, y = gather(tokens, np.array([3, 0]), block_size=8)
    assert x.tolist() == [list(range(124, 132)), list(range(100, 108))]
    assert y.tolist() == [list(range(125, 133)), list(range(101, 109))]


def test_fixed_windows():
    assert fixed_windows(41, 10, 100, seed=0).tolist() == [0, 1, 2, 3]
    chosen = fixed_windows(10001, 10, 50, seed=0)
    assert len(set(chosen.tolist())) == 50 and chosen.max() < 1000
    np.testing.assert_array_equal(chosen, fixed_windows(10001, 10, 50, seed=0))


def test_too_few_tokens_for_a_window():
    with pytest.raises(UserError, match="fewer than one window"):
        WindowOrder(10, block_size=16, seed=0)


def test_window_counts_match_bincount():
    order = WindowOrder(3001, 10, seed=3)
    for sequences in (0, 1, 299, 300, 301, 1234):
        brute = np.bincount(WindowOrder(3001, 10, seed=3).windows(0, sequences), minlength=300)
        np.testing.assert_array_equal(window_counts(order, sequences), brute)


@pytest.mark.parametrize("epochs", [0, 0.01, 2.3])
def test_document_exposures_match_brute_force(bpe_data, epochs):
    data = open_prepared(bpe_data)
    block = 64
    order = WindowOrder(len(data.train), block, seed=9)
    sequences = int(epochs * order.num_windows)
    windows = order.windows(0, sequences)
    targets = np.zeros(len(data.train), dtype=np.int64)
    for w in windows:  # window w predicts tokens wT+1 .. wT+T
        targets[w * block + 1:w * block + block + 1] += 1
    targets[0] = np.sum(windows == 0)  # the split's first token: context of window 0 only
    meta = data.manifest["splits"]["train"]
    expected = [targets[o:o + n + 1].min() for o, n in zip(meta["doc_offset"],
                                                           meta["doc_tokens"], strict=True)]
    got = document_exposures(data, block, seed=9, sequences=sequences)
    np.testing.assert_array_equal(got, expected)
    if epochs == 2.3:  # two full epochs and part of a third
        assert set(got[:-1].tolist()) <= {2, 3} and got.max() == 3
