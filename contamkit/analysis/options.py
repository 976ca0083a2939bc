"""The options of ``evaluate`` and ``analyze``, declared once: each field carries its
command-line flag (``contamkit.common.options``). Free of heavy imports (torch, matplotlib) so
that ``--help`` stays quick."""

from __future__ import annotations

from dataclasses import dataclass

from contamkit.common.errors import UserError
from contamkit.common.options import option
from contamkit.common.parse import count, parse_percent_edges, positive_int


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
