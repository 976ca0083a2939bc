"""Normalization speed: the compiled fold (``overlap/fast_fold.py``) against the Python normalizer.

Same documents on both sides, and the same words (checked before timing). Two rows per corpus:
folding alone (``normalize.spaced_words`` per document against ``fast_fold.fold_texts`` per
batch), and the ``words`` unit's normalize + code (the Python normalizer then the compiled word
hashing, against ``WordCoder.codes_batch``). Prints a markdown table.

    python bench/bench_normalize.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

os.environ.setdefault("CONTAM_PROGRESS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from contamkit.common.paths import shared_data_dir  # noqa: E402
from contamkit.corpus.formats import iter_documents  # noqa: E402
from overlap.coders import WordCoder  # noqa: E402
from overlap.fast_fold import fold_texts, normalized_strings  # noqa: E402
from overlap.murmur import word_codes  # noqa: E402
from overlap.normalize import spaced_words  # noqa: E402

BATCH = 256  # documents per call, as the build's batches hold


def best_of(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def batches(docs: list[str]) -> list[list[str]]:
    return [docs[i : i + BATCH] for i in range(0, len(docs), BATCH)]


def python_fold(docs: list[str]) -> list[str]:
    return [spaced_words(d) for d in docs]


def compiled_fold(docs: list[str]) -> list:
    return [fold_texts(b) for b in batches(docs)]


def python_codes(docs: list[str]) -> list[np.ndarray]:
    return [word_codes(np.frombuffer(spaced_words(d).encode("utf-8", "surrogatepass"),
                                     dtype=np.uint8))[0] for d in docs]


def compiled_codes(docs: list[str]) -> list[np.ndarray]:
    coder = WordCoder()
    return [c for b in batches(docs) for c in coder.codes_batch(b, [False] * len(b))[0]]


def bench_corpus(name: str, docs: list[str], repeats: int) -> list[str]:
    folded = [s for f in compiled_fold(docs) for s in normalized_strings(f)]
    assert [s.split() for s in folded] == [s.split() for s in python_fold(docs)]
    assert all(np.array_equal(a, b) for a, b in zip(python_codes(docs), compiled_codes(docs),
                                                      strict=True))
    mb = sum(len(d.encode("utf-8", "surrogatepass")) for d in docs) / 1e6
    left = sum(len(f.left) for f in compiled_fold(docs))
    rows = []
    for what, slow, fast in (("fold", python_fold, compiled_fold),
                             ("fold + word codes", python_codes, compiled_codes)):
        t_slow, t_fast = (best_of(partial(f, docs), repeats) for f in (slow, fast))
        corpus = f"{name} ({mb:.2f} MB, {len(docs):,} docs, {left} folded line by line)"
        rows.append(f"| {corpus} | {what} | {mb / t_slow:.1f} | {mb / t_fast:.1f} "
                    f"| {t_slow / t_fast:.1f}x |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="best of this many runs")
    args = parser.parse_args()
    data = shared_data_dir()
    webtext = [d.text for d in iter_documents(data / "webtext" / "webtext.train.jsonl")]
    corpora = {
        "WebText sample": webtext,
        "its non-ASCII documents": [d for d in webtext if not d.isascii()],
        "WikiText-2 train": [d.text for d in iter_documents(data / "wikitext-2" / "train.txt")],
    }
    print("| corpus | work | Python normalizer, MB/s | compiled fold, MB/s | ratio |")
    print("|---|---|---|---|---|")
    for name, docs in corpora.items():
        print("\n".join(bench_corpus(name, docs, args.repeats)))


if __name__ == "__main__":
    main()
