"""The options of ``evaluate``, ``analyze`` and ``contamination-sweep``, declared once: each
field carries its command-line flag (``contamkit.common.options``). Free of heavy imports
(torch, matplotlib) so that ``--help`` stays quick."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from contamkit.common.errors import UserError
from contamkit.common.options import option
from contamkit.common.parse import (
    count,
    parse_list,
    parse_percent_edges,
    positive_int,
    probability,
)
from overlap.contamination import DEFAULT_MIN_RUN, PARTS
from overlap.contamination import MEASURES as CONTAMINATION_MEASURES


@dataclass(frozen=True)
class EvalOptions:
    """``evaluate``."""

    batch_size: int = option(16, "sequences per forward pass", parse=positive_int)
    stride: int | None = option(None, "sliding-window stride for LM sets", parse=positive_int,
                                shown_default="block_size // 2")
    max_new_tokens: int | None = option(None, "generation cap", parse=positive_int,
                                        shown_default="32 for CoQA, "
                                        "the task's for exact match: 256 for GSM8K")


@dataclass(frozen=True)
class AnalysisOptions:
    """``analyze``."""

    edges: tuple[float, ...] = option((5.0, 15.0, 50.0), "overlap % bucket edges (0 is always "
                                      "its own bucket)", flag="--buckets",
                                      parse=parse_percent_edges)
    n_boot: int = option(2000, "bootstrap resamples", flag="--bootstrap", parse=count)
    n_perm: int = option(2000, "permutation-test relabellings", flag="--permutations",
                         parse=count)
    seed: int = option(0, "random seed of resampling")

    def fractions(self) -> tuple[float, ...]:
        """The edges as fractions inside (0, 1): 0 and 100 % bound the buckets anyway."""
        return tuple(e / 100 for e in self.edges if 0 < e < 100)

    def check(self) -> None:
        edges = self.edges
        if any(b <= a for a, b in zip(edges, edges[1:], strict=False)) or \
                any(not 0 <= e <= 100 for e in edges):
            raise UserError(f"--buckets {list(self.edges)}: need increasing percentages")
        if self.n_boot < 1 or self.n_perm < 0:
            raise UserError("--bootstrap must be >= 1 and --permutations >= 0")


def measure_names(text: str) -> tuple[str, ...]:
    """``"longest_run, coverage"`` -> names of the contamination-measure registry."""
    names = tuple(parse_list(text))
    unknown = [n for n in names if n not in CONTAMINATION_MEASURES] or ([] if names else [text])
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown measure {unknown[0]!r} "
                                         f"(known: {', '.join(CONTAMINATION_MEASURES)})")
    return names


def run_lengths(text: str) -> tuple[int, ...]:
    """``"10,20"`` -> (10, 20): minimum match lengths, each >= 1."""
    values = tuple(positive_int(x) for x in parse_list(text))
    if not values:
        raise argparse.ArgumentTypeError(f"{text!r}: no length given")
    return values


@dataclass(frozen=True)
class SweepOptions:
    """``contamination-sweep``."""

    measures: tuple[str, ...] = option(tuple(CONTAMINATION_MEASURES), "definitions to sweep, "
                                       "comma-separated", parse=measure_names,
                                       choices=lambda: CONTAMINATION_MEASURES,
                                       shown_default="all")
    min_runs: tuple[int, ...] = option((DEFAULT_MIN_RUN,), "L of token_contamination "
                                       "(Llama 2: 10), comma-separated for several",
                                       flag="--min-run", parse=run_lengths)
    part: str = option("all", "count matches over the whole example, only its scored part "
                       "(LAMBADA's target word, Winograd's continuation, an exact-match "
                       "answer) or only the context before it", choices=PARTS)
    metric: str | None = option(None, "metric to score; loss_bits: the mean per-example loss",
                                shown_default="the task's headline metric")
    thresholds: int = option(8, "grid points per measure (0 and quantiles of its positive "
                             "values)", parse=positive_int)
    n_boot: int = option(1000, "bootstrap resamples", flag="--bootstrap", parse=count)
    n_perm: int = option(2000, "permutation-test relabellings (Holm over m cells needs more "
                         "than m / alpha)", flag="--permutations", parse=count)
    alpha: float = option(0.05, "significance level", parse=probability)
    seed: int = option(0, "random seed of resampling and of the halves")

    def check(self) -> None:
        """For callers that build the options in code (the command line checks on parsing)."""
        if self.part not in PARTS:
            raise UserError(f"--part {self.part!r}: one of {', '.join(PARTS)}")
        if self.thresholds < 1 or self.n_boot < 1 or self.n_perm < 1:
            raise UserError("--thresholds, --bootstrap and --permutations must be >= 1")
        if not 0 < self.alpha < 1:
            raise UserError(f"--alpha {self.alpha}: need a level in (0, 1)")
