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


# ------------------------------------------------------------------------------------ demo


def add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the whole study on built-in data, offline")
    p.add_argument("--out", default="out/demo", help="output directory (default out/demo)")
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> None:
    from demo import run

    run(args.out)


# ------------------------------------------------------------------------------------ main

COMMANDS = [add_demo]


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
