"""A user's own benchmark: a JSON-lines file of records with a ``text`` field and an optional
``id`` field (``--bench-path FILE``, or a folder holding ``<split>.jsonl``).

It lets every tool that takes a benchmark name (overlap, evaluate, analyze, the experiments and
the demo) run on data that no registry entry describes. An example's key is its ``id`` (a
string or an integer, unique in the file) or else its position; every other field of the
record is kept in ``fields``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from contamkit.benchmarks.readers import iter_jsonl, require
from contamkit.benchmarks.spec import Benchmark, DataFile, Item, Remote, Variant, index_key
from contamkit.common.errors import UserError

TEXT, ID = "text", "id"
# No official copy exists: the file is the user's. The "URL" tells a reader of the
# missing-file message what to do instead.
NO_REMOTE = Remote("(none: a user's own file; pass --bench-path FILE.jsonl)", None)


def read_records(paths: Sequence[Path], split: str) -> Iterator[Item]:
    (path,) = paths
    seen: set[str] = set()
    for i, (lineno, row) in enumerate(iter_jsonl(path)):
        where = f"{path}:{lineno}"
        text = require(row, TEXT, str, where)
        key = record_key(row, i, where)
        if key in seen:
            raise UserError(f"{where}: duplicate id {key!r}")
        seen.add(key)
        yield key, text, {k: v for k, v in row.items() if k not in (TEXT, ID)}


def record_key(row: dict, i: int, where: str, field: str = ID) -> str:
    """The record's ``field`` as text, or its zero-padded position when it has none."""
    if field not in row:
        return index_key(i)
    value = row[field]
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise UserError(f"{where}: field {field!r} must be a non-empty string or an integer")
    return str(value)


BENCHMARK = Benchmark(
    name="jsonl",
    description="your own benchmark: a jsonl file (--bench-path) of {text, optional id}",
    example="one record; fields: every key but text and id",
    variant_specs=(
        Variant("jsonl", read_records,
                {s: (DataFile(f"{s}.jsonl", "jsonl", NO_REMOTE),) for s in ("train", "valid",
                                                                            "test")}),
    ),
)
