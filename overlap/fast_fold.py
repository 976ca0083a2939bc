"""The normalizer's folding of a batch of texts in compiled code, for the texts it can do alone.

``normalize.spaced_words`` works on Python strings: NFKC, lower-casing and the word-character
table each make a new string, and non-ASCII text costs ~10x more per character than ASCII.
Most code points fold the same wherever they stand (``normalize.fold_alone``): ASCII, most
punctuation, most letters of every script. A text made only of those folds byte by byte, in
one compiled pass over its UTF-8 that releases the GIL. The rest (texts with a combining mark,
a capital sigma, a ligature, ...) are folded again line by line, and only the lines that need
it go to ``spaced_words``; the tests check that both ways give the same words on every code
point of the Basic Multilingual Plane and on arbitrary text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from overlap.normalize import fold_alone, spaced_words

_UNKNOWN = -2  # not classified yet: ``fold_alone`` is asked once per code point met
_TABLE = np.full(0x110000, _UNKNOWN, dtype=np.int32)
_TABLE[:0x80] = [fold_alone(cp) for cp in range(0x80)]  # the compiled pass reads these unchecked
_NEW_CODE_POINT, _NOT_ALONE = 1, 2  # a text's status after a pass (0: folded)
SEPARATOR = ord("\n")  # between texts in the folded bytes: folded text holds no newline


@dataclass
class FoldedTexts:
    """Texts folded into one UTF-8 buffer: word characters (lower-cased) and spaces, each text
    followed by ``SEPARATOR``. The texts in ``left`` could not be folded in one pass: their
    bytes are spaces, and ``left`` holds their words instead, separated by spaces."""

    buf: np.ndarray  # uint8
    ends: np.ndarray  # int64: the offset of the separator after each text
    left: dict[int, str]


@numba.njit(nogil=True, cache=True)
def _fold_utf8(buf, ends, table, out):
    """Fold each text of ``buf`` (ending at ``ends[j]``) into ``out``; each text's status.

    A code point and its folded form have the same UTF-8 length (``fold_alone`` sees to it), so
    every text keeps its offsets; a code point that folds to a space becomes as many spaces."""
    status = np.zeros(len(ends), dtype=np.int8)
    i = 0
    for j in range(len(ends)):
        while i < ends[j]:
            lead = np.int32(buf[i])
            if lead < 0x80:  # ASCII: the table holds its folded byte
                out[i] = table[lead]
                i += 1
                continue
            size = 2 if lead < 0xE0 else (3 if lead < 0xF0 else 4)
            cp = lead & (0x7F >> size)
            for b in range(1, size):
                cp = (cp << 6) | (np.int32(buf[i + b]) & 0x3F)
            folded = table[cp]
            if folded < 0:
                status[j] = max(status[j], _NEW_CODE_POINT if folded == _UNKNOWN else _NOT_ALONE)
                folded = 0x20
            if folded == 0x20:
                for b in range(size):
                    out[i + b] = 0x20
            else:  # the same UTF-8 length, written out
                for b in range(size - 1, 0, -1):
                    out[i + b] = 0x80 | (folded & 0x3F)
                    folded >>= 6
                out[i] = (0xFF00 >> size) & 0xFF | folded
            i += size
        if i < len(buf):
            out[i] = SEPARATOR
            i += 1
    return status


def _learn(text: str) -> None:
    """Classify the code points of ``text`` not met before."""
    for cp in {ord(c) for c in text}:
        if _TABLE[cp] == _UNKNOWN:
            _TABLE[cp] = fold_alone(cp)


def fold_texts(texts: list[str]) -> FoldedTexts:
    """Fold a batch of texts: in compiled code those that fold alone, the rest line by line."""
    raw = [t.encode("utf-8", "surrogatepass") for t in texts]
    sizes = np.fromiter(map(len, raw), dtype=np.int64, count=len(raw))
    ends = np.cumsum(sizes + 1) - 1
    buf = np.frombuffer(b"\n".join(raw), dtype=np.uint8)
    out = np.empty_like(buf)
    status = _fold_utf8(buf, ends, _TABLE, out)
    new = np.flatnonzero(status == _NEW_CODE_POINT)
    if len(new):
        for j in new:
            _learn(texts[j])
        status = _fold_utf8(buf, ends, _TABLE, out)
    left = {j: _fold_lines(texts[j]) for j in np.flatnonzero(status).tolist()}
    return FoldedTexts(out, ends, left)


def _fold_lines(text: str) -> str:
    """``spaced_words`` of a text that cannot be folded alone, line by line: normalization
    never reaches across a line break (the tests check), so only the lines that need it are
    left to Python, and a corpus file read as one large text keeps the compiled fold."""
    lines = text.split("\n")
    if len(lines) == 1:
        return spaced_words(text)
    return " ".join(normalized_strings(fold_texts(lines)))


@numba.njit(nogil=True, cache=True)
def _squeeze(buf):
    """``buf`` with the words of each text joined by single spaces: a run of spaces becomes
    one, and a text keeps none at its start or end."""
    out = np.empty_like(buf)
    size, pending = 0, False
    for b in buf:
        if b == 0x20:
            pending = True
            continue
        if pending and b != SEPARATOR and size and out[size - 1] != SEPARATOR:
            out[size] = 0x20
            size += 1
        out[size] = b
        size += 1
        pending = False
    return out[:size]


@dataclass
class LeftApart:
    """A ``FoldedTexts`` split in two: ``buf`` is its buffer with the texts left to Python
    blanked (the compiled pass folded their other characters, which are not their words), and
    ``left_buf`` / ``left_ends`` hold those texts' words alone, in the same form, in the
    order of ``left``'s indices."""

    buf: np.ndarray
    indices: list[int]
    left_buf: np.ndarray
    left_ends: np.ndarray


def left_apart(folded: FoldedTexts) -> LeftApart:
    """``folded`` with its texts left to Python taken apart (``LeftApart``)."""
    indices = list(folded.left)
    buf = folded.buf
    if indices:
        buf = buf.copy()
        for j in indices:
            buf[(folded.ends[j - 1] + 1 if j else 0) : folded.ends[j]] = ord(" ")
    raw = [folded.left[j].encode("utf-8", "surrogatepass") for j in indices]
    ends = np.cumsum(np.fromiter(map(len, raw), dtype=np.int64, count=len(raw)) + 1) - 1
    return LeftApart(buf, indices, np.frombuffer(b"\n".join(raw), dtype=np.uint8), ends)


def normalized_strings(folded: FoldedTexts) -> list[str]:
    """``normalize`` of each text: its words joined by single spaces."""
    if not len(folded.ends):
        return []
    strings = _squeeze(folded.buf).tobytes().decode("utf-8", "surrogatepass")
    strings = strings.split(chr(SEPARATOR))
    for j, text in folded.left.items():
        strings[j] = " ".join(text.split())
    return strings
