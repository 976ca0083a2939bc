"""The default build reads the corpus once, sized from a sample, and answers like a build given
the exact capacity; when the sample misleads it, it says so and rebuilds larger."""

import gzip
import json
import logging
import re

import numpy as np
import pytest

from contamkit.corpus.formats import plan_tasks, read_task
from contamkit.corpus.read import CorpusStats, Task
from overlap import build, murmur
from overlap.build import build_filter, exact_capacity, sample_first
from overlap.filters import open_filter
from overlap.normalize import words
from overlap.options import BuildOptions
from overlap.units import make_coder

FPR = 1e-3
N = 8


def random_words(rng, count, prefix="w", vocabulary=3000):
    return [f"{prefix}{i}" for i in rng.integers(0, vocabulary, count)]


def exact_ngrams(text):
    """The n-grams of an ASCII text, computed without the code under test."""
    tokens = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(tokens[i : i + N]) for i in range(len(tokens) - N + 1)}


def answers(path, ngrams):
    """The filter's answer for each n-gram (a tuple of normalized words)."""
    bloom = open_filter(path)
    codes = make_coder("words").codes([" ".join(w for g in ngrams for w in g)])[0]
    lengths = np.full(len(ngrams), N, dtype=np.int64)
    return bloom.contains(*murmur.window_hashes(codes, lengths, lengths, N, 0))


def binomial_ceiling(queries, rate, sigmas=6):
    mean = queries * rate
    return mean + sigmas * np.sqrt(mean) + 1


@pytest.fixture
def small_sample(monkeypatch):
    """A sample of 8 windows of 4 KB, so that corpora of a few hundred KB are sampled."""
    monkeypatch.setattr(build, "SAMPLE_BYTES", 32 << 10)
    monkeypatch.setattr(build, "SAMPLE_WINDOWS", 8)


def absent_ngrams(rng, count):
    """``count`` n-grams of words no corpus here has (``q`` words)."""
    words_ = [f"q{i}" for i in rng.integers(0, 10**6, count * N).tolist()]
    return [tuple(words_[i : i + N]) for i in range(0, len(words_), N)]


def test_sample_windows_tile_the_corpus(tmp_path, small_sample):
    rng = np.random.default_rng(0)
    files = []
    for i in range(5):
        p = tmp_path / f"{i}.txt"
        p.write_text("\n".join(" ".join(random_words(rng, 12)) for _ in range(1500)))
        files.append(p)
    gz = tmp_path / "z.jsonl.gz"
    records = (json.dumps({"text": " ".join(random_words(rng, 12))}) + "\n" for _ in range(3000))
    gz.write_bytes(gzip.compress("".join(records).encode()))
    files.append(gz)
    tasks = plan_tasks(files)
    ordered, sampled = sample_first(tasks)
    assert 1 < sampled < len(ordered)
    assert Task(str(gz)) in ordered[:sampled]  # a file that cannot be cut is sampled whole
    for p in files[:-1]:  # the ranges of each plain file tile it exactly
        spans = sorted((t.start, t.end) for t in ordered if t.path == str(p))
        assert spans[0][0] == 0 and spans[-1][1] == p.stat().st_size
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
    texts = [d.text for t in ordered for d in read_task(t, "text", CorpusStats())
             if not d.lookahead and t.path != str(gz)]
    assert sorted("".join(texts)) == sorted("".join(p.read_text() for p in files[:-1]))
    sampled_files = {t.path for t in ordered[:sampled]}
    assert len(sampled_files) >= 4  # spread over the corpus, not its first file


@pytest.mark.parametrize("workers", [1, 3])
def test_one_pass_answers_like_the_exact_capacity(tmp_path, small_sample, workers):
    rng = np.random.default_rng(1)
    corpus = tmp_path / "c"
    corpus.mkdir()
    texts = []
    for i in range(40):
        text = " ".join(random_words(rng, int(rng.integers(200, 3000))))
        (corpus / f"{i:02d}.txt").write_text(text)
        texts.append(text)
    present = set().union(*(exact_ngrams(t) for t in texts))
    default = build_filter(corpus, tmp_path / "d.bloom", BuildOptions(fpr=FPR, workers=workers))
    exact = build_filter(corpus, tmp_path / "e.bloom",
                         BuildOptions(fpr=FPR, workers=workers,
                                      capacity=exact_capacity(len(present))))
    assert default["passes"] == 1 and default["estimated_fpr"] <= FPR * 1.01
    assert default["ngrams"] == exact["ngrams"]
    absent = absent_ngrams(rng, 30_000)
    assert not present & set(absent)
    for path in (tmp_path / "d.bloom", tmp_path / "e.bloom"):
        assert answers(path, sorted(present)).all()  # no false negatives
        assert answers(path, absent).sum() <= binomial_ceiling(len(absent), FPR)


def test_a_misleading_sample_is_rebuilt_larger_and_logged(tmp_path, monkeypatch, caplog):
    """One .jsonl.gz (it cannot be cut: its sample is its beginning) whose first records repeat
    one text and whose later records are all new: the estimate falls short, the build says so,
    reads the corpus again into a larger filter, and the result meets the target."""
    monkeypatch.setattr(build, "SAMPLE_BYTES", 1 << 10)
    monkeypatch.setattr(build, "SAMPLE_NGRAMS", 20_000)
    rng = np.random.default_rng(2)
    repeated = " ".join(random_words(rng, 500))
    later = [" ".join(random_words(rng, 500)) for _ in range(200)]
    lines = [f'{{"text": "{t}"}}\n' for t in [repeated] * 300 + later]
    corpus = tmp_path / "c.jsonl.gz"
    corpus.write_bytes(gzip.compress("".join(lines).encode()))
    with caplog.at_level(logging.INFO, logger="contam"):
        s = build_filter(corpus, tmp_path / "b.bloom", BuildOptions(fpr=FPR, workers=1))
    assert "fell short" in caplog.text
    assert s["passes"] == 2 and s["estimated_fpr"] <= FPR * 1.01
    present = set().union(exact_ngrams(repeated), *(exact_ngrams(t) for t in later))
    assert s["params"]["capacity"] >= len(present)
    assert answers(tmp_path / "b.bloom", sorted(present)).all()
    absent = absent_ngrams(rng, 30_000)
    assert answers(tmp_path / "b.bloom", absent).sum() <= binomial_ceiling(len(absent), FPR)


def test_a_small_corpus_is_counted_exactly(tmp_path):
    rng = np.random.default_rng(3)
    text = " ".join(random_words(rng, 5000))
    (tmp_path / "c.txt").write_text(text)
    s = build_filter(tmp_path / "c.txt", tmp_path / "b.bloom", BuildOptions(fpr=FPR, workers=1))
    assert s["params"]["capacity"] == exact_capacity(len(exact_ngrams(text)))
    assert words(text)[:2] == text.split()[:2]


def test_cli_default_build_says_when_it_reads_twice(tmp_path, monkeypatch, caplog):
    """End to end from the command line: the default build of a corpus whose sample misleads
    logs the second reading, and the filter it writes meets the target."""
    from contamkit.cli import main

    monkeypatch.setattr(build, "SAMPLE_BYTES", 1 << 10)
    monkeypatch.setattr(build, "SAMPLE_NGRAMS", 5_000)
    rng = np.random.default_rng(4)
    repeated = " ".join(random_words(rng, 400))
    texts = [repeated] * 100 + [" ".join(random_words(rng, 400)) for _ in range(60)]
    corpus = tmp_path / "c.jsonl.gz"
    corpus.write_bytes(gzip.compress("".join(json.dumps({"text": t}) + "\n"
                                             for t in texts).encode()))
    out = tmp_path / "c.bloom"
    with caplog.at_level(logging.INFO, logger="contam"):
        assert main(["build-filter", str(corpus), "-o", str(out), "--fpr", "1e-3",
                     "--workers", "1"]) in (0, None)
    assert "reading the corpus again" in caplog.text
    bloom = open_filter(out)
    assert bloom.estimated_fpr() <= FPR * 1.01
    assert answers(out, sorted(set().union(*(exact_ngrams(t) for t in texts)))).all()


def test_each_kind_of_file_is_extrapolated_by_its_own_density(tmp_path, small_sample,
                                                              monkeypatch):
    """Half the bytes gzipped (about 3x the text per byte), half plain: a whole .gz file fills
    the sample, yet the .txt is sampled too and sized by its own density, so the filter is
    sized near the true distinct count (a single density from the .gz overshot by ~1.5x)."""
    monkeypatch.setattr(build, "SAMPLE_NGRAMS", 3_000)
    rng = np.random.default_rng(4)
    corpus = tmp_path / "c"
    corpus.mkdir()
    texts = []
    for i in range(4):
        records = [" ".join(random_words(rng, 400, vocabulary=50_000)) for _ in range(60)]
        texts += records
        lines = "".join(json.dumps({"text": t}) + "\n" for t in records)
        (corpus / f"{i}.jsonl.gz").write_bytes(gzip.compress(lines.encode()))
    gz_bytes = sum(p.stat().st_size for p in corpus.glob("*.gz"))
    lines = []
    while sum(map(len, lines)) < gz_bytes:
        lines.append(" ".join(random_words(rng, 400, vocabulary=50_000)) + "\n")
    (corpus / "big.txt").write_text("".join(lines))
    texts += lines
    present = set().union(*(exact_ngrams(t) for t in texts))
    s = build_filter(corpus, tmp_path / "b.bloom", BuildOptions(fpr=FPR, workers=1))
    assert s["passes"] == 1
    assert len(present) <= s["params"]["capacity"] <= 1.3 * len(present)
