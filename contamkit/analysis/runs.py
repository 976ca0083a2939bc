"""Reading an ``evaluate`` run and an ``overlap`` run, and joining them example by example.

Both runs are a directory with ``summary.json`` and ``examples.jsonl``, read by
``overlap.results`` (whose convention holds here: an example too short to test has overlap
fraction NaN and is left out of every mean). A join refuses runs over
different benchmarks or splits and evaluation ids the overlap run does not have; it warns,
and goes on, when the overlap was counted in tokens of another tokenizer than the model's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from contamkit.analysis.evaluators import LOSS_LABELS
from contamkit.analysis.metrics import TASK_METRICS, Metric
from contamkit.benchmarks.readers import require
from contamkit.benchmarks.spec import canonical_split
from contamkit.common.errors import UserError
from contamkit.common.progress import log
from overlap import results
from overlap.results import EXAMPLES, SUMMARY, overlap_fractions

SHOWN_IDS = 3  # ids an error message lists


@dataclass
class Run(results.Run):
    """A run folder (an lm-eval run: its samples file) and, for an evaluation, what ``analyze``
    measures in it."""

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


def read_eval_run(directory: str | Path) -> Run:
    """An ``evaluate`` run, with its task's metrics."""
    run = results.read_run(directory, "evaluate", ("loss",))
    task = require(run.summary, "task", str, str(run.directory / SUMMARY))
    if task not in TASK_METRICS:
        raise UserError(f"{run.directory / SUMMARY}: unknown task {task!r}")
    return Run(run.directory, run.summary, run.rows, TASK_METRICS[task], LOSS_LABELS[task])


def join_runs(evaluation: Run, overlap: results.Run) -> Joined:
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
    return Joined(evaluation.rows, overlap_fractions(matched), found, ngrams, warnings, matched)


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
