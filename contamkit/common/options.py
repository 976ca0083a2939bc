"""Options declared once: a dataclass field carries its command-line flag, help, parse type
and choices; ``add_options`` makes the argparse options of a dataclass and ``from_args`` makes
the dataclass back from the parsed arguments. Parse types for values live in
``contamkit.common.parse``.

>>> import argparse
>>> from dataclasses import dataclass
>>> @dataclass
... class Opts:
...     n: int = option(8, "n-gram length")
...     unit: str = option("words", "n-gram unit", choices=("words", "gpt2"))
>>> p = argparse.ArgumentParser()
>>> add_options(p, Opts)
>>> from_args(Opts, p.parse_args(["--n", "5"]))
Opts(n=5, unit='words')
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from typing import Any

_MISSING = dataclasses.MISSING


def option(default: Any = _MISSING, help: str = "", *, flag: str | None = None,
           short: str | None = None, parse: Callable[[str], Any] | None = None,
           choices: Sequence[str] | Callable[[], Iterable[str]] | None = None,
           shown_default: str | None = None, metavar: str | None = None,
           default_factory: Callable[[], Any] | None = None) -> Any:
    """A dataclass field that is also a command-line option.

    ``flag`` defaults to ``--field-name``; ``parse`` to the field's type; ``choices`` is a
    tuple, or a function returning the names (a registry's), checked by ``parse`` then.
    ``--help`` shows the default (``shown_default`` if given; none for None or a switch).
    """
    metadata = {"help": help, "flag": flag, "short": short, "parse": parse, "choices": choices,
                "shown_default": shown_default, "metavar": metavar}
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata={"option": metadata})
    return dataclasses.field(default=default, metadata={"option": metadata})


def option_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of ``cls`` declared with ``option``."""
    return [f for f in dataclasses.fields(cls) if "option" in f.metadata]


def flag_of(f: dataclasses.Field) -> str:
    return f.metadata["option"]["flag"] or "--" + f.name.replace("_", "-")


def choices_of(f: dataclasses.Field) -> list[str] | None:
    choices = f.metadata["option"]["choices"]
    return list(choices() if callable(choices) else choices) if choices is not None else None


def _default(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default_factory is not _MISSING else f.default


def _parse_type(f: dataclasses.Field, hint: Any) -> Callable[[str], Any] | None:
    if f.metadata["option"]["parse"] is not None:
        return f.metadata["option"]["parse"]
    kinds = [k for k in (typing.get_args(hint) if _is_union(hint) else (hint,))
             if k is not type(None)]
    return kinds[0] if len(kinds) == 1 and kinds[0] in (int, float, str) else None


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _help(f: dataclasses.Field, choices: list[str] | None) -> str:
    meta = f.metadata["option"]
    text = meta["help"]
    if choices is not None and callable(meta["choices"]):
        text += f": {', '.join(choices)}"
    default = _default(f)
    shown = meta["shown_default"]
    if shown is None and default is not None and not isinstance(default, bool):
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else str(default)
    if shown:
        text += f" (default {shown})"
    return text.replace("%", "%%")


def add_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup, cls: type,
                skip: Iterable[str] = (), only: Iterable[str] | None = None) -> None:
    """Add an option to ``parser`` for every ``option`` field of ``cls`` (those in ``only``
    if given, but none in ``skip``)."""
    hints = typing.get_type_hints(cls)
    skip, only = set(skip), None if only is None else set(only)
    for f in option_fields(cls):
        if f.name in skip or (only is not None and f.name not in only):
            continue
        meta = f.metadata["option"]
        names = [meta["short"]] if meta["short"] else []
        names.append(flag_of(f))
        choices = choices_of(f)
        kwargs: dict[str, Any] = {"dest": f.name, "default": _default(f),
                                  "help": _help(f, choices)}
        if hints[f.name] is bool:
            kwargs["action"] = "store_true"
        else:
            kwargs["type"] = _parse_type(f, hints[f.name])
            if meta["metavar"]:
                kwargs["metavar"] = meta["metavar"]
            if choices is not None and not callable(meta["choices"]):
                kwargs["choices"] = choices
        parser.add_argument(*names, **kwargs)


def from_args(cls: type, args: argparse.Namespace, **given: Any) -> Any:
    """An instance of ``cls`` from the parsed ``args`` (its ``option`` fields) and ``given``."""
    values = {f.name: getattr(args, f.name) for f in option_fields(cls) if hasattr(args, f.name)}
    return cls(**{**values, **given})


def add_overrides(parser: argparse.ArgumentParser, cls: type,
                  parse: Callable[[str], Any]) -> None:
    """Every ``option`` field of ``cls`` as ``--name=VALUE`` (``--name-with-dashes`` too),
    absent unless given: overrides of a config file's keys, type-checked by its loader."""
    for f in option_fields(cls):
        names = list(dict.fromkeys([f"--{f.name}", flag_of(f)]))
        parser.add_argument(*names, dest=f.name, type=parse, default=argparse.SUPPRESS,
                            metavar="VALUE", help=_help(f, None))


def overrides_from_args(cls: type, args: argparse.Namespace) -> dict[str, Any]:
    """The overrides ``add_overrides`` parsed: the fields given on the command line."""
    return {f.name: getattr(args, f.name) for f in option_fields(cls) if hasattr(args, f.name)}
