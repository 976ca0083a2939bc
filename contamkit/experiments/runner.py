"""``experiment``: inject, train, measure, score, extract and report, resumably.

Stages, each recorded in the manifest when it finishes (a finished stage is not redone, a
trained model is not retrained, a half-trained one resumes from its checkpoint):

1. data: the clean corpus, the experiment's benchmark examples, the injection plan, the
   injected corpus (``data/``);
2. tokenizer and prepare: one tokenizer for both corpora (a BPE is trained on the clean one),
   token files for each (no validation split, so every planted copy is in the training data);
3. train: every model on the injected corpus and, with ``reference``, on the clean one;
4. overlap: the n-gram filter of the injected corpus and the benchmark's overlap with it;
5. evaluate: every model on the experiment's examples (``analysis.evaluate``);
6. scores: membership measures of every example under every model;
7. extraction: prefix -> greedy continuation for injected and some held-out examples;
8. report: ``experiments.report`` (always rewritten; it only reads the files above).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path

from contamkit.common.atomic import write_json, write_jsonl
from contamkit.common.errors import UserError
from contamkit.common.outputs import check_output, has_format, remove_debris, replace_foreign
from contamkit.common.progress import log
from contamkit.experiments.config import ExperimentConfig, resolve_path
from contamkit.experiments.inject import assign_copies, inject, unique_texts
from contamkit.experiments.layout import VARIANTS, Example, ExperimentLayout
from contamkit.experiments.manifest import FORMAT, MANIFEST, Manifest

is_experiment = has_format(MANIFEST, FORMAT)  # a directory an experiment wrote (it resumes it)


class Runner:
    def __init__(self, cfg: ExperimentConfig, out_dir: str | Path | None = None):
        self.cfg = cfg
        self.paths = ExperimentLayout(experiment_dir(cfg, out_dir))
        self.paths.out.mkdir(parents=True, exist_ok=True)
        self.manifest = Manifest(self.paths.out, cfg)
        self.variants = VARIANTS if cfg.reference else VARIANTS[:1]

    def stage(self, name: str, outputs: list[Path], work: Callable[[], dict | None]) -> None:
        """Run ``work`` unless the manifest has ``name`` done and its outputs exist; record it
        (``work`` may return seeds and inputs to record)."""
        if self.manifest.done(name) and all(p.exists() for p in outputs):
            log.info(f"experiment {self.cfg.name}: {name} already done")
            return
        start = time.perf_counter()
        extra = work() or {}
        self.manifest.record(name, time.perf_counter() - start, extra.get("seeds"),
                             extra.get("inputs", []), outputs)

    # --------------------------------------------------------------------------- stages

    def run(self) -> dict:
        from contamkit.experiments.report import write_results

        cfg, p = self.cfg, self.paths
        self.stage("data", [p.injection, p.corpus("injected"), p.corpus("clean")], self.make_data)
        examples = self.examples()
        self.stage("tokenizer", [p.tokenizer], self.make_tokenizer)
        for variant in self.variants:
            self.stage(f"prepare:{variant}", [p.prepared(variant)],
                       lambda v=variant: self.prepare(v))
        for name, variant in itertools.product(cfg.models, self.variants):
            self.stage(f"train:{name}:{variant}", [p.model(name, variant)],
                       lambda n=name, v=variant: self.train(n, v))
        self.stage("overlap", [p.overlap / "summary.json"], self.measure_overlap)  # written last
        for name, variant in itertools.product(cfg.models, self.variants):
            self.stage(f"evaluate:{name}:{variant}", [p.eval(name, variant) / "examples.jsonl"],
                       lambda n=name, v=variant: self.evaluate(n, v))
            self.stage(f"scores:{name}:{variant}", [p.scores(name, variant)],
                       lambda n=name, v=variant: self.score(n, v, examples))
        for name in cfg.models:
            self.stage(f"extraction:{name}", [p.extraction(name)],
                       lambda n=name: self.extract(n, examples))
        exposure = {name: self.exposures(name, examples) for name in cfg.models}
        start = time.perf_counter()
        results = write_results(cfg, p, examples, exposure)
        self.manifest.record("report", time.perf_counter() - start,
                             seeds={"analysis": cfg.analysis.seed},
                             outputs=[p.out / f for f in results["files"]])
        return results

    def make_data(self) -> dict:
        from contamkit.benchmarks import open_benchmark
        from contamkit.corpus.formats import iter_documents
        from contamkit.corpus.read import CorpusStats

        cfg, b = self.cfg, self.cfg.benchmark
        source = open_benchmark(b.name, b.split, b.path, b.variant)
        picked = list(itertools.islice(source.examples(), b.limit))
        if len(picked) < b.limit:
            raise UserError(f"{source.paths[0]}: {source.label} has {len(picked)} examples, "
                            f"benchmark.limit is {b.limit}")
        keep = unique_texts([e.id for e in picked], [e.text for e in picked])
        picked = [picked[i] for i in keep]
        texts = {e.id: e.text for e in picked}
        plan = assign_copies(list(texts), cfg.injection.counts, cfg.injection.per_count,
                             cfg.injection.seed)
        corpus = resolve_path(cfg.corpus.path)
        stats = CorpusStats()
        clean = [d.text for d in itertools.islice(iter_documents(corpus, cfg.corpus.text_field,
                                                                 stats), cfg.corpus.limit)]
        stats.report_new(0)
        if not clean:
            raise UserError(f"{corpus}: no documents in the corpus")
        docs, positions = inject(clean, texts, plan)
        p = self.paths
        write_jsonl(p.corpus("clean"), ({"text": t} for t in clean))
        write_jsonl(p.corpus("injected"), docs)
        write_json(p.injection, {
            "benchmark": {"name": source.benchmark.name, "split": source.split,
                          "variant": source.variant.name, "limit": b.limit},
            "seed": plan.seed, "counts": cfg.injection.counts,
            "per_count": cfg.injection.per_count,
            "clean_documents": len(clean), "injected_documents": len(docs),
            "examples": [{"id": i, "copies": k, "positions": positions.get(i, []),
                          "text": texts[i]} for i, k in plan.copies.items()],
        })
        log.info(f"experiment {cfg.name}: {len(plan.injected)} examples injected "
                 f"({sum(plan.copies.values())} copies) into {len(clean)} documents, "
                 f"{len(plan.heldout)} held out")
        return {"seeds": {"injection": plan.seed}, "inputs": [corpus, *source.paths]}

    def examples(self) -> list[Example]:
        rows = json.loads(self.paths.injection.read_text(encoding="utf-8"))["examples"]
        return [Example(r["id"], r["text"], r["copies"], r["positions"]) for r in rows]

    def tokenizer_spec(self) -> str:
        """What prepare, the trainer and evaluate are told: a directory, or "gpt2"."""
        spec = self.cfg.tokenizer
        return str(self.paths.tokenizer) if spec.startswith("bpe:") else spec

    def make_tokenizer(self) -> dict:
        from model.bpe_training import train_tokenizer_on_corpus
        from model.tokenizer import load_tokenizer

        spec = self.cfg.tokenizer
        if spec.startswith("bpe:"):
            try:
                size = int(spec[4:])
            except ValueError:
                raise UserError(f"experiment {self.cfg.name}: tokenizer {spec!r}: "
                                f"'bpe:N' needs an integer N") from None
            train_tokenizer_on_corpus(self.paths.corpus("clean"), self.paths.tokenizer, size)
        else:  # recorded beside the run, so the manifest names the tokenizer used
            write_json(self.paths.tokenizer / "tokenizer_spec.json",
                       {"spec": spec, "name": load_tokenizer(spec).name})
        return {}

    def prepare(self, variant: str) -> dict:
        from training.prepare import prepare_corpus

        prepare_corpus(self.paths.corpus(variant), self.paths.prepared(variant),
                       self.tokenizer_spec(), val_fraction=0.0)
        return {}

    def train_config(self, name: str, variant: str):
        return self.cfg.train_config(name, self.paths.prepared(variant),
                                     self.paths.model(name, variant), self.tokenizer_spec())

    def train(self, name: str, variant: str) -> dict:
        from training.trainer import train

        tc = self.train_config(name, variant)
        log.info(f"experiment {self.cfg.name}: training {name} on the {variant} corpus")
        train(tc)
        return {"seeds": {f"train:{name}:{variant}": tc.seed}}

    def checkpoint(self, name: str, variant: str) -> Path:
        from training.state import latest_checkpoint

        found = latest_checkpoint(self.paths.model(name, variant))
        if found is None:
            raise UserError(f"{self.paths.model(name, variant)}: no checkpoint (training did "
                            f"not finish); run the experiment again to resume")
        return found

    def measure_overlap(self) -> dict:
        from contamkit.benchmarks import get_benchmark
        from overlap.build import build_filter
        from overlap.measure import run_overlap
        from overlap.options import BuildOptions, OverlapOptions

        cfg, b = self.cfg, self.cfg.benchmark
        build_filter(self.paths.corpus("injected"), self.paths.filter,
                     BuildOptions(n=cfg.overlap.n, unit=cfg.overlap.unit))
        opts = OverlapOptions(split=b.split or get_benchmark(b.name).default_split,
                              bench_path=b.path, n=cfg.overlap.n, unit=cfg.overlap.unit)
        run_overlap([b.name], self.paths.filter, self.paths.overlap, opts)
        return {}

    def evaluate(self, name: str, variant: str) -> dict:
        from contamkit.analysis.evaluate import evaluate

        b = self.cfg.benchmark
        evaluate(self.checkpoint(name, variant), b.name, self.paths.eval(name, variant),
                 split=b.split, variant=b.variant, bench_path=b.path, limit=b.limit,
                 tokenizer=self.tokenizer_spec(), device=self.cfg.device)
        return {}

    def load(self, name: str, variant: str):
        from contamkit.analysis.evaluate import resolve_device
        from model.checkpoint import load_checkpoint
        from model.tokenizer import load_tokenizer

        model, _ = load_checkpoint(self.checkpoint(name, variant),
                                   resolve_device(self.cfg.device))
        return model, load_tokenizer(self.tokenizer_spec())

    def score(self, name: str, variant: str, examples: list[Example]) -> dict:
        from contamkit.experiments.scoring import score_texts

        model, tok = self.load(name, variant)
        m = self.cfg.measures
        write_jsonl(self.paths.scores(name, variant),
                    score_texts(model, tok, [e.id for e in examples], [e.text for e in examples],
                                m.min_k, m.batch_size))
        return {}

    def extract(self, name: str, examples: list[Example]) -> dict:
        from contamkit.experiments.extraction import extraction_rows

        ex = self.cfg.extraction
        chosen = [e for e in examples if e.copies] + [e for e in examples if not e.copies][
            :ex.heldout]
        model, tok = self.load(name, "injected")
        rows = extraction_rows(model, tok, [e.id for e in chosen], [e.text for e in chosen],
                               ex.prefix_tokens, ex.suffix_tokens)
        write_jsonl(self.paths.extraction(name), rows)
        return {}

    def exposures(self, name: str, examples: list[Example]) -> dict[str, int]:
        """Per injected example: times every token of a copy was a training target in model
        ``name``'s run, summed over its copies (``training.exposure``)."""
        from training.dataset import open_prepared
        from training.exposure import run_exposures

        data = self.paths.prepared("injected")
        counts = run_exposures(self.paths.model(name, "injected"), data)
        train = open_prepared(data, verify=False).manifest["splits"]["train"]
        row = {doc: i for i, doc in enumerate(train["doc_index"])}
        return {e.id: int(sum(counts[row[d]] for d in e.positions)) for e in examples
                if e.copies}


def run_experiment(cfg: ExperimentConfig, out_dir: str | Path | None = None,
                   config_file: str | Path | None = None, force: bool = False) -> dict:
    """Run (or resume) the experiment; returns the results written to ``results.json``.

    The output directory is checked before any work: never the config file, the corpus, the
    benchmark's files or the tokenizer, nor inside them, and a folder that is not an
    experiment's only with ``force`` (it is then emptied first); an experiment's is resumed.
    """
    out = experiment_dir(cfg, out_dir)
    given = [config_file, resolve_path(cfg.corpus.path), cfg.benchmark.path,
             None if cfg.tokenizer.startswith("bpe:") else cfg.tokenizer]
    inputs = [p for p in given if p and Path(p).exists()]
    check_output(out, inputs, kind="directory of an experiment", directory=True, own=is_experiment,
                 force=force)
    replace_foreign(out, is_experiment)
    for folder in (out, out / "data"):  # what a killed run was writing there itself
        remove_debris(folder)
    return Runner(cfg, out).run()


def experiment_dir(cfg: ExperimentConfig, out_dir: str | Path | None = None) -> Path:
    """``out_dir``, else the config's, else out/experiments/<name>."""
    return Path(out_dir or cfg.out_dir or f"out/experiments/{cfg.name}")
