"""Builds on real data, checked against exact set-based computations done independently."""

import re

import numpy as np
import pytest
from pybloom_live import BloomFilter as PyBloom

from contamkit.common.errors import UserError
from overlap.build import build_filter
from overlap.filters import open_filter
from overlap.ngrams import ngram_hashes
from overlap.normalize import words
from overlap.options import BuildOptions
from overlap.units import make_coder


def plain_words(text: str) -> list[str]:
    """The paper's normalization for ASCII text, written independently of overlap.normalize."""
    return re.findall(r"[a-z0-9]+", text.lower())


def word_ngrams(tokens, n=8):
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def query(bloom, text, n=8):
    coder = make_coder("words")
    return bloom.contains(*ngram_hashes(coder.codes([text])[0], n, bloom.params.seed))


@pytest.fixture(scope="module")
def ptb(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("ptb") / "ptb.bloom"
    summary = build_filter(shared_data / "ptb" / "ptb.train.txt", out, BuildOptions(workers=1))
    return out, summary, shared_data / "ptb"


def test_ptb_counts_equal_exact_set_computation(ptb):
    out, summary, d = ptb
    train = plain_words((d / "ptb.train.txt").read_text())
    test_text = (d / "ptb.test.txt").read_text()
    test = plain_words(test_text)
    train_set = word_ngrams(train)
    exact = sum(tuple(test[i : i + 8]) in train_set for i in range(len(test) - 7))
    found = int(query(open_filter(out), test_text).sum())
    # a .txt file is one document: its n-grams run across lines, as computed above
    assert summary["ngrams"] == len(train) - 7
    assert summary["files"] == 1 and summary["documents"] == 1  # read as 4 byte ranges
    assert abs(summary["estimated_distinct"] - len(train_set)) < 0.01 * len(train_set)
    assert exact <= found <= exact + 2  # false positives at 1e-8 over 83k queries: ~0
    assert summary["bits_per_element"] <= 44.6  # the blocked layout (docs/blocked-layout.md)


@pytest.mark.parametrize("workers", [2, 3])  # 2: threads in this process; 3: processes
def test_more_workers_build_the_identical_filter(ptb, tmp_path, workers):
    out, _, d = ptb
    out2 = tmp_path / "ptb2.bloom"
    build_filter(d / "ptb.train.txt", out2, BuildOptions(workers=workers))
    a, b = open_filter(out), open_filter(out2)
    assert a.params == b.params
    assert np.array_equal(np.asarray(a.bits), np.asarray(b.bits))


def test_jsonl_ranges_and_truncated_last_line(shared_data, tmp_path):
    src = shared_data / "webtext" / "webtext.train.jsonl"
    out = tmp_path / "wt.bloom"
    s = build_filter(src, out, BuildOptions(workers=2, capacity=700_000))
    assert s["documents"] == 1408 and s["bad_records"] == 1  # the cut-off last record
    serial = build_filter(src, tmp_path / "wt1.bloom", BuildOptions(workers=1, capacity=700_000))
    assert serial["ngrams"] == s["ngrams"]
    assert np.array_equal(np.asarray(open_filter(out).bits),
                          np.asarray(open_filter(tmp_path / "wt1.bloom").bits))


def test_gpt2_unit_matches_tokenized_sets(shared_data, gpt2_vocab, tmp_path):
    from model.tokenizer import load_gpt2

    tok = load_gpt2(gpt2_vocab)
    text = (shared_data / "wikitext-2" / "valid.txt").read_text()[:300_000]
    corpus = tmp_path / "c.txt"
    corpus.write_text(text)
    out = tmp_path / "g.bloom"
    build_filter(corpus, out, BuildOptions(unit="gpt2", gpt2_vocab=str(gpt2_vocab), workers=1))
    ids = tok.encode(" ".join(words(text)))
    bloom = open_filter(out)
    assert bloom.params.tokenizer == "gpt2"
    h1, h2 = ngram_hashes(np.array(ids, dtype=np.uint64), 8, 0)
    assert bloom.contains(h1, h2).all()
    assert bloom.estimated_count() == pytest.approx(len(word_ngrams(ids)), rel=0.01)


def test_membership_agrees_with_pybloom_live(shared_data, tmp_path):
    """pybloom-live, the reference, on the same n-gram strings gives the same answers."""
    d = shared_data / "wikitext-2"
    train_text = (d / "valid.txt").read_text()
    test_text = (d / "test.txt").read_text()[:400_000]
    corpus = tmp_path / "valid.txt"
    corpus.write_text(train_text)
    out = tmp_path / "v.bloom"
    build_filter(corpus, out, BuildOptions(fpr=1e-6, workers=1))
    train = words(train_text)  # the same normalizer on both sides
    reference = PyBloom(capacity=len(train), error_rate=1e-6)
    for i in range(len(train) - 7):
        reference.add(" ".join(train[i : i + 8]))
    test = words(test_text)
    ours = query(open_filter(out), test_text)
    theirs = np.array([" ".join(test[i : i + 8]) in reference for i in range(len(test) - 7)])
    assert len(ours) == len(theirs)
    assert ours.sum() >= 10  # WikiText-2 valid and test share a few n-grams (22)
    assert (ours != theirs).sum() <= 2  # only false positives (rate 1e-6) may differ


def test_empty_result_is_an_error_and_writes_nothing(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("too short")
    with pytest.raises(UserError, match="no n-grams"):
        build_filter(corpus, tmp_path / "x.bloom", BuildOptions(workers=1))
    assert not (tmp_path / "x.bloom").exists()


def test_too_small_capacity_fails_loudly(tmp_path, shared_data):
    corpus = shared_data / "wikitext-2" / "valid.txt"
    with pytest.raises(UserError, match="too small"):
        build_filter(corpus, tmp_path / "x.bloom", BuildOptions(capacity=1000, workers=1))
    assert not (tmp_path / "x.bloom").exists()


def test_ngrams_stop_at_documents_but_cross_lines(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"text": "alpha beta\\ngamma delta"}\n{"text": "epsilon zeta eta theta"}\n')
    out = tmp_path / "b.bloom"
    build_filter(corpus, out, BuildOptions(n=4, workers=1))
    bloom = open_filter(out)
    coder = make_coder("words")

    def found(text):
        return bool(bloom.contains(*ngram_hashes(coder.codes([text])[0], 4, 0)).all())

    assert found("alpha beta gamma delta")  # across a line break inside a document
    assert found("epsilon zeta eta theta")
    assert not found("gamma delta epsilon zeta")  # across two documents: never an n-gram
