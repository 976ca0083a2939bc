"""Option values checked where they are parsed: each is a small type for argparse's ``type=``.

A bad value is argparse's one-line usage error naming the option, before any work starts.
Counts are accepted as typed in help texts: ``1000000``, ``1_000_000`` and ``1e6`` alike.

>>> count("1e6"), positive_int("3"), probability("1e-8")
(1000000, 3, 1e-08)
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable

from contamkit.common.errors import UserError


def _whole(text: str) -> int:
    """An integer written plainly or as a float with no fraction (``1e6``, ``2.0``)."""
    try:
        return int(text.replace("_", ""))
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value != int(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(value)


def _real(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def int_at_least(low: int) -> Callable[[str], int]:
    """A whole number >= ``low``."""

    def parse(text: str) -> int:
        value = _whole(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {text}")
        return value

    parse.__name__ = f"int>={low}"  # argparse names the type in some messages
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)
count = positive_int  # a number of things, typed as 1000000, 1_000_000 or 1e6


def probability(text: str) -> float:
    """A rate strictly between 0 and 1 (a false-positive rate)."""
    value = _real(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value


def fraction(text: str) -> float:
    """A share in [0, 1) (a held-out fraction)."""
    value = _real(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, got {text}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (a timeout in seconds)."""
    value = _real(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


# ------------------------------------------------------------ sizes, lists, bucket edges

_SIZE = re.compile(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmgtp]?i?b?)\s*", re.IGNORECASE)
_PREFIXES = "kmgtp"


def parse_size(text: str) -> int:
    """Bytes in '40GB' (decimal), '825GiB' (binary), '512MiB', '3e9' or '1000'.

    >>> parse_size("2GiB"), parse_size("40GB")
    (2147483648, 40000000000)
    """
    match = _SIZE.fullmatch(str(text))
    if not match:
        raise UserError(f"{text!r}: not a size (examples: 40GB, 825GiB, 512MiB, 3e9)")
    number, unit = float(match.group(1)), match.group(2).lower()
    power = _PREFIXES.index(unit[0]) + 1 if unit and unit[0] in _PREFIXES else 0
    base = 1024 if "i" in unit else 1000
    return int(number * base**power)


def parse_list(text: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``: a comma-separated list of names."""
    return [x.strip() for x in text.split(",") if x.strip()]


def parse_percent_edges(text: str) -> tuple[float, ...]:
    """``"0,15"`` -> (0.0, 15.0): overlap bucket edges in percent, strictly increasing.

    >>> parse_percent_edges("5, 15,50")
    (5.0, 15.0, 50.0)
    """
    try:
        edges = tuple(float(x) for x in parse_list(text))
    except ValueError:
        raise UserError(f"--buckets: expected comma-separated numbers, got {text!r}") from None
    if not edges or any(not 0 <= e <= 100 for e in edges):
        raise UserError(f"--buckets: edges must be percentages in [0, 100], got {text!r}")
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise UserError(f"--buckets: edges must increase, got {text!r}")
    return edges
