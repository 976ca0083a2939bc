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

import numpy as np

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
_UNKNOWN, _WORD_CHAR = 2, 1
_CLASSES = np.full(0x110000, _UNKNOWN, dtype=np.uint8)  # filled lazily like _TABLE
_SPACE = np.uint32(32)


def _fold_unicode(text: str) -> str:
    """``text.translate(_TABLE)`` for non-ASCII text, vectorized over code points.

    ``str.translate`` looks every non-ASCII character up in a Python mapping; this looks up a
    numpy array instead, about 10x faster on large documents.
    """
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    classes = _CLASSES[cps]
    unknown = classes == _UNKNOWN
    if unknown.any():
        for cp in np.unique(cps[unknown]).tolist():
            _CLASSES[cp] = _WORD_CHAR if _TABLE[cp] != " " else 0
        classes = _CLASSES[cps]
    folded = np.where(classes == _WORD_CHAR, cps, _SPACE)
    return folded.tobytes().decode("utf-32-le")


def _nfkc(text: str) -> str:
    """NFKC, applied only to the lines that need it (a line break never composes)."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    return "\n".join(line if unicodedata.is_normalized("NFKC", line)
                     else unicodedata.normalize("NFKC", line) for line in text.split("\n"))


def _fold(text: str) -> str:
    """Lower-case, NFKC, and every non-word character turned into a space."""
    if text.isascii():
        return text.lower().translate(_TABLE)
    return _fold_unicode(_nfkc(text).lower())


def spaced_words(text: str) -> str:
    """The normalized words separated by one or more spaces: ``normalize`` minus the joining
    (the ``words`` unit's codes only need the word boundaries, so it never splits).

    Folding is repeated until the text no longer changes, which makes normalization idempotent
    (NFKC, then lower-casing, can produce characters that NFKC changes again); ASCII output is
    already there.
    """
    folded = _fold(text)
    for _ in range(_MAX_ROUNDS):
        if folded.isascii():
            return folded
        again = _fold(folded)
        if again == folded:
            return folded
        folded = again
    return folded


def words(text: str) -> list[str]:
    """The normalized words of ``text``."""
    return spaced_words(text).split()


def normalize(text: str) -> str:
    """Lower-cased alphanumeric words of ``text`` separated by single spaces."""
    return " ".join(words(text))


FOLDS_TO_SPACE = 0x20
CONTEXTUAL = -1
_CAPITAL_SIGMA = "\u03a3"  # lower-cases to final "ς" or "σ" depending on what follows


def _may_join(c: str) -> bool:
    """Whether NFKC may compose or reorder ``c`` with its neighbours: combining marks (every
    second character of a canonical composition is one) and the conjoining Hangul jamo that
    compose algorithmically (the tests check both claims against Unicode's data)."""
    return (unicodedata.category(c)[0] == "M" or unicodedata.combining(c) != 0
            or 0x1100 <= ord(c) <= 0x11FF)


def fold_alone(code_point: int) -> int:
    """What ``code_point`` folds to wherever it stands: ``FOLDS_TO_SPACE``, the one code point
    it becomes (lower-cased, NFKC, as ``spaced_words`` leaves it, same UTF-8 length), or
    ``CONTEXTUAL`` when its neighbours may change that.

    Text made only of code points that fold alone normalizes character by character, so
    compiled code can fold it (``overlap.fast_fold``); it is most text: ASCII, most
    punctuation and letters of every script.
    """
    c = chr(code_point)
    if any(_may_join(x) or x == _CAPITAL_SIGMA for x in c + unicodedata.normalize("NFKC", c)):
        return CONTEXTUAL
    once = _fold(c)
    if once and not once.strip(" "):
        return FOLDS_TO_SPACE
    size = len(c.encode("utf-8", "surrogatepass"))
    if (len(once) == 1 and _fold(once) == once and not _may_join(once)
            and len(once.encode("utf-8", "surrogatepass")) == size):
        return ord(once)
    return CONTEXTUAL


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans in the original ``text`` of the runs that become normalized words.

    The i-th span holds the original characters of the i-th word of ``words(text)`` whenever
    normalization keeps word boundaries (always for ASCII); for the rare code points whose NFKC
    form splits or merges words, spans follow the original text's runs.
    """
    return [m.span() for m in _NON_SPACE.finditer(text.translate(_TABLE))]


_NON_SPACE = re.compile(r"\S+")
