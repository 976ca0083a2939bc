"""Dataset metrics as ratios of per-example sums, so any subset can be scored the same way.

Every metric is ``scale(sum(num) / sum(den))`` over per-example fields: accuracy is the mean of
a 0/1 field, LAMBADA's per-word perplexity is exp of the mean target NLL, an LM set's token
perplexity is exp(total NLL / total tokens), CoQA F1 is the mean over turns of stories. The
evaluation's headline figures, the clean/dirty split, the bootstrap and the permutation test
all go through :meth:`Metric.value`, so they cannot disagree about what a metric is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Metric:
    name: str
    num: str  # per-example field summed in the numerator
    den: str | None  # per-example field summed in the denominator; None counts examples
    scale: str  # percent: 100 x ratio; exp: e^ratio (perplexity); bits: ratio / ln 2; mean: ratio
    higher_is_better: bool
    label: str

    def columns(self, rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        """Per-example numerator and denominator as float arrays."""
        num = np.array([float(r[self.num]) for r in rows], dtype=np.float64)
        den = (np.ones(len(rows)) if self.den is None
               else np.array([float(r[self.den]) for r in rows], dtype=np.float64))
        return num, den

    def value(self, num_sum: np.ndarray | float, den_sum: np.ndarray | float) -> np.ndarray:
        """The metric from summed columns (arrays of sums give arrays of values; 0/0 is nan)."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = np.asarray(num_sum, dtype=np.float64) / np.asarray(den_sum, dtype=np.float64)
            if self.scale == "percent":
                return 100.0 * ratio
            if self.scale == "exp":
                return np.exp(ratio)
            if self.scale == "mean":
                return ratio
            return ratio / math.log(2)

    def of(self, rows: list[dict]) -> float:
        num, den = self.columns(rows)
        return float(self.value(num.sum(), den.sum()))


ACCURACY = Metric("accuracy", "correct", None, "percent", True, "accuracy (%)")
LAMBADA_PPL = Metric("perplexity", "nll", None, "exp", False, "perplexity (per word)")
COQA_F1 = Metric("f1", "f1_sum", "turns", "percent", True, "F1")
TOKEN_PPL = Metric("token_perplexity", "nll", "tokens", "exp", False, "perplexity (per token)")
WORD_PPL = Metric("word_perplexity", "nll", "words", "exp", False, "perplexity (per word)")
BITS_PER_BYTE = Metric("bits_per_byte", "nll", "bytes", "bits", False, "bits per byte")
ACC = Metric("acc", "acc", None, "percent", True, "accuracy (%)")
ACC_NORM = Metric("acc_norm", "acc_norm", None, "percent", True,
                  "accuracy, length-normalized (%)")
EXACT_MATCH = Metric("exact_match", "exact_match", None, "percent", True, "exact match (%)")
EXACT_MATCH_FLEXIBLE = Metric("exact_match_flexible", "exact_match_flexible", None, "percent",
                              True, "exact match, flexible extraction (%)")

# What each kind of evaluation reports; the first metric is the headline one.
TASK_METRICS: dict[str, tuple[Metric, ...]] = {
    "lambada": (ACCURACY, LAMBADA_PPL),
    "coqa": (COQA_F1,),
    "winograd": (ACCURACY,),
    "lm": (TOKEN_PPL, WORD_PPL, BITS_PER_BYTE),
    "multiple_choice": (ACC, ACC_NORM),
    "exact_match": (EXACT_MATCH, EXACT_MATCH_FLEXIBLE),
}


def summarize(task: str, rows: list[dict]) -> dict[str, float]:
    """Every metric of ``task`` over ``rows``."""
    return {m.name: m.of(rows) for m in TASK_METRICS[task]}
