"""docs/extending.md runs as written: its code blocks register a unit, a measure, a corpus format
and a benchmark, and the new entries then work through the CLI, checked against values computed
here independently (sets of letter n-grams, the minimum of log-probabilities)."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest

from contamkit import cli
from contamkit.benchmarks.registry import REGISTRY
from contamkit.common.paths import REPO_ROOT
from contamkit.corpus.formats import FORMATS
from contamkit.experiments.detectors import MEASURES, membership_score, text_measures
from overlap.normalize import words
from overlap.units import UNITS

N = 12  # letters per n-gram
CORPUS = [
    "What has keys but can't open locks? A piano, of course, said the teacher.",
    "An unrelated document about rivers, bridges and the weather in spring.",
]
RIDDLES = [  # the first is in the corpus, the second nowhere
    {"riddle": "What has keys but can't open locks?", "answer": "A piano"},
    {"riddle": "What gets wetter the more it dries?", "answer": "A towel"},
]


@pytest.fixture
def extended():
    """The registries with the page's entries added, restored afterwards."""
    tables = (UNITS, MEASURES, FORMATS, REGISTRY)
    saved = [dict(t) for t in tables]
    text = (REPO_ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 4
    for block in blocks:
        exec(compile(block, "docs/extending.md", "exec"), {"__name__": "extending_doc"})
    yield
    for table, before in zip(tables, saved, strict=True):
        table.clear()
        table.update(before)


def letter_ngrams(text: str) -> list[str]:
    """Every n-gram position of the text's letters: the reference for the new unit."""
    letters = "".join(words(text))
    return [letters[i : i + N] for i in range(len(letters) - N + 1)]


def test_new_entries_work_from_the_cli(extended, tmp_path, capsys):
    corpus = tmp_path / "corpus.csv"
    with open(corpus, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "text"])
        writer.writeheader()
        writer.writerows({"id": i, "text": t} for i, t in enumerate(CORPUS))
    bench = tmp_path / "riddles.jsonl"
    bench.write_text("".join(json.dumps(r) + "\n" for r in RIDDLES), encoding="utf-8")

    bloom = tmp_path / "letters.bloom"
    assert cli.main(["build-filter", str(corpus), "-o", str(bloom), "--unit", "letters",
                     "--n", str(N), "--workers", "1"]) == 0
    assert cli.main(["overlap", "--bench", "riddles", "--bench-path", str(bench), "--filter",
                     str(bloom), "--out", str(tmp_path / "ov")]) == 0
    examples = tmp_path / "ov" / "riddles" / "examples.jsonl"
    rows = [json.loads(x) for x in examples.read_text().splitlines()]
    in_corpus = {g for text in CORPUS for g in letter_ngrams(text)}
    for row, riddle in zip(rows, RIDDLES, strict=True):
        grams = letter_ngrams(f"{riddle['riddle']} {riddle['answer']}")
        assert (row["ngrams"], row["found"]) == (len(grams), sum(g in in_corpus for g in grams))
    assert rows[0]["found"] == rows[0]["ngrams"] > 0 and rows[1]["found"] == 0

    cleaned = tmp_path / "clean"
    assert cli.main(["decontaminate", str(corpus), "--bench", "riddles", "--bench-path",
                     str(bench), "--unit", "letters", "--n", str(N), "--window", "0",
                     "--min-piece", "1", "--out", str(cleaned)]) == 0
    with open(cleaned / "corpus.csv", newline="", encoding="utf-8") as f:
        texts = [r["text"] for r in csv.DictReader(f)]
    assert CORPUS[1] in texts and "piano" not in " ".join(texts).lower()

    assert cli.main(["verify", str(bloom), "--probes", "20000"]) == 0
    assert cli.main(["build-filter", "--help"]) == 0
    assert "letters" in capsys.readouterr().out


def test_new_measure(extended):
    lp = np.array([-0.5, -4.0, -1.0])
    moments = np.stack([lp, np.full(3, -2.0), np.full(3, 1.0)], axis=1)  # log p, mu, sigma
    values = text_measures("some text", moments)
    assert values["lowest_logprob"] == -4.0 and values["loss"] == pytest.approx(5.5 / 3)
    assert membership_score("lowest_logprob", np.array([-4.0])) == -4.0  # higher: member
