"""An exact set of n-gram hashes, each tagged with the sources (benchmarks) it came from.

Decontamination removes text, so it must not act on Bloom-filter false positives: the set keeps
the full 128-bit MurmurHash3 of every n-gram, sorted, and a lookup is a binary search on the
first half confirmed by the second (two different n-grams agree on 128 bits with probability
~2^-128 per pair). Sources are bits of a uint64 mask, so up to 64 of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_SOURCES = 64


class NgramSet:
    def __init__(self, parts: Sequence[tuple[np.ndarray, np.ndarray]]):
        """``parts[i]`` = (h1, h2) hashes of source i's n-grams (duplicates allowed)."""
        if len(parts) > MAX_SOURCES:
            raise ValueError(f"at most {MAX_SOURCES} sources, got {len(parts)}")
        h1 = np.concatenate([p[0] for p in parts] or [np.empty(0, np.uint64)])
        h2 = np.concatenate([p[1] for p in parts] or [np.empty(0, np.uint64)])
        owner = np.repeat(np.uint64(1) << np.arange(len(parts), dtype=np.uint64),
                          [len(p[0]) for p in parts])
        order = np.lexsort((h2, h1))
        h1, h2, owner = h1[order], h2[order], owner[order]
        first = np.ones(len(h1), dtype=bool)
        first[1:] = (h1[1:] != h1[:-1]) | (h2[1:] != h2[:-1])
        starts = np.flatnonzero(first)
        self.h1, self.h2 = h1[first], h2[first]
        self.owners = np.bitwise_or.reduceat(owner, starts) if len(starts) else owner
        self._shared_h1 = bool(len(self.h1) > 1 and (self.h1[1:] == self.h1[:-1]).any())

    def __len__(self) -> int:
        return len(self.h1)

    def lookup(self, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
        """Index in the set of each queried n-gram, -1 where it is absent."""
        if not len(self.h1):
            return np.full(len(h1), -1, dtype=np.int64)
        lo = np.searchsorted(self.h1, h1, side="left")
        at = np.minimum(lo, len(self.h1) - 1)
        idx = np.where((self.h1[at] == h1) & (self.h2[at] == h2), at, -1)
        if self._shared_h1:  # two set members share h1 (~N^2 / 2^65): search their runs by h2
            hi = np.searchsorted(self.h1, h1, side="right")
            for q in np.flatnonzero(hi - lo > 1):
                run = np.flatnonzero(self.h2[lo[q] : hi[q]] == h2[q])
                idx[q] = lo[q] + run[0] if len(run) else -1
        return idx
