"""CoQA F1 against hand-worked cases that exercise each rule of the official script."""

from __future__ import annotations

import pytest

from contamkit.analysis.coqa_f1 import answer_f1, normalize_answer, turn_f1


@pytest.mark.parametrize("text, expected", [
    ("The Cat's hat!", "cats hat"),  # lower, punctuation dropped inside words, article dropped
    ("An apple a day", "apple day"),
    ("another theater", "another theater"),  # articles only as whole words
    ("A.B.C.", "abc"),  # punctuation goes first, so no article appears
    ("a-n", ""),  # ... and here one does: "an"
    ("don\u2019t", "don\u2019t"),  # only ASCII punctuation is removed
    ("  the\tquick\n fox ", "quick fox"),
    ("$1,000.50", "100050"),
    ("THE", ""),
])
def test_normalization(text, expected):
    assert normalize_answer(text) == expected


@pytest.mark.parametrize("gold, pred, expected", [
    ("New York City", "new york", 0.8),  # P 1, R 2/3
    ("a cat cat dog", "cat cat cat", 2 / 3),  # multiset: two cats in common
    ("", "", 1.0),
    ("the", "an", 1.0),  # both normalize to nothing: they agree
    ("", "something", 0.0),
    ("something", "the", 0.0),
    ("yes", "Yes.", 1.0),
    ("red car", "blue bike", 0.0),
])
def test_answer_f1(gold, pred, expected):
    assert answer_f1(gold, pred) == pytest.approx(expected)


def test_several_golds_leave_one_out():
    # leave "red": max(2/3, 0); leave "red car": max(1, 0); leave "blue": max(1, 2/3)
    assert turn_f1(["red", "red car", "blue"], "red") == pytest.approx((2 / 3 + 1 + 1) / 3)
    # a prediction equal to one of two disagreeing golds gets half, as a human would
    assert turn_f1(["yes", "no"], "yes") == pytest.approx(0.5)
    assert turn_f1(["Yes."], "yes") == 1.0


def test_a_turn_needs_a_gold_answer():
    with pytest.raises(ValueError):
        turn_f1([], "x")
