"""The statistics on synthetic per-example data whose true shift is known."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from contamkit.analysis.metrics import ACCURACY, LAMBADA_PPL, TOKEN_PPL
from contamkit.analysis.shift import (
    bucket_index,
    bucket_labels,
    by_bucket,
    compare_groups,
    permutation_p,
    regression,
)


def bernoulli_groups(rng, n, share_dirty, p_clean, p_dirty):
    dirty = rng.random(n) < share_dirty
    correct = (rng.random(n) < np.where(dirty, p_dirty, p_clean)).astype(float)
    return correct, np.ones(n), dirty


def test_known_accuracy_shift_is_found():
    rng = np.random.default_rng(1)
    correct, ones, dirty = bernoulli_groups(rng, 3000, 0.2, 0.6, 0.8)
    out = compare_groups(ACCURACY, correct, ones, dirty, 1000, 500, np.random.default_rng(0))
    assert out["all"]["value"] == pytest.approx(100 * correct.mean())
    assert out["clean"]["value"] == pytest.approx(100 * correct[~dirty].mean())
    assert out["dirty"]["value"] == pytest.approx(100 * correct[dirty].mean())
    diff = out["dirty_minus_clean"]
    assert diff["value"] == pytest.approx(out["dirty"]["value"] - out["clean"]["value"])
    assert diff["low"] < 20 < diff["high"] and diff["low"] > 5  # the truth, and clearly not 0
    assert diff["p_value"] == pytest.approx(1 / 501)  # no relabelling reaches it
    # excluding the dirty fifth lowers accuracy by about 0.2 x 20 points
    drop = out["without_dirty_minus_all"]
    assert drop["low"] < -4 < drop["high"] and drop["high"] < 0
    # the binomial standard error of the dirty - clean difference, for the interval's width
    se = math.sqrt(0.8 * 0.2 / dirty.sum() + 0.6 * 0.4 / (~dirty).sum()) * 100
    assert diff["high"] - diff["low"] == pytest.approx(2 * 1.96 * se, rel=0.15)


def test_bootstrap_interval_covers_the_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(2)
    covered, trials = 0, 300
    for _ in range(trials):
        correct, ones, dirty = bernoulli_groups(rng, 300, 0.3, 0.5, 0.7)
        out = compare_groups(ACCURACY, correct, ones, dirty, 400, 0, rng)
        covered += out["dirty_minus_clean"]["low"] <= 20 <= out["dirty_minus_clean"]["high"]
    assert 0.90 <= covered / trials <= 0.985


def test_permutation_p_is_uniform_without_a_shift():
    rng = np.random.default_rng(3)
    ps = []
    for _ in range(300):
        correct, ones, dirty = bernoulli_groups(rng, 120, 0.25, 0.6, 0.6)
        ps.append(permutation_p(ACCURACY, np.stack([correct, ones], 1), dirty, 199, rng))
    ps = np.array(ps)
    assert 0.015 <= np.mean(ps <= 0.05) <= 0.09
    assert 0.4 <= np.mean(ps) <= 0.6


def test_ratio_metric_with_a_constant_per_token_loss_has_a_point_interval():
    """Documents of any length whose NLL is 3.0 (clean) / 2.5 (dirty) nats per token: every
    resample has the same per-token perplexity in each group."""
    rng = np.random.default_rng(4)
    tokens = rng.integers(5, 500, 200).astype(float)
    dirty = np.arange(200) % 4 == 0
    nll = tokens * np.where(dirty, 2.5, 3.0)
    out = compare_groups(TOKEN_PPL, nll, tokens, dirty, 300, 100, rng)
    assert out["clean"] == pytest.approx({"value": math.exp(3.0), "low": math.exp(3.0),
                                          "high": math.exp(3.0)})
    assert out["dirty"]["value"] == pytest.approx(math.exp(2.5))
    pooled = nll.sum() / tokens.sum()
    assert out["all"]["value"] == pytest.approx(math.exp(pooled))
    assert out["all"]["low"] < out["all"]["value"] < out["all"]["high"]  # the mix varies
    assert out["dirty_minus_clean"]["p_value"] == pytest.approx(1 / 101)


def test_lambada_style_perplexity_shift():
    """Per-word perplexity exp(mean NLL): dirty examples 0.5 nats better on average."""
    rng = np.random.default_rng(5)
    dirty = rng.random(4000) < 0.1
    nll = rng.normal(np.where(dirty, 1.65, 2.15), 1.0)
    out = compare_groups(LAMBADA_PPL, nll, np.ones(len(nll)), dirty, 1000, 300, rng)
    assert out["clean"]["value"] == pytest.approx(math.exp(nll[~dirty].mean()))
    true = math.exp(1.65) - math.exp(2.15)
    d = out["dirty_minus_clean"]
    assert d["low"] < true < d["high"] < 0


def test_empty_group():
    out = compare_groups(ACCURACY, np.ones(5), np.ones(5), np.zeros(5, bool), 50, 50,
                         np.random.default_rng(0))
    assert out["dirty"] == {"value": None, "low": None, "high": None}
    assert out["clean"]["value"] == 100.0
    assert out["dirty_minus_clean"]["p_value"] is None


def test_a_single_dirty_example_gets_no_interval():
    correct = np.array([1, 0, 1, 1, 0], float)
    out = compare_groups(ACCURACY, correct, np.ones(5), np.arange(5) == 0, 100, 100,
                         np.random.default_rng(0))
    assert out["dirty"] == {"value": 100.0, "low": None, "high": None}
    assert out["dirty_minus_clean"]["low"] is None and out["clean"]["low"] is not None


def test_buckets():
    edges = (0.05, 0.15, 0.5)
    frac = np.array([0, 0.01, 0.05, 0.0501, 0.15, 0.2, 0.5, 0.9, 1.0])
    np.testing.assert_array_equal(bucket_index(frac, edges), [0, 1, 1, 2, 2, 3, 3, 4, 4])
    assert bucket_labels(edges) == ["0", "(0, 5] %", "(5, 15] %", "(15, 50] %", "(50, 100] %"]
    correct = np.array([1, 0, 1, 1, 0, 0, 1, 1, 1], float)
    rows = by_bucket(ACCURACY, correct, np.ones(9), frac, edges, 200, np.random.default_rng(0))
    assert [r["n"] for r in rows] == [1, 2, 2, 2, 2]
    assert [r["value"] for r in rows] == [100.0, 50.0, 50.0, 50.0, 100.0]
    assert rows[4]["low"] == rows[4]["high"] == 100.0
    assert rows[0]["low"] is None and rows[0]["value"] == 100.0  # one example: no interval
    empty = by_bucket(ACCURACY, correct, np.ones(9), frac * 0, edges, 10, np.random.default_rng(0))
    assert empty[1] == {"bucket": "(0, 5] %", "n": 0, "mean_overlap": None, "value": None,
                        "low": None, "high": None}


def test_regression_recovers_a_known_slope():
    rng = np.random.default_rng(6)
    x = np.where(rng.random(2000) < 0.3, rng.random(2000), 0.0)
    y = 2.0 - 1.5 * x + rng.normal(0, 0.5, 2000)
    fit = regression(x, y, 1000, 500, rng)
    slope, intercept = np.polyfit(x, y, 1)
    assert fit["slope"] == pytest.approx(slope) and fit["intercept"] == pytest.approx(intercept)
    assert fit["slope_low"] < -1.5 < fit["slope_high"]
    residual = y - (intercept + slope * x)
    se = math.sqrt(residual @ residual / (len(x) - 2) / ((x - x.mean()) ** 2).sum())
    assert fit["slope_se"] == pytest.approx(se)
    assert (fit["slope_high"] - fit["slope_low"]) == pytest.approx(2 * 1.96 * se, rel=0.2)
    assert fit["p_value"] == pytest.approx(1 / 501)
    assert fit["r2"] == pytest.approx(np.corrcoef(x, y)[0, 1] ** 2)


def test_regression_without_a_slope_and_without_a_trend():
    assert regression(np.zeros(10), np.arange(10.0), 10, 10, np.random.default_rng(0))[
        "slope"] is None
    rng = np.random.default_rng(7)
    x, y = rng.random(300), rng.normal(size=300)
    assert regression(x, y, 200, 400, rng)["p_value"] > 0.01


def test_resampling_is_vectorized_enough():
    rng = np.random.default_rng(8)
    correct, ones, dirty = bernoulli_groups(rng, 5153, 0.1, 0.6, 0.65)
    start = time.perf_counter()
    compare_groups(ACCURACY, correct, ones, dirty, 2000, 2000, rng)
    assert time.perf_counter() - start < 20  # LAMBADA's size with the default settings


def test_untested_examples_count_in_all_but_not_in_clean():
    correct = np.array([1, 1, 0, 0, 1, 0], float)
    dirty = np.array([0, 0, 0, 1, 1, 0], bool)
    tested = np.array([1, 1, 1, 1, 1, 0], bool)  # the last one is too short to test
    out = compare_groups(ACCURACY, correct, np.ones(6), dirty, 100, 100,
                         np.random.default_rng(0), tested)
    assert out["all"]["value"] == pytest.approx(50.0)
    assert out["clean"]["value"] == pytest.approx(200 / 3)
    assert out["dirty"]["value"] == pytest.approx(50.0)
    assert out["without_dirty"]["value"] == pytest.approx(50.0)  # 2 of the 4 non-dirty
    assert out["without_dirty_minus_all"]["value"] == pytest.approx(0.0)
    # p over the 5 tested only (3 right, 2 wrong): observed |1/2 - 2/3| = 1/6; every choice of
    # 2 dirty gives |1 - 1/3|, |1/2 - 2/3| or |0 - 1|, all at least as extreme
    assert out["dirty_minus_clean"]["p_value"] == 1.0
