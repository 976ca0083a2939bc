"""Membership measures and ROC AUC, against hand-checked cases and a brute-force count."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contamkit.experiments.detectors import (
    auc_interval,
    average_ranks,
    min_k_prob,
    roc_auc,
    roc_curve,
    separation,
    text_measures,
)


def brute_force_auc(pos, neg) -> float:
    """The Mann-Whitney count itself: every (positive, negative) pair, ties one half."""
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


scores = st.lists(st.integers(-5, 5).map(float), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(scores, scores)
def test_auc_equals_pairwise_count(pos, neg):
    assert roc_auc(np.array(pos), np.array(neg)) == pytest.approx(brute_force_auc(pos, neg))


def test_auc_hand_checked():
    # pairs: 3>1, 3>2, 3=3(.5), 2>1, 2=2(.5), 2<3 -> 4 of 6
    assert roc_auc(np.array([3.0, 2.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(4 / 6)
    assert roc_auc(np.array([5.0]), np.array([1.0])) == 1.0
    assert roc_auc(np.array([0.0]), np.array([1.0])) == 0.0
    assert math.isnan(roc_auc(np.array([]), np.array([1.0])))


def test_average_ranks_share_ties():
    assert average_ranks(np.array([10.0, 20.0, 10.0, 30.0])).tolist() == [1.5, 3.0, 1.5, 4.0]


def test_auc_interval_brackets_the_point_and_is_degenerate_when_separated():
    rng = np.random.default_rng(0)
    pos, neg = rng.normal(1, 1, 60), rng.normal(0, 1, 80)
    a = auc_interval(pos, neg, 500, rng)
    assert a["low"] < a["value"] < a["high"]
    assert a["value"] == pytest.approx(brute_force_auc(pos, neg))
    perfect = auc_interval(np.array([5.0, 6.0]), np.array([1.0, 2.0]), 100, rng)
    assert perfect == {"value": 1.0, "low": 1.0, "high": 1.0}


def test_roc_curve_area_is_the_auc():
    rng = np.random.default_rng(1)
    pos, neg = rng.integers(0, 6, 40).astype(float), rng.integers(0, 5, 50).astype(float)
    fpr, tpr = roc_curve(pos, neg)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))  # trapezoids: ties count 1/2
    assert area == pytest.approx(roc_auc(pos, neg))


def test_min_k_and_zlib_by_hand():
    lp = np.array([-1.0, -5.0, -3.0, -2.0, -0.1])
    assert min_k_prob(lp, 0.4) == pytest.approx(-4.0)  # lowest 2 of 5: -5, -3
    assert min_k_prob(lp, 0.01) == pytest.approx(-5.0)  # at least one token
    assert min_k_prob(lp, 1.0) == pytest.approx(lp.mean())
    text = "the same words " * 20
    m = text_measures(text, lp, 0.2)
    assert m["loss"] == pytest.approx(2.22)
    assert m["zlib_ratio"] == pytest.approx(2.22 / len(zlib.compress(text.encode())))


def test_separation_orients_every_measure_towards_members():
    member = np.array([True] * 5 + [False] * 5)
    low_loss_members = np.r_[np.full(5, 1.0), np.full(5, 3.0)]
    assert separation("loss", low_loss_members, member, 50, np.random.default_rng(0)).auc[
        "value"] == 1.0
    high_mink_members = -low_loss_members
    assert separation("min_k", high_mink_members, member, 50, np.random.default_rng(0)).auc[
        "value"] == 1.0
    overlap = np.r_[np.full(5, 1.0), np.zeros(5)]
    s = separation("ngram_overlap", overlap, member, 50, np.random.default_rng(0))
    assert s.auc["value"] == 1.0 and s.tpr_at_low_fpr == 1.0


def test_separation_leaves_out_undefined_values():
    member = np.array([True, True, False, False])
    values = np.array([1.0, np.nan, 2.0, 3.0])
    assert separation("loss", values, member, 10, np.random.default_rng(0)).auc["value"] == 1.0
