"""Injection bookkeeping: exactly the chosen examples, exactly k copies."""

from __future__ import annotations

from collections import Counter

import pytest

from contamkit.common.errors import UserError
from contamkit.experiments.inject import assign_copies, inject, unique_texts

IDS = [f"b/test/{i:05d}" for i in range(50)]
TEXTS = {i: f"benchmark passage number {i} with some words" for i in IDS}
CLEAN = [f"clean document {j} about something else" for j in range(30)]


def test_assign_copies_gives_each_count_exactly_per_count_examples():
    plan = assign_copies(IDS, [1, 4, 16], 5, seed=3)
    assert list(plan.copies) == IDS  # benchmark order kept
    assert Counter(plan.copies.values()) == {0: 35, 1: 5, 4: 5, 16: 5}
    assert assign_copies(IDS, [1, 4, 16], 5, seed=3).copies == plan.copies  # seeded
    assert assign_copies(IDS, [1, 4, 16], 5, seed=4).copies != plan.copies
    assert set(plan.injected) | set(plan.heldout) == set(IDS)


def test_too_few_examples_is_a_user_error():
    with pytest.raises(UserError, match="need more than 15"):
        assign_copies(IDS[:15], [1, 4, 16], 5, seed=0)


def test_injected_corpus_holds_exactly_k_copies_of_exactly_the_chosen_examples():
    plan = assign_copies(IDS, [1, 4, 16], 5, seed=0)
    docs, positions = inject(CLEAN, TEXTS, plan)
    in_corpus = Counter(d["text"] for d in docs)
    for i, k in plan.copies.items():
        assert in_corpus[TEXTS[i]] == k
        assert len(positions.get(i, [])) == k
        assert all(docs[p]["text"] == TEXTS[i] and docs[p]["example"] == i
                   for p in positions.get(i, []))
    # the clean documents are all there, in their order, and nothing else was added
    assert [d["text"] for d in docs if d["source"] == "corpus"] == CLEAN
    assert len(docs) == len(CLEAN) + 5 * (1 + 4 + 16)
    # copies of one example are spread out, not one block
    assert len({p for p in positions[plan.injected[-1]]}) == plan.copies[plan.injected[-1]]


def test_unique_texts_keeps_the_first_of_each_text():
    assert unique_texts(["a", "b", "c", "d"], ["x", "y", "x", "z"]) == [0, 1, 3]
