import mmh3
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contamkit.corpus.formats import iter_documents
from overlap.units import make_coder


def test_batch_codes_split_per_document():
    coder = make_coder("words")
    texts = ["Hello, world!", "", "!!!", "Ünïcode wörds and ASCII", "one"]
    per_doc, count = coder.codes_batch(texts, [False] * len(texts))
    assert [len(c) for c in per_doc] == [2, 0, 0, 4, 1]
    assert count == 7
    assert per_doc[3].tolist() == [mmh3.hash64(w, 0, signed=False)[0]
                                   for w in ["ünïcode", "wörds", "and", "ascii"]]


@pytest.fixture(scope="module")
def gpt2(gpt2_vocab):
    return make_coder("gpt2", gpt2_vocab)


def one_at_a_time(coder, prepared, continues):
    """The reference: each text encoded alone, a continuation with its leading space."""
    return [coder.encoding.encode_ordinary(" " + t if c and t else t)
            for t, c in zip(prepared, continues, strict=True)]


def test_gpt2_batch_encoding_equals_encoding_each_text(gpt2, shared_data):
    texts = [d.text for d in iter_documents(shared_data / "webtext" / "webtext.test.jsonl")]
    texts = texts[:800] + ["", "", "١٢٣ नमस्ते café", "", "x"]
    continues = (np.random.default_rng(0).random(len(texts)) < 0.4).tolist()
    prepared = gpt2.prepare(texts)
    ids, count = gpt2.encode(prepared, continues)
    assert [a.tolist() for a in ids] == one_at_a_time(gpt2, prepared, continues)
    assert count == sum(len(t.split()) for t in prepared)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.text(max_size=40), st.booleans()), max_size=12))
def test_gpt2_batch_encoding_on_arbitrary_text(gpt2, docs):
    prepared = gpt2.prepare([t for t, _ in docs])
    continues = [c for _, c in docs]
    assert [a.tolist() for a in gpt2.encode(prepared, continues)[0]] == one_at_a_time(
        gpt2, prepared, continues)
