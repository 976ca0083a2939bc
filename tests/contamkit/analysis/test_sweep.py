"""``contamination-sweep``: EPG against direct computations, interval coverage and test size on
synthetic data with a planted gain, the guarded choice, and the command end to end."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from contamkit.analysis.metrics import ACCURACY, LAMBADA_PPL
from contamkit.analysis.sweep import SweepOptions, epg_cell, holm, sweep, threshold_grid
from contamkit.cli import main
from tests.contamkit.analysis.test_analyze import eval_summary, overlap_summary, write_run
from tests.contamkit.common.output_checks import (
    keeps_previous_on_failure,
    refuses_foreign,
    refuses_inputs,
)

FAST = SweepOptions(n_boot=200, n_perm=1000, thresholds=6)
LLAMA = "token_contamination(L=10)"


@pytest.fixture(scope="module")
def planted():
    """600 LAMBADA-like examples of 60 words (8-grams): 15 % hold one long match (16..30
    words) and are right 90 % of the time; 25 % hold 3..6 scattered short matches (8..9 words,
    more covered words than some long ones) and, like the clean rest, are right 55 %."""
    rng = np.random.default_rng(0)
    n, ids, ev, ov = 600, [], [], []
    kind = rng.choice(3, n, p=[0.15, 0.25, 0.6])  # 0 long, 1 scattered, 2 clean
    for i in range(n):
        if kind[i] == 0:
            length = int(rng.integers(16, 31))
            start = int(rng.integers(0, 60 - length + 1))
            runs = [[start, start + length]]
        elif kind[i] == 1:
            slots = sorted(rng.choice(6, int(rng.integers(3, 7)), replace=False))
            runs = [[10 * int(s), 10 * int(s) + int(rng.integers(8, 10))] for s in slots]
        else:
            runs = []
        found = sum(e - s - 7 for s, e in runs)
        correct = int(rng.random() < (0.9 if kind[i] == 0 else 0.55))
        nll = float(rng.normal(1.5 if correct else 3.0, 0.5))
        ids.append(f"lambada/test/{i:05d}")
        ev.append({"id": ids[-1], "correct": correct, "nll": nll, "loss": nll, "tokens": 2})
        ov.append({"id": ids[-1], "units": 60, "ngrams": 53, "found": found, "runs": runs,
                   "scored_from": 59 if runs else None})
    return {"ev": ev, "ov": ov, "kind": kind,
            "correct": np.array([r["correct"] for r in ev]),
            "nll": np.array([r["nll"] for r in ev]),
            "longest": np.array([max((e - s for s, e in r["runs"]), default=0) for r in ov]),
            "fraction": np.array([r["found"] / 53 for r in ov])}


@pytest.fixture(scope="module")
def result(planted, tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    write_run(root / "ev", eval_summary(), planted["ev"])
    write_run(root / "ov", overlap_summary(scored_field="target"), planted["ov"])
    return root, sweep(root / "ov", root / "ev", root / "out", FAST)


def test_every_cell_matches_a_direct_computation(planted, result):
    _, s = result
    correct = planted["correct"]
    values = {"longest_run": planted["longest"], "ngram_fraction": planted["fraction"]}
    checked = 0
    for c in s["cells"]:
        if c["measure"] not in values:
            continue
        flagged = values[c["measure"]] > c["threshold"]
        clean = ~flagged
        assert c["flagged"] == flagged.sum() and c["examples"] == 600
        assert c["score_all"] == pytest.approx(100 * correct.mean())
        assert c["score_clean"] == pytest.approx(100 * correct[clean].mean())
        assert c["epg"] == pytest.approx(100 * (correct.mean() - correct[clean].mean()))
        assert c["epg_low"] <= c["epg"] <= c["epg_high"]
        checked += 1
    assert checked >= 6
    # the grid: 0, then longest runs seen, never the largest; no two cells flag the same set
    longest = [c["threshold"] for c in s["cells"] if c["measure"] == "longest_run"]
    assert longest[0] == 0 and all(t in set(planted["longest"]) for t in longest[1:])
    assert max(longest) < planted["longest"].max()
    # at threshold 0 every measure but token_contamination (no scattered match reaches L = 10)
    # flags the examples with any match: same resamples, same interval and p-value
    zero = [c for c in s["cells"] if c["threshold"] == 0 and c["measure"] != LLAMA]
    assert len(zero) == 6 and len({(c["epg_low"], c["epg_high"], c["p_value"]) for c in zero}) == 1
    [llama] = [c for c in s["cells"] if c["threshold"] == 0 and c["measure"] == LLAMA]
    assert llama["flagged"] == (planted["kind"] == 0).sum()
    assert s["measures"].keys() == {"ngram_fraction", "any_match", "longest_run",
                                    "longest_run_share", "coverage",
                                    "token_contamination(L=10)", "matched_spans"}


def flags(planted, cell: dict) -> np.ndarray:
    by_name = {"longest_run": planted["longest"], "ngram_fraction": planted["fraction"],
               "any_match": (planted["longest"] > 0).astype(float)}
    return by_name[cell["measure"]] > cell["threshold"]


def test_the_guarded_choice_finds_the_planted_gain(planted, result):
    _, s = result
    g = s["guard"]
    assert g["selection_examples"] + g["report_examples"] == 600
    held = g["held_out"]
    assert held["examples"] == 300 and held["p_value"] < 0.05 and held["epg_low"] > 0
    long_ = planted["kind"] == 0
    for chosen in (g["chosen"], s["best_holm"]):
        if chosen["measure"] in ("longest_run", "ngram_fraction", "any_match"):
            assert flags(planted, chosen)[long_].mean() >= 0.9  # the rule catches the gain
    # a rule that flags only scattered matches (2+ regions; a long match is one) explains
    # no gain: not significant after Holm
    spans = [c for c in s["cells"] if c["measure"] == "matched_spans" and c["threshold"] >= 1]
    assert spans and all(c["p_holm"] > 0.05 for c in spans)


def test_holm_against_a_hand_computation():
    # sorted 0.01, 0.02, 0.04 (0.5 untested): 3 x 0.01, 2 x 0.02, max(0.04, 1 x 0.04)
    assert holm([0.04, None, 0.01, 0.02]) == [pytest.approx(0.04), None, pytest.approx(0.03),
                                              pytest.approx(0.04)]
    assert holm([0.5, 0.9]) == [1.0, 1.0]  # capped at 1, and never below an earlier step


def test_threshold_grid():
    v = np.array([np.nan, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8])
    assert threshold_grid(v, 4) == [0.0, 2.0, 4.0, 6.0]
    assert threshold_grid(np.array([0.0, np.nan]), 4) == [0.0]
    assert threshold_grid(v, 1) == [0.0]


def planted_sample(rng, n=400, share=0.2, p_dirty=0.8, p_clean=0.6):
    flagged = np.zeros(n, bool)
    flagged[: int(share * n)] = True
    correct = (rng.random(n) < np.where(flagged, p_dirty, p_clean)).astype(float)
    return correct, flagged


def test_epg_interval_covers_the_planted_gain_95_percent_of_the_time():
    """EPG = share x (p_dirty - p_clean) given the flagged count: 0.2 x 20 points = 4."""
    rng = np.random.default_rng(1)
    trials, covered = 200, 0
    for _ in range(trials):
        correct, flagged = planted_sample(rng)
        c = epg_cell(ACCURACY, correct, np.ones_like(correct), flagged, "m", 0, 300, 1, rng)
        covered += c.epg_low <= 4.0 <= c.epg_high
    assert 0.90 <= covered / trials <= 0.985, covered / trials  # 0.94 over 1000 trials


def test_permutation_p_has_its_size_under_no_gain():
    rng = np.random.default_rng(2)
    trials = 200
    small = sum(epg_cell(ACCURACY, c, np.ones_like(c), f, "m", 0, 1, 200, rng).p_value < 0.05
                for c, f in (planted_sample(rng, p_dirty=0.6) for _ in range(trials)))
    assert small / trials <= 0.09


def test_perplexity_gain_is_oriented(planted):
    """For a metric where lower is better, a helpful contamination has EPG < 0, gain > 0."""
    nll = planted["nll"]
    flagged = planted["kind"] == 0
    c = epg_cell(LAMBADA_PPL, nll, np.ones_like(nll), flagged, "m", 0, 100, 100,
                 np.random.default_rng(0))
    assert c.epg == pytest.approx(math.exp(nll.mean()) - math.exp(nll[~flagged].mean()))
    assert c.epg < 0 and c.gain == -c.epg


def test_cli_writes_report_and_plot(result, capsys):
    root, _ = result
    out = root / "cli"
    code = main(["contamination-sweep", "--overlap", str(root / "ov"), "--eval",
                 str(root / "ev"), "--out", str(out), "--bootstrap", "100", "--permutations",
                 "100", "--measures", "longest_run,coverage,token_contamination",
                 "--min-run", "10,20", "--part", "context", "--metric", "perplexity"])
    assert code == 0, capsys.readouterr().err
    s = json.loads((out / "summary.json").read_text())
    assert s["part"] == "context" and s["metric"]["name"] == "perplexity"
    assert set(s["measures"]) == {"longest_run", "coverage", "token_contamination(L=10)",
                                  "token_contamination(L=20)"}
    assert (out / "epg.png").read_bytes()[:4] == b"\x89PNG"
    md = (out / "report.md").read_text()
    assert "random half" in md and "Holm" in md
    assert "winner's curse" in md and "![EPG against share flagged](epg.png)" in md
    assert "data:image/png;base64," in (out / "report.html").read_text()
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert len(rows) == len(s["cells"]) and rows[0]["measure"] == "longest_run"
    per_example = list(csv.DictReader((out / "measures.csv").open()))
    assert len(per_example) == 600 and "token_contamination(L=20)" in per_example[0]


def test_cli_errors_are_one_line(result, tmp_path, capsys):
    root, _ = result
    write_run(tmp_path / "ov", overlap_summary(), [{"id": f"lambada/test/{i:05d}", "units": 9,
                                                    "ngrams": 2, "found": 0}
                                                   for i in range(600)])
    cases = [(["--overlap", str(tmp_path / "ov")], "run `overlap` again"),
             (["--overlap", str(tmp_path / "ov"), "--part", "scored"], "declares no scored"),
             (["--overlap", str(root / "ov"), "--metric", "f1"], "--metric 'f1': this run has "
              "accuracy, perplexity, loss_bits")]
    for args, message in cases:
        code = main(["contamination-sweep", "--eval", str(root / "ev"), "--out",
                     str(tmp_path / "out"), *args])
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and message in line, line
    # bad option values are refused while parsing, naming the option
    for args, message in ((["--measures", "nope"], "--measures: unknown measure 'nope'"),
                          (["--min-run", "x"], "--min-run: 'x' is not a number"),
                          (["--alpha", "1.5"], "--alpha: must be between 0 and 1")):
        code = main(["contamination-sweep", "--eval", str(root / "ev"), "--out",
                     str(tmp_path / "out"), "--overlap", str(root / "ov"), *args])
        assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_output_is_never_an_input_nor_foreign_and_survives_a_failure(result, tmp_path, capsys,
                                                                      monkeypatch):
    root, _ = result

    def command(out, seed=0):
        return ["contamination-sweep", "--overlap", root / "ov", "--eval", root / "ev", "--out",
                out, "--bootstrap", 20, "--permutations", 20, "--thresholds", 3, "--seed", seed]

    refuses_inputs(capsys, command, [root / "ev", root / "ov" / "sweep"],
                   [root / "ov", root / "ev"])
    refuses_foreign(capsys, command, tmp_path / "mine", "contamination-sweep folder")
    out = tmp_path / "out" / "sweep"
    out.parent.mkdir()
    keeps_previous_on_failure(capsys, monkeypatch, command(out, 0), command(out, 1), out)
