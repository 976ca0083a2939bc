"""A benchmark contaminated by construction: its truth is known example by example.

Whole modules are held out of the training corpus (the docstrings of one module repeat each
other's phrasing, so holding out single docstrings would leave their twins in the corpus):
modules are shuffled with a seed and taken until ``heldout`` documents are out. The benchmark
takes one passage (the first ``passage_words`` words, layout kept) from each of ``per_group``
held-out documents and ``per_group`` documents that stay in the corpus.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from contamkit.common.errors import UserError
from contamkit.demo.corpus import Doc

_WORD = re.compile(r"\S+")


@dataclass
class Split:
    corpus: list[Doc]  # training documents, in their original order
    benchmark: list[dict]  # {"id", "text", "contaminated", "module"}


def passage(text: str, words: int) -> str:
    """``text`` up to the end of its ``words``-th whitespace-separated word (layout kept)."""
    for i, m in enumerate(_WORD.finditer(text)):
        if i + 1 == words:
            return text[:m.end()]
    return text


def held_out_modules(docs: list[Doc], heldout: int, seed: int) -> set[str]:
    """Modules, in a seeded order, until their documents number at least ``heldout``."""
    sizes = Counter(d.module for d in docs)
    modules = sorted(sizes)
    chosen, count = set(), 0
    for k in np.random.default_rng(seed).permutation(len(modules)):
        if count >= heldout:
            break
        chosen.add(modules[k])
        count += sizes[modules[k]]
    return chosen


def contaminated_split(docs: list[Doc], per_group: int, heldout: int, passage_words: int,
                       seed: int) -> Split:
    """Hold modules with >= ``heldout`` documents out of the corpus; draw ``per_group`` benchmark
    passages from them and ``per_group`` from the corpus, interleaved in a seeded order."""
    if not 0 < per_group <= heldout <= len(docs) - per_group:
        raise UserError(f"demo: need 0 < per_group ({per_group}) <= heldout ({heldout}) <= "
                        f"documents ({len(docs)}) - per_group")
    held = held_out_modules(docs, heldout, seed)
    rng = np.random.default_rng(seed + 1)
    outside = [i for i, d in enumerate(docs) if d.module in held]
    inside = [i for i, d in enumerate(docs) if d.module not in held]
    sources = [(int(i), False) for i in rng.choice(outside, per_group, replace=False)]
    sources += [(int(i), True) for i in rng.choice(inside, per_group, replace=False)]
    benchmark = []
    for k, j in enumerate(rng.permutation(len(sources))):
        doc, contaminated = sources[j]
        benchmark.append({"id": f"{k:04d}", "text": passage(docs[doc].text, passage_words),
                          "contaminated": contaminated, "module": docs[doc].module})
    return Split([d for d in docs if d.module not in held], benchmark)
