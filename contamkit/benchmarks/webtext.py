"""WebText as OpenAI released it with gpt-2-output-dataset: jsonl, one document per record.

A record is a document (its ``text``). A partial copy can end in a record cut off mid-line
(our shared train prefix does): that last line is skipped with a warning.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from contamkit.benchmarks.readers import iter_jsonl, require
from contamkit.benchmarks.spec import Benchmark, DataFile, Item, Remote, Variant, index_key

# The old openaipublic.azureedge.net CDN name of download_dataset.py, as a direct blob URL.
# OpenAI publishes no checksums for these files and none is known to us.
BASE_URL = "https://openaipublic.blob.core.windows.net/gpt-2/output-dataset/v1/"


def read_documents(paths: Sequence[Path], split: str) -> Iterator[Item]:
    (path,) = paths
    for i, (lineno, row) in enumerate(iter_jsonl(path, truncated_tail_ok=True)):
        yield index_key(i), require(row, "text", str, f"{path}:{lineno}"), {}


def _file(split: str) -> DataFile:
    name = f"webtext.{split}.jsonl"
    return DataFile(name, "webtext", Remote(BASE_URL + name, None))


BENCHMARK = Benchmark(
    name="webtext",
    description="WebText (gpt-2-output-dataset jsonl: 250k train, 5k valid, 5k test docs)",
    example="one record (document); a truncated last line is skipped",
    variant_specs=(
        Variant("jsonl", read_documents, {s: (_file(s),) for s in ("train", "valid", "test")}),
    ),
)
