"""The whole chain on real data, reduced: prepare + train a tiny model on a WebText slice into
which LAMBADA passages were planted, build the filter from the same corpus, measure LAMBADA's
overlap, evaluate the model on the first passages and analyse the shift."""

from __future__ import annotations

import json

import pytest

from contamkit import cli

WEBTEXT_DOCS = 200
LIMIT = 30
PLANTED = range(0, LIMIT, 2)  # LAMBADA test passages copied into the training corpus


def run(*args) -> None:
    assert cli.main([str(a) for a in args]) == 0, args


@pytest.fixture(scope="module")
def chain(shared_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    corpus = root / "corpus"
    corpus.mkdir()
    webtext = (shared_data / "webtext" / "webtext.train.jsonl").read_text().splitlines(True)
    (corpus / "webtext.jsonl").write_text("".join(webtext[:WEBTEXT_DOCS]))
    lambada = (shared_data / "lambada" / "lambada_test.jsonl").read_text().splitlines(True)
    (corpus / "planted.jsonl").write_text("".join(lambada[i] for i in PLANTED))
    run("prepare", corpus, "-o", root / "data", "--tokenizer", "bpe:300", "--workers", 2,
        "--val-fraction", 0.05)
    config = root / "tiny.toml"
    config.write_text(
        f'data_dir = "{root / "data"}"\nout_dir = "{root / "train"}"\ntokenizer = "bpe:300"\n'
        'model = "tiny"\nn_layer = 1\nn_head = 2\nn_embd = 32\nblock_size = 64\n'
        'batch_size = 4\nmicro_batch_size = 4\nmax_steps = 30\nwarmup_steps = 3\n'
        'eval_interval = 30\neval_iters = 2\nlog_interval = 10\ncheckpoint_interval = 30\n'
        'device = "cpu"\n')
    run("train", "--config", config)
    checkpoint = root / "train" / "checkpoints" / "step_0000030"
    run("build-filter", corpus, "-o", root / "corpus.bloom", "--workers", 1)
    run("overlap", "--bench", "lambada", "--filter", root / "corpus.bloom", "--out", root / "ov")
    run("evaluate", "--model", checkpoint, "--bench", "lambada", "--limit", LIMIT,
        "--out", root / "ev", "--device", "cpu")
    run("analyze", "--overlap", root / "ov", "--eval", root / "ev", "--out", root / "an",
        "--bootstrap", 200, "--permutations", 200)
    return root


def test_planted_passages_are_the_dirty_ones(chain):
    summary = json.loads((chain / "an" / "summary.json").read_text())
    assert summary["examples"]["n"] == LIMIT
    assert summary["examples"]["dirty"] == len(PLANTED)
    assert summary["warnings"] == []  # word n-grams: no tokenizer to disagree with
    buckets = summary["metrics"]["accuracy"]["buckets"]
    assert buckets[-1]["n"] == len(PLANTED) and buckets[-1]["mean_overlap"] == 1.0
    rows = [line.split(",") for line in (chain / "an" / "examples.csv").read_text().splitlines()]
    dirty = {r[0] for r in rows[1:] if r[1] not in ("", "0")}
    assert dirty == {f"lambada/test/{i:05d}" for i in PLANTED}


def test_evaluation_and_analysis_agree(chain):
    ev = json.loads((chain / "ev" / "summary.json").read_text())
    an = json.loads((chain / "an" / "summary.json").read_text())
    assert ev["tokenizer"].startswith("bpe300:") and an["tokenizer"] == ev["tokenizer"]
    for name, value in ev["metrics"].items():
        assert an["metrics"][name]["all"]["value"] == pytest.approx(value)
    for name in ("report.md", "report.html", "buckets.png", "loss_vs_overlap.png", "shift.csv"):
        assert (chain / "an" / name).stat().st_size > 0
