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
    min_k_plus_plus,
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
    m = text_measures(text, np.stack([lp, np.full(5, -3.0), np.full(5, 2.0)], 1), 0.2)
    assert m["loss"] == pytest.approx(2.22) and m["min_k"] == -5.0
    assert m["min_k_pp"] == pytest.approx((-5.0 + 3.0) / 2.0)
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


# Min-K%++ by hand: a model whose prediction is p = (1/2, 1/4, 1/8, 1/8) at every position.
# log p = -(1, 2, 3, 3) ln 2, so mu = sum p log p = -1.75 ln 2 and
# sigma^2 = sum p (log p)^2 - mu^2 = (3.75 - 3.0625) (ln 2)^2 = 0.6875 (ln 2)^2: the ln 2 cancel in
# z = (log p(x) - mu) / sigma, giving z = 0.75 / sqrt(0.6875) = 0.9045 for token 0 and
# z = -1.25 / sqrt(0.6875) = -1.5076 for tokens 2 and 3.
LN2 = math.log(2)
P = np.array([0.5, 0.25, 0.125, 0.125])
Z_TOKEN0, Z_TOKEN2 = 0.75 / math.sqrt(0.6875), -1.25 / math.sqrt(0.6875)


def fixed_distribution_gpt():
    """logits = log P at every position: final LayerNorm constant (weight 0, bias e), output
    embedding rows = log P_v * e / |e|^2 (tied, so the input embedding is that matrix too)."""
    import torch

    from model.gpt2 import GPT, GPTConfig

    torch.manual_seed(0)
    model = GPT(GPTConfig(block_size=16, vocab_size=4, n_layer=1, n_head=1, n_embd=4)).eval()
    e = torch.tensor([1.0, 0.0, 0.0, 0.0])
    with torch.no_grad():
        model.transformer.ln_f.weight.zero_()
        model.transformer.ln_f.bias.copy_(e)
        model.transformer.wte.weight.copy_(torch.log(torch.tensor(P))[:, None] * e)
    return model


def test_min_k_plus_plus_by_hand():
    sigma = math.sqrt(0.6875) * LN2
    rows = np.array([[-LN2, -1.75 * LN2, sigma], [-3 * LN2, -1.75 * LN2, sigma]])
    assert min_k_plus_plus(rows, 0.5) == pytest.approx(Z_TOKEN2)  # the lowest 1 of 2
    assert min_k_plus_plus(rows, 1.0) == pytest.approx((Z_TOKEN0 + Z_TOKEN2) / 2)
    certain = np.array([[0.0, 0.0, 0.0], [-LN2, -1.75 * LN2, sigma]])
    assert min_k_plus_plus(certain, 1.0) == pytest.approx(Z_TOKEN0 / 2)  # sigma 0: z = 0
    assert math.isnan(min_k_plus_plus(np.zeros((0, 3))))


def test_min_k_plus_plus_through_the_model():
    from model.scoring import token_logprob_moments

    (rows,) = token_logprob_moments(fixed_distribution_gpt(), [[1, 0, 2, 3, 0]])
    # targets 0, 2, 3, 0 after the first token
    np.testing.assert_allclose(rows[:, 0], np.log(P[[0, 2, 3, 0]]), rtol=1e-5)
    np.testing.assert_allclose(rows[:, 1], -1.75 * LN2, rtol=1e-5)
    np.testing.assert_allclose(rows[:, 2], math.sqrt(0.6875) * LN2, rtol=1e-4)
    assert min_k_plus_plus(rows, 0.5) == pytest.approx(Z_TOKEN2, rel=1e-4)  # lowest 2 of 4
    assert min_k_plus_plus(rows, 1.0) == pytest.approx((Z_TOKEN0 + Z_TOKEN2) / 2, rel=1e-4)


def test_moments_match_a_direct_computation_on_a_random_model():
    """mu and sigma from a full forward pass in float64 numpy, sliding windows included."""
    import torch

    from model.gpt2 import GPT, GPTConfig
    from model.scoring import token_logprob_moments, token_logprobs

    torch.manual_seed(1)
    model = GPT(GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8)).eval()
    seqs = [[3, 1, 4, 1, 5, 9, 2, 6], [5, 3], [7]]
    got = token_logprob_moments(model, seqs, batch_size=2)
    assert [len(g) for g in got] == [7, 1, 0]
    for seq, rows in zip(seqs[:2], got[:2], strict=True):
        with torch.no_grad():
            logits = model(torch.tensor([seq]))[0][0].double().numpy()
        logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        p = np.exp(logp)
        mu = (p * logp).sum(1)
        sigma = np.sqrt((p * logp**2).sum(1) - mu**2)
        np.testing.assert_allclose(rows[:, 0], logp[np.arange(len(seq) - 1), seq[1:]], atol=1e-5)
        np.testing.assert_allclose(rows[:, 1], mu[:-1], atol=1e-5)
        np.testing.assert_allclose(rows[:, 2], sigma[:-1], atol=1e-4)
    # the log-probs are token_logprobs' exactly; a longer sequence goes through windows
    long_seq = list(np.random.default_rng(0).integers(0, 11, 30))
    (rows,) = token_logprob_moments(model, [long_seq], stride=3)
    (lp,) = token_logprobs(model, [long_seq], stride=3)
    np.testing.assert_allclose(rows[:, 0], lp, atol=1e-6)
