"""LAMBADA: predict the last word of a narrative passage (Paperno et al. 2016).

Two formats of the same 5153 test passages, in the same order (so ids match across them):
OpenAI's detokenized jsonl, which GPT-2 and lm-evaluation-harness's ``lambada_openai`` use,
and the original release's lower-cased, PTB-tokenized plain text (which also has the dev set).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from contamkit.benchmarks.readers import iter_jsonl, iter_lines, require
from contamkit.benchmarks.spec import Benchmark, DataFile, Item, Remote, Variant, index_key
from contamkit.common.errors import UserError

OPENAI_URL = "https://openaipublic.blob.core.windows.net/gpt-2/data/lambada_test.jsonl"
# The checksum lm-evaluation-harness expects for this file.
OPENAI_SHA256 = "4aa8d02cd17c719165fc8a7887fddd641f43fcafa4b1c806ca8abc31fabdb226"
OPENAI_REMOTE = Remote(OPENAI_URL, OPENAI_SHA256)
ZENODO_URL = "https://zenodo.org/record/2630551/files/lambada-dataset.tar.gz"
# Recorded by HuggingFace datasets (lambada/dataset_infos.json) for this URL.
ZENODO_SHA256 = "8fbe499096ddbdcbbd0cac406861b5026fb451d15b8fe04e0e4f3d082f2ad5d7"


def _plain(name: str) -> DataFile:
    # The checksums of the members are not known from an independent source: see README.md.
    return DataFile(name, "lambada", Remote(ZENODO_URL, ZENODO_SHA256, member=name))


def context_target(text: str, where: str) -> dict[str, str]:
    """lambada_openai's split: context = all but the last space-separated word, target = " " +
    that word (it may be several tokens, and may carry punctuation or quotes)."""
    context, sep, word = text.rpartition(" ")
    if not sep or not word:
        raise UserError(f"{where}: passage has no last word after a space")
    return {"context": context, "target": " " + word}


def read_openai(paths: Sequence[Path], split: str) -> Iterator[Item]:
    (path,) = paths
    for i, (lineno, row) in enumerate(iter_jsonl(path)):
        where = f"{path}:{lineno}"
        text = require(row, "text", str, where)
        yield index_key(i), text, context_target(text, where)


def read_plain(paths: Sequence[Path], split: str) -> Iterator[Item]:
    """One passage per line (blank lines, if a copy has them, are not passages)."""
    (path,) = paths
    passages = [(n, line.rstrip("\n")) for n, line in iter_lines(path) if line.strip()]
    for i, (lineno, text) in enumerate(passages):
        yield index_key(i), text, context_target(text, f"{path}:{lineno}")


BENCHMARK = Benchmark(
    name="lambada",
    task="lambada",
    description="LAMBADA last-word prediction (5153 test passages; plain text also has dev)",
    example="one passage; fields context, target (' ' + last word)",
    variant_specs=(
        Variant(
            "openai",
            read_openai,
            {"test": (DataFile("lambada_test.jsonl", "lambada", OPENAI_REMOTE),)},
        ),
        Variant(
            "plain",
            read_plain,
            {
                "valid": (_plain("lambada_development_plain_text.txt"),),
                "test": (_plain("lambada_test_plain_text.txt"),),
            },
        ),
    ),
    scored_field="target",
)
