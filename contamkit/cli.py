#!/usr/bin/env python
"""Command line: parses arguments and calls library functions, nothing else.

Each command is a pair: ``add_<command>(subparsers)`` declares its options and sets ``func`` to
a ``run_<command>(args)`` that calls the library. Imports are inside the ``run_`` functions so
that ``python cli.py info`` does not pay for torch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from contamkit.common.errors import Terminated, UserError
from contamkit.common.invocation import running
from contamkit.common.parse import (
    count,
    fraction,
    non_negative_int,
    positive_float,
    positive_int,
    probability,
)
from contamkit.common.processes import raise_on_sigterm
from contamkit.common.progress import setup_logging

# ---------------------------------------------------------------------------------- overlap


def add_build_filter(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build-filter", help="Bloom filter of a corpus's n-grams")
    p.add_argument("corpus", help="directory tree or file (.txt .jsonl .json .parquet, .gz/.zst)")
    p.add_argument("-o", "--output", required=True, help="filter file to write")
    p.add_argument("--n", type=positive_int, default=8, help="n-gram length (default 8)")
    p.add_argument("--unit", choices=("words", "gpt2"), default="words",
                   help="n-gram unit: normalized words or GPT-2 tokens (default words)")
    p.add_argument("--fpr", type=probability, default=1e-8,
                   help="target false-positive rate (default 1e-8)")
    p.add_argument("--capacity", type=count, help="distinct n-grams to size for (default: count)")
    p.add_argument("--workers", type=positive_int,
                   help="cores to use (default: all; 1 runs on one thread, 2 on threads of "
                   "one process, more add hashing processes)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="hash seed (a filter parameter; default 0)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing output even if it is not a filter")
    p.add_argument("--text-field", default="text", help="JSON field / parquet column of text")
    p.add_argument("--gpt2-vocab", help="directory with GPT-2's encoder.json and vocab.bpe")
    scale = p.add_argument_group("scale-out (any of these: spilled build, see scale/README.md)")
    scale.add_argument("--scheduler", help="Dask scheduler address, or local:N for a local "
                       "cluster of N workers")
    scale.add_argument("--shards", type=non_negative_int, default=1,
                       help="shard files, a power of two (0: as few as --max-memory allows)")
    scale.add_argument("--max-memory",
                       help="memory one worker may hold for a shard or a spill run, e.g. 2GiB")
    scale.add_argument("--spill-dir", help="spilled hashes (default: beside the output)")
    scale.add_argument("--connect-timeout", type=positive_float, default=10.0,
                       help="seconds to reach the scheduler and a worker (default 10)")
    p.set_defaults(func=run_build_filter)


def run_build_filter(args: argparse.Namespace) -> None:
    from contamkit.scale.plan import parse_size
    from contamkit.scale.route import build_filter
    from overlap.build import BuildOptions

    opts = BuildOptions(n=args.n, unit=args.unit, fpr=args.fpr, capacity=args.capacity,
                        workers=args.workers or 0, seed=args.seed, text_field=args.text_field,
                        gpt2_vocab=args.gpt2_vocab, scheduler=args.scheduler,
                        shards=args.shards,
                        max_memory=parse_size(args.max_memory) if args.max_memory else None,
                        spill_dir=args.spill_dir, connect_timeout=args.connect_timeout,
                        force=args.force)
    build_filter(args.corpus, args.output, opts)


def add_plan(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="capacity plan: filter size, shards, memory, build time")
    p.add_argument("--corpus-bytes", required=True, help="corpus size, e.g. 40GB or 825GiB")
    p.add_argument("--n", type=positive_int, default=8, help="n-gram length (default 8)")
    p.add_argument("--fpr", type=probability, default=1e-8,
                   help="target false-positive rate (default 1e-8)")
    p.add_argument("--workers", type=positive_int, default=1, help="worker cores (default 1)")
    p.add_argument("--max-memory", default="4GiB",
                   help="memory per worker for a shard (default 4GiB)")
    p.add_argument("--sample", help="corpus to calibrate on (default: the shared WebText sample)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_plan)


def run_plan(args: argparse.Namespace) -> None:
    from contamkit.scale.plan import calibrate, estimate, format_plan, parse_size, plan_summary

    corpus_bytes, max_memory = parse_size(args.corpus_bytes), parse_size(args.max_memory)
    cal = calibrate(args.sample, args.n)
    plan = estimate(corpus_bytes, args.fpr, args.workers, max_memory, cal)
    print(json.dumps(plan_summary(plan, cal), indent=2) if args.json else format_plan(plan, cal))


def add_info(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="a filter's header and fill statistics")
    p.add_argument("filter")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_info)


def run_info(args: argparse.Namespace) -> None:
    from overlap.filters import filter_info, format_info

    info = filter_info(args.filter)
    print(json.dumps(info, indent=2) if args.json else format_info(info))


def add_verify(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="query random absent n-grams: the false-positive check")
    p.add_argument("filter")
    p.add_argument("--probes", type=count, default=1_000_000, help="random probes (default 1e6)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the probes")
    p.add_argument("--confidence", type=probability, default=0.95,
                   help="confidence of the verdict and the bounds (default 0.95)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> None:
    from overlap.filters import open_filter
    from overlap.verify import verify_filter

    result = verify_filter(open_filter(args.filter), args.probes, args.seed, args.confidence)
    from contamkit.common.render import format_mapping

    print(json.dumps(result, indent=2) if args.json else format_mapping(result))


def _bench_list(text: str) -> list[str]:
    return [b.strip() for b in text.split(",") if b.strip()]


def add_overlap(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("overlap", help="per-example n-gram overlap of benchmarks with a filter")
    p.add_argument("--bench", required=True, help="benchmark(s), comma-separated: lambada,ptb")
    p.add_argument("--filter", required=True, help="filter file (from build-filter)")
    p.add_argument("--split", help="benchmark split (default: each benchmark's default, e.g. "
                   "test; valid for hellaswag)")
    p.add_argument("--bench-path", help="benchmark file or folder (default: cache, shared data); "
                   "for --bench hf: the dataset's folder or comma-separated files")
    p.add_argument("--text-template",
                   help='--bench hf: the text checked, from fields, e.g. "{question} {answer}"')
    p.add_argument("--id-field", help="--bench hf: the field holding each row's id")
    p.add_argument("--n", type=positive_int,
                   help="n-gram length (default: the filter's; must match it)")
    p.add_argument("--unit", choices=("words", "gpt2"),
                   help="n-gram unit (default: the filter's; must match it)")
    p.add_argument("--gpt2-vocab", help="directory with GPT-2's encoder.json and vocab.bpe")
    p.add_argument("--scheduler", help="Dask scheduler address, or local:N, to spread examples")
    p.add_argument("--connect-timeout", type=positive_float, default=10.0,
                   help="seconds to wait for the scheduler and a first worker (default 10)")
    p.add_argument("--buckets", default="0,15",
                   help="overlap %% bucket edges (default 0,15: 0, (0,15], >15)")
    p.add_argument("--out", default="out/overlap", help="output directory (default out/overlap)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing --out even if it is not an overlap run folder")
    p.set_defaults(func=run_overlap)


def run_overlap(args: argparse.Namespace) -> None:
    from contamkit.scale.route import run_overlap
    from overlap.measure import OverlapOptions
    from overlap.per_example import parse_edges

    opts = OverlapOptions(split=args.split, bench_path=args.bench_path, n=args.n, unit=args.unit,
                          gpt2_vocab=args.gpt2_vocab, edges=parse_edges(args.buckets),
                          scheduler=args.scheduler, connect_timeout=args.connect_timeout,
                          text_template=args.text_template, id_field=args.id_field,
                          force=args.force)
    run_overlap(_bench_list(args.bench), args.filter, args.out, opts)


def add_table6(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("table6", help="the GPT-2 paper's Table 6 rebuilt from raw data files")
    p.add_argument("--data-dir", help="datasets folder (default: the shared data dir)")
    p.add_argument("--corpus-filter", help="filter of a training corpus: fills the corpus row")
    p.add_argument("--out", default="out/table6", help="output directory (default out/table6)")
    p.add_argument("--n", type=positive_int, default=8, help="n-gram length (default 8)")
    p.add_argument("--unit", choices=("words", "gpt2"), default="gpt2",
                   help="n-gram unit (default gpt2: closest to the paper)")
    p.add_argument("--granularity", choices=("stream", "example"), default="stream",
                   help="a split as one stream (default) or n-grams inside each example")
    p.add_argument("--unk", choices=("keep", "drop", "break"), default="keep",
                   help="<unk>: a word (default), removed, or a boundary n-grams do not cross")
    p.add_argument("--measure", choices=("positions", "distinct"), default="positions",
                   help="share of test n-gram positions (default) or of distinct n-grams")
    p.add_argument("--all-conventions", action="store_true",
                   help="also the own-train row under every unit/granularity/<unk> choice")
    p.add_argument("--gpt2-vocab", help="directory with GPT-2's encoder.json and vocab.bpe")
    p.set_defaults(func=run_table6)


def run_table6(args: argparse.Namespace) -> None:
    from contamkit.common.atomic import write_json
    from contamkit.common.paths import shared_data_dir
    from overlap.report import write_report
    from overlap.table6 import Convention, format_table6, table6

    conv = Convention(n=args.n, unit=args.unit, granularity=args.granularity, unk=args.unk,
                      measure=args.measure)
    result = table6(args.data_dir or shared_data_dir(), conv, args.corpus_filter,
                    args.gpt2_vocab, args.all_conventions)
    write_json(Path(args.out) / "table6.json", result)
    print(format_table6(result))
    print(f"report: {write_report(args.out)[1]}")


def add_decontaminate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("decontaminate", help="cut benchmark n-grams out of a corpus (GPT-3 style)")
    p.add_argument("corpus", help="corpus directory or file (read only)")
    p.add_argument("--bench", required=True, help="benchmark(s), comma-separated")
    p.add_argument("--out", required=True, help="new directory for the cleaned corpus")
    p.add_argument("--split", default="test", help="benchmark split (default test)")
    p.add_argument("--bench-path", help="benchmark file or folder (default: cache, shared data)")
    p.add_argument("--n", type=positive_int, default=13,
                   help="n-gram length (default 13, as GPT-3)")
    p.add_argument("--unit", choices=("words", "gpt2"), default="words",
                   help="n-gram unit (default words)")
    p.add_argument("--window", type=non_negative_int, default=200,
                   help="characters also cut on each side of a match (default 200)")
    p.add_argument("--min-piece", type=non_negative_int, default=200,
                   help="pieces shorter than this many characters are dropped (default 200)")
    p.add_argument("--max-pieces", type=positive_int, default=10,
                   help="documents cut into more pieces are dropped (default 10)")
    p.add_argument("--max-doc-freq", type=positive_int, default=10,
                   help="n-grams in more corpus documents are ignored (default 10)")
    p.add_argument("--text-field", default="text", help="JSON field / parquet column of text")
    p.add_argument("--gpt2-vocab", help="directory with GPT-2's encoder.json and vocab.bpe")
    p.add_argument("--allow-unreadable", action="store_true",
                   help="write the output even if part of the corpus could not be read (that "
                   "part is copied unsearched)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing output even if it is not a decontaminated corpus")
    p.set_defaults(func=run_decontaminate)


def run_decontaminate(args: argparse.Namespace) -> None:
    from overlap.decontaminate import DecontamOptions, decontaminate

    opts = DecontamOptions(n=args.n, unit=args.unit, window=args.window,
                           min_piece=args.min_piece, max_pieces=args.max_pieces,
                           max_doc_freq=args.max_doc_freq, split=args.split,
                           bench_path=args.bench_path, text_field=args.text_field,
                           gpt2_vocab=args.gpt2_vocab, allow_unreadable=args.allow_unreadable,
                           force=args.force)
    decontaminate(args.corpus, _bench_list(args.bench), args.out, opts)


def add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="markdown + self-contained HTML page of overlap results")
    p.add_argument("out_dir", help="output directory of overlap and/or table6 runs")
    p.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> None:
    from overlap.report import write_report

    for path in write_report(args.out_dir):
        print(path)


# ----------------------------------------------------------------------------------- model


def add_import_gpt2(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-gpt2", help="convert a Hugging Face GPT-2 folder to a checkpoint")
    p.add_argument("hf_dir", help="folder with config.json + model.safetensors/pytorch_model.bin")
    p.add_argument("-o", "--out", required=True, help="checkpoint directory to write")
    p.add_argument("--tokenizer", default="gpt2", help="tokenizer identity (default gpt2)")
    p.set_defaults(func=run_import_gpt2)


def run_import_gpt2(args: argparse.Namespace) -> None:
    from model.checkpoint import convert_hf_gpt2

    convert_hf_gpt2(args.hf_dir, args.out, args.tokenizer)


def add_train_tokenizer(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-tokenizer", help="train a byte-level BPE (GPT-2 recipe) on a corpus")
    p.add_argument("corpus", help="corpus file or directory (.txt, .jsonl, .json, .parquet)")
    p.add_argument("-o", "--out", required=True, help="tokenizer directory to write")
    p.add_argument("--vocab-size", type=positive_int, required=True, help="tokens, including EOT")
    p.add_argument("--text-field", default="text", help="JSON field / column (default text)")
    p.set_defaults(func=run_train_tokenizer)


def run_train_tokenizer(args: argparse.Namespace) -> None:
    from model.bpe_training import train_tokenizer_on_corpus

    train_tokenizer_on_corpus(args.corpus, args.out, args.vocab_size, args.text_field)


# -------------------------------------------------------------------------------- training


def add_prepare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prepare", help="tokenize a corpus into train/val token files + manifest")
    p.add_argument("corpus", help="corpus file or directory (.txt, .jsonl, .json, .parquet)")
    p.add_argument("-o", "--out", required=True, help="data directory to write")
    p.add_argument("--tokenizer", default="gpt2",
                   help="gpt2, a tokenizer directory, or bpe:N to train an N-token BPE on the "
                        "train split (default gpt2)")
    p.add_argument("--val-fraction", type=fraction, default=0.05,
                   help="share of documents held out for validation (default 0.05)")
    p.add_argument("--seed", type=int, default=0, help="seed of the train/val split (default 0)")
    p.add_argument("--workers", type=positive_int, help="tokenizer threads (default: cores)")
    p.add_argument("--text-field", default="text", help="JSON field / column (default text)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing output even if it is not a data directory")
    p.set_defaults(func=run_prepare)


def run_prepare(args: argparse.Namespace) -> None:
    from training.prepare import prepare_corpus

    prepare_corpus(args.corpus, args.out, args.tokenizer, args.val_fraction, args.seed,
                   args.workers or 0, args.text_field, args.force)


def add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a GPT-2 from a config (torchrun for several GPUs)",
                       epilog="Any config key can be overridden as --key=value.")
    p.add_argument("--config", required=True, help="config file (configs/*.toml or .json)")
    p.set_defaults(func=run_train)
    parse_known = p.parse_known_args

    def keep_overrides(args=None, namespace=None):  # --key=value are checked by load_config
        known, extra = parse_known(args, namespace)
        known.overrides = extra
        return known, []

    p.parse_known_args = keep_overrides


def run_train(args: argparse.Namespace) -> None:
    from training.config import load_config
    from training.trainer import train

    train(load_config(args.config, args.overrides))


# ------------------------------------------------------------------------------ benchmarks


def add_benchmarks(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("benchmarks", help="list known benchmarks and where their files are")
    p.set_defaults(func=run_benchmarks)


def run_benchmarks(args: argparse.Namespace) -> None:
    from contamkit.benchmarks.listing import benchmark_table

    print(benchmark_table())


def add_fetch_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fetch-bench", help="download a benchmark's official files (checksummed)")
    p.add_argument("name", help="benchmark name (see `benchmarks`)")
    p.add_argument("--split", help="split, or 'all' (default: the benchmark's default split)")
    p.add_argument("--variant", help="file format, or 'all' (default: the default variant)")
    p.add_argument("--bench-path", help="folder to download into (default: the cache)")
    p.add_argument("--trust-unverified", action="store_true",
                   help="accept files that have no pinned sha256 (webtext, the HF parquet "
                   "files, text8, WSCollection.xml), with a warning")
    p.set_defaults(func=run_fetch_bench)


def run_fetch_bench(args: argparse.Namespace) -> None:
    from contamkit.benchmarks import fetch_benchmark
    from contamkit.benchmarks.download import trusting_unverified

    with trusting_unverified(args.trust_unverified):
        paths = fetch_benchmark(args.name, args.split, args.variant, args.bench_path)
    for path in paths:
        print(path)


# -------------------------------------------------------------------------------- analysis


def add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="score a model on a benchmark, one line per example")
    p.add_argument("--model", required=True, help="checkpoint directory, or a local Hugging "
                   "Face causal-LM directory (config.json + weights + tokenizer)")
    p.add_argument("--bench", required=True, help="benchmark name (see `benchmarks`)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--split", help="split (default: the benchmark's default)")
    p.add_argument("--variant", help="file format (default: the benchmark's default)")
    p.add_argument("--bench-path", help="benchmark file or folder (default: cache/shared data)")
    p.add_argument("--limit", type=positive_int, help="evaluate only the first N examples")
    p.add_argument("--tokenizer", help="tokenizer ('gpt2' or a directory; default: the model's)")
    p.add_argument("--batch-size", type=positive_int, default=16,
                   help="sequences per forward pass (default 16)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--dtype", default="float32", choices=("float32", "bfloat16", "float16"),
                   help="weights' type (default float32)")
    p.add_argument("--stride", type=positive_int, help="sliding-window stride for LM sets "
                   "(default: block_size // 2)")
    p.add_argument("--max-new-tokens", type=positive_int,
                   help="generation cap (default: 32 for CoQA, the task's for exact match: 256 "
                   "for GSM8K)")
    p.set_defaults(func=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> None:
    from contamkit.analysis.evaluate import evaluate
    from contamkit.analysis.evaluators import EvalOptions

    opts = EvalOptions(batch_size=args.batch_size, stride=args.stride,
                       max_new_tokens=args.max_new_tokens)
    evaluate(args.model, args.bench, args.out, split=args.split, variant=args.variant,
             bench_path=args.bench_path, limit=args.limit, tokenizer=args.tokenizer,
             device=args.device, dtype=args.dtype, opts=opts)


def add_analyze(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="how metrics shift with overlap: stats, plots, report")
    p.add_argument("--overlap", required=True, help="directory written by `overlap`")
    p.add_argument("--eval", required=True, help="directory written by `evaluate`")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--buckets", default="0.05,0.15,0.5",
                   help="overlap bucket edges in (0, 1) (default 0.05,0.15,0.5)")
    p.add_argument("--bootstrap", type=count, default=2000,
                   help="bootstrap resamples (default 2000)")
    p.add_argument("--permutations", type=count, default=2000,
                   help="permutation-test relabellings (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="random seed of resampling")
    p.set_defaults(func=run_analyze)


def run_analyze(args: argparse.Namespace) -> None:
    from contamkit.analysis.analyze import AnalysisOptions, analyze, parse_edges

    opts = AnalysisOptions(edges=parse_edges(args.buckets), n_boot=args.bootstrap,
                           n_perm=args.permutations, seed=args.seed)
    analyze(args.overlap, args.eval, args.out, opts)


def add_contamination_sweep(sub: argparse._SubParsersAction) -> None:
    from overlap.contamination import DEFAULT_MIN_RUN, MEASURES, PARTS

    p = sub.add_parser("contamination-sweep",
                       help="which contamination definition explains the score gain (EPG)")
    p.add_argument("--overlap", required=True, help="directory written by `overlap`")
    p.add_argument("--eval", required=True, help="directory written by `evaluate`")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--measures", default=",".join(MEASURES),
                   help=f"comma-separated, from: {', '.join(MEASURES)} (default: all)")
    p.add_argument("--min-run", default=str(DEFAULT_MIN_RUN),
                   help="L of token_contamination, comma-separated for several "
                   f"(default {DEFAULT_MIN_RUN}, as Llama 2)")
    p.add_argument("--part", choices=PARTS, default="all",
                   help="count matches over the whole example, only its scored part (e.g. "
                   "LAMBADA's target word) or only its context (default all)")
    p.add_argument("--metric", help="metric to score (default: the task's headline; "
                   "loss_bits: the mean per-example loss)")
    p.add_argument("--thresholds", type=positive_int, default=8, help="grid points per measure")
    p.add_argument("--bootstrap", type=count, default=1000, help="bootstrap resamples")
    p.add_argument("--permutations", type=count, default=2000,
                   help="permutation-test relabellings (default 2000; Holm over m cells needs "
                   "more than m / alpha)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level")
    p.add_argument("--seed", type=int, default=0, help="random seed of resampling and halves")
    p.set_defaults(func=run_contamination_sweep)


def run_contamination_sweep(args: argparse.Namespace) -> None:
    from contamkit.analysis.sweep import SweepOptions, sweep

    try:
        min_runs = tuple(int(x) for x in args.min_run.split(",") if x.strip())
    except ValueError:
        raise UserError(f"--min-run {args.min_run!r}: not comma-separated integers") from None
    opts = SweepOptions(measures=tuple(_bench_list(args.measures)), min_runs=min_runs,
                        part=args.part, metric=args.metric, thresholds=args.thresholds,
                        n_boot=args.bootstrap, n_perm=args.permutations, alpha=args.alpha,
                        seed=args.seed)
    sweep(args.overlap, args.eval, args.out, opts)


def add_underfit(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("underfit", help="train vs held-out perplexity by model size (Figure 4)")
    p.add_argument("--models", required=True, help="comma-separated checkpoint directories")
    p.add_argument("--train-data", required=True,
                   help="prepared data directory (its train split) or a corpus")
    p.add_argument("--heldout-data", required=True,
                   help="prepared data directory (its val split) or a corpus")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--max-tokens", type=count, default=200_000,
                   help="tokens scored per side (default 200000)")
    p.add_argument("--batch-size", type=positive_int, default=16,
                   help="sequences per forward pass (default 16)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--stride", type=positive_int,
                   help="sliding-window stride (default: block_size // 2)")
    p.set_defaults(func=run_underfit)


def run_underfit(args: argparse.Namespace) -> None:
    from contamkit.analysis.underfit import underfit

    models = [m for m in args.models.split(",") if m.strip()]
    underfit(models, args.train_data, args.heldout_data, args.out, max_tokens=args.max_tokens,
             batch_size=args.batch_size, device=args.device, stride=args.stride)


# ----------------------------------------------------------------------------- experiments


def add_experiment(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("experiment", help="plant benchmark examples in training data, train, "
                       "and measure detection and memorization (resumable)")
    p.add_argument("--config", required=True, help="experiment config (configs/experiments/)")
    p.add_argument("--out", help="output directory (default: the config's out_dir, else "
                   "out/experiments/<name>)")
    p.add_argument("--device", help="auto | cpu | cuda | cuda:N (default: the config's)")
    p.set_defaults(func=run_experiment)


def run_experiment(args: argparse.Namespace) -> None:
    from contamkit.experiments import run_experiment as run
    from contamkit.experiments.config import load_experiment
    from contamkit.experiments.report import headline

    results = run(load_experiment(args.config, {"device": args.device} if args.device else None),
                  args.out)
    print(f"{headline(results)}\nreport: {results['out_dir']}/report.md")


# ------------------------------------------------------------------------------------ demo


def add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the whole study on built-in data, offline")
    p.add_argument("--out", help="output directory (default out/demo, with --quick "
                   "out/demo-quick)")
    p.add_argument("--quick", action="store_true",
                   help="a reduced run in seconds (fewer passages, a smaller model)")
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> None:
    from contamkit.demo import DemoOptions, run, summary_text

    opts = DemoOptions.quick() if args.quick else DemoOptions()
    out = args.out or ("out/demo-quick" if args.quick else "out/demo")
    print(summary_text(run(out, opts), out))


# ------------------------------------------------------------------------------------ main

COMMANDS = [
    add_build_filter,
    add_plan,
    add_info,
    add_verify,
    add_overlap,
    add_table6,
    add_decontaminate,
    add_report,
    add_demo,
    add_experiment,
    add_import_gpt2,
    add_train_tokenizer,
    add_benchmarks,
    add_fetch_bench,
    add_evaluate,
    add_analyze,
    add_contamination_sweep,
    add_underfit,
    add_prepare,
    add_train,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cli.py", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; every failure the user can act on ends in one line on stderr."""
    parser = build_parser()
    args = parser.parse_args(argv)
    command = [Path(sys.argv[0]).name if argv is None else parser.prog,
               *(sys.argv[1:] if argv is None else argv)]
    setup_logging(args.verbose)
    raise_on_sigterm()
    try:
        with running(command):  # the command line provenance records
            args.func(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Terminated:
        print("interrupted", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as e:  # the system refused (disk full, permissions): no traceback either
        where = f"{e.filename}: " if e.filename else ""
        print(f"error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
