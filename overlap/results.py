"""Reading run folders: ``summary.json`` plus ``examples.jsonl``, as ``overlap`` (and
``evaluate``) write them. The one reader that analysis, experiments, the demo and reports use.

One convention for an example too short to test (fewer than n units, so no n-gram): its overlap
fraction is NaN, so it drops out of every mean and share (``np.nanmean``), never counted as
clean (fraction 0) nor as contaminated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contamkit.benchmarks.readers import iter_jsonl, load_json, require
from contamkit.common.errors import UserError
from overlap.runs import bench_dir

EXAMPLES, SUMMARY = "examples.jsonl", "summary.json"


@dataclass
class Run:
    """A run folder: its summary and its per-example rows, in file order."""

    directory: Path
    summary: dict
    rows: list[dict]

    def by_id(self) -> dict[str, dict]:
        return {r["id"]: r for r in self.rows}


def read_run(directory: str | Path, what: str, row_fields: tuple[str, ...]) -> Run:
    """A run folder, checked: both files there, ``bench`` and ``split`` in the summary, every
    row with an ``id`` (unique) and ``row_fields``; ``what`` names the command that writes it,
    for messages."""
    directory = Path(directory)
    for name in (SUMMARY, EXAMPLES):
        if not (directory / name).is_file():
            raise UserError(f"{directory}: no {name} (not the output of `{what}`)")
    summary = load_json(directory / SUMMARY)
    for key in ("bench", "split"):
        require(summary, key, str, str(directory / SUMMARY))
    rows, seen = [], set()
    for lineno, row in iter_jsonl(directory / EXAMPLES):
        where = f"{directory / EXAMPLES}:{lineno}"
        require(row, "id", str, where)
        for key in row_fields:
            if key not in row:
                raise UserError(f"{where}: missing field {key!r}")
        if row["id"] in seen:
            raise UserError(f"{where}: duplicate id {row['id']!r}")
        seen.add(row["id"])
        rows.append(row)
    if not rows:
        raise UserError(f"{directory / EXAMPLES}: no examples")
    return Run(directory, summary, rows)


def read_overlap_run(directory: str | Path, bench: str | None = None) -> Run:
    """``bench``'s results in an ``overlap`` output folder (without ``bench``: its only
    benchmark's; ``overlap.runs``), or a benchmark's folder itself."""
    return read_run(bench_dir(Path(directory), bench), "overlap", ("ngrams", "found"))


def overlap_fractions(rows: Sequence[dict]) -> np.ndarray:
    """found / n-grams of each row; NaN for an example too short to test.

    >>> overlap_fractions([{"found": 1, "ngrams": 4}, {"found": 0, "ngrams": 0}])
    array([0.25,  nan])
    """
    found = np.array([float(r["found"]) for r in rows])
    ngrams = np.array([float(r["ngrams"]) for r in rows])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ngrams > 0, found / ngrams, np.nan)
