"""lm-evaluation-harness's sample logs into ``analyze``: one real, offline lm-eval run of a tiny
random Llama on a 40-passage slice of LAMBADA (a local task YAML, ``dataset_path: json``), a
filter that holds 10 of the passages, then ``overlap`` and ``analyze`` from the CLI. Figures are
checked against lm-eval's own aggregates and a direct computation from its samples, and our
``evaluate`` must give lm-eval's log-likelihoods for every passage."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from contamkit import cli

N_DOCS, PLANTED = 40, range(0, 40, 4)
TASK_YAML = """\
task: lambada_slice
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
output_type: loglikelihood
test_split: test
doc_to_text: "{{{{text.split(' ')[:-1]|join(' ')}}}}"
doc_to_target: "{{{{' '+text.split(' ')[-1]}}}}"
metric_list:
  - metric: perplexity
    aggregation: perplexity
    higher_is_better: false
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""


def run(*args) -> int:
    return cli.main([str(a) for a in args])


@pytest.fixture(scope="module")
def lm_eval_run(tmp_path_factory, tiny_hf, shared_data) -> dict:
    pytest.importorskip("lm_eval")
    root = tmp_path_factory.mktemp("lm_eval")
    lines = (shared_data / "lambada" / "lambada_test.jsonl").read_text().splitlines()[:N_DOCS]
    data = root / "lambada40.jsonl"
    data.write_text("\n".join(lines) + "\n")
    (root / "tasks").mkdir()
    (root / "tasks" / "lambada_slice.yaml").write_text(TASK_YAML.format(data=data))
    model = tiny_hf("llama", root / "llama", context=128)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(root / "hf_home")}
    proc = subprocess.run(
        [sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args",
         f"pretrained={model},dtype=float32", "--tasks", "lambada_slice", "--include_path",
         str(root / "tasks"), "--device", "cpu", "--batch_size", "8", "--output_path",
         str(root / "out"), "--log_samples"],
        env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [samples] = (root / "out").rglob("samples_lambada_slice_*.jsonl")
    [results] = (root / "out").rglob("results_*.json")
    corpus = root / "corpus.jsonl"
    texts = [json.loads(line)["text"] for line in lines]
    corpus.write_text("".join(json.dumps({"text": texts[i]}) + "\n" for i in PLANTED))
    assert run("build-filter", corpus, "-o", root / "f.bloom") == 0
    assert run("overlap", "--bench", "lambada", "--bench-path", data, "--filter",
               root / "f.bloom", "--out", root / "ov") == 0
    return {"root": root, "data": data, "model": model, "samples": samples,
            "results": json.loads(results.read_text()), "out": root / "out"}


def read_samples(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_analyze_joins_lm_eval_samples(lm_eval_run, tmp_path):
    r = lm_eval_run
    assert run("analyze", "--overlap", r["root"] / "ov", "--eval", r["out"], "--out",
               tmp_path / "an", "--bootstrap", 50, "--permutations", 50) == 0
    s = json.loads((tmp_path / "an" / "summary.json").read_text())
    assert s["task"] == "lm-eval:lambada_slice" and s["model"] == str(r["model"])
    assert s["examples"]["n"] == N_DOCS and s["examples"]["dirty"] == len(PLANTED)
    samples = read_samples(r["samples"])
    assert [x["doc_id"] for x in samples] == list(range(N_DOCS))
    agg = r["results"]["results"]["lambada_slice"]
    m = s["metrics"]
    assert m["perplexity"]["all"]["value"] == pytest.approx(agg["perplexity,none"], rel=1e-9)
    assert m["acc"]["all"]["value"] == pytest.approx(100 * agg["acc,none"])
    with open(tmp_path / "an" / "examples.csv") as f:
        rows = list(csv.DictReader(f))
    dirty = [i for i, row in enumerate(rows) if int(row["found"]) > 0]
    assert dirty == list(PLANTED)
    ll = np.array([x["perplexity"] for x in samples])
    assert m["perplexity"]["dirty"]["value"] == pytest.approx(math.exp(-ll[dirty].mean()))
    clean = np.setdiff1d(np.arange(N_DOCS), dirty)
    assert m["perplexity"]["clean"]["value"] == pytest.approx(math.exp(-ll[clean].mean()))
    np.testing.assert_allclose([float(row["loss"]) for row in rows], -ll, rtol=1e-5)  # 6 digits
    assert s["regression"]["n"] == N_DOCS and s["regression"]["slope"] is not None


def test_contamination_sweep_reads_lm_eval_samples(lm_eval_run, tmp_path):
    r = lm_eval_run
    assert run("contamination-sweep", "--overlap", r["root"] / "ov", "--eval", r["out"], "--out",
               tmp_path / "sw", "--bootstrap", 50, "--permutations", 50) == 0
    s = json.loads((tmp_path / "sw" / "summary.json").read_text())
    assert s["metric"]["name"] == "perplexity" and s["examples"] == N_DOCS
    ll = np.array([x["perplexity"] for x in read_samples(r["samples"])])
    clean = np.setdiff1d(np.arange(N_DOCS), list(PLANTED))
    [any_match] = [c for c in s["cells"] if c["measure"] == "any_match"]
    assert any_match["flagged"] == len(PLANTED)
    assert any_match["epg"] == pytest.approx(math.exp(-ll.mean()) - math.exp(-ll[clean].mean()))


def test_evaluate_gives_lm_evals_numbers(lm_eval_run, tmp_path):
    """The same model and passages through ``evaluate``: lm-eval's log-likelihood and greedy
    flag for each (passages of ~200 tokens, context 128: the truncation rule included)."""
    r = lm_eval_run
    assert run("evaluate", "--model", r["model"], "--bench", "lambada", "--bench-path",
               r["data"], "--out", tmp_path / "ev", "--device", "cpu") == 0
    ours = [json.loads(x) for x in (tmp_path / "ev" / "examples.jsonl").read_text().splitlines()]
    samples = read_samples(r["samples"])
    np.testing.assert_allclose([o["nll"] for o in ours], [-x["perplexity"] for x in samples],
                               rtol=1e-5)
    assert [o["correct"] for o in ours] == [x["acc"] for x in samples]


def test_samples_that_do_not_fit_are_refused(lm_eval_run, tmp_path, capsys):
    r = lm_eval_run
    samples = read_samples(r["samples"])
    other = tmp_path / "samples_other_2026-01-01T00-00-00.0.jsonl"
    changed = [dict(x) for x in samples]
    changed[7] = {**changed[7], "doc": {"text": "An entirely different document about boats."}}
    other.write_text("".join(json.dumps(x) + "\n" for x in changed))
    shorter = tmp_path / "data30.jsonl"
    shorter.write_text("".join(r["data"].read_text().splitlines(keepends=True)[:30]))
    assert run("overlap", "--bench", "lambada", "--bench-path", shorter, "--filter",
               r["root"] / "f.bloom", "--out", tmp_path / "ov30") == 0
    two = tmp_path / "two"
    two.mkdir()
    for name in ("samples_a_2026-01-01T00-00-00.0.jsonl", "samples_b_2026-01-01T00-00-00.0.jsonl"):
        (two / name).write_text(r["samples"].read_text())
    cases = [
        (r["root"] / "ov", other, f"{other}: doc_id 7 does not match lambada/test/00007"),
        (tmp_path / "ov30", r["samples"], f"{r['samples']}: 40 documents (doc_id up to 39) "
                                          f"but {tmp_path / 'ov30' / 'lambada' / 'examples.jsonl'}"
                                          " has 30"),
        (r["root"] / "ov", two, f"{two}: holds 2 lm-eval samples files (tasks a, b)"),
    ]
    for ov, ev, message in cases:
        capsys.readouterr()
        assert run("analyze", "--overlap", ov, "--eval", ev, "--out", tmp_path / "x") == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith(f"error: {message}"), err
        assert not any("Traceback" in line for line in err)
