"""Huge documents are hashed in pieces: the n-grams are exactly those of the whole document."""

import json

import numpy as np
import pytest

from contamkit.corpus import read
from contamkit.corpus.formats import read_task
from contamkit.corpus.read import CorpusStats, Task
from overlap.ngrams import ngram_hashes
from overlap.pipeline import hash_task, ngram_stream
from overlap.units import make_coder

VOCABULARY = ["the", "Cat", "sat", "ON", "a", "mat", "é", "naïve", "ΑΣ", "Σ", "…", "x\u0301",
              "e\u0301", "\u0301", "ﬁne", "ＡＢ", "don't", "3.14", "—", "\u00b4", "<\u0338"]
SPACES = [" ", " ", " ", "  ", "\t", " \r\n ", "\u00a0", "\u3000"]


def random_text(rng: np.random.Generator, words_: int) -> str:
    parts = rng.choice(VOCABULARY, words_)
    gaps = rng.choice(SPACES, words_)
    return "".join(w + g for w, g in zip(parts, gaps, strict=True))


def task_hashes(tasks, unit, n=4, threads=1):
    stream = ngram_stream_for(unit, threads)
    out = [h for t in tasks for h in hash_task(t, stream, "text", CorpusStats())]
    return (np.concatenate([h.h1 for h in out]), np.concatenate([h.h2 for h in out]))


def ngram_stream_for(unit, threads):
    from overlap.pipeline import HashSpec

    return ngram_stream(HashSpec(n=4, unit=unit, seed=3), threads)


@pytest.mark.parametrize("unit", ["words", "gpt2"])
def test_one_line_document_in_pieces_gives_the_whole_documents_ngrams(unit, tmp_path,
                                                                      monkeypatch, request):
    if unit == "gpt2":
        request.getfixturevalue("gpt2_vocab")
    rng = np.random.default_rng(5)
    text = random_text(rng, 6000)  # ~40 KB, no line break
    path = tmp_path / "one.txt"
    path.write_text(text)
    coder = make_coder(unit)
    expected = ngram_hashes(coder.codes([text])[0], 4, 3)  # the whole text, coded at once
    for piece in (37, 64, 1000):
        monkeypatch.setattr(read, "PIECE_BYTES", piece)
        monkeypatch.setattr(read, "MAX_RUN_BYTES", 1 << 20)
        docs = list(read_task(Task(str(path)), "text", CorpusStats()))
        assert len(docs) > 30 and "".join(d.text for d in docs) == text
        for tasks in ([Task(str(path))], [Task(str(path), s, s + 4096)
                                           for s in range(0, path.stat().st_size, 4096)]):
            for threads in (1, 3):
                h1, h2 = task_hashes(tasks, unit, threads=threads)
                assert np.array_equal(h1, expected[0]) and np.array_equal(h2, expected[1])


def test_long_json_records_are_hashed_in_pieces(tmp_path, monkeypatch):
    rng = np.random.default_rng(6)
    texts = [random_text(rng, k) for k in (3000, 5, 800)]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    coder = make_coder("words")
    expected = [ngram_hashes(coder.codes([t])[0], 4, 3)[0] for t in texts]
    monkeypatch.setattr(read, "PIECE_BYTES", 50)
    h1, _ = task_hashes([Task(str(path))], "words")
    assert np.array_equal(h1, np.concatenate(expected))  # and none across records


def test_ranges_cut_inside_a_huge_line_read_it_once(tmp_path, monkeypatch):
    """A line longer than its range is read by the range it starts in, in pieces; the ranges
    after it skip it without holding it."""
    monkeypatch.setattr(read, "PIECE_BYTES", 64)
    lines = ["short line one\n", " ".join(["word"] * 3000) + "\n", "last line here\n"]
    path = tmp_path / "t.txt"
    path.write_text("".join(lines))
    tasks = [Task(str(path), s, s + 1000) for s in range(0, path.stat().st_size, 1000)]
    pieces = [d for t in tasks for d in read_task(t, "text", CorpusStats())
              if not d.lookahead]
    assert "".join(d.text for d in pieces) == "".join(lines)
    assert max(len(d.text) for d in pieces) <= 64 + 5


def test_a_run_without_whitespace_is_cut_at_a_character_boundary(tmp_path, monkeypatch):
    monkeypatch.setattr(read, "PIECE_BYTES", 64)
    monkeypatch.setattr(read, "MAX_RUN_BYTES", 256)
    text = "é" * 1000  # 2000 bytes, no whitespace
    path = tmp_path / "t.txt"
    path.write_text(text)
    docs = list(read_task(Task(str(path)), "text", CorpusStats()))
    assert "".join(d.text for d in docs) == text
    assert max(len(d.text.encode()) for d in docs) <= 256 + 64
