import unicodedata

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from overlap.coders import WordCoder
from overlap.fast_fold import fold_texts, normalized_strings
from overlap.murmur import word_codes
from overlap.normalize import CONTEXTUAL, fold_alone, normalize, words


def _words_of_batch(texts: list[str]) -> list[list[str]]:
    return [s.split() for s in normalized_strings(fold_texts(texts))]


def test_the_unicode_facts_fold_alone_relies_on():
    """Every character that NFKC composes onto a preceding one is a combining mark (or a
    conjoining jamo, composed by rule, not by table), and only marks have a combining class."""
    seconds = set()
    for cp in range(0x110000):
        parts = unicodedata.decomposition(chr(cp)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(chr(int(parts[1], 16)))
    assert seconds and all(unicodedata.category(c)[0] == "M" for c in seconds)
    assert all(unicodedata.category(chr(cp))[0] == "M"
               for cp in range(0x110000) if unicodedata.combining(chr(cp)))


def test_examples():
    assert fold_alone(ord("A")) == ord("a") and fold_alone(ord("É")) == ord("é")
    assert fold_alone(ord("’")) == fold_alone(ord("…")) == fold_alone(0xA0) == 0x20
    assert fold_alone(0xD800) == 0x20  # a lone surrogate, as JSON escapes can give
    for c in "Σ\u0301ﬁＡ½İ\u1161":  # final sigma, mark, ligature, width, NFKC digits, jamo
        assert fold_alone(ord(c)) == CONTEXTUAL
    texts = ["Hello, World’s CAFÉ…", "", "ΟΔΟΣ cafe\u0301", "x\ny"]
    folded = fold_texts(texts)
    assert sorted(folded.left) == [2]  # the capital sigma and the mark need the full normalizer
    assert _words_of_batch(texts) == [words(t) for t in texts]


def test_every_code_point_of_the_basic_plane_folds_as_the_normalizer_does():
    chars = [chr(cp) for cp in [*range(0x10000), *range(0x10000, 0x20000, 7)]]
    texts = [f"a{c}É{c}{c}1 가{c}" for c in chars]  # 가 composes with a jamo after it
    assert _words_of_batch(texts) == [words(t) for t in texts]


mixed = st.text(st.sampled_from("aZ9 \n.’é\u0301ΣσςİﬁＡ½가\u1161\ud800ß\u00a0") | st.characters())


@settings(max_examples=300, deadline=None)
@given(mixed, mixed)
def test_normalization_never_reaches_across_a_line_break(a, b):
    assert words(a + "\n" + b) == words(a) + words(b)


@settings(max_examples=300, deadline=None)
@given(st.lists(mixed, max_size=8))
def test_batches_fold_as_the_normalizer_does(texts):
    assert normalized_strings(fold_texts(texts)) == [normalize(t) for t in texts]


@settings(max_examples=200, deadline=None)
@given(st.lists(mixed, max_size=8))
def test_word_codes_per_text_are_those_of_the_normalized_words(texts):
    per_text, count = WordCoder().codes_batch(texts, [False] * len(texts))
    expected = [word_codes(np.frombuffer(" ".join(words(t)).encode("utf-8", "surrogatepass"),
                                         dtype=np.uint8))[0].tolist() for t in texts]
    assert [c.tolist() for c in per_text] == expected
    assert count == sum(map(len, expected))
