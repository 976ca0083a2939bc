import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from overlap.normalize import normalize, word_spans, words


def _allowed(c: str) -> bool:
    return c.isalnum() or unicodedata.category(c)[0] == "M"


def test_paper_examples():
    assert normalize("Hello, World! It's 2019.") == "hello world it s 2019"
    assert normalize("  multiple\n\nlines\tand   spaces ") == "multiple lines and spaces"
    assert normalize("snake_case-and.dots") == "snake case and dots"
    assert normalize("") == ""
    assert normalize("!!! ---") == ""


def test_unicode_decisions():
    assert normalize("ﬁne ＡＢ") == "fine ab"  # NFKC folds ligatures and full-width forms
    assert normalize("cafe\u0301") == normalize("café") == "café"  # decomposed == composed
    assert normalize("Straße ΣΑΣ") == "straße σας"
    assert normalize("हिन्दी भाषा") == "हिन्दी भाषा"  # vowel signs (marks) stay in words
    assert normalize("١٢٣ test") == "١٢٣ test"  # digits of every script are kept


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalize_properties(text):
    out = normalize(text)
    assert normalize(out) == out  # idempotent
    assert "  " not in out and out == out.strip()  # single spaces only
    assert all(_allowed(c) for c in out.replace(" ", ""))  # only the word alphabet
    assert out == out.lower() or normalize(out.lower()) == out


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_spans_cover_exactly_the_words(text):
    spans = word_spans(text)
    assert [text[a:b].lower() for a, b in spans] == words(text)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_spaced_words_has_the_same_words(text):
    from overlap.normalize import spaced_words

    assert spaced_words(text).split() == words(text)
