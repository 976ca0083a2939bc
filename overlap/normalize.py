"""The paper's normalization: lower-cased alphanumeric words joined by single spaces.

Decisions (documented in the README):

* Unicode first goes through NFKC, so compatibility forms meet their plain ones (the ligature
  "ﬁ" becomes "fi", full-width "ＡＢ" becomes "ab", decomposed "é" becomes the one code point).
* A word is a maximal run of alphanumeric characters (``str.isalnum()``: Unicode letters and
  numbers) and combining marks (categories Mn, Mc, Me) in any script, so Greek, Cyrillic,
  Devanagari (whose vowel signs are marks) or Arabic-Indic digits stay whole words. Everything
  else (punctuation, symbols, whitespace, "_") separates words. For
  ASCII text this is exactly the paper's ``[a-z0-9]+``. Scripts written without spaces (Chinese,
  Japanese) give one "word" per run; use the ``gpt2`` unit for them.
* Lower-casing is ``str.lower()`` after NFKC; the pipeline repeats until it no longer changes the
  words (one extra round at most in practice), which makes ``normalize`` idempotent.

Change any of this and ``NORMALIZER_VERSION`` must change: filters record it and refuse queries
normalized differently.
"""

from __future__ import annotations

import re
import unicodedata

NORMALIZER_VERSION = "nfkc-lower-alnum-marks-v1"

_MAX_ROUNDS = 8


class _WordCharTable(dict):
    """``str.translate`` table: word characters map to themselves, all others to a space.

    Filled lazily, one entry per distinct code point met, so lookups stay in C. Word characters
    are ``str.isalnum()`` ones and combining marks (category M*).
    """

    def __missing__(self, code_point: int) -> str:
        c = chr(code_point)
        keep = c.isalnum() or unicodedata.category(c)[0] == "M"
        self[code_point] = value = c if keep else " "
        return value


_TABLE = _WordCharTable()


def _unicode_words(text: str) -> list[str]:
    return unicodedata.normalize("NFKC", text).lower().translate(_TABLE).split()


def words(text: str) -> list[str]:
    """The normalized words of ``text``."""
    if text.isascii():
        return text.lower().translate(_TABLE).split()
    out = _unicode_words(text)
    for _ in range(_MAX_ROUNDS):  # reach the fixed point that makes normalize idempotent
        again = _unicode_words(" ".join(out))
        if again == out:
            break
        out = again
    return out


def normalize(text: str) -> str:
    """Lower-cased alphanumeric words of ``text`` separated by single spaces."""
    return " ".join(words(text))


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans in the original ``text`` of the runs that become normalized words.

    The i-th span holds the original characters of the i-th word of ``words(text)`` whenever
    normalization keeps word boundaries (always for ASCII); for the rare code points whose NFKC
    form splits or merges words, spans follow the original text's runs.
    """
    return [m.span() for m in _NON_SPACE.finditer(text.translate(_TABLE))]


_NON_SPACE = re.compile(r"\S+")
