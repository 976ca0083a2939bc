"""A whole experiment in reduced form on built-in data: bookkeeping, results, resume, CLI."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from contamkit.cli import main
from contamkit.common.errors import UserError
from contamkit.common.outputs import pid_alive
from contamkit.common.paths import REPO_ROOT
from contamkit.experiments.config import load_experiment
from contamkit.experiments.manifest import file_sha256
from contamkit.experiments.runner import run_experiment
from tests.contamkit.common.output_checks import (
    inject_failure,
    listing,
    refuses_foreign,
    refuses_inputs,
    run_cli,
)
from tests.contamkit.experiments.conftest import tiny_config
from training.sequences import WindowOrder


@pytest.fixture(scope="module")
def finished(tmp_path_factory, builtin_data):
    root = tmp_path_factory.mktemp("experiment")
    config = root / "tiny.json"
    config.write_text(json.dumps(tiny_config(builtin_data)))
    out = root / "out"
    return config, out, run_experiment(load_experiment(config), out)


def test_injection_bookkeeping_on_disk(finished):
    _, out, _ = finished
    plan = json.loads((out / "data" / "injection.json").read_text())
    docs = [json.loads(line) for line in (out / "data" / "injected.jsonl").read_text()
            .splitlines()]
    counts = Counter(d["text"] for d in docs)
    copies = Counter(e["copies"] for e in plan["examples"])
    assert copies == {0: 24, 1: 8, 8: 8}
    for e in plan["examples"]:
        assert counts[e["text"]] == e["copies"]
        assert [docs[p]["text"] for p in e["positions"]] == [e["text"]] * e["copies"]
    # every planted copy is in the training split the models were trained on
    manifest = json.loads((out / "prepared" / "injected" / "manifest.json").read_text())
    assert manifest["splits"]["train"]["documents"] == len(docs) == 300 + 8 * 9
    assert manifest["splits"]["val"]["documents"] == 0
    clean = json.loads((out / "prepared" / "reference" / "manifest.json").read_text())
    assert clean["splits"]["train"]["documents"] == 300


def test_results_tables(finished):
    _, out, results = finished
    detector = {d["group"]: d for d in results["detector"]}
    assert detector["all injected"]["flagged_rate"] == 1.0  # the n-gram detector sees them all
    assert detector["held out"]["examples"] == 24
    aucs = {(a["measure"], a["model"], a["copies"]): a["auc"] for a in results["auc"]}
    assert aucs[("ngram_overlap", "n-gram filter", "all")] == 1.0
    assert {m for m, _, _ in aucs} == {"loss", "min_k", "min_k_pp", "zlib_ratio",
                                       "reference_ratio", "ngram_overlap"}
    assert all(0.0 <= v <= 1.0 for v in aucs.values())
    gaps = [g for g in results["gap"] if g["metric"] == "token_perplexity"]
    assert {(g["variant"], g["copies"]) for g in gaps} == {(v, k) for v in ("injected",
                                                                           "reference")
                                                           for k in (1, 8)}
    extraction = {x["copies"]: x for x in results["extraction"]}
    assert extraction[8]["checked"] == 8 and extraction[0]["checked"] == 4
    exposure = {x["copies"]: x["mean_exposures"] for x in results["exposures"]}
    assert exposure[1] <= exposure[8]
    for name in results["files"]:
        assert (out / name).is_file(), name
    report = (out / "report.md").read_text()
    assert "n-gram detector" in report and "![AUC by measure](auc.png)" in report


def test_contamination_measures_against_the_truth(finished):
    """Injected passages are exact copies and held-out ones overlap nothing: every definition
    separates them perfectly, and flags exactly the true split, so its EPG is the true one."""
    _, out, results = finished
    rows = {r["measure"]: r for r in results["contamination"]}
    assert set(rows) == {"ngram_fraction", "any_match", "longest_run", "longest_run_share",
                         "coverage", "token_contamination(L=10)", "matched_spans", "true split"}
    truth = rows["true split"]
    plan = json.loads((out / "data" / "injection.json").read_text())["examples"]
    evals = {r["id"]: r for r in map(json.loads, (out / "eval" / "xs-injected" /
                                                   "examples.jsonl").read_text().splitlines())}
    loss = np.array([evals[e["id"]]["loss"] for e in plan]) / np.log(2)
    injected = np.array([e["copies"] > 0 for e in plan])
    assert truth["xs/epg"] == pytest.approx(loss.mean() - loss[~injected].mean())
    for name, r in rows.items():
        assert (r["auc"], r["flagged_injected"], r["flagged_heldout"]) == (1.0, 1.0, 0.0), name
        assert (r["xs/epg"], r["xs/epg_low"]) == (truth["xs/epg"], truth["xs/epg_low"]), name
    sweep = json.loads((out / "sweep" / "xs" / "summary.json").read_text())
    assert sweep["metric"]["name"] == "loss_bits" and sweep["cells"]
    assert "Which overlap definition recovers the truth" in (out / "report.md").read_text()


def test_exposures_replay_the_training_order(finished):
    """Replay which windows the 30 steps of 8 sequences drew and count, per copy, how often its
    least-seen token (or its end-of-text) was a target."""
    _, out, _ = finished
    train = json.loads((out / "prepared" / "injected" / "manifest.json").read_text())[
        "splits"]["train"]
    seen = np.zeros(train["tokens"] + 1)
    for w in WindowOrder(train["tokens"], 64, 1337).windows(0, 30 * 8):
        seen[w * 64 + 1:w * 64 + 65] += 1
    span = {d: (o, n) for d, o, n in zip(train["doc_index"], train["doc_offset"],
                                         train["doc_tokens"], strict=True)}
    rows = {r["id"]: r for r in csv.DictReader((out / "examples.csv").open())}
    plan = json.loads((out / "data" / "injection.json").read_text())["examples"]
    for e in plan:
        want = sum(seen[span[d][0]:span[d][0] + span[d][1] + 1].min() for d in e["positions"])
        assert float(rows[e["id"]]["xs/exposures"]) == want


def test_manifest_records_seeds_and_checksums(finished):
    _, out, _ = finished
    m = json.loads((out / "manifest.json").read_text())
    assert m["seeds"]["injection"] == 0 and m["seeds"]["train:xs:injected"] == 1337
    for rel in ("data/injected.jsonl", "results.json", "prepared/injected/train.bin"):
        assert m["outputs"][rel] == file_sha256(out / rel)
    assert any(k.endswith("corpus.jsonl") for k in m["inputs"])
    assert {"data", "tokenizer", "train:xs:injected", "train:xs:reference", "overlap",
            "report"} <= set(m["stages"])


def test_rerun_reuses_finished_stages(finished, caplog):
    config, out, results = finished
    weights = next((out / "models" / "xs" / "injected" / "checkpoints").glob("step_*"))
    stamp = (weights / "model.safetensors").stat().st_mtime_ns
    with caplog.at_level("INFO", logger="contam"):
        again = run_experiment(load_experiment(config), out)
    assert "train:xs:injected already done" in caplog.text
    assert (weights / "model.safetensors").stat().st_mtime_ns == stamp
    assert again["auc"] == results["auc"] and again["gap"] == results["gap"]


def test_another_config_is_refused_in_the_same_directory(finished, builtin_data, tmp_path):
    _, out, _ = finished
    other = tmp_path / "other.json"
    other.write_text(json.dumps(tiny_config(builtin_data, injection={"counts": [2],
                                                                      "per_count": 8})))
    with pytest.raises(UserError, match="holds a run of another config"):
        run_experiment(load_experiment(other), out)


def test_cli(finished, capsys, tmp_path):
    config, out, _ = finished
    assert main(["experiment", "--config", str(config), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "recall 100.0 %" in printed and str(out / "report.md") in printed
    assert main(["experiment", "--config", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: experiment config file not found" in capsys.readouterr().err


def test_shipped_lambada_config_in_reduced_form(shared_data, tmp_path):
    """configs/experiments/lambada-webtext-small.json with its sizes cut down: WebText and
    LAMBADA from the shared data, the lambada task's metrics."""
    small = tiny_config({"corpus": "", "bench": ""})
    overrides = {"corpus": {"path": "$DATA/webtext/webtext.train.jsonl", "limit": 120},
                 "benchmark": {"name": "lambada", "split": "test", "limit": 50},
                 "injection": {"counts": [1, 16], "per_count": 5},
                 **{k: small[k] for k in ("tokenizer", "train", "models", "extraction",
                                          "analysis")}}
    cfg = load_experiment(REPO_ROOT / "configs" / "experiments" / "lambada-webtext-small.json",
                          overrides)
    results = run_experiment(cfg, tmp_path)
    assert results["task"] == "lambada"
    assert {g["metric"] for g in results["gap"]} == {"accuracy", "perplexity", "loss_bits"}
    detector = {d["group"]: d for d in results["detector"]}
    assert detector["all injected"]["flagged_rate"] == 1.0
    assert detector["held out"]["examples"] == 40
    injected = json.loads((tmp_path / "data" / "injection.json").read_text())
    assert injected["clean_documents"] == 120 and injected["injected_documents"] == 120 + 5 * 17


def test_output_is_never_an_input_nor_foreign_and_resumes_in_its_own(builtin_data, tmp_path,
                                                                     capsys, monkeypatch):
    small = tiny_config(builtin_data, reference=False)
    small["train"].update(max_steps=4, eval_interval=4, checkpoint_interval=4)
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(small))
    corpus, bench = builtin_data["corpus"], builtin_data["bench"]

    def command(out):
        return ["experiment", "--config", config, "--out", out]

    refuses_inputs(capsys, command, [config, corpus, bench / "out", corpus.parent, tmp_path],
                   [config, corpus, bench])
    out = tmp_path / "mine"
    refuses_foreign(capsys, command, out, "directory of an experiment")
    results = json.loads((out / "results.json").read_text())
    assert run_cli(capsys, command(out)).returncode == 0  # its own directory: resumed, not redone
    assert json.loads((out / "results.json").read_text()) == results
    killed = tmp_path / "killed"  # a run that failed in its first stage is its own too
    inject_failure(monkeypatch, 3)  # after the manifest, at the first file of the data stage
    assert run_cli(capsys, command(killed)).returncode == 1 and (killed / "data").is_dir()
    dead = next(pid for pid in range(4_000_000, 4_100_000) if not pid_alive(pid))
    for name in ("manifest.json", "data/injected.jsonl"):  # as a kill would leave them
        (killed / name).with_name(f".{Path(name).name}.{dead}-a1b2.tmp").write_text("half")
    inject_failure(monkeypatch, None)
    assert run_cli(capsys, command(killed)).returncode == 0
    assert [listing(d)[1] for d in (killed, killed / "data")] == [[], []]
    assert json.loads((killed / "results.json").read_text())["files"] == results["files"]
