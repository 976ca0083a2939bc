"""``table6``: rebuild Table 6 of the GPT-2 paper, "percentage of test set 8-grams overlapping
with training sets", from the raw dataset files.

Row "dataset train": for each dataset with both splits present, a Bloom filter (FPR 1e-8,
sized from the exact distinct count) of the 8-grams of its own train split, queried with every
8-gram of its test split. Row "corpus train": the test splits against a given filter (the
WebText row when that filter was built from WebText).

What "8-gram" means is a convention the paper leaves open; ``Convention`` names every choice:

* ``unit``: ``gpt2`` (GPT-2 BPE tokens of the normalized text; the paper's filters hold
  "8-grams of ... tokens") or ``words`` (normalized words);
* ``granularity``: ``stream`` (a split is one text, as a language model reads it) or
  ``example`` (n-grams stay inside the registry's examples: a PTB line, a WikiText article);
* ``unk``: ``keep`` (``<unk>`` is the word "unk"), ``drop`` (removed), ``break`` (n-grams
  never span it);
* ``measure``: ``positions`` (found / all test n-gram occurrences) or ``distinct`` (found /
  distinct test n-grams). Both are always computed; ``measure`` picks the headline one.

The default (gpt2, stream, keep, positions) reproduces the paper's PTB and WikiText-2 figures
to two decimals (2.67 %, 0.66 %); docs/table6.md has every convention's figures.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from contamkit.benchmarks import load_benchmark
from contamkit.common.atomic import write_json
from contamkit.common.errors import UserError
from contamkit.common.outputs import check_output, staged_dir
from contamkit.common.progress import log, progress
from contamkit.corpus.read import Document
from overlap.bloom import BloomFilter, FilterParams
from overlap.filters import check_compatible, open_filter
from overlap.ngrams import NgramStream, count_distinct, unique_pairs
from overlap.normalize import NORMALIZER_VERSION
from overlap.options import GRANULARITIES, UNK_CHOICES, Convention
from overlap.report import write_report
from overlap.units import make_coder, plain_units

RESULT = "table6.json"  # a folder holding it at its top is one ``table6`` wrote
UNK = "<unk>"
FPR = 1e-8
SEED = 0


@dataclass(frozen=True)
class PaperColumn:
    dataset: str  # the paper's column name
    bench: str  # registry name
    own_pct: float  # row "the dataset's own train split"
    webtext_pct: float  # row "WebText train"


PAPER = (
    PaperColumn("PTB", "ptb", 2.67, 0.88),
    PaperColumn("WikiText-2", "wikitext2", 0.66, 1.63),
    PaperColumn("enwik8", "enwik8", 7.50, 6.31),
    PaperColumn("text8", "text8", 2.34, 3.94),
    PaperColumn("WikiText-103", "wikitext103", 9.09, 2.42),
    PaperColumn("1BW", "1bw", 13.19, 3.75),
)
PAPER_AVERAGES = {"own_pct": 5.9, "webtext_pct": 3.2}


# ------------------------------------------------------------------------- n-grams of a split


def split_texts(bench: str, split: str, data_dir: Path) -> tuple[list[str] | None, str]:
    """The examples' texts of a split, or None and why when its files cannot be read."""
    try:
        return [e.text for e in load_benchmark(bench, split, path=data_dir)], ""
    except UserError as e:
        return None, str(e)


def documents(texts: list[str], conv: Convention) -> Iterator[Document]:
    """The texts as engine documents under ``conv``: a stream continues across examples."""
    for i, text in enumerate(texts):
        if conv.unk == "drop":
            text = text.replace(UNK, " ")
        pieces = text.split(UNK) if conv.unk == "break" else [text]
        for j, piece in enumerate(pieces):  # a piece after an <unk> never continues
            yield Document("", i, piece, conv.granularity == "stream" and i > 0 and j == 0)


def split_hashes(texts: list[str], conv: Convention, coder, seed: int = SEED) -> np.ndarray:
    """(count, 2) uint64 hashes of every n-gram occurrence of the texts, in order."""
    stream = NgramStream(coder, conv.n, seed)
    parts = [np.stack([h.h1, h.h2], axis=1) for h in stream.hashes(documents(texts, conv))]
    return np.concatenate(parts) if parts else np.empty((0, 2), dtype=np.uint64)


def own_filter(train: np.ndarray, conv: Convention, tokenizer: str) -> BloomFilter:
    """The Bloom filter of a train split, sized for its exact distinct count at FPR 1e-8, in the
    paper's classic layout (the reproduction stays on the layout the paper describes)."""
    params = FilterParams.sized(count_distinct(train), FPR, layout="classic", n=conv.n,
                                unit=conv.unit,
                                normalizer=NORMALIZER_VERSION, tokenizer=tokenizer, seed=SEED)
    bloom = BloomFilter(params)
    bloom.add(train[:, 0], train[:, 1])
    return bloom


def overlap_figures(bloom: BloomFilter, test: np.ndarray) -> dict:
    """Found test n-grams, as positions and as distinct n-grams."""
    hit = bloom.contains(test[:, 0], test[:, 1])
    uniq = unique_pairs(test)
    uniq_hit = bloom.contains(uniq[:, 0], uniq[:, 1])
    return {
        "test_ngrams": len(test),
        "found": int(hit.sum()),
        "positions_pct": 100.0 * hit.mean() if len(test) else None,
        "test_distinct": len(uniq),
        "found_distinct": int(uniq_hit.sum()),
        "distinct_pct": 100.0 * uniq_hit.mean() if len(uniq) else None,
    }


# ------------------------------------------------------------------------------- the table


def measure_dataset(col: PaperColumn, data_dir: Path, conv: Convention, coder,
                    corpus: BloomFilter | None) -> dict:
    row: dict = {"dataset": col.dataset, "bench": col.bench, "paper_pct": col.own_pct,
                 "measured_pct": None, "paper_webtext_pct": col.webtext_pct}
    test_texts, why = split_texts(col.bench, "test", data_dir)
    if test_texts is None:
        row.update(note="test split not present", why=why)
        return row
    key = f"{conv.measure}_pct"
    train_texts, why = split_texts(col.bench, "train", data_dir)
    if train_texts is None:
        row.update(note="train split not present", why=why)
    else:
        train = split_hashes(train_texts, conv, coder)
        figures = overlap_figures(own_filter(train, conv, coder.tokenizer),
                                  split_hashes(test_texts, conv, coder))
        row.update(train_ngrams=len(train), **figures, measured_pct=figures[key])
    if corpus is not None:
        figures = overlap_figures(corpus, split_hashes(test_texts, conv, coder, corpus.params.seed))
        row["corpus"] = {**figures, "measured_pct": figures[key], "paper_pct": col.webtext_pct}
    return row


def table6(data_dir: str | Path, conv: Convention | None = None, corpus_filter: str | None = None,
           gpt2_vocab: str | None = None, grid: bool = False) -> dict:
    """Table 6 measured on the datasets found in ``data_dir``, beside the paper's figures."""
    conv = conv or Convention()
    conv.check()
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise UserError(f"{data_dir}: no such data directory")
    coder = make_coder(conv.unit, gpt2_vocab)
    corpus = None
    if corpus_filter is not None:
        corpus = open_filter(corpus_filter)
        check_compatible(corpus, corpus_filter, conv.n, conv.unit, coder.tokenizer)
    rows = [measure_dataset(col, data_dir, conv, coder, corpus)
            for col in progress(iterable=PAPER, desc="table6", unit="dataset")]
    if not any(r["measured_pct"] is not None or "corpus" in r for r in rows):
        raise UserError(f"{data_dir}: none of the Table 6 datasets' test splits found "
                        f"({', '.join(c.bench for c in PAPER)})")
    result = {
        "convention": asdict(conv),
        "data_dir": str(data_dir),
        "corpus_filter": None if corpus is None else {"path": str(corpus_filter),
                                                      "params": asdict(corpus.params)},
        "paper_averages": PAPER_AVERAGES,
        "datasets": rows,
    }
    if grid:
        result["conventions"] = convention_grid(data_dir, conv, gpt2_vocab)
    measured = [f"{r['dataset']} {r['measured_pct']:.3f} % (paper {r['paper_pct']} %)"
                for r in rows if r["measured_pct"] is not None]
    log.info(f"table6: own train {', '.join(measured) or 'none measured'}; "
             f"{sum('corpus' in r for r in rows)} test splits against the corpus filter")
    return result


def write_table6(data_dir: str | Path, out: str | Path, conv: Convention | None = None,
                 corpus_filter: str | None = None, gpt2_vocab: str | None = None,
                 grid: bool = False, force: bool = False) -> tuple[dict, Path]:
    """``table6`` into the folder ``out``: table6.json and its report; (result, report.html).

    ``out`` is checked before any work (never an input; a folder ``table6`` did not write only
    with ``force``) and replaced whole once both are written.

    >>> result, page = write_table6(shared_data_dir(), "out/table6")  # doctest: +SKIP
    """
    inputs = [p for p in (data_dir, corpus_filter, gpt2_vocab) if p is not None]
    check_output(out, inputs, kind="table6 folder", directory=True,
                 own=lambda d: (d / RESULT).is_file(), force=force)
    result = table6(data_dir, conv, corpus_filter, gpt2_vocab, grid)
    with staged_dir(out) as tmp:
        write_json(tmp / RESULT, result)
        page = write_report(tmp, Path(out).name or str(out))[1]
    return result, Path(out) / page.name


def convention_grid(data_dir: Path, base: Convention, gpt2_vocab: str | None) -> list[dict]:
    """The own-train row under every unit x granularity x <unk> convention."""
    coders = {u: make_coder(u, gpt2_vocab) for u in plain_units()}
    out = []
    for unit, granularity, unk in itertools.product(coders, GRANULARITIES, UNK_CHOICES):
        conv = replace(base, unit=unit, granularity=granularity, unk=unk)
        for col in PAPER:
            row = measure_dataset(col, data_dir, conv, coders[unit], None)
            if row["measured_pct"] is not None:
                out.append({"dataset": col.dataset, "unit": unit, "granularity": granularity,
                            "unk": unk, "positions_pct": row["positions_pct"],
                            "distinct_pct": row["distinct_pct"], "paper_pct": col.own_pct})
    return out


def format_table6(result: dict) -> str:
    """The table for the terminal: measured beside the paper, one line per dataset."""
    def pct(x: float | None, digits: int = 3) -> str:
        return f"{x:.{digits}f} %" if x is not None else "-"

    c = result["convention"]
    lines = [f"Table 6: % of test-set {c['n']}-grams found in training sets "
             f"({c['unit']}, {c['granularity']}, <unk> {c['unk']}, {c['measure']})",
             f"{'dataset':<13} {'own train':>9} {'paper':>7}   {'corpus':>9} {'WebText':>7}"
             f"  note"]
    for r in result["datasets"]:
        corpus = r.get("corpus") or {}
        lines.append(f"{r['dataset']:<13} {pct(r['measured_pct']):>9} "
                     f"{pct(r['paper_pct'], 2):>7}   {pct(corpus.get('measured_pct')):>9} "
                     f"{pct(r['paper_webtext_pct'], 2):>7}  {r.get('note', '')}")
    for g in result.get("conventions", []):
        if g is result["conventions"][0]:
            lines.append("own-train row under other conventions (positions / distinct):")
        lines.append(f"  {g['dataset']:<12} {g['unit']:<5} {g['granularity']:<7} "
                     f"<unk> {g['unk']:<5} {pct(g['positions_pct']):>8} / "
                     f"{pct(g['distinct_pct']):>8}  (paper {g['paper_pct']:.2f} %)")
    return "\n".join(lines)
