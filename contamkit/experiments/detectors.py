"""Membership measures (was this text in the training data?), one registry table, and how well
each separates members from non-members.

From the per-token log-probabilities l_1..l_n of a text under a model (PAPER.md, "Model-based
memorization measures"):

* loss: -mean(l);
* Min-K% Prob: the mean of the lowest k % of the l_i (Shi et al. 2023);
* Min-K%++: the mean of the lowest k % of z_i = (l_i - mu_i) / sigma_i, with mu_i and sigma_i the
  mean and standard deviation of log p(v) over the vocabulary under the model's own
  distribution at position i (Zhang et al. 2024): a token is surprising *for how spread the
  model's prediction there is*;
* zlib ratio: loss / zlib-compressed length of the text in bytes (Carlini et al. 2021): a text
  the model finds easy *for how compressible it is*;
* reference ratio: loss under the target model minus loss under a reference model trained by
  the same recipe without the text.

Every measure is turned into a *membership score* where higher means "more likely seen", so one
ROC AUC convention serves all: AUC = P(score of a member > score of a non-member), ties counting
one half (the Mann-Whitney U statistic over n_pos x n_neg).

``MEASURES`` is the registry the experiment, its report and the demo read: a new measure is one
entry (and, if it needs more than a text and its token log-probabilities, a field of
``Evidence`` that ``experiments.scoring`` fills).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from contamkit.analysis.shift import interval

DEFAULT_K = 0.2
LOW_FPR = 0.05  # the false-positive rate at which a true-positive rate is reported

def loss(logprobs: np.ndarray) -> float:
    return -float(np.mean(logprobs, dtype=np.float64)) if len(logprobs) else math.nan


def min_k_prob(logprobs: np.ndarray, k: float = DEFAULT_K) -> float:
    """Mean of the lowest ceil(k n) log-probabilities (at least one)."""
    if not len(logprobs):
        return math.nan
    m = max(1, math.ceil(k * len(logprobs)))
    return float(np.partition(logprobs, m - 1)[:m].mean(dtype=np.float64))


def min_k_plus_plus(moments: np.ndarray, k: float = DEFAULT_K) -> float:
    """Min-K%++ from [n, 3] rows (log p of the token, mu, sigma) as
    ``model.scoring.token_logprob_moments`` gives them; a position where the model is certain
    (sigma = 0) has z = 0."""
    if not len(moments):
        return math.nan
    lp, mu, sigma = (np.asarray(moments[:, j], dtype=np.float64) for j in range(3))
    z = np.divide(lp - mu, sigma, out=np.zeros_like(lp), where=sigma > 0)
    return min_k_prob(z, k)


def zlib_bytes(text: str) -> int:
    return len(zlib.compress(text.encode("utf-8")))


# ---------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Evidence:
    """What a model-based measure may read about one text under one model."""

    text: str
    moments: np.ndarray  # [tokens, 3]: each token's log p, and the mean and deviation of log p
    k: float = DEFAULT_K  # Min-K%'s fraction

    @property
    def logprobs(self) -> np.ndarray:
        """The log-probability of each of the text's tokens."""
        return self.moments[:, 0]


@dataclass(frozen=True)
class Measure:
    """One membership measure.

    ``compute`` gives its value for one text under one model (None: not a model measure; the
    n-gram overlap comes from the overlap run). With ``needs_reference`` the measure is the
    difference of ``compute`` under the target model and under a reference model trained by the
    same recipe without the texts, so it exists only in experiments that train references.
    """

    label: str
    direction: float  # membership score = direction x value: higher means "more likely seen"
    compute: Callable[[Evidence], float] | None
    needs_reference: bool = False


MEASURES: dict[str, Measure] = {
    "loss": Measure("loss (nats/token)", -1.0, lambda e: loss(e.logprobs)),
    "min_k": Measure("Min-K% Prob", 1.0, lambda e: min_k_prob(e.logprobs, e.k)),
    "min_k_pp": Measure("Min-K%++", 1.0, lambda e: min_k_plus_plus(e.moments, e.k)),
    "zlib_ratio": Measure("zlib ratio", -1.0, lambda e: loss(e.logprobs) / zlib_bytes(e.text)),
    "reference_ratio": Measure("reference ratio (target - reference loss)", -1.0,
                               lambda e: loss(e.logprobs), needs_reference=True),
    "ngram_overlap": Measure("n-gram overlap fraction", 1.0, None),
}


def model_measures(reference: bool) -> list[str]:
    """The model-based measures, those needing reference models only if ``reference``."""
    return [name for name, m in MEASURES.items()
            if m.compute is not None and (reference or not m.needs_reference)]


def text_measures(text: str, moments: np.ndarray, k: float = DEFAULT_K) -> dict[str, float]:
    """Every model-based measure of one text under one model, from [n, 3] rows (log p, mu,
    sigma); for a measure that needs a reference model: this model's part, subtracted later."""
    evidence = Evidence(text, moments, k)
    return {name: MEASURES[name].compute(evidence) for name in model_measures(reference=True)}


def membership_score(measure: str, values: np.ndarray) -> np.ndarray:
    """Oriented so that higher means "more likely a member"."""
    return MEASURES[measure].direction * np.asarray(values, dtype=np.float64)


# ----------------------------------------------------------------------------------- ROC AUC


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing the mean of their ranks (scipy's rankdata)."""
    uniq, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return ((ends - counts + 1 + ends) / 2.0)[inverse]


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a positive outscores a negative), ties one half; nan if a group is empty."""
    positive, negative = np.asarray(positive, float), np.asarray(negative, float)
    n_pos, n_neg = len(positive), len(negative)
    if not n_pos or not n_neg:
        return math.nan
    ranks = average_ranks(np.concatenate([positive, negative]))
    u = ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def pairwise_wins(positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """[n_pos, n_neg]: 1 where the positive wins, 0.5 on a tie, 0 where it loses."""
    diff = np.asarray(positive, float)[:, None] - np.asarray(negative, float)[None, :]
    return (diff > 0) + 0.5 * (diff == 0)


def auc_interval(positive: np.ndarray, negative: np.ndarray, n_boot: int,
                 rng: np.random.Generator) -> dict:
    """AUC with a stratified percentile-bootstrap interval: each resample's AUC is
    counts_pos @ wins @ counts_neg, so all resamples cost two matrix products."""
    point = roc_auc(positive, negative)
    n_pos, n_neg = len(positive), len(negative)
    if not n_pos or not n_neg:
        return {"value": None, "low": None, "high": None}
    wins = pairwise_wins(positive, negative)
    cp = rng.multinomial(n_pos, np.full(n_pos, 1.0 / n_pos), size=n_boot)
    cn = rng.multinomial(n_neg, np.full(n_neg, 1.0 / n_neg), size=n_boot)
    reps = np.einsum("bi,ij,bj->b", cp, wins, cn) / (n_pos * n_neg)
    return interval(point, reps).as_dict()


def roc_curve(positive: np.ndarray, negative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false-positive rates, true-positive rates) over every threshold, from (0, 0) to (1, 1)."""
    scores = np.concatenate([positive, negative])
    is_pos = np.concatenate([np.ones(len(positive), bool), np.zeros(len(negative), bool)])
    order = np.argsort(-scores, kind="stable")
    scores, is_pos = scores[order], is_pos[order]
    last = np.r_[scores[1:] != scores[:-1], True]  # one point per distinct threshold
    tp, fp = np.cumsum(is_pos)[last], np.cumsum(~is_pos)[last]
    tpr = np.r_[0.0, tp / max(len(positive), 1)]
    fpr = np.r_[0.0, fp / max(len(negative), 1)]
    return fpr, tpr


@dataclass(frozen=True)
class Separation:
    """How well one measure tells members from non-members."""

    measure: str
    auc: dict  # value, low, high
    tpr_at_low_fpr: float | None  # true-positive rate where the false-positive rate <= LOW_FPR

    def row(self) -> dict:
        return {"measure": self.measure, "label": MEASURES[self.measure].label,
                "auc": self.auc["value"], "auc_low": self.auc["low"],
                "auc_high": self.auc["high"], "tpr_at_low_fpr": self.tpr_at_low_fpr}


def separation(measure: str, values: Sequence[float], member: np.ndarray, n_boot: int,
               rng: np.random.Generator) -> Separation:
    """AUC (with interval) and TPR at 5 % FPR of one measure; examples with an undefined value
    (nan) are left out."""
    scores = membership_score(measure, np.asarray(values, dtype=np.float64))
    keep = np.isfinite(scores)
    pos, neg = scores[keep & member], scores[keep & ~member]
    auc = auc_interval(pos, neg, n_boot, rng)
    tpr = None
    if len(pos) and len(neg):
        fpr, tprs = roc_curve(pos, neg)
        tpr = float(tprs[fpr <= LOW_FPR].max())
    return Separation(measure, auc, tpr)

