"""Table 6: the Bloom-filter figures equal an exact set computation, and match the paper."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from contamkit.common.paths import REPO_ROOT
from model.tokenizer import load_gpt2
from overlap.normalize import words
from overlap.options import Convention
from overlap.table6 import PAPER, measure_dataset, table6
from overlap.units import make_coder
from tests.contamkit.common.output_checks import (
    keeps_previous_on_failure,
    refuses_foreign,
    refuses_inputs,
)


def cli(*args):
    return subprocess.run([sys.executable, "cli.py", *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True)


def split_words(path, unk="keep"):
    """The split as one stream of normalized words (PTB is ASCII: the paper's [a-z0-9]+)."""
    text = path.read_text(encoding="utf-8")
    if unk == "drop":
        text = text.replace("<unk>", " ")
    return re.findall(r"[a-z0-9]+", text.lower()) if text.isascii() else words(text)


def exact(train_units, test_units, n=8):
    """(test n-gram positions, positions found in train, distinct, distinct found): sets."""
    train = {tuple(train_units[i : i + n]) for i in range(len(train_units) - n + 1)}
    test = [tuple(test_units[i : i + n]) for i in range(len(test_units) - n + 1)]
    distinct = set(test)
    return len(test), sum(g in train for g in test), len(distinct), len(distinct & train)


@pytest.fixture(scope="module")
def cli_table(shared_data, gpt2_vocab, tmp_path_factory):
    out = tmp_path_factory.mktemp("t6")
    r = cli("table6", "--data-dir", shared_data, "--out", out, "--gpt2-vocab", gpt2_vocab)
    assert r.returncode == 0, r.stderr
    return r.stdout, json.loads((out / "table6.json").read_text())


@pytest.mark.parametrize("dataset, train, test", [
    ("PTB", "ptb/ptb.train.txt", "ptb/ptb.test.txt"),
    ("WikiText-2", "wikitext-2/train.txt", "wikitext-2/test.txt"),
])
def test_default_convention_equals_exact_sets(cli_table, shared_data, gpt2_vocab, dataset, train,
                                              test):
    """Default: GPT-2 tokens of each split as one stream, <unk> kept, share of positions."""
    _, table = cli_table
    row = next(r for r in table["datasets"] if r["dataset"] == dataset)
    tok = load_gpt2(gpt2_vocab)
    tokens = [tok.encode(" ".join(split_words(shared_data / p))) for p in (train, test)]
    positions, found, distinct, found_distinct = exact(*tokens)
    assert (row["test_ngrams"], row["found"]) == (positions, found)
    assert (row["test_distinct"], row["found_distinct"]) == (distinct, found_distinct)
    assert row["measured_pct"] == pytest.approx(100 * found / positions)
    # and this convention reproduces the paper's figure to its two decimals
    assert round(row["measured_pct"], 2) == row["paper_pct"]


def test_cli_prints_measured_beside_paper(cli_table):
    stdout, table = cli_table
    assert table["convention"] == {"n": 8, "unit": "gpt2", "granularity": "stream",
                                   "unk": "keep", "measure": "positions"}
    lines = {line.split()[0]: line for line in stdout.splitlines()[2:]}
    assert "2.669 %" in lines["PTB"] and "2.67 %" in lines["PTB"]
    assert "0.663 %" in lines["WikiText-2"] and "0.66 %" in lines["WikiText-2"]
    rows = {r["dataset"]: r for r in table["datasets"]}
    assert rows["WikiText-103"]["note"] == "train split not present"
    assert rows["1BW"]["measured_pct"] is None and rows["1BW"]["paper_pct"] == 13.19
    report = stdout.splitlines()[-1]
    assert report.startswith("report: ") and report.endswith("report.html")
    html = Path(report.split(": ", 1)[1]).read_text()
    assert "Table 6" in html and "2.669 %" in html and "2.67 %" in html


def test_word_unit_per_line_drop_unk_equals_exact_sets(shared_data):
    """Another convention through the same code: words, n-grams inside PTB lines, no <unk>."""
    conv = Convention(unit="words", granularity="example", unk="drop")
    row = measure_dataset(PAPER[0], shared_data, conv, make_coder("words"), None)

    def lines(p):
        return [re.findall(r"[a-z0-9]+", x.replace("<unk>", " ").lower())
                for x in (shared_data / "ptb" / p).read_text().splitlines()]

    train = {tuple(ws[i : i + 8]) for ws in lines("ptb.train.txt") for i in range(len(ws) - 7)}
    test = [tuple(ws[i : i + 8]) for ws in lines("ptb.test.txt") for i in range(len(ws) - 7)]
    assert row["test_ngrams"] == len(test)
    assert row["found"] == sum(g in train for g in test)


def test_corpus_row_and_mismatch(shared_data, tmp_path, capsys):
    from contamkit.cli import main

    corpus = shared_data / "ptb" / "ptb.valid.txt"
    f = tmp_path / "valid.bloom"
    assert main(["build-filter", str(corpus), "-o", str(f), "--workers", "1"]) == 0
    result = table6(shared_data, Convention(unit="words"), corpus_filter=str(f))
    ptb = next(r for r in result["datasets"] if r["dataset"] == "PTB")
    ref = exact(split_words(corpus), split_words(shared_data / "ptb" / "ptb.test.txt"))
    assert (ptb["corpus"]["test_ngrams"], ptb["corpus"]["found"]) == ref[:2]
    assert ptb["corpus"]["paper_pct"] == ptb["paper_webtext_pct"] == 0.88
    capsys.readouterr()
    # the default unit (gpt2) against a words filter
    assert main(["table6", "--data-dir", str(shared_data), "--corpus-filter", str(f)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: {f}: filter does not match") and "unit='gpt2'" in line
    assert main(["table6", "--data-dir", str(tmp_path / "nothing")]) == 2
    assert "no such data directory" in capsys.readouterr().err


def tiny_ptb(data: Path) -> Path:
    """A data folder with a 20-line PTB train split and a 15-line test split sharing 5 lines."""
    (data / "ptb").mkdir(parents=True)
    lines = [" ".join(f"w{(i * 7 + j * 3) % 41}" for j in range(12)) for i in range(30)]
    (data / "ptb" / "ptb.train.txt").write_text("\n".join(lines[:20]) + "\n")
    (data / "ptb" / "ptb.test.txt").write_text("\n".join(lines[15:]) + "\n")
    return data


def table6_command(data: Path, out: Path, n: int = 4) -> list:
    return ["table6", "--data-dir", data, "--unit", "words", "--n", n, "--out", out]


def test_output_is_never_an_input_nor_foreign_and_survives_a_failure(tmp_path, capsys,
                                                                      monkeypatch):
    data = tiny_ptb(tmp_path / "data")

    def command(out, n=4):
        return table6_command(data, out, n)

    refuses_inputs(capsys, command, [data, data / "ptb" / "table6", tmp_path], [data])
    refuses_foreign(capsys, command, tmp_path / "mine", "table6 folder")
    out = tmp_path / "out" / "table6"
    out.parent.mkdir()
    keeps_previous_on_failure(capsys, monkeypatch, command(out, 4), command(out, 5), out)
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.md", "table6.json"]
    assert "table6.json: 4-grams of words" in (out / "report.md").read_text()
