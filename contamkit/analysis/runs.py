"""Reading an ``evaluate`` run and an ``overlap`` run, and joining them example by example.

Both runs are a directory with ``summary.json`` and ``examples.jsonl``. A join refuses runs over
different benchmarks or splits and evaluation ids the overlap run does not have; it warns,
and goes on, when the overlap was counted in tokens of another tokenizer than the model's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from contamkit.analysis.evaluators import LOSS_LABELS
from contamkit.analysis.metrics import TASK_METRICS, Metric
from contamkit.benchmarks.readers import iter_jsonl, load_json, require
from contamkit.benchmarks.spec import canonical_split
from contamkit.common.errors import UserError
from contamkit.common.progress import log
from overlap.runs import bench_dir

EXAMPLES, SUMMARY = "examples.jsonl", "summary.json"
SHOWN_IDS = 3  # ids an error message lists


@dataclass
class Run:
    directory: Path  # the run's directory (an lm-eval run: its samples file)
    summary: dict
    rows: list[dict]
    metrics: tuple[Metric, ...] = ()  # what analyze measures (an evaluation run)
    loss_label: str = ""  # what each row's ``loss`` is


@dataclass
class Joined:
    """Evaluation rows in their order, with each one's overlap."""

    rows: list[dict]
    fraction: np.ndarray  # found n-grams / n-grams; nan when too short to test (no n-gram)
    found: np.ndarray
    ngrams: np.ndarray
    warnings: list[str] = field(default_factory=list)
    matched: list[dict] = field(default_factory=list)  # the overlap row of each evaluation row

    @property
    def tested(self) -> np.ndarray:
        return self.ngrams > 0

    @property
    def dirty(self) -> np.ndarray:
        return self.found > 0


def read_run(directory: str | Path, what: str, row_fields: tuple[str, ...]) -> Run:
    """A run directory; ``what`` names the command that writes it, for messages."""
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


def read_eval_run(directory: str | Path) -> Run:
    """An ``evaluate`` run, with its task's metrics."""
    run = read_run(directory, "evaluate", ("loss",))
    task = require(run.summary, "task", str, str(run.directory / SUMMARY))
    if task not in TASK_METRICS:
        raise UserError(f"{run.directory / SUMMARY}: unknown task {task!r}")
    run.metrics, run.loss_label = TASK_METRICS[task], LOSS_LABELS[task]
    return run


def read_overlap_run(directory: str | Path, bench: str | None = None) -> Run:
    """``bench``'s results in an ``overlap`` output folder (without ``bench``: its only
    benchmark's), or a benchmark folder itself."""
    return read_run(bench_dir(Path(directory), bench), "overlap", ("ngrams", "found"))


def join_runs(evaluation: Run, overlap: Run) -> Joined:
    """Each evaluated example with its overlap; see the module docstring for what is refused."""
    ev_file, ov_file = evaluation.directory / SUMMARY, overlap.directory / SUMMARY
    for key, same in (("bench", str), ("split", canonical_split)):
        if same(evaluation.summary[key]) != same(overlap.summary[key]):
            raise UserError(f"{ev_file}: {key} {evaluation.summary[key]!r} differs from "
                            f"{overlap.summary[key]!r} in {ov_file}")
    by_id = {r["id"]: r for r in overlap.rows}
    missing = [r["id"] for r in evaluation.rows if r["id"] not in by_id]
    if missing:
        shown = ", ".join(missing[:SHOWN_IDS])
        raise UserError(f"{evaluation.directory / EXAMPLES}: {len(missing)} of "
                        f"{len(evaluation.rows)} ids are not in {overlap.directory / EXAMPLES} "
                        f"(e.g. {shown})")
    warnings = []
    if len(by_id) > len(evaluation.rows):
        log.info(f"{ov_file}: {len(by_id) - len(evaluation.rows)} overlap examples were not "
                 f"evaluated; analysing the {len(evaluation.rows)} that were")
    mismatch = tokenizer_mismatch(evaluation.summary, overlap.summary)
    if mismatch:
        warnings.append(mismatch)
        log.warning(f"warning: {mismatch}")
    matched = [by_id[r["id"]] for r in evaluation.rows]
    found = np.array([float(m["found"]) for m in matched])
    ngrams = np.array([float(m["ngrams"]) for m in matched])
    if np.any((found < 0) | (found > ngrams)):
        raise UserError(f"{overlap.directory / EXAMPLES}: 'found' outside 0..'ngrams'")
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(ngrams > 0, found / ngrams, np.nan)
    return Joined(evaluation.rows, fraction, found, ngrams, warnings, matched)


def tokenizer_mismatch(eval_summary: dict, overlap_summary: dict) -> str | None:
    """A warning when the overlap's n-grams are tokens of another tokenizer than the model's."""
    unit = overlap_summary.get("unit")
    params = overlap_summary.get("filter", {}).get("params", {})
    counted = overlap_summary.get("tokenizer") or params.get("tokenizer")
    model = eval_summary.get("tokenizer")
    if not counted or counted == model:  # no tokenizer: the units are words
        return None
    if model is None:
        return (f"overlap was counted in {unit} n-grams of tokenizer {counted!r} and the "
                f"model's tokenizer is unknown: overlap fractions may not be in its tokens")
    return (f"overlap was counted in {unit} n-grams of tokenizer {counted!r} but the model uses "
            f"{model!r}: overlap fractions are not in the model's tokens")
