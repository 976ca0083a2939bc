"""LAMBADA on the real files: counts, the lambada_openai split, and agreement of the formats."""

from __future__ import annotations

import pytest

from contamkit.benchmarks import load_benchmark
from contamkit.benchmarks.lambada import context_target
from contamkit.common.errors import UserError


@pytest.fixture(scope="module")
def openai(shared_data):
    return load_benchmark("lambada")


def test_openai_jsonl(openai):
    assert len(openai) == 5153
    first = openai[0]
    assert first.id == "lambada/test/00000"
    assert first.text.startswith("In my palm is a clear stone")
    # hand-checked: the passage ends "... I don't care about signs"
    assert first.fields["target"] == " signs"
    assert first.fields["context"].endswith("I don't care about")
    assert all(e.fields["context"] + e.fields["target"] == e.text for e in openai)
    assert openai[-1].id == "lambada/test/05152"


def test_plain_text_agrees_with_openai(openai, shared_data):
    plain = load_benchmark("lambada", variant="plain")
    assert len(plain) == 5153
    assert [e.id for e in plain] == [e.id for e in openai]
    assert plain[0].fields["target"] == " signs"
    # SOURCES.md: for 5112 of 5153 rows the plain last token equals the lower-cased OpenAI one.
    pairs = zip(plain, openai, strict=True)
    same = sum(p.fields["target"] == o.fields["target"].lower() for p, o in pairs)
    assert same == 5112


def test_context_target_keeps_punctuation_and_rejects_one_word():
    assert context_target('he said "go."', "f:1") == {"context": "he said", "target": ' "go."'}
    with pytest.raises(UserError, match="f:3: passage has no last word"):
        context_target("alone", "f:3")
