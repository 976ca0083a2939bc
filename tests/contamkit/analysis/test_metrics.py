"""Dataset metrics from per-example fields, against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from contamkit.analysis.metrics import (
    ACCURACY,
    BITS_PER_BYTE,
    COQA_F1,
    LAMBADA_PPL,
    TOKEN_PPL,
    WORD_PPL,
    summarize,
)


def test_accuracy_and_lambada_perplexity():
    rows = [{"correct": c, "nll": n} for c, n in [(1, 1.0), (0, 2.0), (1, 3.0), (1, 2.0)]]
    assert ACCURACY.of(rows) == pytest.approx(75.0)
    assert LAMBADA_PPL.of(rows) == pytest.approx(math.exp(2.0))  # exp of the mean target NLL
    assert summarize("lambada", rows) == pytest.approx({"accuracy": 75.0,
                                                        "perplexity": math.exp(2.0)})


def test_lm_metrics_are_ratios_of_totals():
    rows = [{"nll": 2.0, "tokens": 1, "words": 2, "bytes": 4},
            {"nll": 4.0, "tokens": 3, "words": 1, "bytes": 8}]
    assert TOKEN_PPL.of(rows) == pytest.approx(math.exp(6 / 4))
    assert WORD_PPL.of(rows) == pytest.approx(math.exp(6 / 3))
    assert BITS_PER_BYTE.of(rows) == pytest.approx(6 / 12 / math.log(2))
    eight_bits = [{"nll": 8 * math.log(2), "bytes": 4}] * 2
    assert BITS_PER_BYTE.of(eight_bits) == pytest.approx(2.0)


def test_coqa_f1_averages_over_turns_not_stories():
    rows = [{"f1_sum": 1.5, "turns": 2}, {"f1_sum": 0.0, "turns": 1}]
    assert COQA_F1.of(rows) == pytest.approx(50.0)


def test_vectorized_values_and_empty_sets():
    values = TOKEN_PPL.value(np.array([0.0, 2.0]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(values, [1.0, math.e])
    assert math.isnan(ACCURACY.of([]))
