"""From a text to its n-gram units *and where each unit lies in the original text*.

The engine (``overlap.units``) turns normalized words into codes; reports also need to point
at the characters an n-gram came from. A unit's span is the span of the word it belongs to:

* the coder's ``unit_words`` says which word of ``normalize.words(text)`` each unit lies in
  (``words``: unit i is word i; ``gpt2``: the word a token's bytes fall in);
* a word's span is the run of original characters that became it (``normalize.word_spans``).

An n-gram's span runs from its first unit's span start to its last unit's span end, so the
span's text normalizes to the n-gram's words (for ``gpt2``: to the whole words its tokens are
part of).
"""

from __future__ import annotations

from difflib import SequenceMatcher
from pathlib import Path

import numpy as np

from overlap.normalize import word_spans, words
from overlap.units import make_coder

EMPTY_SPANS = np.empty((0, 2), dtype=np.int64)


class SpanCoder:
    """A unit's coder plus the map from units back to the original characters."""

    def __init__(self, unit: str, gpt2_vocab: str | Path | None = None):
        self.coder = make_coder(unit, gpt2_vocab)
        self.unit = self.coder.unit
        self.tokenizer = self.coder.tokenizer

    def codes(self, texts: list[str]) -> list[np.ndarray]:
        """Unit codes of each text, exactly as ``build-filter`` codes a document."""
        return self.coder.codes(texts)

    def spans(self, text: str, codes: np.ndarray) -> np.ndarray:
        """Character span in ``text`` of each of its units (``codes`` = its codes)."""
        ws = words(text)
        spans = aligned_word_spans(text, ws)[self.coder.unit_words(codes, ws)]
        if len(spans) != len(codes):
            raise ValueError(f"{len(codes)} units but {len(spans)} spans: coder and spans disagree")
        return spans


def aligned_word_spans(text: str, ws: list[str]) -> np.ndarray:
    """Span in ``text`` of each word of ``ws = words(text)``.

    Normally word i is run i of ``word_spans``. A few code points change word boundaries
    under NFKC ("½" -> "1⁄2" is two words, "™" -> "tm" joins its neighbours): then each run's
    own words are aligned to ``ws`` and words without a partner cover the gap between their
    neighbours.
    """
    runs = word_spans(text)
    if len(runs) == len(ws):
        return np.array(runs, dtype=np.int64).reshape(-1, 2)
    run_words = [words(text[s:e]) for s, e in runs]
    owner = [i for i, rw in enumerate(run_words) for _ in rw]
    flat = [w for rw in run_words for w in rw]
    spans = np.full((len(ws), 2), -1, dtype=np.int64)
    for a, b, size in SequenceMatcher(None, ws, flat, autojunk=False).get_matching_blocks():
        if size:
            spans[a : a + size] = [runs[owner[b + k]] for k in range(size)]
    loose = spans[:, 0] < 0
    if loose.any():
        prev_end = np.maximum.accumulate(np.where(loose, 0, spans[:, 1]))
        nxt = np.where(loose, len(text), spans[:, 0])
        next_start = np.minimum.accumulate(nxt[::-1])[::-1]
        spans[loose, 0] = prev_end[loose]
        spans[loose, 1] = np.maximum(next_start[loose], prev_end[loose])
    return spans


def window_spans(spans: np.ndarray, n: int) -> np.ndarray:
    """Character span of each n-gram window of units with ``spans``: (windows, 2)."""
    count = len(spans) - n + 1
    if count <= 0:
        return EMPTY_SPANS
    return np.stack([spans[:count, 0], spans[n - 1 :, 1]], axis=1)


def merge_spans(spans: np.ndarray) -> np.ndarray:
    """Union of [start, end) spans as disjoint sorted spans (touching spans join)."""
    if not len(spans):
        return EMPTY_SPANS
    spans = spans[np.argsort(spans[:, 0], kind="stable")]
    reach = np.maximum.accumulate(spans[:, 1])
    first = np.ones(len(spans), dtype=bool)
    first[1:] = spans[1:, 0] > reach[:-1]
    group = np.cumsum(first) - 1
    ends = np.zeros(group[-1] + 1, dtype=np.int64)
    np.maximum.at(ends, group, spans[:, 1])
    return np.stack([spans[first, 0], ends], axis=1)
