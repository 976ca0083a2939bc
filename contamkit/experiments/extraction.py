"""Extractable memorization (Carlini et al. 2022): given the first ``prefix_tokens`` tokens of
a training text, does greedy decoding reproduce the next ``suffix_tokens`` exactly?

A text shorter than prefix + suffix is checked on the tokens it has after the prefix (the row
says how many); one with no token after the prefix is not checked. ``matched`` counts the
leading suffix tokens reproduced before the first miss, a graded view of the same test.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from contamkit.common.progress import progress
from model.generate import generate
from model.gpt2 import GPT
from model.tokenizer import Tokenizer


def leading_matches(generated: Sequence[int], truth: Sequence[int]) -> int:
    """How many tokens at the start of ``generated`` equal ``truth``'s."""
    n = min(len(generated), len(truth))
    misses = np.flatnonzero(np.asarray(generated[:n]) != np.asarray(truth[:n]))
    return int(misses[0]) if len(misses) else n


def extraction_rows(model: GPT, tok: Tokenizer, ids: Sequence[str], texts: Sequence[str],
                    prefix_tokens: int, suffix_tokens: int) -> list[dict]:
    """One row per text: suffix length, tokens matched, exact (None where not checkable)."""
    rows = []
    encoded = tok.encode_batch(list(texts))
    for ex_id, tokens in progress(iterable=list(zip(ids, encoded, strict=True)),
                                  desc="extraction", unit="ex"):
        truth = tokens[prefix_tokens:prefix_tokens + suffix_tokens]
        if len(tokens) <= prefix_tokens or not truth:
            rows.append({"id": ex_id, "suffix_tokens": 0, "matched": None, "exact": None})
            continue
        prompt = [tok.eot_id, *tokens[:prefix_tokens]]  # a document starts after <|endoftext|>
        out = generate(model, prompt, len(truth), temperature=0.0)
        matched = leading_matches(out, truth)
        rows.append({"id": ex_id, "suffix_tokens": len(truth), "matched": matched,
                     "exact": matched == len(truth)})
    return rows
