#!/usr/bin/env python
"""Command line: parses arguments and calls library functions, nothing else.

Each command is a pair: ``add_<command>(subparsers)`` declares its arguments and sets ``func``
to a ``run_<command>(args)`` that calls the library. A command's options that the library
takes as an options dataclass are declared once, on the dataclass's fields
(``contamkit.common.options``), and choices come from the registries (n-gram units, membership
measures, corpus formats, benchmarks). The heavy imports are inside the ``run_`` functions so
that ``python cli.py info`` does not pay for torch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# the options dataclasses: imported here (not in run_ functions) because they declare options
from contamkit.analysis.options import AnalysisOptions, EvalOptions, SweepOptions
from contamkit.common.errors import Terminated, UserError
from contamkit.common.invocation import running
from contamkit.common.options import add_options, add_overrides, from_args, overrides_from_args
from contamkit.common.outputs import OutputOptions
from contamkit.common.parse import (
    count,
    fraction,
    parse_list,
    parse_size,
    positive_int,
    probability,
)
from contamkit.common.processes import sigterm_raises
from contamkit.common.progress import setup_logging
from overlap.layouts import DEFAULT_LAYOUT, LAYOUTS
from overlap.options import BuildOptions, Convention, DecontamOptions, OverlapOptions
from training.config import TrainConfig, parse_value

SCALE_OPTIONS = ("scheduler", "shards", "max_memory", "spill_dir", "connect_timeout")

# ---------------------------------------------------------------------------------- overlap


def add_build_filter(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build-filter", help="Bloom filter of a corpus's n-grams")
    p.add_argument("corpus", help="directory tree or file (.txt .jsonl .json .parquet, .gz/.zst)")
    p.add_argument("-o", "--output", required=True, help="filter file to write")
    add_options(p, BuildOptions, skip=SCALE_OPTIONS)
    scale = p.add_argument_group("scale-out (any of these: spilled build, see "
                                 "contamkit/scale/README.md)")
    add_options(scale, BuildOptions, only=SCALE_OPTIONS)
    p.set_defaults(func=run_build_filter)


def run_build_filter(args: argparse.Namespace) -> None:
    from contamkit.scale.route import build_filter

    build_filter(args.corpus, args.output, from_args(BuildOptions, args))


def add_plan(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="capacity plan: filter size, shards, memory, build time")
    p.add_argument("--corpus-bytes", required=True, type=parse_size,
                   help="corpus size, e.g. 40GB or 825GiB")
    p.add_argument("--n", type=positive_int, default=8, help="n-gram length (default 8)")
    p.add_argument("--fpr", type=probability, default=1e-8,
                   help="target false-positive rate (default 1e-8)")
    p.add_argument("--layout", choices=tuple(LAYOUTS), default=DEFAULT_LAYOUT,
                   help=f"filter layout (default {DEFAULT_LAYOUT})")
    p.add_argument("--workers", type=positive_int, default=1, help="worker cores (default 1)")
    p.add_argument("--max-memory", default="4GiB", type=parse_size,
                   help="memory per worker for a shard (default 4GiB)")
    p.add_argument("--sample", help="corpus to calibrate on (default: the shared WebText sample)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_plan)


def run_plan(args: argparse.Namespace) -> None:
    from contamkit.scale.plan import calibrate, estimate, format_plan, plan_summary

    cal = calibrate(args.sample, args.n)
    plan = estimate(args.corpus_bytes, args.fpr, args.workers, args.max_memory, cal,
                    layout=args.layout)
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
    from contamkit.common.render import format_mapping
    from overlap.filters import open_filter
    from overlap.verify import verify_filter

    result = verify_filter(open_filter(args.filter), args.probes, args.seed, args.confidence)
    print(json.dumps(result, indent=2) if args.json else format_mapping(result))


def add_overlap(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("overlap", help="per-example n-gram overlap of benchmarks with a filter")
    p.add_argument("--bench", required=True, type=parse_list,
                   help="benchmark(s), comma-separated: lambada,ptb")
    p.add_argument("--filter", required=True, help="filter file (from build-filter)")
    add_options(p, OverlapOptions)
    p.add_argument("--out", default="out/overlap", help="output directory (default out/overlap)")
    p.set_defaults(func=run_overlap)


def run_overlap(args: argparse.Namespace) -> None:
    from contamkit.scale.route import run_overlap

    run_overlap(args.bench, args.filter, args.out, from_args(OverlapOptions, args))


def add_table6(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("table6", help="the GPT-2 paper's Table 6 rebuilt from raw data files")
    p.add_argument("--data-dir", help="datasets folder (default: the shared data dir)")
    p.add_argument("--corpus-filter", help="filter of a training corpus: fills the corpus row")
    p.add_argument("--out", default="out/table6", help="output directory (default out/table6)")
    add_options(p, Convention)
    p.add_argument("--all-conventions", action="store_true",
                   help="also the own-train row under every unit/granularity/<unk> choice")
    p.add_argument("--gpt2-vocab", help="directory with GPT-2's encoder.json and vocab.bpe")
    add_options(p, OutputOptions)
    p.set_defaults(func=run_table6)


def run_table6(args: argparse.Namespace) -> None:
    from contamkit.common.paths import shared_data_dir
    from overlap.table6 import format_table6, write_table6

    result, page = write_table6(args.data_dir or shared_data_dir(), args.out,
                                from_args(Convention, args), args.corpus_filter, args.gpt2_vocab,
                                args.all_conventions, from_args(OutputOptions, args).force)
    print(format_table6(result))
    print(f"report: {page}")


def add_decontaminate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("decontaminate", help="cut benchmark n-grams out of a corpus (GPT-3 style)")
    p.add_argument("corpus", help="corpus directory or file (read only)")
    p.add_argument("--bench", required=True, type=parse_list,
                   help="benchmark(s), comma-separated")
    p.add_argument("--out", required=True, help="new directory for the cleaned corpus")
    add_options(p, DecontamOptions)
    p.set_defaults(func=run_decontaminate)


def run_decontaminate(args: argparse.Namespace) -> None:
    from overlap.decontaminate import decontaminate

    decontaminate(args.corpus, args.bench, args.out, from_args(DecontamOptions, args))


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
    add_options(p, OutputOptions)
    p.set_defaults(func=run_import_gpt2)


def run_import_gpt2(args: argparse.Namespace) -> None:
    from model.checkpoint import convert_hf_gpt2

    convert_hf_gpt2(args.hf_dir, args.out, args.tokenizer, from_args(OutputOptions, args).force)


def add_train_tokenizer(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-tokenizer", help="train a byte-level BPE (GPT-2 recipe) on a corpus")
    p.add_argument("corpus", help="corpus file or directory (.txt, .jsonl, .json, .parquet)")
    p.add_argument("-o", "--out", required=True, help="tokenizer directory to write")
    p.add_argument("--vocab-size", type=positive_int, required=True, help="tokens, including EOT")
    p.add_argument("--text-field", default="text", help="JSON field / column (default text)")
    add_options(p, OutputOptions)
    p.set_defaults(func=run_train_tokenizer)


def run_train_tokenizer(args: argparse.Namespace) -> None:
    from model.bpe_training import train_tokenizer_on_corpus

    train_tokenizer_on_corpus(args.corpus, args.out, args.vocab_size, args.text_field,
                              from_args(OutputOptions, args).force)


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
    add_options(p, OutputOptions)
    p.set_defaults(func=run_prepare)


def run_prepare(args: argparse.Namespace) -> None:
    from training.prepare import prepare_corpus

    prepare_corpus(args.corpus, args.out, args.tokenizer, args.val_fraction, args.seed,
                   args.workers or 0, args.text_field, from_args(OutputOptions, args).force)


def add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a GPT-2 from a config (torchrun for several GPUs)",
                       allow_abbrev=False)
    p.add_argument("--config", required=True, help="config file (configs/*.toml or .json)")
    add_overrides(p.add_argument_group("config keys (override the file's; values as JSON, "
                                       "else text)"), TrainConfig, parse_value)
    p.set_defaults(func=run_train, explain_unknown=explain_unknown_keys)


def explain_unknown_keys(args: argparse.Namespace, extra: list[str]) -> None:
    """An argument ``train`` does not know: say which config key it is not (and the key it
    may have meant), as a config file's unknown key is reported."""
    from training.config import parse_overrides

    parse_overrides(extra, args.config)  # raises a UserError naming the key


def run_train(args: argparse.Namespace) -> None:
    from training.config import load_config
    from training.trainer import train

    train(load_config(args.config, overrides_from_args(TrainConfig, args)))


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
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--dtype", default="float32", choices=("float32", "bfloat16", "float16"),
                   help="weights' type (default float32)")
    add_options(p, EvalOptions)
    add_options(p, OutputOptions)
    p.set_defaults(func=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> None:
    from contamkit.analysis.evaluate import evaluate

    evaluate(args.model, args.bench, args.out, split=args.split, variant=args.variant,
             bench_path=args.bench_path, limit=args.limit, tokenizer=args.tokenizer,
             device=args.device, dtype=args.dtype, opts=from_args(EvalOptions, args),
             force=from_args(OutputOptions, args).force)


def add_analyze(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="how metrics shift with overlap: stats, plots, report")
    p.add_argument("--overlap", required=True, help="directory written by `overlap`")
    p.add_argument("--eval", required=True, help="directory written by `evaluate`, or "
                   "lm-evaluation-harness's --log_samples output (its directory or one "
                   "samples_<task>_*.jsonl)")
    p.add_argument("--out", required=True, help="output directory")
    add_options(p, AnalysisOptions)
    add_options(p, OutputOptions)
    p.set_defaults(func=run_analyze)


def run_analyze(args: argparse.Namespace) -> None:
    from contamkit.analysis.analyze import analyze

    analyze(args.overlap, args.eval, args.out, from_args(AnalysisOptions, args),
            from_args(OutputOptions, args).force)


def add_contamination_sweep(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("contamination-sweep",
                       help="which contamination definition explains the score gain (EPG)")
    p.add_argument("--overlap", required=True, help="directory written by `overlap`")
    p.add_argument("--eval", required=True, help="directory written by `evaluate`, or "
                   "lm-evaluation-harness's --log_samples output (as for analyze)")
    p.add_argument("--out", required=True, help="output directory")
    add_options(p, SweepOptions)
    add_options(p, OutputOptions)
    p.set_defaults(func=run_contamination_sweep)


def run_contamination_sweep(args: argparse.Namespace) -> None:
    from contamkit.analysis.sweep import sweep

    sweep(args.overlap, args.eval, args.out, from_args(SweepOptions, args),
          from_args(OutputOptions, args).force)


def add_underfit(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("underfit", help="train vs held-out perplexity by model size (Figure 4)")
    p.add_argument("--models", required=True, type=parse_list,
                   help="comma-separated checkpoint directories")
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
    add_options(p, OutputOptions)
    p.set_defaults(func=run_underfit)


def run_underfit(args: argparse.Namespace) -> None:
    from contamkit.analysis.underfit import underfit

    underfit(args.models, args.train_data, args.heldout_data, args.out, max_tokens=args.max_tokens,
             batch_size=args.batch_size, device=args.device, stride=args.stride,
             force=from_args(OutputOptions, args).force)


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; every failure the user can act on ends in one line on stderr."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            getattr(args, "explain_unknown", lambda *_: None)(args, extra)
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as e:  # --help, or a usage error argparse has printed
        return e.code if isinstance(e.code, int) else 2
    except UserError as e:  # a parse type's message names the option and the problem
        print(f"error: {e}", file=sys.stderr)
        return 2
    command = [Path(sys.argv[0]).name if argv is None else parser.prog,
               *(sys.argv[1:] if argv is None else argv)]
    setup_logging(args.verbose)
    try:
        with sigterm_raises(), running(command):  # running: the command line provenance records
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
