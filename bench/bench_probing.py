"""False positives of Bloom probing schemes at 1e-8, on a small filter where they differ.

The same bit-array size, k and random stored/queried hashes for every scheme: plain double
hashing (a + i·b), "enhanced" double hashing (+ (i³ - i)/6), this project's scheme
(overlap.bloom: + i(i-1)/2·c with a third value c), and fully independent probe positions.
Each line: hits among absent queries, beside the count expected from the fill ratio.

    python bench/bench_probing.py [--n 8000] [--queries 100000000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba  # noqa: E402
import numpy as np  # noqa: E402

from overlap.bloom import BloomFilter, FilterParams  # noqa: E402
from overlap.murmur import fmix  # noqa: E402

U = np.uint64
META = dict(n=8, unit="words", normalizer="bench", tokenizer="", seed=0, layout="classic")
BATCH = 25_000_000


def textbook(cubic: bool):
    def positions(h1, h2, i, m):
        a, b = h1 % U(m), h2 % U(m - 1) + U(1)
        offset = U((i**3 - i) // 6) if cubic else U(0)
        return (a + U(i) * b + offset) % U(m)
    return positions


@numba.njit
def _fmix_all(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for j in range(len(x)):
        out[j] = fmix(x[j])
    return out


def independent(h1, h2, i, m):
    return _fmix_all(h1 ^ U((i * 0x9E3779B97F4A7C15) % 2**64)) % U(m)


def count_hits(positions, n: int, queries: int, rng: np.random.Generator) -> tuple[int, float]:
    """(hits, expected) for absent queries against n stored random n-grams."""
    params = FilterParams.sized(n, 1e-8, **META)
    m, k = params.m, params.k
    stored = rng.integers(0, 2**64, size=(2, n), dtype=np.uint64)
    if positions is None:  # this project's filter
        bloom = BloomFilter(params)
        bloom.add(*stored)
        bits = None
        fill = bloom.fill_ratio()
    else:
        bits = np.zeros(m, dtype=bool)
        with np.errstate(over="ignore"):
            for i in range(k):
                bits[positions(stored[0], stored[1], i, m)] = True
        fill = bits.mean()
    hits = 0
    for start in range(0, queries, BATCH):
        q1, q2 = rng.integers(0, 2**64, size=(2, min(BATCH, queries - start)), dtype=np.uint64)
        if bits is None:
            hits += int(bloom.contains(q1, q2).sum())
            continue
        alive = np.arange(len(q1))
        with np.errstate(over="ignore"):
            for i in range(k):  # keep only the queries whose probes so far were all set
                alive = alive[bits[positions(q1[alive], q2[alive], i, m)]]
        hits += len(alive)
    return hits, queries * fill**k


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8000, help="n-grams stored (default 8000)")
    parser.add_argument("--queries", type=int, default=100_000_000)
    args = parser.parse_args()
    schemes = [("a + i·b (plain double hashing)", textbook(False)),
               ("a + i·b + (i³-i)/6 (enhanced double hashing)", textbook(True)),
               ("a + i·b + i(i-1)/2·c (this project)", None),
               ("independent positions (ideal)", independent)]
    print(f"{args.n} stored n-grams at 1e-8, {args.queries:.0e} absent queries per scheme")
    for name, positions in schemes:
        hits, expected = count_hits(positions, args.n, args.queries, np.random.default_rng(11))
        print(f"{name:<48} {hits:>5} hits, {expected:.2f} expected from the fill ratio")


if __name__ == "__main__":
    main()
