import numpy as np
import pytest

from model.tokenizer import load_gpt2
from overlap.bpe_cache import WordIdCache
from overlap.fast_fold import fold_texts
from overlap.murmur import word_codes
from overlap.normalize import normalize


@pytest.fixture(scope="module")
def encoding(gpt2_vocab):
    return load_gpt2(gpt2_vocab).enc


def reference(encoding, texts, continues):
    """Each text normalized in Python and encoded alone by tiktoken."""
    return [encoding.encode_ordinary((" " if c and normalize(t) else "") + normalize(t))
            for t, c in zip(texts, continues, strict=True)]


def cached(cache, texts, continues):
    folded = fold_texts(texts)
    assert not folded.left  # these tests' texts all fold in compiled code
    ids, words = cache.text_ids(folded.buf, folded.ends, continues)
    assert words == sum(len(normalize(t).split()) for t in texts)
    return [a.tolist() for a in ids]


def lines(shared_data):
    return (shared_data / "ptb" / "ptb.valid.txt").read_text().splitlines()


def test_full_table_is_emptied_and_refilled(encoding, shared_data):
    """A table of 50 words (and few bytes and ids) fills many times within one call and over
    calls: ids stay exact, and what it holds never passes the caps."""
    cache = WordIdCache(encoding, max_words=50, max_bytes=300, max_ids=120, max_word_bytes=12)
    text = lines(shared_data)[:3000]
    continues = (np.random.default_rng(0).random(len(text)) < 0.5).tolist()
    for a in range(0, len(text), 500):
        batch, cont = text[a : a + 500], continues[a : a + 500]
        assert cached(cache, batch, cont) == reference(encoding, batch, cont)
        stats = cache.stats
        assert stats["words"] <= 50 and stats["bytes"] <= 300 and stats["ids"] <= 120
    assert cache.stats["resets"] > 20
    assert cache.stats["hits"] > 0


def test_long_words_are_encoded_but_not_stored(encoding):
    cache = WordIdCache(encoding, max_word_bytes=8)
    texts = ["short " + "x" * 40 + " y" * 3, "abcdefghij1234 short", "abcdefgh"]
    for _ in range(2):
        assert cached(cache, texts, [False, True, False]) == reference(
            encoding, texts, [False, True, False])
    # stored: "short", " short", " y", "abcdefgh" (" x...x" and " abcdefghij1234" are longer)
    assert cache.stats["words"] == 4


def test_colliding_codes_never_share_ids(encoding):
    """Every word given the same code: the exact key (the stored bytes, and the space before
    them) still tells them apart."""
    cache = WordIdCache(encoding)
    buf = np.frombuffer(b"cat dog cat 12 dog1 cat", dtype=np.uint8)
    starts = word_codes(buf)[1]
    ends = np.array([3, 7, 11, 14, 19, 23])
    spaced = np.array([0, 1, 1, 1, 1, 0])
    for _ in range(2):
        ids, id_ends = cache.word_ids(buf, starts, ends, np.zeros(6, dtype=np.uint64), spaced)
        assert ids.tolist() == encoding.encode_ordinary("cat dog cat 12 dog1") + \
            encoding.encode_ordinary("cat")
        assert id_ends[-1] == len(ids)
    assert cache.stats["words"] == 5  # "cat" twice (with and without the space)


def test_table_grows_before_it_empties(encoding, shared_data):
    """Slots start few and double as words come (rehashing what the table holds); nothing is
    dropped before the cap."""
    cache = WordIdCache(encoding)
    first = len(cache._slots)
    text = lines(shared_data)
    assert cached(cache, text, [False] * len(text)) == reference(encoding, text,
                                                                 [False] * len(text))
    stats = cache.stats
    assert stats["words"] > first // 2 and len(cache._slots) >= 2 * stats["words"]
    assert stats["resets"] == 0
    assert cached(cache, text[::-1], [True] * len(text)) == reference(encoding, text[::-1],
                                                                      [True] * len(text))
