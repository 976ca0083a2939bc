#!/usr/bin/env python
"""Scale-out figures, each beside its baseline from the same run (quoted in
contamkit/scale/README.md).

1. Build throughput on a Dask LocalCluster of 1 and 2 workers (cluster started beforehand and
   timed apart), beside the single-process build of ``overlap.build`` with 1 and 2 processes.
2. Out-of-core: peak RSS of builds whose filter is several times the memory they are allowed
   (``--max-memory``), beside the plain build of the same filter and an idle CLI process.
3. The capacity planner against real builds: n-grams, distinct n-grams, filter size and time
   predicted from the calibration sample, next to what the builds measured.
4. Plans for WebText (40 GB), OpenWebText (38 GB) and the Pile (825 GiB).

    python bench/bench_scale.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("CONTAM_PROGRESS", "0")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import psutil  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

from contamkit.common.atomic import write_json  # noqa: E402
from contamkit.common.parse import parse_size  # noqa: E402
from contamkit.common.paths import shared_data_dir  # noqa: E402
from contamkit.scale.executor import NO_DASHBOARD  # noqa: E402
from contamkit.scale.plan import Calibration, calibrate, estimate, format_size  # noqa: E402
from contamkit.scale.route import build_filter  # noqa: E402
from overlap.options import BuildOptions  # noqa: E402

TEXT_FILES = ["ptb/ptb.train.txt", "ptb/ptb.valid.txt", "ptb/ptb.test.txt",
              "wikitext-2/train.txt", "wikitext-2/valid.txt", "wikitext-2/test.txt",
              "wikitext-2-raw/wiki.test.raw", "wikitext-103/wiki.test.tokens",
              "lambada/lambada_test.jsonl", "lambada/lambada_test_plain_text.txt",
              "lambada/lambada_development_plain_text.txt", "webtext/webtext.train.jsonl",
              "webtext/webtext.test.jsonl", "webtext/webtext.valid.jsonl"]
PLANS = [("WebText", "40GB"), ("OpenWebText", "38GB"), ("The Pile", "825GiB")]


def all_text(tmp: Path) -> Path:
    """Every text file of the shared data, linked (not copied) into one corpus folder."""
    d = tmp / "all"
    d.mkdir()
    for name in TEXT_FILES:
        (d / name.replace("/", "__")).symlink_to(shared_data_dir() / name)
    return d


def own_cpu() -> list[float]:
    """CPU seconds of this process and of its finished children (overlap.build's workers)."""
    return [sum(resource.getrusage(who)[:2])
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]


def best_build(corpus: Path, out: Path, opts: BuildOptions, repeats: int, cpu) -> dict:
    """The fastest of ``repeats`` builds (the machine is shared: take the least disturbed), with
    the CPU seconds ``cpu()`` counted for it, per process."""
    runs = []
    for _ in range(repeats):
        before = cpu()
        s = build_filter(corpus, out, opts)
        s["cpu_seconds"] = [a - b for a, b in zip(cpu(), before, strict=True)]
        runs.append(s)
    return min(runs, key=lambda s: s["wall_seconds"])


def throughput(corpus: Path, tmp: Path, repeats: int) -> dict:
    """Wall-clock throughput, and CPU seconds per process: on a shared machine other jobs take
    cores away, and then only the CPU accounting shows how evenly the work is split."""
    rows = {}
    for workers in (1, 2):
        s = best_build(corpus, tmp / "plain.bloom", BuildOptions(workers=workers), repeats,
                       own_cpu)
        rows[f"overlap.build, {workers} process(es)"] = s
    for workers in (1, 2):
        clock = time.perf_counter()
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               silence_logs=logging.ERROR, **NO_DASHBOARD)
        client = Client(cluster, set_as_default=False)
        startup = time.perf_counter() - clock
        procs = [psutil.Process(pid) for pid in client.run(os.getpid).values()]
        opts = BuildOptions(scheduler=cluster.scheduler_address, shards=2)
        s = best_build(corpus, tmp / "dask.bloom", opts, repeats,
                       lambda procs=procs: own_cpu()[:1] + [sum(p.cpu_times()[:2])
                                                            for p in procs])
        s["cluster_startup_seconds"] = startup
        rows[f"Dask LocalCluster, {workers} worker(s)"] = s
        client.close()
        cluster.close()
    mb = corpus_mb(rows)
    print(f"\n1. Build throughput, {mb:.1f} MB of shared text, n = 8, fpr 1e-8, best of {repeats}"
          "\n   (CPU s: this process [+ its children | + each Dask worker]; MB per CPU s of the "
          "busiest worker = the rate free cores would give)")
    print(f"{'':34}{'MB/s':>6}{'wall s':>8}{'map':>6}{'count':>6}{'build':>6}  CPU s"
          f"{'MB/busiest-CPU-s':>30}")
    for label, s in rows.items():
        phases = "".join(f"{s[k]:>6.1f}" if k in s else f"{'':>6}"
                         for k in ("map_seconds", "count_seconds", "build_seconds"))
        cpu = " + ".join(f"{c:.1f}" for c in s["cpu_seconds"])
        busiest = f"{mb / max(s['cpu_seconds'][1:]):.2f}" if "Dask" in label else ""
        print(f"{label:34}{s['mb_per_second']:>6.2f}{s['wall_seconds']:>8.2f}{phases}  "
              f"{cpu:<22}{busiest:>13}")
    one, two = (rows[f"Dask LocalCluster, {w} worker(s)"] for w in (1, 2))
    base1, base2 = (rows[f"overlap.build, {w} process(es)"] for w in (1, 2))
    print(f"speed-up, 2 vs 1 Dask workers: wall x{two['mb_per_second'] / one['mb_per_second']:.2f}"
          f", busiest-worker CPU x{max(one['cpu_seconds'][1:]) / max(two['cpu_seconds'][1:]):.2f}"
          f" (overlap.build 2 vs 1 processes: wall "
          f"x{base2['mb_per_second'] / base1['mb_per_second']:.2f}); cluster start-up "
          f"{one['cluster_startup_seconds']:.1f} s / {two['cluster_startup_seconds']:.1f} s, "
          "not included")
    return {k: {"mb_per_second": v["mb_per_second"], "wall_seconds": v["wall_seconds"],
                "cpu_seconds": v["cpu_seconds"]} for k, v in rows.items()}


def corpus_mb(rows: dict) -> float:
    return next(iter(rows.values()))["bytes"] / 1e6


# A small launcher runs the command and reports its peak RSS: a child forked straight from
# this (large) process would count this process's pages in its own high-water mark.
_LAUNCHER = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")


def peak_rss(argv: list, log: Path) -> tuple[int, float]:
    """Peak RSS (bytes) and wall seconds of one Python run, as the kernel counted them."""
    clock = time.perf_counter()
    with open(log, "w") as f:
        r = subprocess.run([sys.executable, "-c", _LAUNCHER, sys.executable, *map(str, argv)],
                           cwd=REPO, stdout=subprocess.PIPE, stderr=f, text=True)
    kib, code = map(int, r.stdout.split()[-2:])
    if code:
        raise SystemExit(f"{' '.join(map(str, argv))} failed:\n{log.read_text()}")
    return kib * 1024, time.perf_counter() - clock


# the engine alone: hash the whole corpus on one core and keep nothing
_HASH_ONLY = ("import sys; from contamkit.corpus.formats import corpus_files, plan_tasks; "
              "from overlap.pipeline import HashRun, HashSpec; "
              "[None for _ in HashRun(plan_tasks(corpus_files(sys.argv[1]), 1), HashSpec(), 1)]")


def out_of_core(corpus: Path, tmp: Path) -> list[dict]:
    """Filters several times larger than the memory allowed, in one process (workers 1)."""
    tiny = tmp / "tiny.bloom"
    build_filter(shared_data_dir() / "ptb" / "ptb.test.txt", tiny, BuildOptions(workers=1))
    idle, _ = peak_rss(["cli.py", "info", tiny], tmp / "idle.log")
    engine, _ = peak_rss(["-c", _HASH_ONLY, corpus], tmp / "engine.log")
    cases = [  # --capacity makes filters far larger than the engine's own working set
        ("plain build, --capacity 1e8", ["--capacity", "100000000"], None),
        ("sharded, --capacity 1e8, --max-memory 64MiB", ["--capacity", "100000000"], "64MiB"),
        ("sharded, --capacity 4e8, --max-memory 64MiB", ["--capacity", "400000000"], "64MiB"),
        ("plain build, counted", [], None),
        ("sharded, counted, --max-memory 1MiB", [], "1MiB"),
    ]
    rows = []
    for label, extra, memory in cases:
        out = tmp / "ooc" / "f.bloom"
        limit = ["--shards", "0", "--max-memory", memory] if memory else []
        rss, wall = peak_rss(["cli.py", "build-filter", corpus, "-o", out, "--workers", "1",
                              *extra, *limit], tmp / "build.log")
        info = json.loads(subprocess.run([sys.executable, "cli.py", "info", out, "--json"],
                                         cwd=REPO, capture_output=True, text=True).stdout)
        rows.append({"case": label, "filter_bytes": info["size_bytes"],
                     "shards": info.get("shards", 1), "max_memory": memory,
                     "peak_rss": rss, "above_engine": rss - engine, "wall_seconds": wall})
    print(f"\n2. Out-of-core builds of the same corpus, one process. Peak RSS of an idle CLI "
          f"process (info): {format_size(idle)}; of hashing the corpus, keeping nothing (the "
          f"engine's working set): {format_size(engine)}")
    print(f"{'':46}{'filter':>11}{'shards':>7}{'peak RSS':>11}{'- engine':>11}{'wall s':>8}")
    for r in rows:
        print(f"{r['case']:46}{format_size(r['filter_bytes']):>11}{r['shards']:>7}"
              f"{format_size(r['peak_rss']):>11}{r['above_engine'] / 2**20:>+10.0f}M"
              f"{r['wall_seconds']:>8.1f}")
    return rows


def planner_validation(corpus: Path, tmp: Path, dask: dict, web: Calibration) -> list[dict]:
    """Sizes predicted from the WebText-sample calibration ``web``, and times predicted from it
    and from a calibration on the corpus itself, against in-process builds (one core)."""
    targets = {"PTB train": shared_data_dir() / "ptb" / "ptb.train.txt",
               "WikiText-2 train": shared_data_dir() / "wikitext-2" / "train.txt",
               "WebText sample": shared_data_dir() / "webtext" / "webtext.train.jsonl",
               "all shared text": corpus}
    rows = []
    for label, path in targets.items():
        s = build_filter(path, tmp / "v.bloom", BuildOptions(workers=1, shards=1,
                                                             max_memory=1 << 30))
        own = calibrate(path)
        plan, own_plan = (estimate(s["bytes"], 1e-8, 1, 1 << 30, c) for c in (web, own))
        rows.append({"corpus": label, "bytes": s["bytes"],
                     "ngrams": (plan.ngrams, s["ngrams"]),
                     "distinct": (plan.distinct, s["distinct"]),
                     "filter_bytes": (plan.filter_bytes, s["size_bytes"]),
                     "own_mb_per_second": own.map_bytes_per_second / 1e6,
                     "one_core_seconds": (plan.single_core_seconds,
                                          own_plan.single_core_seconds, s["wall_seconds"])})
    two = estimate(rows[-1]["bytes"], 1e-8, 2, 1 << 30, own)
    print(f"\n3. Planner against real builds. Sizes predicted from the WebText sample "
          f"(beta {web.growth:.4f}) / measured:")
    print(f"{'':20}{'MB':>7}{'n-grams':>22}{'distinct':>22}{'filter bytes':>22}")
    for r in rows:
        cells = "".join(f"{f'{a:.4g} / {b:.4g}':>22}" for a, b in
                        (r["ngrams"], r["distinct"], r["filter_bytes"]))
        print(f"{r['corpus']:20}{r['bytes'] / 1e6:>7.1f}{cells}")
    print(f"One-core build time predicted from the WebText calibration "
          f"({web.map_bytes_per_second / 1e6:.1f} MB/s to hash and spill) / from the corpus's "
          "own / measured:")
    for r in rows:
        t = r["one_core_seconds"]
        print(f"{r['corpus']:20}{r['own_mb_per_second']:>6.1f} MB/s{t[0]:>9.1f} /{t[1]:>6.1f} /"
              f"{t[2]:>6.1f} s")
    busiest = max(dask["cpu_seconds"][1:])
    print(f"all shared text on 2 Dask workers: predicted {two.wall_seconds:.1f} s; measured "
          f"{dask['wall_seconds']:.1f} s wall, {busiest:.1f} CPU s on the busiest worker")
    return rows


def big_plans(cal: Calibration) -> list[dict]:
    rows = []
    print("\n4. Plans (fpr 1e-8, n = 8, --max-memory 4GiB per worker; calibrated as above)")
    print(f"{'':14}{'corpus':>10}{'8-grams':>10}{'distinct':>10}{'filter':>11}{'workers':>8}"
          f"{'shards':>7}{'shard':>10}{'spill':>11}{'time':>10}")
    for name, size in PLANS:
        for workers in (1, 16, 64):
            p = estimate(parse_size(size), 1e-8, workers, 4 << 30, cal)
            rows.append({"corpus": name, "workers": workers, **p.__dict__})
            print(f"{name:14}{size:>10}{p.ngrams:>10.3g}{p.distinct:>10.3g}"
                  f"{format_size(p.filter_bytes):>11}{workers:>8}{p.shards:>7}"
                  f"{format_size(p.shard_bytes):>10}{format_size(p.spill_bytes):>11}"
                  f"{p.wall_seconds / 3600:>9.2f}h")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2, help="builds per throughput figure")
    ap.add_argument("--json", help="also write the raw figures to this file")
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores; load average at start {os.getloadavg()[0]:.1f} (other work "
          "on a shared machine slows every figure, parallel ones most)")
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as t:
        tmp = Path(t)
        corpus = all_text(tmp)
        speed = throughput(corpus, tmp, args.repeats)
        memory = out_of_core(corpus, tmp)
        web = calibrate()  # on the WebText sample: sizes in 3., every plan in 4.
        planner = planner_validation(corpus, tmp, speed["Dask LocalCluster, 2 worker(s)"], web)
        plans = big_plans(web)
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    if args.json:
        write_json(args.json, {"throughput": speed, "out_of_core": memory, "planner": planner,
                               "plans": plans})


if __name__ == "__main__":
    main()
