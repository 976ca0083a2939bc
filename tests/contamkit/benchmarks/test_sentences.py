"""PTB on the real files and 1BW on a folder laid out like the release."""

from __future__ import annotations

from contamkit.benchmarks import load_benchmark


def test_ptb_test_is_3761_lines(shared_data):
    test = load_benchmark("ptb")
    raw = (shared_data / "ptb" / "ptb.test.txt").read_text(encoding="utf-8")
    assert len(test) == 3761
    assert "".join(e.text + "\n" for e in test) == raw
    assert test[0].text == " no it was n't black monday "
    assert test[-1].id == "ptb/test/03760"
    # SOURCES.md: 78669 words in test
    assert sum(len(e.text.split()) for e in test) == 78669


def test_ptb_other_splits(shared_data):
    assert len(load_benchmark("ptb", "valid")) == 3370
    assert len(load_benchmark("ptb", "train")) == 42068


def test_1bw_from_the_release_layout(tmp_path):
    root = tmp_path / "1-billion-word-language-modeling-benchmark-r13output"
    heldout = root / "heldout-monolingual.tokenized.shuffled"
    train = root / "training-monolingual.tokenized.shuffled"
    heldout.mkdir(parents=True)
    train.mkdir()
    (heldout / "news.en.heldout-00000-of-00050").write_text("a b .\nc d .\n")
    (heldout / "news.en.heldout-00001-of-00050").write_text("not the test set\n")
    for k in range(1, 100):
        (train / f"news.en-{k:05d}-of-00100").write_text(f"shard {k}\n")
    test = load_benchmark("1bw", path=root)
    assert [(e.id, e.text) for e in test] == [
        ("1bw/test/00000", "a b ."),
        ("1bw/test/00001", "c d ."),
    ]
    sentences = load_benchmark("1bw", "train", path=root)
    assert len(sentences) == 99
    assert (sentences[0].text, sentences[98].text) == ("shard 1", "shard 99")
    assert sentences[98].id == "1bw/train/00098"
