"""Spill runs and exact counting, against plain numpy/Python references."""

import numpy as np
import pytest

from contamkit.common.errors import UserError
from contamkit.scale.dask_build import count_pieces
from contamkit.scale.jobs import CountPiece, count_task
from contamkit.scale.spill import Run, sort_run, write_run
from overlap.ngrams import count_distinct
from overlap.sharded import prefix_index


def random_hashes(count, seed=0, repeats=0.3):
    """Uniform 64-bit hash pairs, a share of them repeated (as frequent n-grams are)."""
    rng = np.random.default_rng(seed)
    h1 = rng.integers(0, 2**64, count, dtype=np.uint64, endpoint=False)
    h2 = rng.integers(0, 2**64, count, dtype=np.uint64, endpoint=False)
    again = rng.random(count) < repeats
    src = rng.integers(0, count, int(again.sum()))
    h1[again], h2[again] = h1[src], h2[src]
    return h1, h2


def reference_distinct(h1, h2):
    return len({(int(a), int(b)) for a, b in zip(h1, h2, strict=True)})


def test_distinct_pairs_is_exact_even_when_h1_collides():
    h1, h2 = random_hashes(20_000)
    # a 64-bit h1 collision between different n-grams, interleaved with repeats of both
    h1 = np.concatenate([h1, np.array([7, 7, 7, 7, 9], dtype=np.uint64)])
    h2 = np.concatenate([h2, np.array([1, 2, 1, 3, 1], dtype=np.uint64)])
    pairs = np.stack([h1, h2], axis=1)
    assert count_distinct(pairs) == reference_distinct(h1, h2)
    assert count_distinct(np.empty((0, 2), np.uint64)) == 0


def test_sort_run_partitions_and_drops_repeats():
    h1, h2 = random_hashes(50_000, seed=1)
    pairs, rows, occurrences = sort_run(h1, h2, 8)
    part = prefix_index(h1, 8)
    assert occurrences.tolist() == np.bincount(part, minlength=8).tolist()
    assert rows.tolist() == np.bincount(prefix_index(pairs[:, 0], 8), minlength=8).tolist()
    assert len(pairs) == reference_distinct(h1, h2)  # no 64-bit collisions here: all repeats gone
    assert np.all(np.diff(pairs[:, 0].astype(object)) >= 0)  # sorted by h1
    starts = np.concatenate([[0], np.cumsum(rows)])
    for j in range(8):  # each partition's slice holds exactly its prefix
        assert np.all(prefix_index(pairs[starts[j] : starts[j + 1], 0], 8) == j)


def test_run_round_trip_and_refusals(tmp_path):
    h1, h2 = random_hashes(10_000, seed=2)
    pairs, rows, _ = sort_run(h1, h2, 4)
    path = tmp_path / "a.run"
    write_run(path, pairs, rows)
    run = Run(path, 4)
    assert np.array_equal(run.read(0, 4), pairs)
    assert np.array_equal(run.read(1, 3), pairs[rows[0] : rows[0] + rows[1] + rows[2]])
    assert len(run.read(2, 2)) == 0
    with pytest.raises(UserError, match="not a spill run of this build"):
        Run(path, 8)
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF  # one bit of the last partition's data
    path.write_bytes(bytes(raw))
    run = Run(path, 4)
    run.read(0, 3)  # the others are intact
    with pytest.raises(UserError, match="corrupt"):
        run.read(3, 4)
    path.write_bytes(bytes(raw[:-16]))
    with pytest.raises(UserError, match="truncated"):
        Run(path, 4)
    with pytest.raises(UserError, match="cannot read"):
        Run(tmp_path / "missing.run", 4)


def test_count_task_is_exact_across_runs_and_in_passes(tmp_path):
    h1, h2 = random_hashes(60_000, seed=3, repeats=0.5)
    paths = []
    for i, part in enumerate(np.array_split(np.arange(len(h1)), 3)):  # 3 runs share n-grams
        pairs, rows, _ = sort_run(h1[part], h2[part], 4)
        paths.append(str(tmp_path / f"{i}.run"))
        write_run(paths[-1], pairs, rows)
    shard = prefix_index(h1, 4)
    expected = [reference_distinct(h1[shard == j], h2[shard == j]) for j in range(4)]
    assert count_task(CountPiece(0, 4), paths, 4).tolist() == expected
    assert count_task(CountPiece(1, 3), paths, 4).tolist() == expected[1:3]
    for passes in (2, 7):  # an oversized partition, counted over disjoint sub-ranges
        assert count_task(CountPiece(2, 3, passes), paths, 4).tolist() == [expected[2]]


def test_count_pieces_respect_the_budget():
    rows = np.array([10, 10, 10, 500, 10, 0, 10])
    pieces = count_pieces(rows, budget=40 * 16 * 3, slots=1)  # 40 pairs fit
    assert [(p.first, p.stop, p.passes) for p in pieces] == [
        (0, 3, 1), (3, 4, 13), (4, 7, 1)]
    covered = [j for p in pieces for j in range(p.first, p.stop)]
    assert covered == list(range(len(rows)))
    # with room to spare, pieces are still cut for parallelism (about two per slot)
    assert len(count_pieces(np.full(64, 100), budget=1 << 30, slots=4)) == 8
