"""``python cli.py demo`` end to end, at a reduced size: every step runs, the truth is known."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict

import pytest

from contamkit import cli
from contamkit.demo import DemoOptions, corpus, story, summary_text
from contamkit.demo.benchmark import contaminated_split, passage
from contamkit.demo.corpus import Doc, module_docstrings, stdlib_docstrings
from tests.contamkit.common.output_checks import (
    failure_points,
    inject_failure,
    listing,
    refuses_foreign,
    refuses_inputs,
    run_cli,
    tree,
)


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


SMALL_STDLIB = ("argparse", "bisect", "base64", "calendar", "contextlib", "dataclasses",
                "difflib", "enum", "fractions", "functools", "heapq", "numbers", "random",
                "statistics", "textwrap")  # 161 docstrings: enough for --quick, parsed at once


@pytest.fixture
def small_stdlib(tmp_path, monkeypatch):
    """The demo reads a copy of 15 standard modules, the input its output may not touch."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for name in SMALL_STDLIB:
        shutil.copy(corpus.stdlib_dir() / f"{name}.py", lib)
    monkeypatch.setattr(corpus, "stdlib_dir", lambda: lib)
    monkeypatch.setattr(story, "stdlib_dir", lambda: lib, raising=False)
    return lib


def test_output_is_never_an_input_nor_foreign_and_survives_a_failure(small_stdlib, tmp_path,
                                                                      capsys, monkeypatch):
    def command(out):
        return ["demo", "--quick", "--out", out]

    refuses_inputs(capsys, command, [small_stdlib, small_stdlib / "demo"], [small_stdlib])
    out = tmp_path / "mine"
    steps = inject_failure(monkeypatch, None)  # a refusal takes no step: counts the --force run
    refuses_foreign(capsys, command, out, "demo folder")
    total, previous, entries = steps[0], tree(out), listing(tmp_path)
    for n in failure_points(total):  # each run would give other timings: compare with the last
        inject_failure(monkeypatch, n)
        r = run_cli(capsys, command(out))
        assert r.returncode == 1 and "injected" in r.stderr, f"step {n} of {total}: {r.stderr}"
        assert listing(tmp_path) == entries, f"step {n}: debris {listing(tmp_path)}"
        now = tree(out)
        if now != previous:  # published, then failed: the new folder is whole
            summary = json.loads((out / "summary.json").read_text())
            assert summary["format"] == "contamkit-demo" and now.keys() == previous.keys(), n
            previous = now
    summary = json.loads((out / "summary.json").read_text())
    assert summary["train"]["checkpoint"] == "model/checkpoints/step_0000020"  # not the build's
