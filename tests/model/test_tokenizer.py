"""Tokenizers: GPT-2 BPE id-identical to OpenAI's algorithm; trained BPEs; one loader."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from contamkit.common.errors import UserError
from model.bpe_training import train_bpe
from model.tokenizer import EOT, load_gpt2, load_tokenizer, load_trained

# ----------------------------------------------------------- reference: OpenAI's encoder.py


def bytes_to_unicode() -> dict[int, str]:
    """Printable bytes map to themselves; the other 68 to code points from 256 up."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    extra = [b for b in range(256) if b not in printable]
    mapping = {b: chr(b) for b in printable}
    mapping.update({b: chr(256 + n) for n, b in enumerate(extra)})
    return mapping


def get_pairs(word: tuple[str, ...]) -> set[tuple[str, str]]:
    return set(zip(word[:-1], word[1:], strict=True))


class ReferenceEncoder:
    """Straight from the published algorithm: regex pieces, byte mapping, lowest-rank merges."""

    pattern = regex.compile(
        r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
    )

    def __init__(self, vocab_dir: Path):
        self.encoder = json.loads((vocab_dir / "encoder.json").read_text(encoding="utf-8"))
        lines = (vocab_dir / "vocab.bpe").read_text(encoding="utf-8").split("\n")[1:-1]
        self.ranks = {tuple(line.split()): i for i, line in enumerate(lines)}
        self.byte_encoder = bytes_to_unicode()
        self.cache: dict[str, list[str]] = {}

    def bpe(self, token: str) -> list[str]:
        if token in self.cache:
            return self.cache[token]
        word = tuple(token)
        pairs = get_pairs(word)
        while pairs:
            bigram = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if bigram not in self.ranks:
                break
            first, second = bigram
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = tuple(merged)
            pairs = get_pairs(word)
        self.cache[token] = list(word)
        return self.cache[token]

    def encode(self, text: str) -> list[int]:
        ids = []
        for piece in self.pattern.findall(text):
            mapped = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(mapped))
        return ids


@lru_cache(maxsize=1)
def reference(vocab_dir: Path) -> ReferenceEncoder:
    return ReferenceEncoder(vocab_dir)


@pytest.fixture(scope="module")
def gpt2(gpt2_vocab):
    return load_gpt2(gpt2_vocab)


EDGE_CASES = [
    "", " ", "  ", "\n", "\n\n\n", "a\n\n b", "x  \n  y", "\t\tindented\ttabs \t", "\r\nwin\r\n",
    "trailing spaces   ", "   leading", "don't it's we're they've I'm you'll he'd", "DON'T IT'S",
    "'s'", "naïve café résumé", "Ünïcödé ÀÉÎÕÜ", "日本語のテキストです。", "中文 字符", "한국어",
    "Привет, мир!", "مرحبا بالعالم", "שלום", "👍🏽 family: 👨‍👩‍👧‍👦 flag 🇺🇸", "e\u0301 combining",
    "zero\u200bwidth\u200djoiner", "\u00a0nbsp\u2003em-space", "12345 3.14159 1,000,000 ١٢٣",
    "@#$%^&*()_+{}|:<>?~`", "<|endoftext|>", "doc one<|endoftext|>doc two", "a" * 300,
    "\x00\x01\x7f control", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math", "ﬁ ligature", "mixed123abc 456def",
]


def real_texts(data: Path) -> list[str]:
    """Real text from three sources: Wikipedia (raw), web pages, novels (LAMBADA)."""
    texts = [(data / "wikitext-2-raw" / "wiki.test.raw").read_text(encoding="utf-8")[:150_000]]
    for name in ("webtext/webtext.test.jsonl", "lambada/lambada_test.jsonl"):
        with open(data / name, encoding="utf-8") as f:
            texts += [json.loads(next(f))["text"] for _ in range(150)]
    return texts


def test_gpt2_bpe_matches_reference_on_real_text(gpt2, gpt2_vocab, shared_data):
    tok, ref = gpt2, reference(gpt2_vocab)
    texts = real_texts(shared_data)
    assert tok.encode_batch(texts) == [ref.encode(t) for t in texts]
    assert sum(map(len, texts)) > 200_000
    assert all(tok.decode(tok.encode(t)) == t for t in texts)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_gpt2_bpe_matches_reference_on_edge_cases(gpt2, gpt2_vocab, text):
    assert gpt2.encode(text) == reference(gpt2_vocab).encode(text)
    assert gpt2.decode(gpt2.encode(text)) == text


def test_gpt2_known_ids_and_endoftext(gpt2, gpt2_vocab):
    tok = gpt2
    assert (tok.name, tok.vocab_size, tok.eot_id) == ("gpt2", 50257, 50256)
    assert reference(gpt2_vocab).encoder[EOT] == 50256
    assert tok.encode("Hello world") == [15496, 995]  # OpenAI's ids
    assert tok.encode(" Hello") == [18435]
    docs = tok.encode("first") + [tok.eot_id] + tok.encode("second")
    assert tok.decode(docs) == f"first{EOT}second"
    assert tok.eot_id not in tok.encode(f"a{EOT}b")  # inside text it is ordinary characters


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_gpt2_bpe_matches_reference_on_random_unicode(gpt2, gpt2_vocab, text):
    assert gpt2.encode(text) == reference(gpt2_vocab).encode(text)


def test_load_tokenizer_specs(gpt2_vocab, tmp_path, monkeypatch):
    monkeypatch.setenv("CONTAM_GPT2_VOCAB", str(gpt2_vocab))
    assert load_tokenizer("gpt2").name == "gpt2"
    assert load_tokenizer(gpt2_vocab).encode("Hello world") == [15496, 995]
    with pytest.raises(UserError, match="neither 'gpt2' nor a directory"):
        load_tokenizer(tmp_path / "nope")
    with pytest.raises(UserError, match="no tokenizer files"):
        load_tokenizer(tmp_path)
    (tmp_path / "vocab.bpe").write_text("#version: 0.2\n")
    with pytest.raises(UserError, match="lacks encoder.json"):
        load_tokenizer(tmp_path)


# ---------------------------------------------------------------------- trained BPEs


@pytest.fixture(scope="module")
def corpus(shared_data) -> list[str]:
    text = (shared_data / "wikitext-2" / "train.txt").read_text(encoding="utf-8")[:400_000]
    return [p for p in text.split("\n \n") if p.strip()]


@pytest.fixture(scope="module")
def trained(corpus):
    return train_bpe(corpus, vocab_size=600)


def test_trained_bpe_size_eot_and_lossless_round_trip(trained):
    assert trained.vocab_size == 600
    assert trained.tok.id_to_token(trained.eot_id) == EOT
    for text in EDGE_CASES:
        assert trained.decode(trained.encode(text)) == text
    assert trained.eot_id not in trained.encode(f"a{EOT}b")
    assert trained.decode(trained.encode("x") + [trained.eot_id]) == f"x{EOT}"
    assert trained.encode_batch(EDGE_CASES) == [trained.encode(t) for t in EDGE_CASES]


def test_trained_bpe_merges_never_cross_gpt2_pieces(trained, corpus):
    """GPT-2 pre-tokenization: encoding piece by piece gives the same ids as the whole text."""
    text = "\n".join(corpus[:20]) + "\n".join(EDGE_CASES)
    pieces = ReferenceEncoder.pattern.findall(text)
    assert trained.encode(text) == [i for p in pieces for i in trained.encode(p)]
    assert len(trained.encode(text)) < len(text.encode("utf-8")) * 0.6  # it did learn merges


def test_trained_bpe_save_load(trained, tmp_path):
    trained.save(tmp_path)
    loaded = load_tokenizer(tmp_path)
    assert loaded.name == trained.name and loaded.name.startswith("bpe600:")
    assert (loaded.vocab_size, loaded.eot_id) == (trained.vocab_size, trained.eot_id)
    assert loaded.encode_batch(EDGE_CASES) == trained.encode_batch(EDGE_CASES)


def test_trained_bpe_bad_directories(trained, tmp_path):
    trained.save(tmp_path)
    data = (tmp_path / "tokenizer.json").read_text()
    (tmp_path / "tokenizer.json").write_text(data.replace('"Ġt', '"Ġq', 1))
    with pytest.raises(UserError, match="tokenizer.json: checksum differs"):
        load_trained(tmp_path)
    (tmp_path / "tokenizer_meta.json").unlink()
    with pytest.raises(UserError, match="lacks tokenizer_meta.json"):
        load_tokenizer(tmp_path)
    (tmp_path / "tokenizer.json").unlink()
    with pytest.raises(UserError, match="lacks tokenizer.json, tokenizer_meta.json"):
        load_trained(tmp_path)
    with pytest.raises(UserError, match="at least 257"):
        train_bpe(["abc"], vocab_size=100)
