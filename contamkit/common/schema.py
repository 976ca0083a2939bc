"""Checking a JSON object read from a file against a declared shape, before any of it is used.

A file with a valid checksum can still hold nonsense (a hand-edited or foreign header: a key
missing, a string where a number belongs, k = -1). ``validate`` turns every such case into one
``UserError`` naming the file and the field, so no reader ever crashes on, or computes with, a
value it did not expect. A schema is a dict of ``Field``s; formats add a key by adding a line.

>>> validate({"k": 3}, {"k": Field(int, lambda v: v >= 1, "at least 1")}, "f.bloom")
{'k': 3}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contamkit.common.errors import UserError

_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
          dict: "an object", list: "a list"}


@dataclass(frozen=True)
class Field:
    """One key: its JSON type(s), an optional check with the words that explain it, whether it
    must be present, and the schema of its object (``fields``) or of each list item (``items``)."""

    kind: type | tuple[type, ...]
    check: Callable[[Any], bool] | None = None
    rule: str = ""
    required: bool = True
    fields: dict[str, Field] | None = None
    items: Field | None = None
    closed: bool = False  # an object with keys beyond ``fields`` is refused


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool):
        return bool in kinds
    if isinstance(value, int) and float in kinds:
        return True
    return isinstance(value, kinds)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(_NAMES.get(k, k.__name__) for k in kinds)


def validate(obj: Any, fields: dict[str, Field], where: str, path: str = "",
             closed: bool = False) -> Any:
    """``obj`` if it is an object matching ``fields``; else a ``UserError`` about ``where``."""
    label = path.rstrip(".") or "header"
    if not isinstance(obj, dict):
        raise UserError(f"{where}: {label} must be an object, got {type(obj).__name__}")
    for key, field in fields.items():
        if key not in obj:
            if field.required:
                raise UserError(f"{where}: {path}{key} is missing")
            continue
        _check(obj[key], field, where, f"{path}{key}")
    if closed:
        extra = sorted(set(obj) - set(fields))
        if extra:
            raise UserError(f"{where}: {label} has unknown key(s) {', '.join(map(repr, extra))}")
    return obj


def _check(value: Any, field: Field, where: str, name: str) -> None:
    if not _is(value, field.kind):
        raise UserError(f"{where}: {name} must be {_kind_name(field.kind)}, got {value!r:.60}")
    if field.check is not None and not field.check(value):
        raise UserError(f"{where}: {name} must be {field.rule}, got {value!r:.60}")
    if field.fields is not None:
        validate(value, field.fields, where, f"{name}.", field.closed)
    if field.items is not None:
        for i, item in enumerate(value):
            _check(item, field.items, where, f"{name}[{i}]")


def at_least(low: int | float) -> tuple[Callable[[Any], bool], str]:
    """A check and its words: ``Field(int, *at_least(1))``."""
    return (lambda v: v >= low), f"at least {low}"


def between(low: float, high: float) -> tuple[Callable[[Any], bool], str]:
    """Strictly between ``low`` and ``high``."""
    return (lambda v: low < v < high), f"between {low} and {high} (exclusive)"


def plain_name(name: str) -> bool:
    """A file name with no directory part: a header may name a file beside it, nowhere else."""
    return name not in ("", ".", "..") and not any(c in name for c in "/\\\0")
