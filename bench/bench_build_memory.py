#!/usr/bin/env python
"""Wall time, MB/s and peak RSS of ``build-filter`` with default flags, per corpus shape.

Generates (seeded, cached under ``--data``) the corpus shapes that used to blow memory up:

* ``oneline``: one ``.txt`` file of ``--mb`` MB with no line break (one huge document);
* ``smallfiles``: ``--mb`` MB as 4 KB ``.txt`` files;
* ``jsonlgz``: one ``.jsonl.gz`` of 2 x ``--mb`` MB of JSON lines (10 KB records).

and runs ``python cli.py build-filter CORPUS -o OUT`` on each, exactly as a user types it,
polling the resident memory of the whole process tree (psutil, every 20 ms). It prints one row
per run: wall seconds, CPU seconds (user + sys, the less noisy figure on a shared machine), MB/s
(uncompressed text bytes / wall), peak RSS (summed over the tree: pages a forked worker shares
with its parent count twice), peak PSS (shared pages split between the processes sharing
them), the filter's size and peak RSS minus the filter (the bound is
512 MB). ``--code DIR`` runs another checkout's
``cli.py`` (e.g. an export of an older commit, to compare before and after).

    nice python bench/bench_build_memory.py --mb 100 --unit words
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent


def _vocabulary(rng: np.random.Generator, size: int = 60_000) -> np.ndarray:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lengths = rng.integers(2, 10, size)
    return np.array(["".join(rng.choice(letters, n)) for n in lengths])


def _text(rng: np.random.Generator, vocab: np.ndarray, nbytes: int) -> str:
    """About ``nbytes`` of words drawn from a Zipf-like law: mostly distinct 8-grams."""
    words = nbytes // 7
    ranks = np.minimum(rng.zipf(1.2, words), len(vocab)) - 1
    return " ".join(vocab[ranks].tolist())[:nbytes]


def make_corpus(shape: str, mb: int, data: Path) -> Path:
    """The corpus of ``shape`` (generated once, then reused)."""
    out = data / f"{shape}-{mb}mb"
    done = out / ".done"
    if done.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(17)
    vocab = _vocabulary(rng)
    if shape == "oneline":
        (out / "one.txt").write_text(_text(rng, vocab, mb << 20))
    elif shape == "smallfiles":
        text = _text(rng, vocab, mb << 20)
        for i, start in enumerate(range(0, len(text), 4096)):
            sub = out / f"{i // 1000:04d}"
            sub.mkdir(exist_ok=True)
            (sub / f"{i:07d}.txt").write_text(text[start : start + 4096])
    elif shape == "jsonlgz":
        text = _text(rng, vocab, 2 * mb << 20)
        with gzip.open(out / "corpus.jsonl.gz", "wt", compresslevel=1) as f:
            for start in range(0, len(text), 10_000):
                f.write(json.dumps({"text": text[start : start + 10_000]}) + "\n")
    else:
        raise SystemExit(f"unknown shape {shape}")
    done.touch()
    return out


def text_bytes(corpus: Path) -> int:
    total = 0
    for p in corpus.rglob("*"):
        if p.suffix == ".gz":
            with gzip.open(p, "rb") as f:
                while chunk := f.read(1 << 24):
                    total += len(chunk)
        elif p.is_file() and not p.name.startswith("."):
            total += p.stat().st_size
    return total


def run_tree(cmd: list[str], env: dict) -> tuple[float, int, int, int, float]:
    """(wall seconds, peak RSS and peak PSS of the process and its children in bytes, exit
    code, CPU seconds of the process and the children it waited for)."""
    start = time.perf_counter()
    proc = psutil.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = peak_pss = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        rss = pss = 0
        try:
            for p in [proc, *proc.children(recursive=True)]:
                full = p.memory_full_info()
                rss, pss = rss + full.rss, pss + full.pss
        except psutil.NoSuchProcess:
            pass
        peak, peak_pss = max(peak, rss), max(peak_pss, pss)
        time.sleep(0.02)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code:
        sys.stderr.write(proc.stderr.read().decode()[-2000:])
    return wall, peak, peak_pss, code, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=int, default=100, help="corpus size (jsonlgz: twice this)")
    ap.add_argument("--shapes", default="oneline,smallfiles,jsonlgz")
    ap.add_argument("--unit", default="words")
    ap.add_argument("--workers", type=int, default=0, help="0: the default (all cores)")
    ap.add_argument("--code", default=str(ROOT), help="checkout whose cli.py runs")
    ap.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "contam-bench-mem"))
    ap.add_argument("--extra", default="", help="further build-filter flags, e.g. '--capacity N'")
    args = ap.parse_args()
    data = Path(args.data)
    env = {**os.environ, "PYTHONPATH": args.code, "CONTAM_PROGRESS": "0"}
    print(f"{'shape':<11} {'unit':<6} {'wall s':>7} {'CPU s':>6} {'MB/s':>6} {'peak MB':>8} "
          f"{'PSS MB':>7} {'filter MB':>9} {'peak-filter':>11}  code={args.code}")
    for shape in args.shapes.split(","):
        corpus = make_corpus(shape, args.mb, data)
        nbytes = text_bytes(corpus)
        out = data / f"{shape}.bloom"
        cmd = [sys.executable, os.path.join(args.code, "cli.py"), "build-filter", str(corpus),
               "-o", str(out), "--unit", args.unit, *args.extra.split()]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        wall, peak, pss, rc, cpu = run_tree(cmd, env)
        size = out.stat().st_size if out.exists() and not rc else 0
        print(f"{shape:<11} {args.unit:<6} {wall:7.1f} {cpu:6.1f} {nbytes / wall / 1e6:6.1f} "
              f"{peak / 1e6:8.0f} {pss / 1e6:7.0f} {size / 1e6:9.0f} {(peak - size) / 1e6:11.0f}"
              + (f"  FAILED rc={rc}" if rc else ""), flush=True)
        out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
