"""Planting benchmark examples in a clean corpus, and knowing exactly what was planted.

The experiment's examples are the first ``limit`` of a benchmark split (texts seen twice are
kept once, so a held-out example can never be a copy of an injected one). A seeded permutation
gives ``per_count`` of them to each copy count k; the rest are held out (k = 0). Each copy is
a document of its own, put into the clean corpus at a random slot, so copies of one example
sit in different contexts; the clean documents keep their order. After training,
``training.exposure`` tells how many times the model was trained on each copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from contamkit.common.errors import UserError
from contamkit.common.progress import log

SOURCE_CORPUS, SOURCE_INJECTED = "corpus", "injected"


@dataclass
class Plan:
    """Which examples are injected and how often; ``copies[id] == 0`` means held out."""

    copies: dict[str, int]
    seed: int

    @property
    def injected(self) -> list[str]:
        return [i for i, k in self.copies.items() if k > 0]

    @property
    def heldout(self) -> list[str]:
        return [i for i, k in self.copies.items() if k == 0]


def unique_texts(ids: Sequence[str], texts: Sequence[str]) -> list[int]:
    """Indices of the first example of every distinct text (later duplicates are dropped)."""
    seen: set[str] = set()
    keep = []
    for i, text in enumerate(texts):
        if text not in seen:
            seen.add(text)
            keep.append(i)
    if len(keep) < len(texts):
        dropped = [ids[i] for i in sorted(set(range(len(texts))) - set(keep))]
        log.warning(f"warning: {len(dropped)} examples repeat an earlier example's text and are "
                    f"left out ({', '.join(dropped[:3])}...)")
    return keep


def assign_copies(ids: Sequence[str], counts: Sequence[int], per_count: int, seed: int) -> Plan:
    """``per_count`` examples per count in ``counts``, drawn by a seeded permutation; the rest
    held out. ``copies`` keeps the order of ``ids``."""
    need = per_count * len(counts)
    if len(ids) <= need:
        raise UserError(f"injection: {len(ids)} examples, need more than {need} to inject "
                        f"{per_count} at each of {list(counts)} copies and hold some out")
    order = np.random.default_rng(seed).permutation(len(ids))
    copies = dict.fromkeys(ids, 0)
    for g, k in enumerate(counts):
        for i in order[g * per_count:(g + 1) * per_count]:
            copies[ids[i]] = int(k)
    return Plan(copies, seed)


def inject(clean: Sequence[str], texts: dict[str, str], plan: Plan
           ) -> tuple[list[dict], dict[str, list[int]]]:
    """The injected corpus (records with ``text``, ``source`` and for copies ``example``) and
    the document index of every copy of every injected example."""
    owners = [i for i in plan.injected for _ in range(plan.copies[i])]
    rng = np.random.default_rng([plan.seed, 1])
    slots = rng.integers(0, len(clean) + 1, size=len(owners))  # copy goes before clean[slot]
    order = np.lexsort((rng.random(len(owners)), slots))  # random order within a slot
    docs: list[dict] = []
    positions: dict[str, list[int]] = {i: [] for i in plan.injected}
    k = 0
    for slot, text in enumerate([*clean, None]):
        while k < len(order) and slots[order[k]] == slot:
            owner = owners[order[k]]
            positions[owner].append(len(docs))
            docs.append({"text": texts[owner], "source": SOURCE_INJECTED, "example": owner})
            k += 1
        if text is not None:
            docs.append({"text": text, "source": SOURCE_CORPUS})
    return docs, positions
