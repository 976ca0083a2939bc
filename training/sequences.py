"""Which token windows a run trains and evaluates on, as a pure function of (seed, position).

A split is cut into non-overlapping windows of block_size + 1 tokens (stride block_size, so each
token is predicted in exactly one window). Epoch e visits every window once, in a permutation
seeded by (seed, e). Sequence number p of the run is window ``order(p // n)[p % n]``: the data
position of a run is one integer, so resume is exact and the windows a model saw can be listed.
"""

from __future__ import annotations

import numpy as np
import torch

from contamkit.common.errors import UserError


class WindowOrder:
    """The training order of a split's windows."""

    def __init__(self, num_tokens: int, block_size: int, seed: int, where: str = "train split"):
        self.block_size = block_size
        self.seed = seed
        self.num_windows = (num_tokens - 1) // block_size
        if self.num_windows < 1:
            raise UserError(f"{where}: {num_tokens} tokens, fewer than one window of "
                            f"block_size + 1 = {block_size + 1}")
        self._cached: tuple[int, np.ndarray] | None = None

    def order(self, epoch: int) -> np.ndarray:
        if self._cached is None or self._cached[0] != epoch:
            rng = np.random.default_rng([self.seed, epoch])
            self._cached = (epoch, rng.permutation(self.num_windows))
        return self._cached[1]

    def windows(self, first: int, count: int) -> np.ndarray:
        """Window ids of run sequences ``first .. first + count - 1``."""
        positions = np.arange(first, first + count, dtype=np.int64)
        epochs = positions // self.num_windows
        out = np.empty(count, dtype=np.int64)
        for epoch in np.unique(epochs):  # one or two epochs per batch
            here = epochs == epoch
            out[here] = self.order(int(epoch))[positions[here] % self.num_windows]
        return out


def fixed_windows(num_tokens: int, block_size: int, count: int, seed: int) -> np.ndarray:
    """The same ``count`` windows every time (all of them if there are fewer): loss estimates
    along a run are then comparable, and evaluating consumes no training randomness."""
    n = (num_tokens - 1) // block_size
    if count >= n:
        return np.arange(n, dtype=np.int64)
    return np.sort(np.random.default_rng([seed, 1]).choice(n, count, replace=False))


def gather(tokens: np.ndarray, windows: np.ndarray, block_size: int
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets [len(windows), block_size] as int64 tensors."""
    index = windows[:, None] * block_size + np.arange(block_size + 1)
    buf = tokens[index].astype(np.int64)
    return torch.from_numpy(buf[:, :-1].copy()), torch.from_numpy(buf[:, 1:].copy())


def window_counts(order: WindowOrder, sequences: int) -> np.ndarray:
    """How often each window was trained on in the first ``sequences`` run sequences."""
    full, rest = divmod(sequences, order.num_windows)
    counts = np.full(order.num_windows, full, dtype=np.int64)
    counts[order.order(full)[:rest]] += 1
    return counts
