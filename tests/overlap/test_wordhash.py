import mmh3
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from overlap.units import make_coder
from overlap.wordhash import word_codes

word = st.text(alphabet=st.characters(blacklist_characters=" ", blacklist_categories=("Cs",)),
               min_size=1, max_size=70)


@settings(max_examples=200, deadline=None)
@given(st.lists(word, max_size=30), st.integers(1, 3))
def test_word_codes_equal_mmh3(words, gap):
    text = (" " * gap).join(words)
    codes = word_codes(np.frombuffer(text.encode("utf-8"), dtype=np.uint8))
    assert codes.tolist() == [mmh3.hash64(w, 0, signed=False)[0] for w in words]


def test_batch_codes_split_per_document():
    coder = make_coder("words")
    texts = ["Hello, world!", "", "!!!", "Ünïcode wörds and ASCII", "one"]
    per_doc, count = coder.codes_batch(texts, [False] * len(texts))
    assert [len(c) for c in per_doc] == [2, 0, 0, 4, 1]
    assert count == 7
    assert per_doc[3].tolist() == [mmh3.hash64(w, 0, signed=False)[0]
                                   for w in ["ünïcode", "wörds", "and", "ascii"]]
