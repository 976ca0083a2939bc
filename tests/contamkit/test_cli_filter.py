"""build-filter, info and verify end to end through the command line."""

import json
import subprocess
import sys

import pytest

from contamkit.common.paths import REPO_ROOT


def cli(*args, cwd=REPO_ROOT):
    return subprocess.run([sys.executable, "cli.py", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=None)


@pytest.mark.parametrize(("layout", "k", "bits"), [(None, 24, 44.6), ("classic", 27, 38.6)])
def test_build_info_verify(shared_data, tmp_path, layout, k, bits):
    """The default layout is blocked (docs/blocked-layout.md: 44.06 bits per element and k = 24
    at 1e-8); classic is the paper's (38.34 bits, k = 27)."""
    out = tmp_path / "ptb.bloom"
    r = cli("build-filter", shared_data / "ptb" / "ptb.train.txt", "-o", out, "--workers", "1",
            *(("--layout", layout) if layout else ()))
    assert r.returncode == 0, r.stderr
    assert "bits/element" in r.stderr.splitlines()[-1]  # the one-line summary
    info = json.loads(cli("info", out, "--json").stdout)
    assert info["params"]["n"] == 8 and info["params"]["k"] == k
    assert info["params"]["layout"] == (layout or "blocked")
    assert info["estimated_distinct"] == pytest.approx(867_786, rel=0.01)  # exact count: README
    v = json.loads(cli("verify", out, "--probes", "1000000", "--json").stdout)
    assert v["hits"] == 0 and v["probes"] == 1_000_000
    assert bits - 0.3 <= v["bits_per_element"] <= bits
    assert 2.9e-6 < v["fpr_upper"] < 3.1e-6  # ln(20)/1e6
    assert v["verdict"] == "PASS" and not v["target_confirmed"]
    # zero hits in P probes bound the rate at target when (1 - 1e-8)^P <= 0.05
    assert v["probes_to_confirm"] == 299_573_226 and "cannot confirm 1e-08" in v["note"]
    for key in ("observed_fpr", "predicted_fpr", "k"):
        assert key in v


def test_user_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.bloom"
    bad.write_bytes(b"garbage")
    for args in (("info", bad), ("verify", tmp_path / "missing.bloom"),
                 ("build-filter", tmp_path / "nothing", "-o", tmp_path / "x.bloom")):
        r = cli(*args)
        assert r.returncode == 2
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in r.stderr
