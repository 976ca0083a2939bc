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

from common.errors import UserError
from common.progress import setup_logging

# ---------------------------------------------------------------------------------- overlap


def add_build_filter(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build-filter", help="Bloom filter of a corpus's n-grams")
    p.add_argument("corpus", help="directory tree or file (.txt .jsonl .json .parquet, .gz/.zst)")
    p.add_argument("-o", "--output", required=True, help="filter file to write")
    p.add_argument("--n", type=int, default=8, help="n-gram length (default 8)")
    p.add_argument("--unit", choices=("words", "gpt2"), default="words",
                   help="n-gram unit: normalized words or GPT-2 tokens (default words)")
    p.add_argument("--fpr", type=float, default=1e-8, help="target false-positive rate")
    p.add_argument("--capacity", type=int, help="distinct n-grams to size for (default: count)")
    p.add_argument("--workers", type=int, default=0, help="processes (default: all cores)")
    p.add_argument("--seed", type=int, default=0, help="hash seed (a filter parameter)")
    p.add_argument("--text-field", default="text", help="JSON field / parquet column of text")
    p.add_argument("--gpt2-vocab", help="directory with GPT-2's encoder.json and vocab.bpe")
    p.set_defaults(func=run_build_filter)


def run_build_filter(args: argparse.Namespace) -> None:
    from overlap.build import BuildOptions, build_filter

    opts = BuildOptions(n=args.n, unit=args.unit, fpr=args.fpr, capacity=args.capacity,
                        workers=args.workers, seed=args.seed, text_field=args.text_field,
                        gpt2_vocab=args.gpt2_vocab)
    build_filter(args.corpus, args.output, opts)


def add_info(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="a filter's header and fill statistics")
    p.add_argument("filter")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_info)


def run_info(args: argparse.Namespace) -> None:
    from overlap.filters import filter_info

    info = filter_info(args.filter)
    print(json.dumps(info, indent=2) if args.json else format_mapping(info))


def add_verify(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="query random absent n-grams: the false-positive check")
    p.add_argument("filter")
    p.add_argument("--probes", type=int, default=1_000_000, help="random probes (default 1e6)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the probes")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> None:
    from overlap.filters import open_filter
    from overlap.verify import verify_filter

    result = verify_filter(open_filter(args.filter), args.probes, args.seed)
    print(json.dumps(result, indent=2) if args.json else format_mapping(result))


def format_mapping(mapping: dict, indent: str = "") -> str:
    """Aligned ``key: value`` lines (nested mappings indented) for terminal output."""
    lines = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            lines += [f"{indent}{key}:", format_mapping(value, indent + "  ")]
        else:
            text = f"{value:.6g}" if isinstance(value, float) else str(value)
            lines.append(f"{indent}{key + ':':<20} {text}")
    return "\n".join(lines)


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
    p.add_argument("--vocab-size", type=int, required=True, help="tokens, including EOT")
    p.add_argument("--text-field", default="text", help="JSON field / column (default text)")
    p.set_defaults(func=run_train_tokenizer)


def run_train_tokenizer(args: argparse.Namespace) -> None:
    from model.bpe_training import train_tokenizer_on_corpus

    train_tokenizer_on_corpus(args.corpus, args.out, args.vocab_size, args.text_field)


# ------------------------------------------------------------------------------ benchmarks


def add_benchmarks(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("benchmarks", help="list known benchmarks and where their files are")
    p.set_defaults(func=run_benchmarks)


def run_benchmarks(args: argparse.Namespace) -> None:
    from benchmarks.listing import benchmark_table

    print(benchmark_table())


def add_fetch_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fetch-bench", help="download a benchmark's official files (checksummed)")
    p.add_argument("name", help="benchmark name (see `benchmarks`)")
    p.add_argument("--split", help="split, or 'all' (default: the benchmark's default split)")
    p.add_argument("--variant", help="file format, or 'all' (default: the default variant)")
    p.add_argument("--bench-path", help="folder to download into (default: the cache)")
    p.set_defaults(func=run_fetch_bench)


def run_fetch_bench(args: argparse.Namespace) -> None:
    from benchmarks import fetch_benchmark

    for path in fetch_benchmark(args.name, args.split, args.variant, args.bench_path):
        print(path)


# ------------------------------------------------------------------------------------ demo


def add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the whole study on built-in data, offline")
    p.add_argument("--out", default="out/demo", help="output directory (default out/demo)")
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> None:
    from demo import run

    run(args.out)


# ------------------------------------------------------------------------------------ main

COMMANDS = [
    add_build_filter,
    add_info,
    add_verify,
    add_demo,
    add_import_gpt2,
    add_train_tokenizer,
    add_benchmarks,
    add_fetch_bench,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cli.py", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        args.func(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
