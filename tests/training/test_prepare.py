"""Corpus preparation: tokens, document spans, split and checksums against independent
computations; determinism across worker counts; the dataset loader's refusals."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

import training.prepare as prepare_module
from contamkit import cli
from contamkit.common.errors import UserError
from model.tokenizer import load_gpt2
from training.dataset import check_tokenizer, open_prepared
from training.prepare import prepare_corpus

from .conftest import raw_tokens

DOCS = {
    "a/x.txt": ["The first document.\nIt has two lines.\n"],
    "a/y.jsonl": [f"Record number {i}: some words, {i * 7} and more." for i in range(9)],
    "b/z.txt": [""],  # an empty document still gets its <|endoftext|>
}


def make_corpus(root):
    for rel, texts in DOCS.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".txt"):
            path.write_text(texts[0])
        else:
            lines = [json.dumps({"text": t}) for t in texts]
            lines.insert(4, "{not json")  # a malformed line: skipped, numbering unchanged
            path.write_text("\n".join(lines) + "\n")
    return root


def expected_docs():
    """(file, index, text) in corpus order; jsonl indices are 0-based line numbers."""
    for rel, texts in DOCS.items():
        for i, text in enumerate(texts):
            yield rel, (i if i < 4 else i + 1) if rel.endswith(".jsonl") else 0, text


def in_val(seed, rel, index, fraction):
    h = hashlib.blake2b(f"{seed}\0{rel}\0{index}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") < fraction * 2**64


def test_tokens_spans_split_and_checksums(tmp_path, gpt2_vocab, monkeypatch):
    monkeypatch.setattr(prepare_module, "DOCS_PER_BATCH", 2)  # many batches, kept in order
    corpus = make_corpus(tmp_path / "corpus")
    tok = load_gpt2(gpt2_vocab)
    manifest = prepare_corpus(corpus, tmp_path / "out", "gpt2", val_fraction=0.4, seed=3,
                              workers=3)
    files = [rel for rel in DOCS]
    for split in ("train", "val"):
        docs = [d for d in expected_docs() if in_val(3, d[0], d[1], 0.4) == (split == "val")]
        assert docs, "the seed must put documents in both splits"
        ids = [tok.encode(text) + [tok.eot_id] for _, _, text in docs]
        meta = manifest["splits"][split]
        np.testing.assert_array_equal(raw_tokens(tmp_path / "out" / meta["file"]),
                                      np.concatenate(ids))
        assert meta["dtype"] == "uint16" and meta["tokens"] == sum(map(len, ids))
        assert meta["doc_file"] == [files.index(rel) for rel, _, _ in docs]
        assert meta["doc_index"] == [index for _, index, _ in docs]
        assert meta["doc_tokens"] == [len(i) - 1 for i in ids]
        assert meta["doc_offset"] == list(np.cumsum([0] + [len(i) for i in ids])[:-1])
    table = manifest["corpus"]["files"]
    assert [f["path"] for f in table] == files
    for entry in table:
        data = (corpus / entry["path"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
    assert manifest["corpus"]["stats"]["bad_records"] == 1
    assert manifest["tokenizer"] == {"spec": "gpt2", "name": "gpt2", "vocab_size": 50257,
                                     "eot_id": 50256, "path": None}


def test_output_independent_of_workers(tmp_path, gpt2_vocab, monkeypatch):
    monkeypatch.setattr(prepare_module, "DOCS_PER_BATCH", 3)
    corpus = make_corpus(tmp_path / "corpus")
    for w in (1, 4):
        prepare_corpus(corpus, tmp_path / f"w{w}", "gpt2", val_fraction=0.3, workers=w)
    for name in ("train.bin", "val.bin", "manifest.json"):
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w4" / name).read_bytes()


def test_split_of_a_document_ignores_the_rest_of_the_corpus(webtext_slice, tmp_path, bpe_data):
    full = json.loads((bpe_data / "manifest.json").read_text())["splits"]["val"]["doc_index"]
    assert 25 <= len(full) <= 75  # 10 % of 500 documents (binomial sd ~ 7)
    lines = (webtext_slice / "webtext.jsonl").read_text().splitlines(True)
    small = tmp_path / "small"
    small.mkdir()
    (small / "webtext.jsonl").write_text("".join(lines[:100]))
    part = prepare_corpus(small, tmp_path / "out", "gpt2", val_fraction=0.1, seed=0)
    assert part["splits"]["val"]["doc_index"] == [i for i in full if i < 100]


def test_trained_tokenizer_is_stored_and_reproduces_the_tokens(bpe_data, webtext_slice):
    data = open_prepared(bpe_data)
    assert data.vocab_size == 2048 and data.train.dtype == np.uint16
    tok = data.tokenizer()
    assert tok.name == data.tokenizer_name
    meta = data.manifest["splits"]["val"]
    lines = (webtext_slice / "webtext.jsonl").read_text().splitlines()
    first = json.loads(lines[meta["doc_index"][0]])["text"]
    start, n = meta["doc_offset"][0], meta["doc_tokens"][0]
    assert list(data.val[start:start + n]) == tok.encode(first)
    assert data.val[start + n] == tok.eot_id


def test_too_small_val_fraction_is_an_error(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    with pytest.raises(UserError, match="put none of .* documents in val"):
        prepare_corpus(corpus, tmp_path / "out", "gpt2", val_fraction=1e-9)


def test_loader_refusals(tmp_path, bpe_data):
    with pytest.raises(UserError, match="no manifest.json"):
        open_prepared(tmp_path)
    with pytest.raises(UserError, match=r"tokenized with bpe:2048 .* asks for tokenizer 'gpt2'"):
        check_tokenizer("gpt2", open_prepared(bpe_data))
    with pytest.raises(UserError, match="asks for tokenizer 'bpe:4096'"):
        check_tokenizer("bpe:4096", open_prepared(bpe_data))
    check_tokenizer(str(bpe_data / "tokenizer"), open_prepared(bpe_data))  # same BPE by path
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("manifest.json", "train.bin", "val.bin"):
        (copy / name).write_bytes((bpe_data / name).read_bytes())
    raw = bytearray((copy / "val.bin").read_bytes())
    raw[-1] ^= 1
    (copy / "val.bin").write_bytes(raw)
    with pytest.raises(UserError, match="val.bin: tokens do not match the header checksum"):
        open_prepared(copy)


def test_cli_prepare(tmp_path, gpt2_vocab, capsys):
    corpus = make_corpus(tmp_path / "corpus")
    out = tmp_path / "out"
    assert cli.main(["prepare", str(corpus), "-o", str(out), "--val-fraction", "0.4"]) == 0
    assert json.loads((out / "manifest.json").read_text())["split"]["val_fraction"] == 0.4
    assert cli.main(["prepare", str(tmp_path / "missing"), "-o", str(out)]) == 2
    assert "missing: no such file or directory" in capsys.readouterr().err
