"""WSC273 on the real files: both formats, same schemas in the same order."""

from __future__ import annotations

import pytest

from contamkit.benchmarks import load_benchmark
from contamkit.benchmarks.winograd import join_words


@pytest.fixture(scope="module")
def both(shared_data):
    return load_benchmark("winograd"), load_benchmark("winograd", variant="xml")


def test_jsonl(both):
    jsonl, _ = both
    assert len(jsonl) == 273
    first = jsonl[0]
    assert first.id == "winograd/test/00000"
    assert first.fields == {
        "options": [
            "The city councilmen refused the demonstrators a permit because the city councilmen",
            "The city councilmen refused the demonstrators a permit because the demonstrators",
        ],
        "continuation": "feared violence.",
        "label": 0,
    }
    assert first.text == (
        "The city councilmen refused the demonstrators a permit because the city councilmen "
        "feared violence."
    )


def test_xml(both):
    _, xml = both
    assert len(xml) == 273
    assert xml[0].text == (
        "The city councilmen refused the demonstrators a permit because they feared violence."
    )
    assert xml[0].fields["candidates"] == ["The city councilmen", "the demonstrators"]
    assert (xml[0].fields["pronoun"], xml[0].fields["label"]) == ("they", 0)
    assert xml[1].fields["label"] == 1  # "... because they advocated violence": B


def test_formats_agree(both):
    # SOURCES.md: each jsonl continuation equals txt2 of the matching XML schema (273/273).
    jsonl, xml = both
    assert [j.id for j in jsonl] == [x.id for x in xml]
    pairs = list(zip(jsonl, xml, strict=True))
    assert all(j.fields["continuation"] == x.fields["continuation"] for j, x in pairs)
    assert all(j.fields["label"] == x.fields["label"] for j, x in pairs)


def test_variant_chosen_by_file_name(shared_data):
    xml = load_benchmark("winograd", path=shared_data / "wsc" / "WSCollection.xml")
    assert "pronoun" in xml[0].fields


def test_join_words():
    assert join_words("we punished them", ".") == "we punished them."
    assert join_words("because", '"Dibs!" was slow.') == 'because "Dibs!" was slow.'
