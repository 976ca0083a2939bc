"""Benchmarks read from the files of their Hugging Face dataset release, as they sit on disk.

A Hugging Face dataset repository keeps each config's splits as parquet shards
(``<config>/<split>-00000-of-00001.parquet``); the parquet-converter branch
(``refs/convert/parquet``) names the same data ``<config>/<split>/0000.parquet``. Both are found,
under ``--bench-path DIR`` (or the cache), directly or in a ``<benchmark>/`` sub-folder. Nothing
is downloaded unless asked (``--download``, from ``huggingface.co/datasets/<repo>/resolve/main``;
no checksum is known for these files, so the download warns and prints the one it got).

Each benchmark is one ``HFSet`` row: repository, config, splits, the columns it reads and their
types, and a function from a row to the example's text and fields. Rows are read in file order,
which is lm-evaluation-harness's ``doc_id`` order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contamkit.benchmarks.readers import iter_jsonl, load_json
from contamkit.benchmarks.spec import Benchmark, DataFile, Item, Remote, Variant, index_key
from contamkit.common.errors import UserError

# A column's expected Python type(s) once read (parquet list -> list, struct -> dict).
Kind = type | tuple[type, ...]
# (row, "file: row i") -> (text checked for overlap, Example.fields)
Convert = Callable[[dict, str], tuple[str, dict[str, Any]]]
HF_SPLIT = {"train": "train", "valid": "validation", "test": "test"}
PARQUET_BATCH = 4096
# The field holding the part of the text the model is scored on, by task: an exact-match text
# ends with its answer, a Winogrande text with the continuation scored after each option.
SCORED_FIELD = {"exact_match": "answer", "winograd": "continuation"}


@dataclass(frozen=True)
class HFSet:
    """One benchmark's Hugging Face release and how a row becomes an Example."""

    name: str
    repo: str  # e.g. "cais/mmlu"
    config: str  # the config's folder in the repository, e.g. "all"
    splits: tuple[str, ...]  # ours: "train", "valid", "test"
    columns: Mapping[str, Kind]
    convert: Convert
    task: str
    description: str
    example: str
    default_split: str = "test"
    converted_config: str | None = None  # its folder on refs/convert/parquet (default: config)
    group_key: str | None = None  # key = "<row[group_key]>/<position in that group>" (MMLU)

    def data_file(self, split: str) -> DataFile:
        hf = HF_SPLIT[split]
        name = f"{self.config}/{hf}-00000-of-00001.parquet"
        url = f"https://huggingface.co/datasets/{self.repo}/resolve/main/{name}"
        converted = f"{self.converted_config or self.config}/{hf}/0000.parquet"
        return DataFile(name, self.name, Remote(url, None), aliases=(converted,))

    def read(self, paths: Sequence[Path], split: str) -> Iterator[Item]:
        (path,) = paths
        seen: dict[str, int] = {}
        for i, (where, row) in enumerate(read_rows(path, self.columns, self.name)):
            text, fields = self.convert(row, where)
            if self.group_key is None:
                yield index_key(i), text, fields
            else:
                group = row[self.group_key]
                seen[group] = seen.get(group, -1) + 1
                yield f"{group}/{index_key(seen[group])}", text, fields

    def benchmark(self) -> Benchmark:
        files = {s: (self.data_file(s),) for s in self.splits}
        return Benchmark(
            name=self.name,
            description=f"{self.description} (HF {self.repo}, {self.config})",
            example=self.example,
            variant_specs=(Variant("hf", self.read, files),),
            default_split=self.default_split,
            task=self.task,
            scored_field=SCORED_FIELD.get(self.task),
        )


def read_rows(path: Path, columns: Mapping[str, Kind] | None,
              dataset: str) -> Iterator[tuple[str, dict]]:
    """("file: row i" or "file:line", row) of a .parquet, .jsonl or .json file, each row checked
    to have ``columns`` of their kinds (None: any columns); a file in another schema is refused
    with a message naming ``dataset``."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from _parquet_rows(path, columns, dataset)
        return
    if suffix == ".jsonl":
        rows = ((f"{path}:{n}", row) for n, row in iter_jsonl(path))
    elif suffix == ".json":
        data = load_json(path)
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise UserError(f"{path}: expected a JSON array of objects")
        rows = ((f"{path}: record {i}", row) for i, row in enumerate(data))
    else:
        raise UserError(f"{path}: not a .parquet, .jsonl or .json file")
    for where, row in rows:
        if columns is not None:
            check_row(row, columns, where, dataset)
        yield where, row


def _parquet_rows(path: Path, columns: Mapping[str, Kind] | None,
                  dataset: str) -> Iterator[tuple[str, dict]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        raise UserError(f"{path}: not a readable parquet file ({e})") from None
    names = pf.schema_arrow.names
    if columns is not None:
        missing = [c for c in columns if c not in names]
        if missing:
            raise UserError(f"{path}: not {dataset}'s schema: no column "
                            f"{', '.join(map(repr, missing))} (it has {', '.join(names)})")
    i = 0
    for batch in pf.iter_batches(batch_size=PARQUET_BATCH,
                                 columns=None if columns is None else list(columns)):
        for row in batch.to_pylist():
            where = f"{path}: row {i}"
            if columns is not None:
                check_row(row, columns, where, dataset)
            yield where, row
            i += 1


def check_row(row: dict, columns: Mapping[str, Kind], where: str, dataset: str) -> None:
    """Each column present and of its kind (bool is not an int here)."""
    for name, kind in columns.items():
        if name not in row:
            raise UserError(f"{where}: not {dataset}'s schema: no field {name!r}")
        value = row[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            want = " or ".join(k.__name__ for k in kinds)
            raise UserError(f"{where}: not {dataset}'s schema: field {name!r} is "
                            f"{type(value).__name__}, expected {want}")


def strings(value: Any, what: str, where: str, count: int | None = None) -> list[str]:
    """``value`` checked to be a list of strings (of ``count`` items when given)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(f"{where}: {what} must be a list of strings")
    if count is not None and len(value) != count:
        raise UserError(f"{where}: {what} has {len(value)} items, expected {count}")
    return value


def label_index(value: Any, size: int, where: str, what: str = "label", base: int = 0) -> int:
    """A gold label (an int, or a digit string as HellaSwag and Winogrande store it) as an index
    into ``size`` choices; ``base`` is the label of the first choice."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value - base < size:
        raise UserError(f"{where}: {what} {value!r} is not a choice (test splits of some sets "
                        "have no labels: use the validation split)")
    return value - base


def mc_fields(query: str, choices: list[str], gold: int, **extra: Any) -> dict[str, Any]:
    """The multiple-choice contract: the prompt, each choice as scored (target delimiter " "
    included), the gold index."""
    return {"query": query, "choices": [" " + c for c in choices], "gold": gold, **extra}
