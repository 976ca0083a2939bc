"""Bloom-filter build and query speed: this project against a pybloom-live pipeline.

Same text, same n, unit and target FPR on both sides; pybloom-live gets the same normalizer.
Prints a markdown table (the README's) and, with --json, the raw figures.

    python bench/bench_filter.py [--unit words|gpt2|both] [--repeats N] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("CONTAM_PROGRESS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from pybloom_live import BloomFilter as PyBloom  # noqa: E402

from contamkit.common.paths import shared_data_dir  # noqa: E402
from contamkit.corpus.formats import corpus_files, iter_documents, plan_tasks, read_task  # noqa: E402
from contamkit.corpus.read import CorpusStats  # noqa: E402
from overlap.bloom import BloomFilter  # noqa: E402
from overlap.build import build_filter  # noqa: E402
from overlap.filters import open_filter  # noqa: E402
from overlap.ngrams import NgramStream, segment_hashes  # noqa: E402
from overlap.normalize import words  # noqa: E402
from overlap.options import BuildOptions
from overlap.pipeline import HashRun, HashSpec, task_bytes  # noqa: E402
from overlap.units import make_coder  # noqa: E402

N, FPR = 8, 1e-8


REPEATS = 3


def timed(fn):
    """(best seconds of REPEATS runs, result): the first run also pays one-time costs."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def code_all(docs: list[str], unit: str) -> list:
    """Normalize + tokenize alone, in batches: the work any n-gram filter must do first."""
    coder, batch = make_coder(unit), 256
    return [coder.codes_batch(docs[i : i + batch], [False] * len(docs[i : i + batch]))
            for i in range(0, len(docs), batch)]


def in_processes(fn: Callable[..., object], args: list[tuple]) -> None:
    """``fn(*a)`` for each ``a`` of ``args``, each in a forked process of its own, all at once."""
    fork = mp.get_context("fork")
    procs = [fork.Process(target=fn, args=a) for a in args]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert all(p.exitcode == 0 for p in procs)


def read_code(tasks: list, unit: str) -> None:
    """Read, normalize and tokenize ``tasks``: a build's text work, with no filter to fill."""
    for task in tasks:
        code_all([d.text for d in read_task(task, "text", CorpusStats())], unit)


def text_work_scaling(corpus: Path, unit: str) -> dict:
    """The build's text work on 1 core, then split over 2 forked processes that share nothing:
    what a second core gives work with no filter to share and nothing to hand over, the
    reference for the build's 1 -> 2 workers speed-up. Not a strict bound: threads run
    tiktoken side by side without starting processes (timed ad hoc at about 15 ms here, which
    counts on a small corpus)."""
    tasks = plan_tasks(corpus_files(corpus), 2)
    halves: list[list] = [[], []]
    for task in sorted(tasks, key=task_bytes, reverse=True):  # as even in bytes as can be
        min(halves, key=lambda h: sum(map(task_bytes, h))).append(task)
    one = timed(lambda: read_code(tasks, unit))[0]
    two = timed(lambda: in_processes(read_code, [(half, unit) for half in halves]))[0]
    return {"one_s": one, "two_s": two, "speedup": one / two}


def _spin() -> int:
    total = 0
    for i in range(4_000_000):
        total += i * i
    return total


def cpu_scaling() -> dict:
    """A pure-Python loop in 1 process, then in each of 2 forked processes: the throughput a
    second core adds to work that shares nothing and touches little memory, the ceiling of
    any 1 -> 2 speed-up in this run (on a virtual machine shared with others it moves)."""
    one, two = timed(_spin)[0], timed(lambda: in_processes(_spin, [(), ()]))[0]
    return {"one_s": one, "two_s": two, "speedup": 2 * one / two}


def helper_thread(corpus: Path, unit: str) -> dict:
    """Hashing the corpus's documents on 2 threads (reading, coding) and on 3 (a helper codes
    half of each batch): the helper thread a 2-core build runs."""
    documents = list(iter_documents(corpus))

    def stream(threads: int) -> int:
        hashes = NgramStream(make_coder(unit), N, 0, threads).hashes(documents)
        return sum(len(h.h1) for h in hashes)

    return {"two_s": timed(lambda: stream(2))[0], "three_s": timed(lambda: stream(3))[0]}


def ngram_keys(docs: list[str], unit: str) -> list[str]:
    """pybloom-live's keys: each n-gram as a string (words, or token ids)."""
    coder = make_coder(unit)
    keys = []
    for doc in docs:
        units = words(doc) if unit == "words" else [str(i) for i in coder.codes([doc])[0]]
        keys += [" ".join(units[i : i + N]) for i in range(len(units) - N + 1)]
    return keys


def pybloom_build(docs: list[str], unit: str, capacity: int) -> tuple[float, PyBloom]:
    def run():
        bf = PyBloom(capacity=capacity, error_rate=FPR)
        for key in ngram_keys(docs, unit):
            bf.add(key)
        return bf
    return timed(run)


def our_codes(docs: list[str], unit: str) -> list[np.ndarray]:
    return make_coder(unit).codes(docs)


def bench_unit(corpus: Path, queries: list[str], unit: str, tmp: Path) -> dict:
    text_work = text_work_scaling(corpus, unit)  # first: forking a larger process costs more
    docs = [d.text for d in iter_documents(corpus)]
    mb = sum(len(d.encode()) for d in docs) / 1e6
    floor = timed(lambda: code_all(docs, unit))[0]
    read_floor = timed(lambda: code_all([d.text for d in iter_documents(corpus)], unit))[0]
    out = tmp / f"{unit}.bloom"
    auto = build_filter(corpus, out, BuildOptions(unit=unit, workers=1, fpr=FPR))
    capacity = int(auto["estimated_distinct"] * 1.005) + 1

    def build(workers: int) -> dict:
        return build_filter(corpus, out, BuildOptions(unit=unit, workers=workers, fpr=FPR,
                                                      capacity=capacity))

    t1, s1 = timed(lambda: build(0))  # the default: all cores
    t_one = timed(lambda: build(1))[0]
    ngrams = s1["ngrams"]
    t_py, reference = pybloom_build(docs, unit, capacity)

    bloom = open_filter(out)
    q_codes, codes = timed(lambda: our_codes(queries, unit))
    q_look, found = timed(lambda: bloom.contains(*segment_hashes(codes, N, 0)[:2]))
    q_hash, (h1, h2, _) = timed(lambda: segment_hashes(codes, N, 0))
    fresh = BloomFilter(bloom.params)
    q_insert = timed(lambda: fresh.add(h1, h2))[0]
    q_end = q_codes + q_look
    keys = ngram_keys(queries, unit)
    p_look, p_found = timed(lambda: [k in reference for k in keys])
    p_keys = timed(lambda: ngram_keys(queries, unit))[0]
    assert len(keys) == len(found)
    return {
        "unit": unit, "corpus_mb": mb, "ngrams": ngrams, "query_ngrams": len(keys),
        "floor_s": floor, "read_floor_s": read_floor, "ours_build_s": t1,
        "ours_build_one_worker_s": t_one, "workers": s1["workers"],
        "ours_build_auto_s": auto["wall_seconds"], "pybloom_build_s": t_py,
        "ours_query_end_to_end_s": q_end, "ours_query_lookup_s": q_look,
        "pybloom_query_end_to_end_s": p_look + p_keys, "pybloom_query_lookup_s": p_look,
        "bits_per_element": s1["bits_per_element"],
        "ns_hash": q_hash / len(h1) * 1e9, "ns_insert": q_insert / len(h1) * 1e9,
        "ns_lookup": (q_look - q_hash) / len(h1) * 1e9,
        "answers_differ": int(np.sum(found != np.array(p_found))),
        "text_work": text_work,
        "helper": helper_thread(corpus, unit),
        "found": int(found.sum()),
    }


def bench_workers(corpus: Path, tmp: Path) -> dict:
    """1 vs 2 workers (cores), the text work alone for reference, and inserting into the
    run's larger filter."""
    def build(workers: int) -> dict:
        return build_filter(corpus, tmp / "w.bloom",
                            BuildOptions(workers=workers, capacity=5_000_000))

    times = {w: timed(lambda w=w: build(w))[0] for w in (1, 2)}
    params = open_filter(tmp / "w.bloom").params
    reading = [(b.h1, b.h2) for b in HashRun(plan_tasks(corpus_files(corpus), 1), HashSpec(), 1)]

    def insert() -> None:
        bloom = BloomFilter(params)
        for h1, h2 in reading:
            bloom.add(h1, h2)

    return {"corpus_mb": sum(os.path.getsize(p) for p in corpus_files(corpus)) / 1e6,
            "one_worker_s": times[1], "two_workers_s": times[2],
            "speedup": times[1] / times[2], "filter_mb": (params.m + 7) / 8e6,
            "text_work": text_work_scaling(corpus, "words"),
            "ns_insert": timed(insert)[0] / sum(len(h1) for h1, _ in reading) * 1e9,
            "cpu": cpu_scaling()}


def scaling_rows(add: Callable[..., None], unit: str, where: str, one: float, two: float,
                 text_work: dict) -> None:
    """The build's 1 -> 2 workers speed-up, and for reference the text work's alone."""
    add(unit, f"build, 1 -> 2 workers{where}", f"{one:.2f} s -> {two:.2f} s", "",
        f"{one / two:.2f}x")
    add(unit, f"read+normalize+tokenize alone, 1 -> 2 processes{where} (reference)",
        f"{text_work['one_s']:.2f} s -> {text_work['two_s']:.2f} s", "",
        f"{text_work['speedup']:.2f}x")


def table(rows: list[dict], scaling: dict) -> str:
    lines = ["| unit | metric | this project | pybloom-live | ratio |", "|---|---|---|---|---|"]

    def add(unit: str, metric: str, ours: str, theirs: str = "", ratio: str = "") -> None:
        lines.append(f"| {unit} | {metric} | {ours} | {theirs} | {ratio} |")

    for r in rows:
        u, mb, ng, q = r["unit"], r["corpus_mb"], r["ngrams"], r["query_ngrams"]
        ours, py = r["ours_build_s"], r["pybloom_build_s"]
        w = f"{r['workers']} workers, the default"
        add(u, f"build, MB/s ({w})", f"{mb / ours:.2f}", f"{mb / py:.2f}", f"{py / ours:.1f}x")
        add(u, f"build, n-grams/s ({w})", f"{ng / ours:,.0f}", f"{ng / py:,.0f}")
        add(u, "build, MB/s (1 worker: one thread)", f"{mb / r['ours_build_one_worker_s']:.2f}")
        for kind, label in (("end_to_end", "query from text"), ("lookup", "query lookups")):
            o, p = r[f"ours_query_{kind}_s"], r[f"pybloom_query_{kind}_s"]
            add(u, f"{label}, n-grams/s", f"{q / o:,.0f}", f"{q / p:,.0f}", f"{p / o:.1f}x")
        add(u, "normalize+tokenize floor, s (build s)", f"{r['floor_s']:.2f} ({ours:.2f})", "",
            f"build = {ours / r['floor_s']:.2f}x floor")
        add(u, "read+normalize+tokenize, s", f"{r['read_floor_s']:.2f}", "",
            f"build = {ours / r['read_floor_s']:.2f}x")
        add(u, "bits per element at 1e-8", f"{r['bits_per_element']:.2f}")
        scaling_rows(add, u, "", r["ours_build_one_worker_s"], ours, r["text_work"])
        helper = r["helper"]
        add(u, "hash the text, 2 -> 3 threads (a helper codes half of each batch)",
            f"{helper['two_s']:.2f} s -> {helper['three_s']:.2f} s", "",
            f"{helper['two_s'] / helper['three_s']:.2f}x")
        add(u, "ns per query n-gram: hash / lookup / insert",
            f"{r['ns_hash']:.0f} / {r['ns_lookup']:.0f} / {r['ns_insert']:.0f}")
    mb = f"{scaling['corpus_mb']:.0f} MB"
    add("words", f"insert into the {mb} run's {scaling['filter_mb']:.0f} MB filter, ns per n-gram",
        f"{scaling['ns_insert']:.0f}")
    scaling_rows(add, "words", f" ({mb})", scaling["one_worker_s"], scaling["two_workers_s"],
                 scaling["text_work"])
    cpu = scaling["cpu"]
    add("-", "pure-Python loop, 1 -> 2 processes, each with the 1-process work (ceiling)",
        f"{cpu['one_s']:.2f} s -> {cpu['two_s']:.2f} s", "", f"{cpu['speedup']:.2f}x")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unit", choices=("words", "gpt2", "both"), default="both")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    global REPEATS
    REPEATS = args.repeats
    data = shared_data_dir()
    corpus = data / "webtext" / "webtext.train.jsonl"
    queries = [d.text for d in iter_documents(data / "webtext" / "webtext.test.jsonl")]
    units = ("words", "gpt2") if args.unit == "both" else (args.unit,)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows = [bench_unit(corpus, queries, u, tmp) for u in units]
        big = tmp / "big"
        big.mkdir()
        for src in (corpus, data / "wikitext-2" / "train.txt", data / "ptb" / "ptb.train.txt"):
            (big / src.name).symlink_to(src)
        scaling = bench_workers(big, tmp)
    print(json.dumps({"units": rows, "workers": scaling}, indent=2) if args.json
          else table(rows, scaling))


if __name__ == "__main__":
    main()
