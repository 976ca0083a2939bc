"""``python cli.py demo``: the whole study end to end on built-in data, offline.

Corpus = the standard library's docstrings; benchmark = passages of which half come from
documents in the corpus and half from modules held out of it, so every example's truth is
known. The demo builds the n-gram filter, measures each passage's overlap, trains a tiny GPT on
the corpus, evaluates it on every passage, analyzes how its perplexity moves with overlap, asks
three model-based membership measures the same question as the filter, and writes a report.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from contamkit.common.atomic import write_json, write_jsonl
from contamkit.common.outputs import check_output, has_format, staged_dir
from contamkit.common.progress import log
from contamkit.demo.benchmark import Split, contaminated_split
from contamkit.demo.corpus import stdlib_dir, stdlib_docstrings
from overlap.results import overlap_fractions, read_overlap_run

BENCH = "jsonl"  # the registry's user-file benchmark
FORMAT, SUMMARY = "contamkit-demo", "summary.json"
is_demo = has_format(SUMMARY, FORMAT)  # a folder the demo wrote: a new run may replace it


@dataclass
class DemoOptions:
    per_group: int = 100  # benchmark passages from corpus documents, and as many held out
    heldout: int = 200  # documents kept out of the training corpus (whole modules)
    passage_words: int = 64
    n: int = 8  # n-gram length of the filter
    vocab_size: int = 1024  # BPE trained on the corpus
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 128
    batch_size: int = 16
    steps: int = 300  # about four passes over the corpus: seen text gets easier than unseen
    min_k: float = 0.2
    n_boot: int = 1000
    seed: int = 0
    workers: int = 0  # filter build processes (0: all cores)

    @classmethod
    def quick(cls) -> DemoOptions:
        """A reduced run (seconds, not minutes) that still goes through every step."""
        return cls(per_group=20, heldout=40, passage_words=40, vocab_size=300, n_layer=1,
                   n_head=2, n_embd=32, block_size=64, batch_size=8, steps=20, n_boot=100)


class DemoLayout:
    """Where the demo writes each output under its directory."""

    def __init__(self, out: Path):
        self.out = out
        self.corpus = out / "data" / "corpus.jsonl"
        self.benchmark = out / "data" / "benchmark.jsonl"
        self.filter = out / "filter.bloom"
        self.overlap = out / "overlap"
        self.prepared = out / "prepared"
        self.model = out / "model"
        self.eval = out / "eval"
        self.analysis = out / "analysis"
        self.scores = out / "scores.jsonl"

    def name(self, path: Path) -> str:
        """``path`` as the summary records it: relative to the demo folder, which is built
        under another name and renamed when complete."""
        return path.relative_to(self.out).as_posix()


def run(out_dir: str | Path = "out/demo", opts: DemoOptions | None = None,
        force: bool = False) -> dict:
    """Run every step into ``out_dir``; returns the summary (also in ``summary.json``).

    ``out_dir`` is replaced whole once every step is done (a failure leaves the previous one);
    it may not be, or lie in, the standard library the corpus is read from, nor replace a
    folder the demo did not write unless ``force``.
    """
    check_output(out_dir, [stdlib_dir()], kind="demo folder", directory=True, own=is_demo,
                 force=force)
    with staged_dir(out_dir) as tmp:
        return _run(DemoLayout(tmp), opts or DemoOptions())


def _run(p: DemoLayout, opts: DemoOptions) -> dict:
    start = time.perf_counter()
    split = write_data(p, opts)
    steps = {"overlap": lambda: measure_overlap(p, opts),
             "train": lambda: train_model(p, opts),
             "evaluate": lambda: evaluate_and_analyze(p, opts),
             "membership": lambda: membership(p, opts, split)}
    results = {}
    for i, (name, step) in enumerate(steps.items(), 1):
        log.info(f"demo step {i}/{len(steps)}: {name}")
        results[name] = step()
    summary = {
        "format": FORMAT,
        "options": asdict(opts),
        "corpus": {"documents": len(split.corpus), "path": p.name(p.corpus)},
        "benchmark": {"examples": len(split.benchmark),
                      "contaminated": sum(r["contaminated"] for r in split.benchmark),
                      "path": p.name(p.benchmark)},
        **results,
        "seconds": round(time.perf_counter() - start, 1),
    }
    write_json(p.out / SUMMARY, summary)
    write_report(p, summary)
    return summary


def write_data(p: DemoLayout, opts: DemoOptions) -> Split:
    split = contaminated_split(stdlib_docstrings(), opts.per_group, opts.heldout,
                               opts.passage_words, opts.seed)
    write_jsonl(p.corpus, ({"text": d.text, "module": d.module} for d in split.corpus))
    write_jsonl(p.benchmark, split.benchmark)
    log.info(f"demo: corpus of {len(split.corpus)} stdlib docstrings, benchmark of "
             f"{len(split.benchmark)} passages ({opts.per_group} from the corpus)")
    return split


def truth(p: DemoLayout) -> dict[str, bool]:
    """Benchmark id (as the registry writes it) -> taken from a corpus document."""
    from contamkit.benchmarks import load_benchmark

    return {e.id: e.fields["contaminated"] for e in load_benchmark(BENCH, path=p.benchmark)}


def measure_overlap(p: DemoLayout, opts: DemoOptions) -> dict:
    from overlap.build import build_filter
    from overlap.measure import run_overlap
    from overlap.options import BuildOptions, OverlapOptions

    build_filter(p.corpus, p.filter, BuildOptions(n=opts.n, workers=opts.workers))
    [summary] = run_overlap([BENCH], p.filter, p.overlap,
                            OverlapOptions(bench_path=str(p.benchmark), n=opts.n))
    found = {r["id"]: r["found"] for r in read_overlap_run(p.overlap).rows}
    is_in = truth(p)
    flagged = {i: found[i] > 0 for i in is_in}
    inside = [flagged[i] for i, t in is_in.items() if t]
    outside = [flagged[i] for i, t in is_in.items() if not t]
    return {"dir": p.name(p.overlap), "overlap_pct": summary["overlap_pct"],
            "recall": sum(inside) / len(inside),
            "false_positive_rate": sum(outside) / len(outside)}


def train_model(p: DemoLayout, opts: DemoOptions) -> dict:
    from training.config import from_dict
    from training.prepare import prepare_corpus
    from training.trainer import train

    prepare_corpus(p.corpus, p.prepared, f"bpe:{opts.vocab_size}", val_fraction=0.0,
                   seed=opts.seed)
    cfg = from_dict({"data_dir": str(p.prepared), "out_dir": str(p.model),
                     "tokenizer": f"bpe:{opts.vocab_size}", "model": "tiny",
                     "n_layer": opts.n_layer, "n_head": opts.n_head, "n_embd": opts.n_embd,
                     "block_size": opts.block_size, "batch_size": opts.batch_size,
                     "micro_batch_size": opts.batch_size, "max_steps": opts.steps,
                     "lr": 3e-3, "min_lr": 3e-4, "warmup_steps": min(30, opts.steps // 5),
                     "eval_interval": opts.steps, "eval_iters": 4,
                     "log_interval": max(1, opts.steps // 10),
                     "checkpoint_interval": opts.steps, "seed": opts.seed,
                     "threads": 1}, "demo")
    result = train(cfg)
    return {"dir": p.name(p.model), "checkpoint": p.name(result.checkpoint), "steps": result.step,
            "train_loss": result.train_loss}


def evaluate_and_analyze(p: DemoLayout, opts: DemoOptions) -> dict:
    from contamkit.analysis.analyze import analyze
    from contamkit.analysis.evaluate import evaluate
    from contamkit.analysis.options import AnalysisOptions
    from training.state import latest_checkpoint

    evaluate(latest_checkpoint(p.model), BENCH, p.eval, bench_path=str(p.benchmark),
             tokenizer=str(p.prepared / "tokenizer"))
    s = analyze(p.overlap, p.eval, p.analysis,
                AnalysisOptions(n_boot=opts.n_boot, n_perm=opts.n_boot, seed=opts.seed))
    ppl = s["metrics"]["token_perplexity"]
    return {"dir": p.name(p.analysis), "n_dirty": s["examples"]["dirty"],
            "n_clean": s["examples"]["clean"],
            **{k: ppl[k] for k in ("all", "clean", "dirty", "dirty_minus_clean")}}


def membership(p: DemoLayout, opts: DemoOptions, split: Split) -> dict:
    """ROC AUC of each measure for telling corpus passages from held-out ones."""
    from contamkit.experiments.detectors import MEASURES, separation
    from contamkit.experiments.scoring import score_texts
    from model.checkpoint import load_checkpoint
    from model.tokenizer import load_tokenizer
    from training.state import latest_checkpoint

    model, _ = load_checkpoint(latest_checkpoint(p.model))
    tok = load_tokenizer(p.prepared / "tokenizer")
    is_in = truth(p)
    ids = list(is_in)
    texts = [r["text"] for r in split.benchmark]
    rows = score_texts(model, tok, ids, texts, opts.min_k)
    overlap = read_overlap_run(p.overlap).by_id()
    fractions = overlap_fractions([overlap[r["id"]] for r in rows])
    for row, fraction in zip(rows, fractions, strict=True):
        row["ngram_overlap"] = None if np.isnan(fraction) else float(fraction)  # too short
        row["contaminated"] = is_in[row["id"]]
    write_jsonl(p.scores, rows)
    member = np.array([r["contaminated"] for r in rows])
    rng = np.random.default_rng(opts.seed)
    return {"scores": p.name(p.scores),
            "auc": [separation(m, [r[m] for r in rows], member, opts.n_boot, rng).row()
                    for m, measure in MEASURES.items() if not measure.needs_reference]}


# ------------------------------------------------------------------------------ report


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def write_report(p: DemoLayout, s: dict) -> None:
    from contamkit.analysis.report import with_ci
    from contamkit.common.render import write_report

    o, e, m = s["overlap"], s["evaluate"], s["membership"]
    b, t = s["benchmark"], s["train"]
    blocks = [
        ("h", 1, "contamkit demo: contamination you can check"),
        ("p", f"Training corpus: {s['corpus']['documents']} docstrings of the Python standard "
              f"library (data/corpus.jsonl). Benchmark: {b['examples']} passages "
              f"(data/benchmark.jsonl), {b['contaminated']} cut from corpus documents and the "
              f"rest from modules held out of the corpus, so each passage's truth is known."),
        ("h", 2, "1. The n-gram detector"),
        ("table", ["passages", "flagged (any 8-gram in the filter)"],
         [["from the corpus (recall)", _pct(o["recall"])],
          ["held out (false positives)", _pct(o["false_positive_rate"])]]),
        ("p", "Held-out passages that are flagged share boilerplate with corpus documents: "
              "accidental overlap, the kind the GPT-2 paper measured. Per-passage overlap: "
              "overlap/report.md."),
        ("h", 2, "2. A tiny GPT trained on the corpus"),
        ("p", f"{t['steps']} steps, final training loss {t['train_loss']:.3f} nats/token "
              f"(model/, loss curve model/loss.png)."),
        ("table", ["passages", "token perplexity [95 % CI]"],
         [["all", with_ci(e["all"])], [f"clean ({e['n_clean']})", with_ci(e["clean"])],
          [f"with overlap ({e['n_dirty']})", with_ci(e["dirty"])],
          ["overlap − clean", with_ci(e["dirty_minus_clean"])]]),
        ("p", "Full analysis with buckets and a regression on the overlap fraction: "
              "analysis/report.md."),
        ("img", "analysis/loss_vs_overlap.png", "loss against overlap"),
        ("h", 2, "3. Membership measures against the truth"),
        ("table", ["measure", "ROC AUC [95 % CI]", "TPR at 5 % FPR"],
         [[a["measure"], with_ci({"value": a["auc"], "low": a["auc_low"], "high": a["auc_high"]}),
           "–" if a["tpr_at_low_fpr"] is None else _pct(a["tpr_at_low_fpr"])]
          for a in m["auc"]]),
        ("p", "AUC: the chance that a passage from the corpus scores as more likely seen than a "
              "held-out one (0.5 = guessing). Per-passage scores: scores.jsonl."),
    ]
    write_report(blocks, p.out, "contamkit demo")


def summary_text(s: dict, out_dir: str | Path) -> str:
    """What the CLI prints at the end."""
    o, e = s["overlap"], s["evaluate"]
    aucs = ", ".join(f"{a['measure']} {a['auc']:.2f}" for a in s["membership"]["auc"])
    return "\n".join([
        f"demo finished in {s['seconds']:.0f} s:",
        f"  corpus     {s['corpus']['documents']} stdlib docstrings",
        f"  benchmark  {s['benchmark']['examples']} passages, {s['benchmark']['contaminated']} "
        f"taken from the corpus",
        f"  n-gram detector: flags {_pct(o['recall'])} of contaminated passages, "
        f"{_pct(o['false_positive_rate'])} of held-out ones",
        f"  tiny GPT: token perplexity {e['dirty']['value']:.1f} on passages with overlap, "
        f"{e['clean']['value']:.1f} on clean ones",
        f"  membership AUC: {aucs}",
        f"  report     {Path(out_dir) / 'report.md'} (and report.html)",
    ])
