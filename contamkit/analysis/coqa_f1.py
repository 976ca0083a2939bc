"""CoQA answer F1 exactly as the official evaluation script (evaluate-v1.0.py) computes it.

Normalization: lower-case, drop ASCII punctuation, replace the words a/an/the by a space,
collapse whitespace. F1 is over the multiset of normalized tokens; an empty side scores 1 only
against another empty side. With several gold answers, each is left out in turn, the best F1
against the others is taken, and those bests are averaged: a human answer is scored the same
way a prediction is, so model and human F1 are comparable.
"""

from __future__ import annotations

import re
import string
from collections import Counter

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(text: str) -> str:
    """lower -> remove punctuation -> remove articles -> single spaces (the official order)."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def answer_f1(gold: str, pred: str) -> float:
    """Token-level F1 of one prediction against one gold answer."""
    gold_tokens = normalize_answer(gold).split()
    pred_tokens = normalize_answer(pred).split()
    if not gold_tokens or not pred_tokens:
        return float(gold_tokens == pred_tokens)
    same = sum((Counter(gold_tokens) & Counter(pred_tokens)).values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def turn_f1(golds: list[str], pred: str) -> float:
    """F1 of a prediction against a turn's gold answers (the leave-one-out rule)."""
    if not golds:
        raise ValueError("a CoQA turn needs at least one gold answer")
    if len(golds) == 1:
        return answer_f1(golds[0], pred)
    bests = [max(answer_f1(g, pred) for g in golds[:i] + golds[i + 1:])
             for i in range(len(golds))]
    return sum(bests) / len(bests)
