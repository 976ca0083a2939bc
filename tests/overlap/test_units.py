import mmh3

from overlap.units import make_coder


def test_batch_codes_split_per_document():
    coder = make_coder("words")
    texts = ["Hello, world!", "", "!!!", "Ünïcode wörds and ASCII", "one"]
    per_doc, count = coder.codes_batch(texts, [False] * len(texts))
    assert [len(c) for c in per_doc] == [2, 0, 0, 4, 1]
    assert count == 7
    assert per_doc[3].tolist() == [mmh3.hash64(w, 0, signed=False)[0]
                                   for w in ["ünïcode", "wörds", "and", "ascii"]]
