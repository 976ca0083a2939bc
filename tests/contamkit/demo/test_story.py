"""``python cli.py demo`` end to end, at a reduced size: every step runs, the truth is known."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from contamkit import cli
from contamkit.demo import DemoOptions, summary_text
from contamkit.demo.benchmark import contaminated_split, passage
from contamkit.demo.corpus import Doc, module_docstrings, stdlib_docstrings


def test_docstrings_are_prose_and_in_a_fixed_order():
    src = b'"""Module doc with enough words ' + b"w " * 30 + b'"""\ndef f():\n    """short"""\n'
    assert module_docstrings(src) == ["Module doc with enough words " + "w " * 30]
    docs = stdlib_docstrings()
    assert len(docs) > 500 and all(len(d.text.split()) >= 30 for d in docs)
    assert docs == stdlib_docstrings() and len({d.text for d in docs}) == len(docs)


def test_split_holds_whole_modules_out():
    docs = [Doc(f"m{i % 7}", f"text {i} " + "word " * 50) for i in range(70)]
    split = contaminated_split(docs, per_group=5, heldout=20, passage_words=10, seed=1)
    corpus_modules = {d.module for d in split.corpus}
    corpus_texts = {d.text for d in split.corpus}
    assert sum(r["contaminated"] for r in split.benchmark) == 5 and len(split.benchmark) == 10
    for r in split.benchmark:
        assert (r["module"] in corpus_modules) == r["contaminated"]
        assert any(t.startswith(r["text"]) for t in corpus_texts) == r["contaminated"]
    assert passage("a  b\nc d", 3) == "a  b\nc"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """``python cli.py demo --quick``: the reduced size, through the CLI."""
    out = tmp_path_factory.mktemp("demo")
    assert cli.main(["demo", "--out", str(out), "--quick"]) == 0
    return out, json.loads((out / "summary.json").read_text())


def test_demo_end_to_end(demo_run, capsys):
    out, s = demo_run
    assert s["options"] == asdict(DemoOptions.quick())
    assert s["overlap"]["recall"] == 1.0  # passages cut from corpus documents are all found
    assert 0.0 <= s["overlap"]["false_positive_rate"] < 0.5
    assert s["train"]["steps"] == 20
    assert s["evaluate"]["n_dirty"] + s["evaluate"]["n_clean"] == 40
    aucs = {a["measure"]: a["auc"] for a in s["membership"]["auc"]}
    assert aucs["ngram_overlap"] >= 0.95 and all(0 <= v <= 1 for v in aucs.values())
    for rel in ("report.md", "report.html", "overlap/report.md", "analysis/report.md",
                "analysis/loss_vs_overlap.png", "scores.jsonl", "model/loss.png",
                "filter.bloom"):
        assert (out / rel).is_file(), rel
    rows = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert sum(r["contaminated"] for r in rows) == 20
    text = summary_text(s, out)
    assert "flags 100.0 % of contaminated passages" in text and str(out / "report.md") in text
