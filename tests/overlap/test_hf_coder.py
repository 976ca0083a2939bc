"""``--unit hf:DIR``: n-grams in the tokens of a local tokenizer.json.

GPT-2's own files saved as a tokenizer.json must give exactly the ``gpt2`` unit's n-grams (two
libraries, tiktoken and tokenizers, agreeing); a BPE trained by the toolkit must give the
n-grams of encoding the normalized text directly."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
import tokenizers
from tokenizers import decoders, models, pre_tokenizers

from contamkit import cli
from overlap.filters import filter_info
from overlap.hf_coder import hf_coder
from overlap.normalize import words
from tests.contamkit.benchmarks.conftest import hf_release_rows, write_hf_release


@pytest.fixture(scope="module")
def gpt2_json(gpt2_vocab, tmp_path_factory) -> Path:
    """GPT-2's encoder.json + vocab.bpe as a tokenizers tokenizer.json (byte-level BPE, no
    prefix space, <|endoftext|> special): the file a GPT-2 model on the Hub ships."""
    tok = tokenizers.Tokenizer(models.BPE.from_file(str(gpt2_vocab / "encoder.json"),
                                                    str(gpt2_vocab / "vocab.bpe")))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["<|endoftext|>"])
    directory = tmp_path_factory.mktemp("gpt2json")
    tok.save(str(directory / "tokenizer.json"))
    return directory


def build(corpus: Path, out: Path, *args: str) -> dict:
    assert cli.main(["build-filter", str(corpus), "-o", str(out), "--workers", "1",
                     *args]) == 0
    return filter_info(out)


def test_gpt2_as_tokenizer_json_gives_the_gpt2_units_ngrams(shared_data, gpt2_vocab, gpt2_json,
                                                            tmp_path):
    ptb = shared_data / "ptb" / "ptb.test.txt"
    reference = build(ptb, tmp_path / "gpt2.bloom", "--unit", "gpt2", "--gpt2-vocab",
                      str(gpt2_vocab))
    ours = build(ptb, tmp_path / "hf.bloom", "--unit", f"hf:{gpt2_json}")
    assert ours["inserted"] == reference["inserted"] == 89001  # n-gram positions
    assert ours["params"]["capacity"] == reference["params"]["capacity"]  # exact distinct
    assert ours["bits_checksum"] == reference["bits_checksum"]  # the very same bits
    assert ours["params"]["unit"] == f"hf:{gpt2_json.resolve()}"
    digest = hashlib.sha256((gpt2_json / "tokenizer.json").read_bytes())
    assert ours["params"]["tokenizer"] == f"tokenizer.json:sha256:{digest.hexdigest()}"


def test_trained_bpe_gives_the_ngrams_of_encoding_the_text_directly(shared_data, tmp_path):
    bpe = tmp_path / "bpe"
    assert cli.main(["train-tokenizer", str(shared_data / "ptb" / "ptb.valid.txt"), "-o",
                     str(bpe), "--vocab-size", "600"]) == 0
    ptb = shared_data / "ptb" / "ptb.test.txt"
    info = build(ptb, tmp_path / "bpe.bloom", "--unit", f"hf:{bpe}")
    # the reference: the whole file (one document) normalized, encoded in one call
    tok = tokenizers.Tokenizer.from_file(str(bpe / "tokenizer.json"))
    ids = tok.encode(" ".join(words(ptb.read_text(encoding="utf-8"))),
                     add_special_tokens=False).ids
    grams = {tuple(ids[i : i + 8]) for i in range(len(ids) - 7)}
    assert info["inserted"] == len(ids) - 7
    assert info["params"]["capacity"] == math.ceil(len(grams) * 1.005) + 1


def test_another_tokenizer_is_refused_and_a_broken_file_named(gpt2_json, tmp_path, capsys):
    text = tmp_path / "doc.txt"
    text.write_text("one two three four five six seven eight nine ten eleven twelve\n")
    build(text, tmp_path / "f.bloom", "--unit", f"hf:{gpt2_json}")
    other = tmp_path / "other"
    other.mkdir()
    data = json.loads((gpt2_json / "tokenizer.json").read_text())
    data["added_tokens"][0]["content"] = "<|end|>"  # a different tokenizer, nearly the same
    (other / "tokenizer.json").write_text(json.dumps(data))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "tokenizer.json").write_text('{"model": 3}')
    release = write_hf_release(tmp_path / "release")
    cases = [
        (["overlap", "--bench", "mmlu", "--bench-path", str(release), "--filter",
          str(tmp_path / "f.bloom"), "--unit", f"hf:{other}", "--out", str(tmp_path / "o")],
         f"{tmp_path / 'f.bloom'}: filter does not match the query: tokenizer="),
        (["build-filter", str(text), "-o", str(tmp_path / "g.bloom"), "--unit", f"hf:{broken}"],
         f"{broken / 'tokenizer.json'}: not a tokenizer.json the tokenizers library can load"),
        (["build-filter", str(text), "-o", str(tmp_path / "g.bloom"), "--unit",
          f"hf:{tmp_path / 'none'}"], f"{tmp_path / 'none'}: no such tokenizer file"),
    ]
    for args, message in cases:
        assert cli.main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"error: {message}"), err
    assert not (tmp_path / "g.bloom").exists()


def test_a_planted_question_is_found_with_its_span_in_hf_tokens(gpt2_json, tmp_path):
    question = hf_release_rows()["mmlu"]["rows"][1]["question"]
    corpus = tmp_path / "forum.jsonl"
    corpus.write_text(json.dumps({"text": f"Help! {question} Thanks."}) + "\n")
    unit = f"hf:{gpt2_json}"
    build(corpus, tmp_path / "f.bloom", "--unit", unit)
    out = tmp_path / "out"
    assert cli.main(["overlap", "--bench", "mmlu", "--bench-path",
                     str(write_hf_release(tmp_path / "release")), "--filter",
                     str(tmp_path / "f.bloom"), "--out", str(out)]) == 0  # unit: the filter's
    rows = {r["id"]: r for r in map(json.loads, (out / "mmlu" / "examples.jsonl").open())}
    hit = rows["mmlu/test/abstract_algebra/00001"]
    assert [r["id"] for r in rows.values() if r["found"]] == [hit["id"]]
    ids = hf_coder(str(gpt2_json))._tok.encode(" ".join(words(question))).ids
    # every 8-gram of the question's tokens but the first: a text starts with "which", the
    # forum post has " which" after "help", another GPT-2 token
    assert hit["found"] == len(ids) - 7 - 1
    (start, end), = hit["spans"]
    assert (start, end) == (question.index(" of") + 1, len(question) - 1)
    assert hit["matches"] == ["of the following statements about the symmetric group S_3 is true"]


def test_token_words_from_offsets_agree_with_gpt2_byte_lengths(gpt2_json, gpt2_vocab):
    from overlap.spans import SpanCoder

    text = "Héllo, wörld! It's 2024: tokenizers café-style naïve façade ½ ™ done."
    ours, reference = SpanCoder(f"hf:{gpt2_json}"), SpanCoder("gpt2", gpt2_vocab)
    (codes,) = ours.codes([text])
    np.testing.assert_array_equal(codes, reference.codes([text])[0])
    np.testing.assert_array_equal(ours.spans(text, codes), reference.spans(text, codes))
