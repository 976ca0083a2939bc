#!/usr/bin/env python
"""End-to-end build benchmark, run the way a user runs the tools: each row is a separate process
started with the command line a user would type, timed from the outside, its whole process
tree's memory sampled, its filter then queried with absent n-grams.

    python bench/bench_e2e.py                      # 300 MB corpus, 3 interleaved repeats
    python bench/bench_e2e.py --size 50MB --repeats 1 --rows default,classic

The corpus is generated (seeded): English words drawn with the frequencies they have in
WikiText-103's test set (``$CONTAM_DATA_DIR``), sentences with capitals and punctuation,
paragraphs on lines, documents of 1-12 paragraphs, 3 % of documents repeated; two thirds of the
bytes as .jsonl.gz shards, one third as one large .txt. Rows (``ROWS``): this project's default
build, the same with ``--capacity``, each layout, ``--unit gpt2``, Dask builds on 1 and 2 local
workers, ``dolma dedupe`` (paragraph 8-grams, the same target FPR and capacity, ``--processes``
= cores), and two Python pipelines with the same normalizer (``overlap.normalize.words``):
rbloom, and pybloom-live on a slice of the corpus with its time scaled to the whole (it runs
~100x slower). dolma and rbloom come from the ``bench`` extra, installed in a separate
environment (``--bench-python``).

Per row: wall seconds, MB/s of text, n-grams/s (the corpus's 8-gram count, the same for every
row), peak RSS of the process tree (sampled every 50 ms), bits per element (filter bits over the
corpus's distinct 8-grams) and the FPR measured by querying ``--probes`` absent n-grams
(``verify`` for this project; n-grams of words that never occur in the corpus for the others).
Medians over the repeats, the spread beside them, then the ratios the README quotes.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from contamkit.common.parse import parse_size  # noqa: E402
from contamkit.common.paths import gpt2_vocab_dir, shared_data_dir  # noqa: E402

CORPUS_VERSION = 2  # change when the generator changes: cached corpora are then regenerated
SHARDS = 8
REPEATED_DOCS = 0.03
QUERY_WORDS = 107  # words per paragraph of dolma's query documents: 100 8-grams each
N = 8


# ---------------------------------------------------------------------------------- corpus
def _vocabulary(rng: np.random.Generator, size: int, suffix: str = "") -> np.ndarray:
    """Distinct lower-case pseudo-words ending in ``suffix``, shortest first: with a digit in the
    suffix, words that never occur in the generated corpus (the FPR probes)."""
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
    words: set[str] = set()
    while len(words) < size:
        lengths = rng.poisson(5.0, size) + 1
        chars = letters[rng.integers(0, 26, lengths.sum())]
        text = chars.tobytes().decode()
        cuts = np.concatenate([[0], np.cumsum(lengths)])
        words.update(text[a:b] + suffix for a, b in zip(cuts[:-1], cuts[1:], strict=True))
    ordered = sorted(words, key=lambda w: (len(w), w))[:size]
    order = rng.permutation(len(ordered))  # shuffle within equal lengths, keep short first
    ordered = [ordered[i] for i in sorted(order, key=lambda i: (len(ordered[i]), i))]
    return np.array(ordered, dtype=object)


def english_words() -> tuple[np.ndarray, np.ndarray]:
    """Lower-case English words of WikiText-103's test set, most frequent first, and the CDF
    of their frequencies there. Real words, not random letters: GPT-2's tokenizer splits random
    letters into ~1.8 tokens per word against ~1.2 on English, so a pseudo-word corpus would
    make the gpt2 rows (and the bytes per n-gram of every row) unlike a user's corpus."""
    text = (shared_data_dir() / "wikitext-103" / "wiki.test.tokens").read_text(encoding="utf-8")
    counts: dict[str, int] = {}
    for word in text.lower().split():
        if word.isascii() and word.isalpha():
            counts[word] = counts.get(word, 0) + 1
    ordered = sorted(counts, key=lambda w: (-counts[w], w))
    weights = np.array([counts[w] for w in ordered], dtype=np.float64)
    return np.array(ordered, dtype=object), np.cumsum(weights / weights.sum())


class TextMaker:
    """Seeded paragraphs of English words at their frequencies, with sentence capitals and
    punctuation."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        plain, self.cdf = english_words()
        self.vocab = len(plain)
        self.forms = np.concatenate([plain, np.array([w + "," for w in plain], dtype=object),
                                     np.array([w.capitalize() for w in plain], dtype=object)])

    def paragraph_words(self, count: int) -> np.ndarray:
        return np.minimum(np.searchsorted(self.cdf, self.rng.random(count)), self.vocab - 1)

    def paragraphs(self, count: int) -> list[str]:
        """``count`` paragraphs of 40-300 words: sentences of 8-30 words."""
        lengths = self.rng.integers(40, 300, count)
        ids = self.paragraph_words(int(lengths.sum()))
        form = np.zeros(len(ids), dtype=np.int64)
        form[self.rng.random(len(ids)) < 0.05] = 1  # commas
        tokens = self.forms[ids + self.vocab * form]
        out, start = [], 0
        for length in lengths.tolist():
            words = tokens[start : start + length].tolist()
            start += length
            i = 0
            while i < len(words):  # sentences: a capital first, a full stop last
                words[i] = words[i].capitalize()
                i += int(self.rng.integers(8, 30))
                words[min(i, len(words)) - 1] = words[min(i, len(words)) - 1].rstrip(",") + "."
            out.append(" ".join(words))
        return out


@dataclass
class Corpus:
    root: Path
    text_bytes: int
    files: int
    dolma_docs: str  # glob of dolma's documents
    query_docs: str  # glob of dolma's query documents (absent n-grams)
    absent_words: str  # file of words that never occur in the corpus, one a line


def _write_jsonl_gz(path: Path, docs: list[str], ids: str | None = None) -> None:
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as f:
        for i, text in enumerate(docs):
            record = {"text": text} if ids is None else {
                "id": f"{ids}-{i}", "text": text, "source": "bench"}
            f.write(json.dumps(record) + "\n")


def generate(root: Path, size: int, seed: int, probes: int) -> Corpus:
    """(``probes``: the absent 8-grams of dolma's query documents.)"""
    """The benchmark corpus under ``root`` (reused when it was made with the same settings)."""
    stamp = root / "corpus.json"
    settings = {"version": CORPUS_VERSION, "size": size, "seed": seed, "probes": probes}
    if stamp.exists() and json.loads(stamp.read_text())["settings"] == settings:
        return Corpus(**json.loads(stamp.read_text())["corpus"] | {"root": root})
    shutil.rmtree(root, ignore_errors=True)
    (root / "corpus").mkdir(parents=True)
    (root / "dolma" / "documents").mkdir(parents=True)
    maker = TextMaker(seed)
    written = 0
    docs_made: list[str] = []
    for shard in range(SHARDS):  # two thirds in jsonl.gz shards
        docs: list[str] = []
        budget = size * 2 // 3 // SHARDS
        while budget > 0:
            if docs_made and maker.rng.random() < REPEATED_DOCS:
                text = docs_made[int(maker.rng.integers(len(docs_made)))]
            else:
                text = "\n".join(maker.paragraphs(int(maker.rng.integers(1, 13))))
                docs_made = (docs_made + [text])[-1000:]
            docs.append(text)
            budget -= len(text.encode()) + 1
        written += sum(len(d.encode()) for d in docs)
        _write_jsonl_gz(root / "corpus" / f"shard-{shard:02d}.jsonl.gz", docs)
        _write_jsonl_gz(root / "dolma" / "documents" / f"shard-{shard:02d}.jsonl.gz", docs,
                        f"s{shard}")
    big: list[str] = []  # one third in one .txt (dolma gets it as documents of ~1 MB)
    budget = size - written
    with open(root / "corpus" / "big.txt", "w", encoding="utf-8") as f:
        while budget > 0:
            paragraphs = maker.paragraphs(500)
            text = "\n".join(paragraphs) + "\n"
            f.write(text)
            big.append(text)
            budget -= len(text.encode())
            written += len(text.encode())
    _write_jsonl_gz(root / "dolma" / "documents" / "big.jsonl.gz", big, "big")
    # absent n-grams: words with a digit, which the generator never writes
    (root / "query" / "documents").mkdir(parents=True)
    absent = _vocabulary(np.random.default_rng(seed + 1), 100_000, "q9")
    (root / "absent_words.txt").write_text("\n".join(absent.tolist()) + "\n")
    rng = np.random.default_rng(seed + 2)
    paragraphs = math.ceil(probes / (QUERY_WORDS - N + 1))
    ids = rng.integers(0, len(absent), (paragraphs, QUERY_WORDS))
    lines = [" ".join(row) for row in absent[ids].tolist()]
    _write_jsonl_gz(root / "query" / "documents" / "query.jsonl.gz",
                    ["\n".join(lines[i : i + 100]) for i in range(0, len(lines), 100)], "q")
    corpus = Corpus(root=root, text_bytes=written, files=SHARDS + 1,
                    dolma_docs=str(root / "dolma" / "documents" / "*.jsonl.gz"),
                    query_docs=str(root / "query" / "documents" / "*.jsonl.gz"),
                    absent_words=str(root / "absent_words.txt"))
    body = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(corpus).items()}
    stamp.write_text(json.dumps({"settings": settings, "corpus": {
        k: v for k, v in body.items() if k != "root"}}))
    return corpus


# ---------------------------------------------------------------------------------- processes
@dataclass
class Measured:
    wall: float
    peak_rss: int
    returncode: int
    stdout: str
    stderr: str


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def run(argv: list[str], cwd: Path = REPO, timeout: float = 3600) -> Measured:
    """Run ``argv`` as typed and measure its wall time and the peak RSS of its process tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "CONTAM_PROGRESS": "0"})
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        watched = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                peak = max(peak, _tree_rss(watched))
            except psutil.Error:
                return
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate(timeout=timeout)
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    return Measured(wall, peak, proc.returncode, out, err)


def checked(m: Measured, what: str) -> Measured:
    if m.returncode != 0:
        raise SystemExit(f"{what} failed ({m.returncode}):\n{m.stderr[-3000:]}")
    return m


# ---------------------------------------------------------------------------------- rows
@dataclass
class Row:
    name: str
    kind: str  # contamkit | dolma | pipeline
    args: list[str] = field(default_factory=list)
    scale: float = 1.0  # pipeline on a slice: time multiplied by this


def rows(capacity: int, fpr: float, cores: int, pybloom_slice: float) -> dict[str, Row]:
    cap = ["--capacity", str(capacity)]
    return {r.name: r for r in [
        Row("default", "contamkit"),
        Row("capacity", "contamkit", cap),
        Row("classic", "contamkit", ["--layout", "classic"]),
        Row("classic-capacity", "contamkit", ["--layout", "classic", *cap]),
        Row("gpt2", "contamkit", ["--unit", "gpt2", "--gpt2-vocab", str(gpt2_vocab_dir())]),
        Row("dask-1", "contamkit", ["--scheduler", "local:1"]),
        Row("dask-2", "contamkit", ["--scheduler", "local:2"]),
        Row("dolma", "dolma", [str(cores)]),
        Row("rbloom", "pipeline", ["rbloom"]),
        Row("pybloom-live", "pipeline", ["pybloom"], 1 / pybloom_slice),
    ]}


@dataclass
class Result:
    row: str
    wall: float
    peak_rss: int
    filter_bytes: int
    hits: int
    probes: int
    ngrams_seen: int | None = None


def run_contamkit(row: Row, corpus: Corpus, out: Path, fpr: float, probes: int) -> Result:
    if out.exists():
        out.unlink()
    m = checked(run([sys.executable, "cli.py", "build-filter", str(corpus.root / "corpus"),
                     "-o", str(out), "--fpr", str(fpr), *row.args]), row.name)
    info = json.loads(checked(run([sys.executable, "cli.py", "info", str(out), "--json"]),
                              "info").stdout)
    v = json.loads(checked(run([sys.executable, "cli.py", "verify", str(out), "--probes",
                                str(probes), "--json"]), "verify").stdout)
    return Result(row.name, m.wall, m.peak_rss, info["size_bytes"], v["hits"], v["probes"])


def _dolma_argv(bench_python: str, docs: str, name: str, bloom: Path, capacity: int,
                fpr: float, processes: int, read_only: bool, threshold: float) -> list[str]:
    dolma = str(Path(bench_python).parent / "dolma")
    return [dolma, "dedupe", "--documents", docs, "--dedupe.name", name,
            "--dedupe.paragraphs.attribute_name", name,
            "--dedupe.paragraphs.by_ngram.ngram_length", str(N),
            "--dedupe.paragraphs.by_ngram.stride", "0",
            "--dedupe.paragraphs.by_ngram.overlap_threshold", str(threshold),
            "--bloom_filter.file", str(bloom),
            "--bloom_filter.read_only" if read_only else "--no-bloom_filter.read_only",
            "--bloom_filter.estimated_doc_count", str(capacity),
            "--bloom_filter.desired_false_positive_rate", str(fpr),
            "--processes", str(processes)]


def _dolma_hits(attributes: Path, name: str) -> int:
    """False positives among the query paragraphs: each flagged one (threshold below 1/100)
    carries its matched fraction of its 100 8-grams."""
    hits = 0.0
    for path in attributes.rglob("*.jsonl.gz"):
        with gzip.open(path, "rt") as f:
            for line in f:
                for _, _, score in json.loads(line)["attributes"].get(name, []):
                    hits += score * (QUERY_WORDS - N + 1)
    return round(hits)


def run_dolma(row: Row, corpus: Corpus, out: Path, fpr: float, capacity: int,
              bench_python: str) -> Result:
    for stale in (out, corpus.root / "dolma" / "attributes", corpus.root / "query" / "attributes"):
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(
            missing_ok=True)
    processes = int(row.args[0])
    m = checked(run(_dolma_argv(bench_python, corpus.dolma_docs, "bench", out, capacity, fpr,
                                processes, False, 1.0)), "dolma dedupe")
    checked(run(_dolma_argv(bench_python, corpus.query_docs, "query", out, capacity, fpr,
                            processes, True, 0.5 / (QUERY_WORDS - N + 1))), "dolma query")
    hits = _dolma_hits(corpus.root / "query" / "attributes", "query")
    probes = _query_paragraphs(corpus) * (QUERY_WORDS - N + 1)
    return Result(row.name, m.wall, m.peak_rss, out.stat().st_size, hits, probes)


def _query_paragraphs(corpus: Corpus) -> int:
    with gzip.open(next(Path(corpus.query_docs).parent.glob("*.jsonl.gz")), "rt") as f:
        return sum(json.loads(line)["text"].count("\n") + 1 for line in f)


def run_pipeline(row: Row, corpus: Corpus, fpr: float, capacity: int, probes: int,
                 bench_python: str, pybloom_slice: float) -> Result:
    impl = row.args[0]
    fraction = pybloom_slice if impl == "pybloom" else 1.0
    m = checked(run([bench_python, str(Path(__file__)), "pipeline", impl,
                     str(corpus.root / "corpus"), "--capacity", str(math.ceil(capacity * fraction)),
                     "--fpr", str(fpr), "--fraction", str(fraction), "--probes", str(probes),
                     "--absent-words", corpus.absent_words]), row.name)
    figures = json.loads(m.stdout.strip().splitlines()[-1])
    # a slice's filter is scaled to the whole corpus too, for the bits-per-element column
    return Result(row.name, figures["build_seconds"] * row.scale + (m.wall - figures["seconds"]),
                  m.peak_rss, round(figures["filter_bytes"] * row.scale), figures["hits"],
                  figures["probes"], figures["ngrams"])


# ---------------------------------------------------------------------------------- pipelines
def _documents(root: Path, fraction: float):
    """Every document's text: jsonl.gz records, then the .txt in pieces of whole lines (its
    n-grams run across lines, as this project reads it); the first ``fraction`` of each file."""
    for path in sorted(root.iterdir()):
        size = path.stat().st_size
        with (gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz"
              else open(path, encoding="utf-8")) as f:
            if path.suffix == ".gz":
                raw = f.buffer.fileobj  # type: ignore[attr-defined]
                for line in f:
                    if raw.tell() > size * fraction:
                        break
                    yield [json.loads(line)["text"]]
            else:
                pieces, read = [], 0
                for line in f:
                    pieces.append(line)
                    read += len(line)
                    if read > size * fraction:
                        break
                    if len(pieces) == 200:
                        yield pieces
                        pieces = []
                if pieces:
                    yield pieces


def pipeline(args: argparse.Namespace) -> None:
    """The rbloom or pybloom-live pipeline: normalize each document with this project's
    normalizer, make its 8-grams as strings, add them; then query absent 8-grams."""
    from overlap.normalize import words

    if args.impl == "rbloom":
        import rbloom

        bloom = rbloom.Bloom(args.capacity, args.fpr)
        add, size_bits = bloom.update, bloom.size_in_bits
    else:
        import pybloom_live

        bloom = pybloom_live.BloomFilter(args.capacity, args.fpr)

        def add(grams):
            for g in grams:
                bloom.add(g)

        size_bits = bloom.num_bits
    start = time.perf_counter()
    ngrams = 0
    carry: list[str] = []
    for pieces in _documents(Path(args.corpus), args.fraction):
        text_words = [w for piece in pieces for w in words(piece)]
        if len(pieces) > 1 or carry:  # pieces of the .txt: one document, n-grams cross pieces
            text_words, carry = carry + text_words, []
            carry = text_words[-(N - 1):] if len(pieces) > 1 else []
        grams = [" ".join(text_words[i : i + N]) for i in range(len(text_words) - N + 1)]
        ngrams += len(grams)
        add(grams)
    build = time.perf_counter() - start
    absent = np.array(Path(args.absent_words).read_text().split(), dtype=object)
    rng = np.random.default_rng(7)
    hits = 0
    for first in range(0, args.probes, 1 << 20):
        count = min(1 << 20, args.probes - first)
        for gram in absent[rng.integers(0, len(absent), (count, N))].tolist():
            hits += " ".join(gram) in bloom
    print(json.dumps({"build_seconds": build, "seconds": time.perf_counter() - start,
                      "ngrams": ngrams, "filter_bytes": size_bits // 8, "hits": hits,
                      "probes": args.probes}))


# ---------------------------------------------------------------------------------- layouts
def insert_rates(args: argparse.Namespace) -> None:
    """The layouts alone: random hashes into a filter of --filter-mb (far beyond the caches),
    then as many absent lookups; best of three, ns per n-gram."""
    from overlap.bloom import BloomFilter, FilterParams
    from overlap.normalize import NORMALIZER_VERSION

    rng = np.random.default_rng(0)
    h1, h2 = (rng.integers(0, 2**64, args.ngrams, dtype=np.uint64) for _ in range(2))
    q1, q2 = (rng.integers(0, 2**64, args.ngrams, dtype=np.uint64) for _ in range(2))
    times = {}
    for layout in ("classic", "blocked"):
        per_million = FilterParams.sized(10**6, 1e-8, layout=layout, n=8, unit="words",
                                         normalizer=NORMALIZER_VERSION, tokenizer="", seed=0).m
        capacity = args.filter_mb * 8 * 2**20 * 10**6 // per_million
        params = FilterParams.sized(capacity, 1e-8, layout=layout, n=8, unit="words",
                                    normalizer=NORMALIZER_VERSION, tokenizer="", seed=0)
        best_add = best_query = math.inf
        for _ in range(3):
            bloom = BloomFilter(params)
            bloom.bits[:] = 0  # touch every page first
            bloom.add(h1[:1000], h2[:1000])  # compile
            bloom.contains(q1[:1000], q2[:1000])
            start = time.perf_counter()
            bloom.add(h1, h2)
            best_add = min(best_add, time.perf_counter() - start)
            start = time.perf_counter()
            bloom.contains(q1, q2)
            best_query = min(best_query, time.perf_counter() - start)
        times[layout] = (best_add, best_query)
        print(f"{layout}: filter {len(bloom.bits) / 2**20:.0f} MiB, k = {params.k}: insert "
              f"{best_add / args.ngrams * 1e9:.0f} ns, lookup {best_query / args.ngrams * 1e9:.0f}"
              f" ns per n-gram", flush=True)
    print(f"blocked vs classic: insert {times['classic'][0] / times['blocked'][0]:.2f}x, lookup "
          f"{times['classic'][1] / times['blocked'][1]:.2f}x faster")


# ---------------------------------------------------------------------------------- report
def median_row(results: list[Result]) -> dict:
    walls = [r.wall for r in results]
    return {"wall": statistics.median(walls), "min": min(walls), "max": max(walls),
            "peak_rss": max(r.peak_rss for r in results),
            "filter_bytes": results[0].filter_bytes,
            "hits": sum(r.hits for r in results), "probes": sum(r.probes for r in results)}


def report(table: dict[str, dict], corpus: Corpus, ngrams: int, distinct: float,
           fpr: float, pybloom_slice: float) -> str:
    mb = corpus.text_bytes / 1e6
    lines = [f"corpus: {mb:.0f} MB of text in {corpus.files} files, {ngrams:,} 8-grams, "
             f"~{distinct:,.0f} distinct; target FPR {fpr:g}; this machine: "
             f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end", "",
             "| tool | wall s (min-max) | MB/s | n-grams/s | peak RSS MiB | filter MiB | "
             "RSS - filter MiB | bits/element | FPR measured (hits / probes) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, t in table.items():
        note = f" (on {pybloom_slice:.0%}, scaled)" if name == "pybloom-live" else ""
        lines.append(
            f"| {name}{note} | {t['wall']:.1f} ({t['min']:.1f}-{t['max']:.1f}) | "
            f"{mb / t['wall']:.1f} | {ngrams / t['wall']:,.0f} | {t['peak_rss'] / 2**20:.0f} | "
            f"{t['filter_bytes'] / 2**20:.0f} | "
            f"{(t['peak_rss'] - t['filter_bytes']) / 2**20:.0f} | "
            f"{t['filter_bytes'] * 8 / distinct:.2f} | "
            f"{t['hits'] / t['probes']:.2g} ({t['hits']} / {t['probes']:.3g}) |")

    def ratio(a: str, b: str) -> str:
        if a in table and b in table:
            return f"{table[b]['wall'] / table[a]['wall']:.2f}x"
        return "-"

    lines += ["", "ratios (wall time; > 1: the first is faster):",
              f"  default vs dolma dedupe: {ratio('default', 'dolma')}",
              f"  default vs rbloom pipeline: {ratio('default', 'rbloom')}",
              f"  default vs pybloom-live pipeline (scaled): {ratio('default', 'pybloom-live')}",
              f"  --capacity vs default (default / capacity time): "
              f"{ratio('capacity', 'default')}",
              "  blocked vs classic, both with --capacity: "
              f"{ratio('capacity', 'classic-capacity')}",
              f"  blocked vs classic, default builds: {ratio('default', 'classic')}",
              f"  words vs gpt2 (gpt2 / words time): {ratio('default', 'gpt2')}",
              f"  Dask 1 -> 2 local workers: {ratio('dask-2', 'dask-1')}"]
    for name in ("dask-1", "dask-2"):
        if name in table:
            lines.append(f"  Dask {name[-1]} worker(s): {mb / table[name]['wall']:.1f} MB/s")
    return "\n".join(lines)


def bench(args: argparse.Namespace) -> None:
    size = parse_size(args.size)
    work = Path(args.workdir)
    clock = time.perf_counter()
    corpus = generate(work, size, args.seed, args.dolma_probes or args.probes)
    print(f"corpus ready in {time.perf_counter() - clock:.0f} s: {corpus.text_bytes / 1e6:.0f} "
          f"MB under {work}", flush=True)
    # warm-up, untimed: compiles and caches kernels, reads the corpus into the page cache, and
    # counts the distinct n-grams that --capacity and the other tools are given
    warm = work / "warm.bloom"
    m = checked(run([sys.executable, "cli.py", "build-filter", str(corpus.root / "corpus"),
                     "-o", str(warm), "--layout", "classic", "--fpr", str(args.fpr)]), "warm-up")
    info = json.loads(checked(run([sys.executable, "cli.py", "info", str(warm), "--json"]),
                              "info").stdout)
    distinct = info["estimated_distinct"]
    ngrams = int(m.stderr.split(" n-grams (")[0].rsplit(" ", 1)[-1])
    capacity = math.ceil(distinct * 1.01)
    warm.unlink()
    print(f"warm-up build {m.wall:.1f} s: {ngrams:,} n-grams, ~{distinct:,.0f} distinct; "
          f"capacity given: {capacity:,}", flush=True)
    # every unit and layout's kernels compiled before any timed row (one shard's text)
    for extra in (["--unit", "gpt2", "--gpt2-vocab", str(gpt2_vocab_dir())], []):
        checked(run([sys.executable, "cli.py", "build-filter",
                     str(corpus.root / "corpus" / "shard-00.jsonl.gz"), "-o", str(warm), *extra]),
                "warm-up")
        warm.unlink()
    chosen = rows(capacity, args.fpr, os.cpu_count() or 1, args.pybloom_slice)
    names = [n for n in args.rows.split(",") if n] if args.rows else list(chosen)
    results: dict[str, list[Result]] = {n: [] for n in names}
    for repeat in range(args.repeats):
        turn = repeat % len(names)  # interleaved, every row once per repeat, and rotated:
        for name in names[turn:] + names[:turn]:  # no row always runs first
            row = chosen[name]
            out = work / f"{name}.bloom"
            if row.kind == "contamkit":
                r = run_contamkit(row, corpus, out, args.fpr, args.probes)
            elif row.kind == "dolma":
                r = run_dolma(row, corpus, out, args.fpr, capacity, args.bench_python)
            else:
                r = run_pipeline(row, corpus, args.fpr, capacity, args.probes,
                                 args.bench_python, args.pybloom_slice)
            results[name].append(r)
            print(f"repeat {repeat + 1}: {name}: {r.wall:.1f} s, peak {r.peak_rss / 2**20:.0f} "
                  f"MiB, filter {r.filter_bytes / 2**20:.0f} MiB, {r.hits} hits in "
                  f"{r.probes:.3g}", flush=True)
            out.unlink(missing_ok=True)
            shutil.rmtree(out, ignore_errors=True)
    table = {n: median_row(rs) for n, rs in results.items()}
    text = report(table, corpus, ngrams, distinct, args.fpr, args.pybloom_slice)
    print("\n" + text)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "corpus": {k: str(v) for k, v in asdict(corpus).items()}, "ngrams": ngrams,
            "distinct": distinct, "runs": {n: [asdict(r) for r in rs]
                                           for n, rs in results.items()},
            "median": table}, indent=1))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command")
    b = sub.add_parser("run", help="the benchmark (the default command)")
    b.add_argument("--size", default="300MB", help="corpus text size (default 300MB)")
    b.add_argument("--repeats", type=int, default=3)
    b.add_argument("--rows", help="comma-separated subset of the rows (default: all)")
    b.add_argument("--fpr", type=float, default=1e-8)
    b.add_argument("--probes", type=int, default=10_000_000, help="absent n-grams per FPR check")
    b.add_argument("--dolma-probes", type=int,
                   help="absent n-grams dolma is queried with (default --probes)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--pybloom-slice", type=float, default=0.02,
                   help="share of each file pybloom-live is timed on (then scaled)")
    b.add_argument("--workdir", default="/tmp/contamkit-bench-e2e")
    b.add_argument("--bench-python", default="/work/venv-bench/bin/python",
                   help="python of the environment with the bench extra (dolma, rbloom)")
    b.add_argument("--json", help="write every run's figures here")
    i = sub.add_parser("insert", help="in-process: ns per n-gram to insert into and look up in "
                       "a filter of each layout, sized to --filter-mb")
    i.add_argument("--filter-mb", type=int, default=300)
    i.add_argument("--ngrams", type=int, default=10_000_000)
    q = sub.add_parser("pipeline", help="(internal) one Python pipeline row")
    q.add_argument("impl", choices=("rbloom", "pybloom"))
    q.add_argument("corpus")
    q.add_argument("--capacity", type=int, required=True)
    q.add_argument("--fpr", type=float, required=True)
    q.add_argument("--fraction", type=float, default=1.0)
    q.add_argument("--probes", type=int, required=True)
    q.add_argument("--absent-words", required=True)
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0].startswith("-"):
        argv = ["run", *argv]
    args = p.parse_args(argv)
    {"pipeline": pipeline, "insert": insert_rates}.get(args.command, bench)(args)


if __name__ == "__main__":
    main()
