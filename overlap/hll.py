"""HyperLogLog distinct counting of n-gram hashes, to size a filter honestly.

2^14 registers give a relative standard error of 1.04/128 = 0.8 %. The register index is the top
14 bits of h2 and the rank comes from the low 32 bits of h1, so it is independent of the index.
"""

from __future__ import annotations

import math

import numpy as np

P = 14
M = 1 << P
STD_ERROR = 1.04 / math.sqrt(M)


class HyperLogLog:
    def __init__(self) -> None:
        self.registers = np.zeros(M, dtype=np.uint8)

    def add(self, h1: np.ndarray, h2: np.ndarray) -> None:
        idx = (h2 >> np.uint64(64 - P)).astype(np.intp)
        low = (h1 & np.uint64(0xFFFFFFFF)).astype(np.float64)  # exact: 32 bits fit a float
        _, exponent = np.frexp(low)  # exponent = bit length (0 for 0)
        rank = (33 - exponent).astype(np.uint8)  # leading zeros in 32 bits + 1
        np.maximum.at(self.registers, idx, rank)

    def merge(self, other: HyperLogLog) -> None:
        np.maximum(self.registers, other.registers, out=self.registers)

    def estimate(self) -> float:
        alpha = 0.7213 / (1 + 1.079 / M)
        raw = alpha * M * M / float(np.sum(np.ldexp(1.0, -self.registers.astype(np.int64))))
        zeros = int(np.count_nonzero(self.registers == 0))
        if raw <= 2.5 * M and zeros:  # small range: linear counting is more accurate
            return M * math.log(M / zeros)
        return raw
