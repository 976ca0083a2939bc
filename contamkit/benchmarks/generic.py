"""Any local dataset as a benchmark: ``--bench hf --bench-path DIR_OR_FILES
--text-template "{question} {answer}" [--id-field id]``.

The files are a Hugging Face release on disk (parquet shards, jsonl or json), either listed
(comma-separated) or found under a folder by split name: ``<split>-00000-of-00002.parquet``,
``<split>.jsonl``, ``<split>/0000.parquet`` (``valid`` also matches ``validation`` and ``dev``).
An example's text is the template filled from the row (``{field}``, ``{field[0]}``,
``{field[key]}``); its key is the ``--id-field`` value (unique) or the row's position over the
files in order; its fields are the row's columns.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Sequence
from pathlib import Path

from contamkit.benchmarks.custom import record_key
from contamkit.benchmarks.hf_release import read_rows
from contamkit.benchmarks.spec import SPLITS, Benchmark, Item, Variant, canonical_split
from contamkit.common.errors import UserError

NAME = "hf"
DEFAULT_TEMPLATE = "{text}"
DATA_SUFFIXES = (".parquet", ".jsonl", ".json")
SPLIT_NAMES = {"train": ("train",), "valid": ("validation", "valid", "dev"), "test": ("test",)}


def template_fields(template: str) -> list[str]:
    """The row fields a template reads (``{a[0]}`` reads ``a``); attribute access is refused,
    as it would reach into Python objects rather than the data."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise UserError(f"--text-template {template!r}: {e}") from None
    names = []
    for _, field, _, _ in parsed:
        if field is None:
            continue
        root = field.split("[", 1)[0]
        if not root or root.isdigit() or "." in root:
            raise UserError(f"--text-template {template!r}: {{{field}}} must name a field "
                            "(with [index] or [key] after it if needed)")
        names.append(root)
    if not names:
        raise UserError(f"--text-template {template!r} names no field")
    return list(dict.fromkeys(names))


def find_split_files(path: str | None, split: str) -> list[Path]:
    """The files of ``split``: those listed in ``path`` (comma-separated), or those under the
    folder ``path`` named for the split."""
    if path is None:
        raise UserError(f"{NAME}: pass --bench-path with the dataset's folder or files "
                        f"({', '.join(DATA_SUFFIXES)})")
    paths = [Path(p).expanduser() for p in str(path).split(",") if p.strip()]
    for p in paths:
        if not p.exists():
            raise UserError(f"{p}: no such file or directory")
    if len(paths) > 1 or paths[0].is_file():
        for p in paths:
            if not p.is_file():
                raise UserError(f"{p}: give either one folder or a list of files")
        return paths
    root = paths[0]
    data = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in
                  DATA_SUFFIXES and not any(part.startswith(".") for part in
                                            p.relative_to(root).parts))
    names = SPLIT_NAMES[canonical_split(split)]
    found = [p for p in data if _split_of(p.relative_to(root), names)]
    if not found:
        seen = ", ".join(str(p.relative_to(root)) for p in data[:5]) or "no data files"
        raise UserError(f"{root}: no {split} files (named {'/'.join(names)}[-*].parquet|"
                        f".jsonl|.json or in a {names[0]}/ folder); found {seen}; "
                        "or list the files: --bench-path a.parquet,b.parquet")
    return found


def _split_of(rel: Path, names: Sequence[str]) -> bool:
    stem = rel.name.split(".", 1)[0]
    return any(stem == n or stem.startswith((f"{n}-", f"{n}_")) or n in rel.parts[:-1]
               for n in names)


def generic_benchmark(template: str = DEFAULT_TEMPLATE, id_field: str | None = None) -> Benchmark:
    """The ``hf`` benchmark with this text template and id field."""
    wanted = template_fields(template)

    def read(paths: Sequence[Path], split: str) -> Iterator[Item]:
        seen: set[str] = set()
        i = 0
        for path in paths:
            for where, row in read_rows(path, None, NAME):
                missing = [f for f in wanted if f not in row]
                if missing:
                    raise UserError(f"{where}: --text-template names field {missing[0]!r}, "
                                    f"which the file does not have (fields: {', '.join(row)})")
                key = _key(row, id_field, i, where)
                if key in seen:
                    raise UserError(f"{where}: duplicate id {key!r} in field {id_field!r}")
                seen.add(key)
                yield key, _fill(template, row, where), row
                i += 1

    return Benchmark(
        name=NAME,
        description="any local dataset (--bench-path DIR_OR_FILES, --text-template, --id-field)",
        example="one row; text = the template filled from it; fields: the row",
        variant_specs=(Variant("files", read, {s: () for s in SPLITS}),),
        locate=find_split_files,
    )


def _key(row: dict, id_field: str | None, i: int, where: str) -> str:
    if id_field is None:
        return f"{i:05d}"
    if id_field not in row:
        raise UserError(f"{where}: --id-field {id_field!r} is not a field of the file "
                        f"(fields: {', '.join(row)})")
    return record_key(row, i, where, id_field)


def _fill(template: str, row: dict, where: str) -> str:
    try:
        return template.format_map(row)
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise UserError(f"{where}: --text-template {template!r} does not fit this row "
                        f"({type(e).__name__}: {e})") from None


BENCHMARK = generic_benchmark()
