#!/usr/bin/env python
"""Command line: parses arguments and calls library functions, nothing else.

Each command is a pair: ``add_<command>(subparsers)`` declares its options and sets ``func`` to
a ``run_<command>(args)`` that calls the library. Imports are inside the ``run_`` functions so
that ``python cli.py info`` does not pay for torch.
"""

from __future__ import annotations

import argparse
import sys

from common.errors import UserError
from common.progress import setup_logging

# ---------------------------------------------------------------------------------- overlap


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


# ------------------------------------------------------------------------------------ demo


def add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the whole study on built-in data, offline")
    p.add_argument("--out", default="out/demo", help="output directory (default out/demo)")
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> None:
    from demo import run

    run(args.out)


# ------------------------------------------------------------------------------------ main

COMMANDS = [add_demo, add_import_gpt2, add_train_tokenizer]


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
