"""The experiment's results from its stage outputs: tables (JSON, CSV), figures and a report.

Everything is computed here from the files the runner wrote (overlap run, evaluations, scores,
extraction), so the report can be rebuilt without recomputing anything. Groups: held out
(0 copies) and one group per injected copy count.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from contamkit.analysis.shift import LEVEL, compare_groups
from contamkit.analysis.sweep import SweepOptions, epg_cell, sweep, task_metrics
from contamkit.common.atomic import write_json, write_text
from contamkit.common.progress import log
from contamkit.common.render import write_report
from contamkit.experiments import plots
from contamkit.experiments.config import ExperimentConfig
from contamkit.experiments.detectors import (
    MEASURES,
    auc_interval,
    membership_score,
    model_measures,
    roc_curve,
    separation,
)
from contamkit.experiments.layout import VARIANTS, Example, ExperimentLayout
from overlap import contamination
from overlap.results import overlap_fractions, read_overlap_run, read_run
from overlap.runs import bench_dir

FILTER = "n-gram filter"  # the "model" column of the n-gram detector's rows


def _jsonl(path: Path) -> dict[str, dict]:
    """A stage's per-example rows by id."""
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return {r["id"]: r for r in rows}


class Inputs:
    """The stage outputs of one experiment directory, keyed by example id."""

    def __init__(self, cfg: ExperimentConfig, paths: ExperimentLayout, examples: list[Example]):
        self.cfg, self.paths, self.examples = cfg, paths, examples
        self.variants = VARIANTS if cfg.reference else VARIANTS[:1]
        self.scores = {(m, v): _jsonl(paths.scores(m, v))
                       for m in cfg.models for v in self.variants}
        # the model-based measures this run has: reference ones need reference models, and
        # scores written before a measure existed lack it
        scored = next(iter(next(iter(self.scores.values())).values()))
        self.measures = [m for m in model_measures(reference=cfg.reference) if m in scored]
        self.ids = [e.id for e in examples]
        self.copies = np.array([e.copies for e in examples])
        self.overlap = read_overlap_run(paths.overlap, cfg.benchmark.name).by_id()
        # NaN where an example is too short to test (overlap.results): left out of means, AUCs
        self.fraction = overlap_fractions([self.overlap[i] for i in self.ids])
        runs = {(m, v): read_run(paths.eval(m, v), "evaluate", ("loss",))
                for m in cfg.models for v in self.variants}
        self.evals = {key: run.by_id() for key, run in runs.items()}
        self.task = runs[(next(iter(cfg.models)), "injected")].summary["task"]
        self.extraction = {m: _jsonl(paths.extraction(m)) for m in cfg.models}

    def measure(self, model: str, measure: str) -> np.ndarray:
        """One membership measure of every example under ``model``'s injected variant."""
        if MEASURES[measure].compute is None:  # the n-gram overlap: not a model measure
            return self.fraction
        value = self.score(model, "injected", measure)
        if MEASURES[measure].needs_reference:
            value = value - self.score(model, "reference", measure)
        return value

    def score(self, model: str, variant: str, key: str) -> np.ndarray:
        rows = self.scores[(model, variant)]
        return np.array([np.nan if rows[i][key] is None else rows[i][key] for i in self.ids],
                        dtype=float)


# ------------------------------------------------------------------------------- tables


def _mean(values: np.ndarray) -> float | None:
    """The mean of the examples that have a value (None if none has)."""
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else None


def detector_table(inp: Inputs) -> list[dict]:
    """The n-gram detector: share of each group flagged (any n-gram found), mean overlap."""
    fraction = inp.fraction
    found = np.array([inp.overlap[i]["found"] for i in inp.ids])
    rows = []
    for k in [0, *inp.cfg.injection.counts]:
        mask = inp.copies == k
        rows.append({"copies": k, "group": "held out" if k == 0 else f"{k} copies",
                     "examples": int(mask.sum()), "flagged": int((found[mask] > 0).sum()),
                     "flagged_rate": float((found[mask] > 0).mean()),
                     "mean_overlap": _mean(fraction[mask])})
    injected = inp.copies > 0
    rows.append({"copies": None, "group": "all injected", "examples": int(injected.sum()),
                 "flagged": int((found[injected] > 0).sum()),
                 "flagged_rate": float((found[injected] > 0).mean()),
                 "mean_overlap": _mean(fraction[injected])})
    return rows


def gap_table(inp: Inputs, rng: np.random.Generator) -> list[dict]:
    """Metric on injected (k copies) minus held out, per model, variant, metric and k (the
    permutation p-value is two-sided)."""
    a = inp.cfg.analysis
    rows = []
    for (model, variant), evals in inp.evals.items():
        eval_rows = [evals[i] for i in inp.ids]
        for metric in task_metrics(inp.task):
            num, den = metric.columns(eval_rows)
            for k in inp.cfg.injection.counts:
                keep = (inp.copies == 0) | (inp.copies == k)
                g = compare_groups(metric, num[keep], den[keep], inp.copies[keep] == k,
                                   a.n_boot, a.n_perm, rng)
                d = g["dirty_minus_clean"]
                rows.append({"model": model, "variant": variant, "metric": metric.name,
                             "copies": k, "injected": g["dirty"]["value"],
                             "heldout": g["clean"]["value"], "value": d["value"],
                             "low": d["low"], "high": d["high"], "p_value": d["p_value"]})
    return rows


def auc_table(inp: Inputs, rng: np.random.Generator) -> list[dict]:
    """AUC of every measure under every model (the n-gram detector once), all injected vs held
    out and each count vs held out; the reference models' own loss as a control."""
    rows = []
    for model in inp.cfg.models:
        for measure in inp.measures:
            rows += _auc_rows(inp, model, measure, inp.measure(model, measure), rng)
    rows += _auc_rows(inp, FILTER, "ngram_overlap", inp.fraction, rng)
    if inp.cfg.reference:
        for model in inp.cfg.models:
            rows += _auc_rows(inp, f"{model} (reference)", "loss",
                              inp.score(model, "reference", "loss"), rng)
    return rows


def _auc_rows(inp: Inputs, model: str, measure: str, values: np.ndarray,
              rng: np.random.Generator) -> list[dict]:
    n_boot = inp.cfg.analysis.n_boot
    out = []
    for k in [None, *inp.cfg.injection.counts]:
        keep = np.ones(len(values), bool) if k is None else (inp.copies == 0) | (inp.copies == k)
        s = separation(measure, values[keep], inp.copies[keep] > 0, n_boot, rng)
        out.append({"model": model, "copies": "all" if k is None else k, **s.row()})
    return out


def contamination_table(inp: Inputs) -> list[dict]:
    """Every contamination measure of ``overlap.contamination`` against the truth: ROC AUC for
    injected vs held out, the share of each group it flags (value > 0), and per model the EPG
    (score on all minus score on the examples it leaves clean; the loss in bits, since the
    headline metric can sit at its floor) beside the EPG of the true injected/held-out split.
    Every row resamples with the same seed, so measures that flag the same examples get the
    same intervals."""
    a = inp.cfg.analysis
    rows = [inp.overlap[i] for i in inp.ids]
    values = contamination.measure_table(
        rows, inp.cfg.overlap.n, list(contamination.MEASURES), (contamination.DEFAULT_MIN_RUN,),
        where=str(bench_dir(inp.paths.overlap, inp.cfg.benchmark.name) / "examples.jsonl"))
    values["true split"] = (inp.copies > 0).astype(float)
    injected = inp.copies > 0
    metric = task_metrics(inp.task)[-1]
    columns = {m: metric.columns([inp.evals[(m, "injected")][i] for i in inp.ids])
               for m in inp.cfg.models}
    out = []
    for label, v in values.items():
        ok = np.isfinite(v)
        flagged = np.nan_to_num(v, nan=-np.inf) > 0
        rng = np.random.default_rng(a.seed)
        row = {"measure": label, **_prefixed("auc", auc_interval(
                   v[ok & injected], v[ok & ~injected], a.n_boot, rng)),
               "flagged_injected": float(flagged[injected].mean()),
               "flagged_heldout": float(flagged[~injected].mean())}
        for model, (num, den) in columns.items():
            c = epg_cell(metric, num, den, flagged, label, 0.0, a.n_boot, a.n_perm, rng)
            row.update({f"{model}/epg": c.epg, f"{model}/epg_low": c.epg_low,
                        f"{model}/epg_high": c.epg_high, f"{model}/p_value": c.p_value})
        out.append(row)
    return out


def _prefixed(prefix: str, estimate: dict) -> dict:
    """{"value", "low", "high"} -> {"auc", "auc_low", "auc_high"}."""
    return {prefix: estimate["value"], f"{prefix}_low": estimate["low"],
            f"{prefix}_high": estimate["high"]}


def write_sweeps(inp: Inputs) -> list[str]:
    """The full contamination sweep (every measure and threshold) of each model's injected
    variant, in ``sweep/<model>/``; the report files written."""
    a = inp.cfg.analysis
    opts = SweepOptions(metric=task_metrics(inp.task)[-1].name, n_boot=a.n_boot,
                        n_perm=a.n_perm, seed=a.seed)
    names = []
    for model in inp.cfg.models:
        sweep(inp.paths.overlap, inp.paths.eval(model, "injected"),
              inp.paths.out / "sweep" / model, opts)
        names += [f"sweep/{model}/{f}" for f in ("summary.json", "sweep.csv", "epg.png",
                                                 "report.md", "report.html")]
    return names


def extraction_table(inp: Inputs) -> list[dict]:
    rows = []
    for model, found in inp.extraction.items():
        for k in [0, *inp.cfg.injection.counts]:
            mine = [found[i] for i, c in zip(inp.ids, inp.copies, strict=True)
                    if c == k and i in found and found[i]["exact"] is not None]
            rows.append({"model": model, "copies": k, "checked": len(mine),
                         "exact": sum(r["exact"] for r in mine),
                         "exact_rate": float(np.mean([r["exact"] for r in mine])) if mine
                         else None,
                         "mean_matched": float(np.mean([r["matched"] for r in mine])) if mine
                         else None,
                         "mean_suffix": float(np.mean([r["suffix_tokens"] for r in mine]))
                         if mine else None})
    return rows


def exposure_table(inp: Inputs, exposure: dict[str, dict[str, int]]) -> list[dict]:
    rows = []
    for model, by_id in exposure.items():
        for k in inp.cfg.injection.counts:
            values = [by_id[i] for i, c in zip(inp.ids, inp.copies, strict=True) if c == k]
            rows.append({"model": model, "copies": k, "mean_exposures": float(np.mean(values)),
                         "min_exposures": float(np.min(values))})
    return rows


def model_table(inp: Inputs) -> list[dict]:
    """Size and final training loss of every model."""
    from training.metrics import read_metrics

    rows = []
    for model in inp.cfg.models:
        for variant in inp.variants:
            directory = inp.paths.model(model, variant)
            evals = read_metrics(directory / "metrics.jsonl")
            last = [r for r in evals if r.get("kind") == "eval"][-1]
            config = json.loads((directory / "train_config.json").read_text(encoding="utf-8"))
            ckpt = sorted((directory / "checkpoints").glob("step_*"))[-1]
            meta = json.loads((ckpt / "config.json").read_text(encoding="utf-8"))
            rows.append({"model": model, "variant": variant, "params": meta["num_params"],
                         "n_layer": meta["config"]["n_layer"],
                         "n_embd": meta["config"]["n_embd"], "steps": last["step"],
                         "seed": config["seed"], "train_loss": last["train_loss"]})
    return rows


# ------------------------------------------------------------------------------ writing


def write_results(cfg: ExperimentConfig, paths: ExperimentLayout, examples: list[Example],
                  exposure: dict[str, dict[str, int]]) -> dict:
    """Compute every table, write results.json, the CSVs, figures and report; return them."""
    inp = Inputs(cfg, paths, examples)
    rng = np.random.default_rng(cfg.analysis.seed)
    out = paths.out
    results = {
        "name": cfg.name,
        "out_dir": str(out),
        "config_digest": cfg.digest(),
        "task": inp.task,
        "examples": {"injected": int((inp.copies > 0).sum()),
                     "heldout": int((inp.copies == 0).sum()),
                     "counts": cfg.injection.counts, "per_count": cfg.injection.per_count},
        "level": LEVEL,
        "model_names": list(cfg.models),
        "models": model_table(inp),
        "detector": detector_table(inp),
        "gap": gap_table(inp, rng),
        "auc": auc_table(inp, rng),
        "contamination": contamination_table(inp),
        "extraction": extraction_table(inp),
        "exposures": exposure_table(inp, exposure),
    }
    tables = ("models", "detector", "gap", "auc", "contamination", "extraction", "exposures")
    for name in tables:
        write_text(out / f"{name}.csv", to_csv(results[name]))
    write_text(out / "examples.csv", examples_csv(inp, exposure))
    results["plots"] = write_plots(inp, results)
    results["sweeps"] = write_sweeps(inp)
    results["files"] = ["results.json", "examples.csv", *(f"{t}.csv" for t in tables),
                        *results["plots"], *results["sweeps"], "report.md", "report.html"]
    write_json(out / "results.json", results)
    blocks = report_blocks(results)
    write_report(blocks, out, f"Memorization experiment: {cfg.name}")
    log.info(headline(results) + f" -> {out / 'report.md'}")
    return results


def write_plots(inp: Inputs, results: dict) -> list[str]:
    out = inp.paths.out
    headline, *_, loss = task_metrics(inp.task)
    metrics = {m.name: m.label for m in (headline, loss)}
    names = [plots.gap_vs_copies(results["gap"], metrics, out / "gap_vs_copies.png"),
             plots.auc_bars([a for a in results["auc"] if a["copies"] == "all"
                             and "(reference)" not in a["model"]], out / "auc.png")]
    member, curves = inp.copies > 0, {}
    for model in inp.cfg.models:
        curves[model] = {}
        for measure in [*inp.measures, "ngram_overlap"]:
            scores = membership_score(measure, inp.measure(model, measure))
            ok = np.isfinite(scores)
            curves[model][measure] = roc_curve(scores[ok & member], scores[ok & ~member])
    names.append(plots.roc_curves(curves, out / "roc.png"))
    names.append(plots.extraction_by_copies(results["extraction"], out / "extraction.png"))
    return names


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    return buf.getvalue()


def examples_csv(inp: Inputs, exposure: dict[str, dict[str, int]]) -> str:
    """One row per example: copies, overlap, and per model its evaluation loss, membership
    measures, exposures and extraction."""
    rows = []
    for j, e in enumerate(inp.examples):
        overlap = inp.fraction[j]
        row = {"id": e.id, "copies": e.copies,
               "overlap": None if np.isnan(overlap) else round(float(overlap), 6)}
        for model in inp.cfg.models:
            for variant in inp.variants:
                row[f"{model}/{variant}/eval_loss"] = inp.evals[(model, variant)][e.id]["loss"]
                for key in (m for m in inp.measures if not MEASURES[m].needs_reference):
                    row[f"{model}/{variant}/{key}"] = inp.scores[(model, variant)][e.id][key]
            row[f"{model}/exposures"] = exposure[model].get(e.id, 0.0)
            ex = inp.extraction[model].get(e.id, {})
            row[f"{model}/extract_matched"] = ex.get("matched")
            row[f"{model}/extract_exact"] = ex.get("exact")
        rows.append(row)
    return to_csv(rows)


# ------------------------------------------------------------------------------ report


def _f(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}g}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _ci(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return "–"
    return _f(value) if low is None else f"{_f(value)} [{_f(low)}, {_f(high)}]"


def headline(r: dict) -> str:
    det = next(d for d in r["detector"] if d["group"] == "all injected")
    held = next(d for d in r["detector"] if d["copies"] == 0)
    return (f"experiment {r['name']}: n-gram detector recall {_pct(det['flagged_rate'])} on "
            f"{det['examples']} injected examples, {_pct(held['flagged_rate'])} of "
            f"{held['examples']} held-out flagged")


def report_blocks(r: dict) -> list[tuple]:
    ex = r["examples"]
    blocks: list[tuple] = [
        ("h", 1, f"Memorization experiment: {r['name']}"),
        ("p", f"{ex['injected']} benchmark examples injected ({ex['per_count']} at each of "
              f"{', '.join(map(str, ex['counts']))} copies), {ex['heldout']} held out. "
              f"Intervals are {100 * r['level']:g} % bootstrap intervals."),
        ("h", 2, "Models"),
        ("table", ["model", "variant", "parameters", "layers x width", "steps", "train loss"],
         [[m["model"], m["variant"], f"{m['params']:,}", f"{m['n_layer']} x {m['n_embd']}",
           str(m["steps"]), _f(m["train_loss"], 4)] for m in r["models"]]),
        ("h", 2, "n-gram detector (the overlap engine)"),
        ("table", ["group", "examples", "flagged", "flagged share", "mean overlap"],
         [[d["group"], str(d["examples"]), str(d["flagged"]), _pct(d["flagged_rate"]),
           _pct(d["mean_overlap"])] for d in r["detector"]]),
        ("p", "Flagged = any n-gram of the example is in the filter of the injected corpus: the "
              "share is the recall on injected groups and the false-positive rate on the "
              "held-out group (held-out examples can also overlap the clean corpus by "
              "accident)."),
        ("h", 2, "Membership measures: ROC AUC, injected vs held out"),
        ("table", ["measure", "model", "AUC (all injected)", "TPR at 5 % FPR",
                   *(f"AUC ({k} copies)" for k in ex["counts"])],
         _auc_rows_md(r["auc"], ex["counts"])),
        ("img", "auc.png", "AUC by measure"),
        ("img", "roc.png", "ROC curves"),
        ("h", 2, "Which overlap definition recovers the truth"),
        ("p", "Each contamination measure of the overlap run against the known split: ROC AUC "
              "for injected vs held out, the share of each group it flags (measure > 0), and "
              "the EPG it explains, score(all) - score(not flagged), in the mean loss (bits; "
              "negative = contamination helps), beside the EPG of the true split. The full "
              "sweep over thresholds of each model is in sweep/<model>/report.md."),
        ("table", ["measure", "AUC [95 % CI]", "flags injected", "flags held out",
                   *(f"EPG {m} [95 % CI]" for m in r["model_names"])],
         [[c["measure"], _ci(c["auc"], c["auc_low"], c["auc_high"]),
           _pct(c["flagged_injected"]), _pct(c["flagged_heldout"]),
           *(_ci(c[f"{m}/epg"], c[f"{m}/epg_low"], c[f"{m}/epg_high"])
             for m in r["model_names"])] for c in r["contamination"]]),
        *(("img", f"sweep/{m}/epg.png", f"EPG against share flagged, {m}")
          for m in r["model_names"]),
        ("h", 2, "Memorization gap: metric on injected minus held out"),
        ("table", ["model", "variant", "metric", "copies", "injected", "held out",
                   "gap [95 % CI]", "p"],
         [[g["model"], g["variant"], g["metric"], str(g["copies"]), _f(g["injected"]),
           _f(g["heldout"]), _ci(g["value"], g["low"], g["high"]), _f(g["p_value"], 2)]
          for g in r["gap"]]),
        ("img", "gap_vs_copies.png", "gap against copies"),
        ("h", 2, "Extractable memorization"),
        ("table", ["model", "copies", "checked", "exact", "share", "mean tokens matched",
                   "suffix tokens"],
         [[x["model"], str(x["copies"]), str(x["checked"]), str(x["exact"]),
           _pct(x["exact_rate"]), _f(x["mean_matched"]), _f(x["mean_suffix"])]
          for x in r["extraction"]]),
        ("img", "extraction.png", "extraction against copies"),
        ("h", 2, "Exposures"),
        ("p", "Times every token of a copy was a training target, summed over the example's "
              "copies (from the run's data order): below the copies where training stopped "
              "before an epoch ended or a copy straddles a window that was not drawn, above "
              "after more than one epoch."),
        ("table", ["model", "copies", "mean exposures", "min exposures"],
         [[x["model"], str(x["copies"]), _f(x["mean_exposures"]), _f(x["min_exposures"])]
          for x in r["exposures"]]),
    ]
    return blocks


def _auc_rows_md(aucs: list[dict], counts: list[int]) -> list[list[str]]:
    rows = []
    keys = list(dict.fromkeys((a["measure"], a["model"]) for a in aucs))
    for measure, model in keys:
        mine = {a["copies"]: a for a in aucs if (a["measure"], a["model"]) == (measure, model)}
        a = mine["all"]
        rows.append([measure, model, _ci(a["auc"], a["auc_low"], a["auc_high"]),
                     _pct(a["tpr_at_low_fpr"]), *(_f(mine[k]["auc"]) for k in counts)])
    return rows
