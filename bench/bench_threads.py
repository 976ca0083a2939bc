#!/usr/bin/env python
"""Where a build's time goes between its threads and processes, sampled from outside.

Runs one ``python cli.py build-filter ...`` as a user types it and samples, every 0.1 s, the CPU
seconds of each of its threads and the RSS of each process of its tree (psutil). At the end it
prints the busiest threads (user + system CPU seconds, as last sampled: a thread's last 0.1 s
may be missed) and each process's peak RSS. A build bound by one thread shows that thread's CPU
near the wall time; a build bound by the cores shows the CPU sum near cores x wall.

    python bench/bench_threads.py /tmp/contamkit-bench-e2e/corpus --capacity 49334541
    python bench/bench_threads.py CORPUS --layout classic --capacity N
    python bench/bench_threads.py CORPUS --scheduler local:1
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent


def sample(argv: list[str], every: float = 0.1) -> tuple[float, dict, dict]:
    """(wall seconds, {(pid, tid): (user, system)}, {pid: (name, peak RSS)}) of ``argv``."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    threads: dict[tuple[int, int], tuple[float, float]] = {}
    peaks: dict[int, tuple[str, int]] = {}
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            for p in [root, *root.children(recursive=True)]:
                rss = p.memory_info().rss
                peaks[p.pid] = (" ".join(p.cmdline()[1:3])[:60], max(rss, peaks.get(p.pid,
                                                                                (0, 0))[1]))
                for t in p.threads():
                    threads[(p.pid, t.id)] = (t.user_time, t.system_time)
        except psutil.Error:
            pass
        time.sleep(every)
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"the build failed:\n{proc.stderr.read()}")
    return wall, threads, peaks


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus")
    p.add_argument("--top", type=int, default=4, help="threads listed (default 4)")
    args, extra = p.parse_known_args()
    with tempfile.TemporaryDirectory() as tmp:
        wall, threads, peaks = sample([sys.executable, "cli.py", "build-filter", args.corpus,
                                       "-o", str(Path(tmp) / "f.bloom"), *extra])
    busy = sorted(threads.items(), key=lambda kv: -sum(kv[1]))
    total = sum(u + s for u, s in threads.values())
    print(f"wall {wall:.1f} s; CPU {total:.1f} s over {len(threads)} threads "
          f"in {len(peaks)} process(es)")
    for (pid, tid), (user, system) in busy[: args.top]:
        print(f"  thread {tid} of {pid}: {user + system:.1f} s (user {user:.1f}, "
              f"system {system:.1f})")
    print(f"  the other {max(len(busy) - args.top, 0)} threads: "
          f"{sum(sum(v) for _, v in busy[args.top:]):.1f} s")
    for pid, (name, rss) in peaks.items():
        print(f"  process {pid} ({name}): peak RSS {rss / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
