"""lm-evaluation-harness's per-example logs (``lm_eval --log_samples``) as an evaluation run.

lm-eval writes ``samples_<task>_<timestamp>.jsonl`` (under ``OUTPUT/<model>/``): one line per
document and filter, with ``doc_id`` (the task's document order), ``doc`` (the dataset row),
``filtered_resps`` (log-likelihoods or generations) and one field per metric. A document is
joined to the overlap run's example at the same position (``doc_id`` i <-> the i-th example of
the benchmark split) and checked against that example's text: some text field of the document
(of three words or more, normalized as the overlap tools normalize) must lie inside the
example's text, or hold it. A mismatch is refused, naming the first differing document.

Every numeric per-sample metric becomes an analyzable :class:`Metric`, aggregated as lm-eval
aggregates it: a number is averaged (``acc``, ``acc_norm``, ``exact_match``, ``f1``, ...;
percent for the fractions), ``perplexity`` (a log-likelihood per sample) is exp(-mean), and the
(log-likelihood, count) pairs of ``word_perplexity``, ``byte_perplexity`` and ``bits_per_byte``
are pooled. A task run with several filters (gsm8k's strict-match and flexible-extract) gets one
metric per filter. The per-example ``loss`` is the gold continuation's NLL where the log holds
log-likelihoods (per word for rolling log-likelihoods), else undefined.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

from contamkit.analysis.metrics import Metric
from contamkit.analysis.runs import Run
from contamkit.benchmarks.readers import iter_jsonl
from contamkit.common.errors import UserError
from contamkit.common.progress import log
from overlap.normalize import normalize

SAMPLES = "samples_*.jsonl"
_NAME = re.compile(r"^samples_(?P<task>.+)_(?P<stamp>\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.jsonl$")
FRACTIONS = {"acc", "acc_norm", "acc_bytes", "acc_mutual_info", "exact_match", "f1", "em",
             "contains"}
# (log-likelihood, count) pairs, pooled: name -> scale of -sum(ll) / sum(count)
POOLED = {"word_perplexity": "exp", "byte_perplexity": "exp", "bits_per_byte": "bits"}
LOWER_IS_BETTER = {"perplexity", *POOLED}
MIN_WORDS = 3  # a document field shorter than this is a label, not text to check
SHOWN_CHARS = 60  # of each text in a mismatch message


def is_samples_source(path: str | Path) -> bool:
    """An lm-eval samples file, or a directory holding them (and no ``evaluate`` run)."""
    p = Path(path)
    if p.is_file():
        return p.name.startswith("samples_") and p.suffix == ".jsonl"
    return p.is_dir() and not (p / "summary.json").is_file() and any(p.rglob(SAMPLES))


def samples_file(path: str | Path) -> Path:
    """The one samples file a path names; a directory must hold exactly one."""
    p = Path(path)
    if p.is_file():
        return p
    found = sorted(p.rglob(SAMPLES))
    if len(found) != 1:
        tasks = sorted({task_of_file(f) for f in found})
        raise UserError(f"{p}: holds {len(found)} lm-eval samples files (tasks "
                        f"{', '.join(tasks)}); pass one samples_<task>_*.jsonl file")
    return found[0]


def task_of_file(path: Path) -> str:
    m = _NAME.match(path.name)
    return m["task"] if m else path.stem.removeprefix("samples_")


def read_lm_eval_run(path: str | Path, overlap: Run, texts: Sequence[str]) -> Run:
    """The samples as an evaluation run over the overlap run's examples (``texts``: theirs, in
    order), with its metrics and loss."""
    file = samples_file(path)
    docs = _read_docs(file)
    ids = [r["id"] for r in overlap.rows]
    last = max(docs)
    if last >= len(ids):
        raise UserError(f"{file}: {len(docs)} documents (doc_id up to {last}) but "
                        f"{overlap.directory / 'examples.jsonl'} has {len(ids)}: not the same "
                        f"document set")
    for doc_id, lines in docs.items():
        _check_text(file, doc_id, lines[0]["doc"], ids[doc_id], texts[doc_id], overlap)
    filters = list(dict.fromkeys(line["filter"] for lines in docs.values() for line in lines))
    results = _results_of(file)
    metrics, rows = _metrics_and_rows(file, docs, filters, ids, results)
    loss_label = _add_loss(rows, docs, filters[0])
    task = task_of_file(file)
    model = results.get("model_name")
    summary = {"bench": overlap.summary["bench"], "split": overlap.summary["split"],
               "task": f"lm-eval:{task}", "model": model, "tokenizer": _tokenizer_of(model),
               "source": "lm-evaluation-harness", "lm_eval_version": results.get("lm_eval_version")}
    log.info(f"{file}: lm-eval task {task}, {len(rows)} documents, metrics "
             f"{', '.join(m.name for m in metrics)}")
    return Run(file, summary, rows, metrics=tuple(metrics), loss_label=loss_label)


def _read_docs(file: Path) -> dict[int, list[dict]]:
    """Lines grouped by doc_id, in doc_id order; each line checked for the fields used."""
    docs: dict[int, list[dict]] = {}
    for lineno, line in iter_jsonl(file):
        where = f"{file}:{lineno}"
        if not (isinstance(line.get("doc_id"), int) and line["doc_id"] >= 0
                and isinstance(line.get("doc"), dict) and isinstance(line.get("metrics"), list)):
            raise UserError(f"{where}: not an lm-eval sample (needs doc_id, doc, metrics)")
        line.setdefault("filter", "none")
        same = docs.setdefault(line["doc_id"], [])
        if any(o["filter"] == line["filter"] for o in same):
            raise UserError(f"{where}: doc_id {line['doc_id']} repeated for filter "
                            f"{line['filter']!r}")
        same.append(line)
    if not docs:
        raise UserError(f"{file}: no samples")
    return dict(sorted(docs.items()))


def _strings(value) -> list[str]:
    """Every string inside a document (lists and nested objects included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _check_text(file: Path, doc_id: int, doc: dict, example_id: str, text: str,
                overlap: Run) -> None:
    target = normalize(text)
    fields = [n for n in (normalize(s) for s in _strings(doc)) if n]
    long = [n for n in fields if len(n.split()) >= MIN_WORDS] or fields
    if any(n in target or target in n for n in long):
        return
    shown = max(_strings(doc), key=len, default="")
    raise UserError(f"{file}: doc_id {doc_id} does not match {example_id} of "
                    f"{overlap.summary['bench']} {overlap.summary['split']} "
                    f"({shown[:SHOWN_CHARS]!r} vs {text[:SHOWN_CHARS]!r}): samples of "
                    f"another task or another document order")


def _results_of(file: Path) -> dict:
    """The results_<timestamp>.json written with the samples, if present (model name,
    higher_is_better, lm-eval version)."""
    m = _NAME.match(file.name)
    path = file.with_name(f"results_{m['stamp']}.json") if m else None
    if path is None or not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not valid JSON ({e})") from None


def _number(value) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _metrics_and_rows(file: Path, docs: dict[int, list[dict]], filters: list[str],
                      ids: list[str], results: dict) -> tuple[list[Metric], list[dict]]:
    """One Metric per (metric, filter) numeric in every document; rows with their columns."""
    rows = [{"id": ids[doc_id], "doc_id": doc_id} for doc_id in docs]
    task = task_of_file(file)
    better = results.get("higher_is_better", {}).get(task, {})
    metrics, skipped = [], []
    for filt in filters:
        lines = [next((x for x in same if x["filter"] == filt), None) for same in docs.values()]
        if any(x is None for x in lines):
            raise UserError(f"{file}: filter {filt!r} lacks some documents")
        for name in dict.fromkeys(m for x in lines for m in x["metrics"]):
            label = name if len(filters) == 1 else f"{name}_{filt}"
            metric = _metric(name, label, [x.get(name) for x in lines], rows,
                             better.get(name))
            (metrics if metric else skipped).append(metric or label)
    if skipped:
        log.info(f"{file}: not numeric per sample, left out: {', '.join(skipped)}")
    if not metrics:
        raise UserError(f"{file}: no numeric per-sample metric to analyze")
    return metrics, rows


def _metric(name: str, label: str, values: list, rows: list[dict],
            higher_is_better: bool | None) -> Metric | None:
    """A Metric over ``values`` (one per row, written into the rows), or None if they are not
    numbers (or (log-likelihood, count) pairs for the pooled metrics)."""
    higher = (name not in LOWER_IS_BETTER) if higher_is_better is None else higher_is_better
    if name in POOLED:
        pairs = [v if isinstance(v, list) and len(v) == 2 else [None, None] for v in values]
        lls, counts = [_number(p[0]) for p in pairs], [_number(p[1]) for p in pairs]
        if None in lls or None in counts:
            return None
        for row, ll, count in zip(rows, lls, counts, strict=True):
            row[label], row[f"{label}_count"] = -ll, count
        return Metric(label, label, f"{label}_count", POOLED[name], higher,
                      f"{label} (lm-eval)")
    numbers = [_number(v) for v in values]
    if None in numbers:
        return None
    if name == "perplexity":  # each sample holds its log-likelihood
        numbers = [-x for x in numbers]
        scale = "exp"
    else:
        scale = "percent" if name in FRACTIONS else "mean"
    for row, x in zip(rows, numbers, strict=True):
        row[label] = x
    unit = ", %" if scale == "percent" else ""
    return Metric(label, label, None, scale, higher, f"{label} (lm-eval{unit})")


def _add_loss(rows: list[dict], docs: dict[int, list[dict]], filt: str) -> str:
    """Each row's ``loss`` from the log-likelihoods the log holds; returns what it is."""
    kinds = set()
    for row, same in zip(rows, docs.values(), strict=True):
        line = next(x for x in same if x["filter"] == filt)
        kind, nll = _gold_nll(line)
        words = row.get("word_perplexity_count")
        if kind == "rolling" and words:
            nll /= words
        row["loss"] = nll
        kinds.add(kind)
    return {"loglikelihood": "gold continuation NLL (nats)",
            "multiple_choice": "gold-choice NLL (nats)",
            "rolling": "document NLL (nats per word)"}.get(
                kinds.pop() if len(kinds) == 1 else "", "undefined (no log-likelihoods)")


def _gold_nll(line: dict) -> tuple[str, float | None]:
    """("loglikelihood" | "multiple_choice" | "rolling" | "other", the gold's NLL or None).

    ``filtered_resps`` holds one response per request: (log-likelihood, is-greedy) pairs for
    a continuation (one) or the choices (one each, ``target`` the gold index), a bare
    log-likelihood for a rolling one, text for a generation."""
    resps, gold = line.get("filtered_resps"), line.get("target")
    if not isinstance(resps, list) or not resps:
        return "other", None
    try:
        if all(isinstance(r, list) and len(r) == 2 for r in resps):
            if isinstance(gold, int) and not isinstance(gold, bool) and 0 <= gold < len(resps):
                return "multiple_choice", -float(resps[gold][0])
            if len(resps) == 1:
                return "loglikelihood", -float(resps[0][0])
        elif len(resps) == 1 and not isinstance(resps[0], list):
            return "rolling", -float(resps[0])
    except (TypeError, ValueError):  # a generation: text, not a number
        pass
    return "other", None


def _tokenizer_of(model: str | None) -> str | None:
    """The tokenizer identity of a local model directory lm-eval ran (as ``evaluate`` names
    it), so ``analyze`` can tell whether overlap tokens are the model's."""
    if not model or not Path(model).is_dir():
        return None
    from model.hf import tokenizer_identity

    return tokenizer_identity(Path(model))
