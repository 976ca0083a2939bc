"""``verify``'s statistics against scipy, and its verdict end to end: an over-filled filter
fails, a healthy one passes with a note on how many probes would confirm the target."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from contamkit.cli import main
from contamkit.common.paths import REPO_ROOT
from overlap.bloom import BloomFilter, FilterParams
from overlap.normalize import NORMALIZER_VERSION
from overlap.verify import at_least, binomial_lower, binomial_upper, probes_to_confirm, verdict

CASES = [(0, 1_000_000), (3, 1_000_000), (30, 1_000_000), (1, 100), (12, 600_000_000),
         (60, 100)]


@pytest.mark.parametrize(("hits", "trials"), CASES)
def test_clopper_pearson_bounds_match_scipy(hits, trials):
    assert binomial_upper(hits, trials) == pytest.approx(
        stats.beta.ppf(0.95, hits + 1, trials - hits), rel=1e-6)
    lower = stats.beta.ppf(0.05, hits, trials - hits + 1) if hits else 0.0
    assert binomial_lower(hits, trials) == pytest.approx(lower, rel=1e-6, abs=1e-300)


@pytest.mark.parametrize(("hits", "trials", "p"), [(3, 1_000_000, 1e-6), (30, 1_000_000, 1e-6),
                                                   (12, 600_000_000, 1e-8), (60, 100, 0.5),
                                                   (1, 100, 1e-6), (0, 10, 0.1)])
def test_tail_probability_matches_scipy(hits, trials, p):
    assert at_least(hits, trials, p) == pytest.approx(stats.binom.sf(hits - 1, trials, p),
                                                      rel=1e-5)


def test_verdict_logic():
    # 1e6 probes at target 1e-5 expect 10 hits; 20 is p = 0.0035 -> FAIL, 14 is p = 0.14 -> PASS
    assert stats.binom.sf(19, 1_000_000, 1e-5) < 0.05 < stats.binom.sf(13, 1_000_000, 1e-5)
    assert verdict(20, 1_000_000, 1e-5)["verdict"] == "FAIL"
    passed = verdict(14, 1_000_000, 1e-5)
    assert passed["verdict"] == "PASS" and not passed["target_confirmed"]
    # enough probes and no hit: the target is confirmed
    needed = probes_to_confirm(1e-6)
    assert needed == math.ceil(math.log(0.05) / math.log1p(-1e-6))
    assert verdict(0, needed, 1e-6)["target_confirmed"]
    assert not verdict(0, needed - 1, 1e-6)["target_confirmed"]
    assert f"--probes {needed}" in verdict(0, 1000, 1e-6)["note"]


def cli(*args):
    return subprocess.run([sys.executable, "cli.py", *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True)


def test_over_filled_filter_fails_and_healthy_one_passes(tmp_path, capsys):
    rng = np.random.default_rng(0)
    params = FilterParams.sized(1_000, 1e-3, n=8, unit="words", normalizer=NORMALIZER_VERSION,
                                tokenizer="", seed=0)
    over = BloomFilter(params)  # sized for 1,000 n-grams, given 20,000: FPR far above 1e-3
    over.add(*rng.integers(0, 2**63, size=(2, 20_000), dtype=np.uint64))
    healthy = BloomFilter(params)
    healthy.add(*rng.integers(0, 2**63, size=(2, 1_000), dtype=np.uint64))
    for bloom, name in ((over, "over.bloom"), (healthy, "ok.bloom")):
        bloom.save(tmp_path / name)

    r = cli("verify", tmp_path / "over.bloom", "--probes", "20000", "--json")
    assert r.returncode == 0, r.stderr
    v = json.loads(r.stdout)
    assert over.estimated_fpr() > 0.1  # the filter's own fill says so too
    assert v["verdict"] == "FAIL" and v["fpr_lower"] > 1e-3 and v["p_value"] < 0.05
    assert r.stderr.splitlines()[-1].startswith("FAIL: ")

    capsys.readouterr()
    assert main(["verify", str(tmp_path / "ok.bloom"), "--probes", "20000", "--json"]) == 0
    v = json.loads(capsys.readouterr().out)
    assert v["verdict"] == "PASS" and v["hits"] <= 50  # at most ~20 expected at 1e-3
    assert v["target_confirmed"] == (v["fpr_upper"] <= 1e-3)
