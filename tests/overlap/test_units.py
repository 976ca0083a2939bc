from concurrent.futures import ThreadPoolExecutor

import mmh3
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contamkit.corpus.formats import iter_documents
from overlap.coders import GPT2Coder
from overlap.normalize import normalize
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


def one_at_a_time(coder, texts, continues):
    """The reference: each text normalized by the Python normalizer and encoded alone by
    tiktoken, a continuation with its leading space."""
    normalized = [normalize(t) for t in texts]
    return [coder.encoding.encode_ordinary(" " + t if c and t else t)
            for t, c in zip(normalized, continues, strict=True)]


def coded(coder, texts, continues):
    """The coder's ids of each text, as lists."""
    return [a.tolist() for a in coder.codes_batch(texts, continues)[0]]


def test_gpt2_batch_encoding_equals_encoding_each_text(gpt2, shared_data):
    texts = [d.text for d in iter_documents(shared_data / "webtext" / "webtext.test.jsonl")]
    texts = texts[:800] + ["", "", "١٢٣ नमस्ते café", "", "x"]
    continues = (np.random.default_rng(0).random(len(texts)) < 0.4).tolist()
    ids, count = gpt2.codes_batch(texts, continues)
    assert [a.tolist() for a in ids] == one_at_a_time(gpt2, texts, continues)
    assert count == sum(len(normalize(t).split()) for t in texts)


@pytest.mark.parametrize("path", ["wikitext-2/valid.txt", "wikitext-2/test.txt",
                                  "wikitext-2-raw/wiki.test.raw", "webtext/webtext.valid.jsonl",
                                  "ptb/ptb.train.txt", "lambada/lambada_test_plain_text.txt"])
def test_gpt2_word_cache_ids_equal_tiktoken_on_real_text(gpt2_vocab, shared_data, path):
    """~11 MB in all, in batches of 1,000 lines (WebText: documents), on a fresh coder: the
    first batches fill the word cache, the later ones mostly hit it."""
    coder = GPT2Coder(gpt2_vocab)
    if path.endswith(".jsonl"):
        lines = [d.text for d in iter_documents(shared_data / path)]
    else:
        lines = (shared_data / path).read_text(encoding="utf-8").splitlines()
    continues = (np.random.default_rng(1).random(len(lines)) < 0.3).tolist()
    for a in range(0, len(lines), 1000):
        batch, cont = lines[a : a + 1000], continues[a : a + 1000]
        assert coded(coder, batch, cont) == one_at_a_time(coder, batch, cont), (path, a)
    stats = coder.cache_stats()
    assert stats["hits"] > 5 * stats["misses"] > 0  # the cache was used, not bypassed


ADVERSARIAL = [
    "", " ", "!!!", "abc123", "123abc", "a1b2c3d4", "x²³ ½ Ⅻ ⅻ", "١٢٣abc", "abc١٢٣",
    "नमस्ते दुनिया", "-\u0301a \u0301\u0301 e\u0301", "café naïve straße", "ΣΊΣΥΦΟΣ σίσυφος",
    "日本語のテキスト", "ǅemal ǈ", "İstanbul", "ﬁnance ＡＢＣ１２３", "a" * 5000,
    "ab" * 300 + "123" + "cd" * 300, "1" * 3000, "x " * 400, "the the the 1 1 1 the1 1the",
    "line one\nline two\n\n\nthree", "<|endoftext|> endoftext",
]


@pytest.mark.parametrize("continues", [False, True])
def test_gpt2_word_cache_on_adversarial_strings(gpt2_vocab, continues):
    """Digits mixed with letters (pieces " abc" + "123"), non-ASCII letters, digits and marks
    the normalizer keeps, words far longer than any the cache stores, empty texts; twice, so
    the second round comes from the cache."""
    coder = GPT2Coder(gpt2_vocab)
    flags = [continues] * len(ADVERSARIAL)
    expected = one_at_a_time(coder, ADVERSARIAL, flags)
    assert coded(coder, ADVERSARIAL, flags) == expected
    assert coded(coder, ADVERSARIAL, flags) == expected
    assert [coded(coder, [t], [continues])[0] for t in ADVERSARIAL] == expected


def test_gpt2_words_first_seen_halfway_through_a_batch(gpt2_vocab):
    """A batch whose middle text brings words the cache has never seen, some of them again
    later in the batch, and as a text's first word (no space before it): ids still equal
    tiktoken's, and tiktoken encoded each new (word, space before it) once."""
    coder = GPT2Coder(gpt2_vocab)
    known = ["the cat sat on the mat", "a dog ran"]
    coded(coder, known, [False, False])
    before = coder.cache_stats()["misses"]
    new = "zqxv1 blorptastic 42zork zqxv1"
    texts = known + [new, "the zork blorptastic cat", "zqxv1 the mat", "blorptastic"]
    cont = [False, False, False, True, False, False]
    assert coded(coder, texts, cont) == one_at_a_time(coder, texts, cont)
    fresh = {("zqxv1", False), ("blorptastic", True), ("42zork", True), ("zqxv1", True),
             ("zork", True), ("blorptastic", False)}
    assert coder.cache_stats()["misses"] - before == len(fresh)


def test_gpt2_coding_threads_each_take_a_cache(gpt2_vocab, shared_data):
    """A build codes on two threads at once: each call takes a cache no other call holds."""
    coder = GPT2Coder(gpt2_vocab)
    lines = (shared_data / "ptb" / "ptb.valid.txt").read_text().splitlines()
    batches = [lines[a : a + 200] for a in range(0, len(lines), 200)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        got = list(pool.map(lambda b: coded(coder, b, [True] * len(b)), batches))
    assert got == [one_at_a_time(coder, b, [True] * len(b)) for b in batches]
    assert 1 <= len(coder._caches) <= 2
    assert coder.cache_stats()["hits"] > 0


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.text(max_size=40), st.booleans()), max_size=12))
def test_gpt2_batch_encoding_on_arbitrary_text(gpt2, docs):
    texts, continues = [t for t, _ in docs], [c for _, c in docs]
    assert coded(gpt2, texts, continues) == one_at_a_time(gpt2, texts, continues)


WORD_CHARS = "aZ1٣é\u0301िन²Ⅻ日ǅςΣß"  # letters, digits, numbers, marks, cased specials


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.text(alphabet=WORD_CHARS + " -\n", max_size=60), st.booleans()),
                max_size=12))
def test_gpt2_batch_encoding_on_mixed_word_characters(gpt2, docs):
    texts, continues = [t for t, _ in docs], [c for _, c in docs]
    assert coded(gpt2, texts, continues) == one_at_a_time(gpt2, texts, continues)
