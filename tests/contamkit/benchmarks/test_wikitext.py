"""WikiText articles on the real files: counts, exact text, and the heading rule."""

from __future__ import annotations

import pytest

from contamkit.benchmarks import load_benchmark
from contamkit.benchmarks.wikitext import split_articles


@pytest.fixture(scope="module")
def wt2_test(shared_data):
    return load_benchmark("wikitext2")


def test_wikitext2_test_articles_cover_all_4358_lines(wt2_test, shared_data):
    raw = (shared_data / "wikitext-2" / "test.txt").read_text(encoding="utf-8")
    assert raw.count("\n") == 4358
    # the file's first line is a blank " \n" before the first heading; the rest is articles
    assert "".join(e.text for e in wt2_test) == raw.removeprefix(" \n")
    assert len(wt2_test) == 60  # published: WikiText-2 test has 60 articles
    assert wt2_test[0].id == "wikitext2/test/00000"
    assert wt2_test[0].text.startswith(" = Robert <unk> = \n \n Robert <unk> is an English film")
    assert wt2_test[0].fields == {"title": "Robert <unk>"}
    assert wt2_test[1].fields["title"] == "Du Fu"


def test_formula_lines_are_not_headings(wt2_test):
    # " = 1 <unk> and <unk> C = " (test.txt line 2151) is a wrapped formula inside
    # "Constant k filter", not an article of its own.
    titles = [e.fields["title"] for e in wt2_test]
    assert "Constant k filter" in titles
    assert not any(t.startswith("1 <unk>") for t in titles)
    article = wt2_test[titles.index("Constant k filter")]
    assert " = 1 <unk> and <unk> C = \n" in article.text


def test_other_splits_and_sets(shared_data):
    assert len(load_benchmark("wikitext2", "train")) == 600
    assert len(load_benchmark("wikitext2", "valid")) == 60
    raw = load_benchmark("wikitext2", variant="raw")
    assert len(raw) == 60 and raw[0].fields["title"] == "Robert Boulter"
    wt103 = load_benchmark("wikitext103")
    assert len(wt103) == 60
    assert wt103[0].id == "wikitext103/test/00000"
    assert sum(e.text.count("\n") for e in wt103) == 4358 - 1


def test_split_articles_rule():
    lines = [" \n", " = A = \n", " \n", " x \n", " = not = \n", " \n", " = B = \n", " \n", " y \n"]
    assert list(split_articles(lines)) == [lines[1:6], lines[6:]]
    # text before any heading is kept as an article of its own (title None)
    assert list(split_articles([" lead \n", " \n", " = A = \n", " \n"])) == [
        [" lead \n", " \n"],
        [" = A = \n", " \n"],
    ]
