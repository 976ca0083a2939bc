"""Capacity planning: size parsing, the Bloom arithmetic, and extrapolation checked on real text."""

import math

import numpy as np
import pytest

from contamkit.common.errors import UserError
from contamkit.common.parse import parse_size
from contamkit.scale.plan import Calibration, calibrate, estimate, growth_exponent
from contamkit.scale.route import build_filter
from overlap.options import BuildOptions


def test_parse_size():
    assert parse_size("40GB") == 40 * 10**9
    assert parse_size("825GiB") == 825 * 2**30
    assert parse_size("512 MiB") == 512 * 2**20
    assert parse_size("1.5TB") == 1_500_000_000_000
    assert parse_size("3e9") == 3 * 10**9 and parse_size("1000") == 1000
    for bad in ("forty GB", "12XB", "", "-1GB"):
        with pytest.raises(UserError, match="not a size"):
            parse_size(bad)


def flat_calibration(**kw):
    """Every n-gram distinct, 1 n-gram per 6 bytes, 6 MB/s per core to spill."""
    base = dict(sample="synthetic", n=8, sample_bytes=6_000_000, ngrams=1_000_000,
                distinct=1_000_000, growth=1.0, spill_ratio=1.0, map_bytes_per_second=6e6,
                count_pairs_per_second=1e7)
    return Calibration(**{**base, **kw})


def test_a_billion_ngrams_take_the_papers_4_46_gib():
    plan = estimate(6 * 10**9, 1e-8, 2, 2**30, flat_calibration(), rate=2e6, layout="classic")
    assert plan.ngrams == pytest.approx(1e9) and plan.distinct == pytest.approx(1e9)
    # PAPER.md: 4.46 GiB per billion at 1e-8; exact sizing adds its 0.5 % margin
    assert plan.filter_bytes / 2**30 == pytest.approx(4.46 * 1.005, rel=2e-3)
    assert plan.shards == 8 and plan.shard_bytes <= 2**30 < 2 * plan.shard_bytes
    assert plan.spill_bytes == pytest.approx(16e9)
    assert plan.map_seconds == pytest.approx(500) and plan.count_seconds == pytest.approx(50)
    assert plan.build_seconds == pytest.approx(250)
    assert plan.single_core_seconds == pytest.approx(1000 + 100 + 500)
    more = estimate(6 * 10**9, 1e-8, 16, 2**30, flat_calibration(), rate=2e6, layout="classic")
    assert more.shards == 16  # at least one shard per worker, for a parallel build phase
    blocked = estimate(6 * 10**9, 1e-8, 2, 2**30, flat_calibration(), rate=2e6)  # the default
    assert blocked.layout == "blocked"  # docs/blocked-layout.md: 44.06 bits per element
    assert blocked.filter_bytes * 8 / 1e9 == pytest.approx(44.06 * 1.005, rel=2e-3)
    with pytest.raises(UserError):
        estimate(0, 1e-8, 1, 2**30, flat_calibration(), rate=1.0)


def test_growth_exponent_recovers_known_curves():
    all_new = np.arange(1, 40_001, dtype=np.uint64)
    assert growth_exponent(all_new, all_new) == (40_000, pytest.approx(1.0))
    # n-gram i is floor(sqrt(i)): a prefix of k n-grams holds about sqrt(k) distinct ones
    sqrt_curve = np.floor(np.sqrt(np.arange(1, 40_001))).astype(np.uint64)
    distinct, beta = growth_exponent(sqrt_curve, sqrt_curve)
    assert distinct == 200 and beta == pytest.approx(0.5, abs=0.02)
    slower = estimate(6 * 10**9, 1e-8, 1, 2**30, flat_calibration(growth=0.5), rate=1.0)
    assert slower.distinct == pytest.approx(1e6 * math.sqrt(1000))


def test_extrapolating_a_quarter_of_ptb_predicts_the_whole(shared_data, tmp_path):
    src = shared_data / "ptb" / "ptb.train.txt"
    raw = src.read_bytes()
    quarter = tmp_path / "quarter.txt"
    quarter.write_bytes(raw[: raw.index(b"\n", len(raw) // 4) + 1])
    cal = calibrate(quarter)
    assert cal.map_bytes_per_second > 0 and 0.9 < cal.spill_ratio <= 1
    actual = build_filter(src, tmp_path / "f.bloom", BuildOptions(workers=1, shards=2))
    plan = estimate(actual["bytes"], 1e-8, 1, 2**30, cal, rate=1e6)
    assert plan.ngrams == pytest.approx(actual["ngrams"], rel=0.01)
    assert plan.distinct == pytest.approx(actual["distinct"], rel=0.01)
    assert plan.filter_bytes == pytest.approx(actual["size_bytes"], rel=0.01)
