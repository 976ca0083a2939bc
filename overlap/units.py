"""The n-gram units registry: one table, name -> unit (its coder, span mapping, code range).

A unit turns text into uint64 codes, one per unit, which ``overlap.murmur`` hashes in windows
of n (the coders are in ``overlap.coders``). ``build-filter``, ``overlap``, ``table6``,
``decontaminate`` and ``verify`` take ``--unit`` from this table, and a filter records its unit
so that queries must use the same one. A parametrized unit (``hf:DIR``) is one prefix entry
(name ending in ":"); the text after the prefix is its argument.

This module imports no coder until one is made, so the CLI reads the choices cheaply.

>>> unit_names()[:2]
['words', 'gpt2']
>>> make_coder("words").codes(["Hello, World"])[0].shape
(2,)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from contamkit.common.errors import UserError

if TYPE_CHECKING:
    from overlap.coders import Coder


def _words(arg: str, vocab: str | None) -> Coder:
    from overlap.coders import WordCoder

    return WordCoder()


def _gpt2(arg: str, vocab: str | None) -> Coder:
    from overlap.coders import gpt2_coder

    return gpt2_coder(vocab)


def _hf(arg: str, vocab: str | None) -> Coder:
    from overlap.hf_coder import hf_coder

    return hf_coder(arg)


def _hf_vocab_size(arg: str) -> int:
    from overlap.hf_coder import hf_coder

    return hf_coder(arg).vocab_size


def _gpt2_vocab_size() -> int:
    from model.tokenizer import GPT2_VOCAB  # tiktoken and tokenizers load only for gpt2

    return GPT2_VOCAB


# --------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Unit:
    """One n-gram unit of the registry.

    ``coder(arg, vocab)`` makes the unit's coder: ``arg`` is what follows a prefix entry's name
    (``hf:DIR`` -> ``DIR``; "" for a plain entry), ``vocab`` the ``--gpt2-vocab`` directory.
    The span mapping is the coder's ``unit_words``. ``code_range(arg)``: codes are uniform
    below it for random probes (``verify``).
    """

    name: str  # a plain name, or a prefix ending in ":" for a parametrized unit
    help: str
    coder: Callable[[str, str | None], Coder]
    code_range: Callable[[str], int]

    @property
    def prefix(self) -> bool:
        return self.name.endswith(":")


UNITS: dict[str, Unit] = {u.name: u for u in (
    Unit("words", "normalized words (64-bit hashes)", _words, lambda arg: 2**64),
    Unit("gpt2", "GPT-2 BPE tokens of the normalized text", _gpt2,
         lambda arg: _gpt2_vocab_size()),
    Unit("hf:", "tokens of DIR/tokenizer.json (a Hugging Face tokenizer, overlap.hf_coder)",
         _hf, _hf_vocab_size),
)}


def find_unit(name: str) -> tuple[Unit, str]:
    """The registry entry of a unit name and its argument ("" unless a prefix entry).

    >>> find_unit("words")[0].name
    'words'
    """
    if name in UNITS and not UNITS[name].prefix:
        return UNITS[name], ""
    for unit in UNITS.values():
        if unit.prefix and name.startswith(unit.name) and len(name) > len(unit.name):
            return unit, name[len(unit.name):]
    raise UserError(f"unknown n-gram unit {name!r} (known: {', '.join(unit_names())})")


def unit_names() -> list[str]:
    """The unit names to offer a user (a prefix entry as ``prefix:ARG``)."""
    return [f"{u.name}ARG" if u.prefix else u.name for u in UNITS.values()]


def plain_units() -> list[str]:
    """The units that take no argument: those every ``table6 --all-conventions`` row uses."""
    return [u.name for u in UNITS.values() if not u.prefix]


def parse_unit(name: str) -> str:
    """``--unit``'s type: the name, checked against the registry."""
    find_unit(name)
    return name


def make_coder(unit: str, gpt2_vocab: str | Path | None = None) -> Coder:
    """The coder of a unit name (``words``, ``gpt2``, or a prefix entry's ``prefix:ARG``)."""
    entry, arg = find_unit(unit)
    return entry.coder(arg, None if gpt2_vocab is None else str(gpt2_vocab))


def same_unit(a: str, b: str) -> bool:
    """Whether two unit names are one unit: those of one prefix entry (``hf:DIR``) are told
    apart by their tokenizer's identity, not by their argument (where its file lies)."""
    entry = find_unit(a)[0]
    return a == b or (entry.prefix and b.startswith(entry.name))


def code_range(unit: str) -> int:
    """Codes of ``unit`` lie in [0, code_range(unit))."""
    entry, arg = find_unit(unit)
    return entry.code_range(arg)
