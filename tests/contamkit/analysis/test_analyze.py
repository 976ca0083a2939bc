"""``analyze`` end to end on synthetic runs with a known shift, and on bad input."""

from __future__ import annotations

import base64
import csv
import json
import math

import numpy as np
import pytest

from contamkit import cli
from contamkit.analysis.analyze import analyze
from contamkit.analysis.options import AnalysisOptions
from contamkit.common.errors import UserError
from contamkit.common.parse import parse_percent_edges
from tests.contamkit.common.output_checks import (
    keeps_previous_on_failure,
    refuses_foreign,
    refuses_inputs,
)

FAST = AnalysisOptions(n_boot=300, n_perm=300)


def write_run(directory, summary: dict, rows: list[dict]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "summary.json").write_text(json.dumps(summary))
    (directory / "examples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def eval_summary(**kw) -> dict:
    return {"bench": "lambada", "split": "test", "task": "lambada", "tokenizer": "gpt2",
            "model": "m", **kw}


def overlap_summary(**kw) -> dict:
    return {"bench": "lambada", "split": "test", "n": 8, "unit": "words", "tokenizer": "",
            "filter": {"path": "f.bloom", "params": {"tokenizer": ""}}, **kw}


def synthetic_examples() -> dict:
    """1000 LAMBADA-like examples: 15 % dirty (right 90 % of the time, NLL 1.0 lower),
    the rest clean (right 60 %), 20 too short to test."""
    rng = np.random.default_rng(0)
    n = 1000
    ngrams = rng.integers(20, 120, n)
    ngrams[:20] = 0
    dirty = (rng.random(n) < 0.15) & (ngrams > 0)
    found = np.where(dirty, np.maximum(1, (rng.random(n) * ngrams).astype(int)), 0)
    correct = (rng.random(n) < np.where(dirty, 0.9, 0.6)).astype(int)
    nll = rng.normal(2.5 - 1.0 * dirty, 0.8)
    ids = [f"lambada/test/{i:05d}" for i in range(n)]
    ev = [{"id": i, "nll": float(x), "tokens": 2, "correct": int(c), "loss": float(x)}
          for i, x, c in zip(ids, nll, correct, strict=True)]
    ov = [{"id": i, "units": int(g) + 7, "ngrams": int(g), "found": int(f)}
          for i, g, f in zip(ids, ngrams, found, strict=True)]
    return {"ev": ev, "ov": ov, "dirty": dirty, "correct": correct, "nll": nll,
            "found": found, "ngrams": ngrams}


def write_runs(root, synthetic: dict):
    """The evaluate run in ``root/ev``, the overlap run in ``root/ov``; ``root``."""
    write_run(root / "ev", eval_summary(), synthetic["ev"])
    write_run(root / "ov", overlap_summary(), synthetic["ov"][::-1])  # order is irrelevant
    return root


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_examples()


@pytest.fixture
def runs(tmp_path, synthetic):
    return write_runs(tmp_path, synthetic)


def test_figures_match_a_direct_computation(runs, synthetic):
    s = analyze(runs / "ov", runs / "ev", runs / "out", FAST)
    dirty, correct, nll = synthetic["dirty"], synthetic["correct"], synthetic["nll"]
    tested = synthetic["ngrams"] > 0
    clean = tested & ~dirty
    assert s["examples"] == {
        "n": 1000, "tested": 980, "clean": int(clean.sum()), "dirty": int(dirty.sum()),
        "too_short": 20,
        "mean_overlap": pytest.approx(np.mean(synthetic["found"][tested] /
                                              synthetic["ngrams"][tested])),
        "pooled_overlap": pytest.approx(synthetic["found"].sum() / synthetic["ngrams"].sum()),
        "max_overlap": pytest.approx(np.max(synthetic["found"][tested] /
                                            synthetic["ngrams"][tested]))}
    acc, ppl = s["metrics"]["accuracy"], s["metrics"]["perplexity"]
    assert acc["all"]["value"] == pytest.approx(100 * correct.mean())
    assert acc["clean"]["value"] == pytest.approx(100 * correct[clean].mean())
    assert acc["dirty"]["value"] == pytest.approx(100 * correct[dirty].mean())
    assert acc["without_dirty"]["value"] == pytest.approx(100 * correct[~dirty].mean())
    assert ppl["clean"]["value"] == pytest.approx(math.exp(nll[clean].mean()))
    # the true shifts: +30 points of accuracy, perplexity e^1.5 - e^2.5 on dirty examples
    d = acc["dirty_minus_clean"]
    assert d["low"] < 30 < d["high"] and d["p_value"] < 0.01
    assert ppl["dirty_minus_clean"]["high"] < 0
    fit = s["regression"]
    assert fit["n"] == 980 and fit["slope"] < 0 and fit["p_value"] < 0.01
    assert [b["n"] for b in acc["buckets"]] == [
        int(clean.sum()), *np.bincount(np.searchsorted([0.05, 0.15, 0.5],
                                                       (synthetic["found"] /
                                                        np.maximum(synthetic["ngrams"], 1))
                                                       [dirty]), minlength=4).tolist()]


def test_outputs_are_written(runs):
    s = analyze(runs / "ov", runs / "ev", runs / "out", FAST)
    out = runs / "out"
    for png in ("buckets.png", "loss_vs_overlap.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "shift.csv") as f:
        table = {(r["metric"], r["subset"]): r for r in csv.DictReader(f)}
    assert float(table["accuracy", "clean"]["value"]) == pytest.approx(
        s["metrics"]["accuracy"]["clean"]["value"], rel=1e-5)
    assert table["accuracy", "dirty_minus_clean"]["p_value"] != ""
    assert ("perplexity", "bucket (15, 50] %") in table
    with open(out / "examples.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1000 and rows[0]["overlap"] == ""  # too short: undefined overlap
    md = (out / "report.md").read_text()
    moved = (f"moves accuracy (%) from {s['metrics']['accuracy']['all']['value']:.4g} to "
             f"{s['metrics']['accuracy']['without_dirty']['value']:.4g}")
    assert moved in md and "![metric by overlap bucket](buckets.png)" in md
    html = (out / "report.html").read_text()
    buckets = base64.b64encode((out / "buckets.png").read_bytes()).decode("ascii")
    assert "<table>" in html and f'src="data:image/png;base64,{buckets}"' in html and moved in html
    assert json.loads((out / "summary.json").read_text())["metrics"] == json.loads(
        json.dumps(s["metrics"]))


def test_same_seed_same_intervals(runs):
    a = analyze(runs / "ov", runs / "ev", runs / "a", FAST)
    b = analyze(runs / "ov", runs / "ev", runs / "b", FAST)
    assert a["metrics"] == b["metrics"]


def test_an_evaluation_of_the_first_examples_joins(tmp_path, synthetic):
    write_run(tmp_path / "ev", eval_summary(limit=100), synthetic["ev"][:100])
    write_run(tmp_path / "ov", overlap_summary(split="test"), synthetic["ov"])
    assert analyze(tmp_path / "ov", tmp_path / "ev", tmp_path / "out", FAST)[
        "examples"]["n"] == 100


@pytest.mark.parametrize("change, message", [
    ({"bench": "ptb"}, "bench 'lambada' differs from 'ptb'"),
    ({"split": "valid"}, "split 'test' differs from 'valid'"),
])
def test_runs_over_different_benchmarks_or_splits_are_refused(tmp_path, synthetic, change,
                                                              message):
    write_run(tmp_path / "ev", eval_summary(), synthetic["ev"])
    write_run(tmp_path / "ov", overlap_summary(**change), synthetic["ov"])
    with pytest.raises(UserError, match=message) as e:
        analyze(tmp_path / "ov", tmp_path / "ev", tmp_path / "out", FAST)
    assert str(tmp_path / "ev" / "summary.json") in str(e.value)


def test_split_aliases_are_the_same_split(tmp_path, synthetic):
    write_run(tmp_path / "ev", eval_summary(split="valid"), synthetic["ev"])
    write_run(tmp_path / "ov", overlap_summary(split="dev"), synthetic["ov"])
    analyze(tmp_path / "ov", tmp_path / "ev", tmp_path / "out", FAST)


def test_ids_that_do_not_match_are_refused(tmp_path, synthetic):
    ev = [dict(r, id=r["id"].replace("lambada/test/", "lambada/test/x")) for r in synthetic["ev"]]
    write_run(tmp_path / "ev", eval_summary(), ev[:5] + synthetic["ev"][5:])
    write_run(tmp_path / "ov", overlap_summary(), synthetic["ov"])
    with pytest.raises(UserError, match=r"5 of 1000 ids are not in .*examples.jsonl "
                                        r"\(e.g. lambada/test/x00000"):
        analyze(tmp_path / "ov", tmp_path / "ev", tmp_path / "out", FAST)


def test_tokenizer_mismatch_warns_and_goes_on(tmp_path, synthetic, caplog):
    write_run(tmp_path / "ev", eval_summary(tokenizer="bpe512:0123456789abcdef"),
              synthetic["ev"])
    write_run(tmp_path / "ov", overlap_summary(unit="gpt2", tokenizer="gpt2"), synthetic["ov"])
    s = analyze(tmp_path / "ov", tmp_path / "ev", tmp_path / "out", FAST)
    assert len(s["warnings"]) == 1 and "'gpt2'" in s["warnings"][0]
    assert "bpe512:0123456789abcdef" in s["warnings"][0]
    assert "warning: overlap was counted in gpt2 n-grams" in caplog.text
    assert "Warning:" in (tmp_path / "out" / "report.md").read_text()
    # word n-grams do not depend on any tokenizer; the same tokenizer is fine
    for unit, tok in (("words", ""), ("gpt2", "gpt2")):
        write_run(tmp_path / "ev2", eval_summary(), synthetic["ev"])
        write_run(tmp_path / "ov2", overlap_summary(unit=unit, tokenizer=tok), synthetic["ov"])
        assert analyze(tmp_path / "ov2", tmp_path / "ev2", tmp_path / "o2", FAST)[
            "warnings"] == []


def test_broken_runs(tmp_path, synthetic):
    write_run(tmp_path / "ev", eval_summary(), synthetic["ev"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no summary.json .not the output of `overlap`"):
        analyze(tmp_path / "empty", tmp_path / "ev", tmp_path / "out", FAST)
    bad = [dict(r) for r in synthetic["ov"]]
    bad[3]["found"] = bad[3]["ngrams"] + 1
    write_run(tmp_path / "ov", overlap_summary(), bad)
    with pytest.raises(UserError, match="'found' outside"):
        analyze(tmp_path / "ov", tmp_path / "ev", tmp_path / "out", FAST)
    write_run(tmp_path / "ov", overlap_summary(), synthetic["ov"][:3] + synthetic["ov"][:1])
    with pytest.raises(UserError, match=r"examples.jsonl:4: duplicate id"):
        analyze(tmp_path / "ov", tmp_path / "ev", tmp_path / "out", FAST)
    (tmp_path / "ov" / "examples.jsonl").write_text('{"id": "a", "ngrams": 1, "found": 0}\n{')
    with pytest.raises(UserError, match=r"examples.jsonl:2: malformed JSON"):
        analyze(tmp_path / "ov", tmp_path / "ev", tmp_path / "out", FAST)


def test_bucket_edges_are_checked():
    assert parse_percent_edges("10, 30") == (10.0, 30.0)
    assert AnalysisOptions(edges=(0.0, 10.0, 30.0, 100.0)).fractions() == (0.1, 0.3)
    for text in ("x", "30,10", "-1,5", "50,101"):
        with pytest.raises(UserError, match="--buckets"):
            AnalysisOptions(edges=parse_percent_edges(text)).check()
    with pytest.raises(UserError, match="--buckets"):
        AnalysisOptions(edges=(30.0, 10.0)).check()


def test_cli_reports_a_mismatch_in_one_line(tmp_path, synthetic, capsys):
    write_run(tmp_path / "ev", eval_summary(), synthetic["ev"])
    write_run(tmp_path / "ov", overlap_summary(bench="ptb"), synthetic["ov"])
    code = cli.main(["analyze", "--overlap", str(tmp_path / "ov"), "--eval",
                     str(tmp_path / "ev"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: ") and "differs from 'ptb'" in err[-1]
    assert cli.main(["analyze", "--overlap", str(tmp_path / "ov"), "--eval", str(tmp_path / "ev"),
                     "--out", str(tmp_path / "out"), "--buckets", "0.2,0.1"]) == 2


def test_output_is_never_an_input_nor_foreign_and_survives_a_failure(runs, capsys,
                                                                      monkeypatch):
    def command(out, seed=0):
        return ["analyze", "--overlap", runs / "ov", "--eval", runs / "ev", "--out", out,
                "--bootstrap", 50, "--permutations", 50, "--seed", seed]

    refuses_inputs(capsys, command, [runs / "ov", runs / "ev" / "analysis"],
                   [runs / "ov", runs / "ev"])
    refuses_foreign(capsys, command, runs / "mine", "analysis folder")
    out = runs / "out" / "analysis"
    out.parent.mkdir()
    keeps_previous_on_failure(capsys, monkeypatch, command(out, 0), command(out, 1), out)
