#!/usr/bin/env python
"""Start-up of the CLI as a user meets it: seconds from launch to the first progress update.

For ``build-filter`` (a 4 MB generated corpus) and ``overlap`` (PTB's test set against that
filter), each run as its own process exactly as typed, twice: **cold** (an empty numba cache:
every kernel the command needs is compiled) and **warm** (the cache that run left; median of
``--repeat`` runs). It prints, per run: seconds to the progress bar's first frame, to its first
update with work done (a count above 0), to the end, and the process's CPU seconds (user + sys:
wall times on a loaded machine are noisy, CPU times less so; "CPU s by then" is what the
process had used at its first update, what an idle core would take).

The cache is ``NUMBA_CACHE_DIR`` pointed at a fresh folder, which is what the cold runs empty;
without it numba caches next to the package, or, where that is read-only (a non-editable
install), in the user's cache folder (``~/.cache/numba``).

    nice python bench/bench_startup.py
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
_FRAME = re.compile(r"^\s*([^:|]+):.*?\|\s*([\d.]+)[kMGTP]?/")


def _corpus(folder: Path) -> Path:
    rng = np.random.default_rng(3)
    vocabulary = np.array([f"w{i}" for i in range(20_000)])
    path = folder / "corpus.txt"
    lines = (" ".join(vocabulary[rng.integers(0, len(vocabulary), 12)]) for _ in range(100_000))
    path.write_text("\n".join(lines))
    return path


def timed_run(cmd: list[str], env: dict, bar: str) -> dict:
    """Seconds to the first frame of the progress bar ``bar``, to its first frame with work
    done (and the CPU seconds the process had used by then), to the end; CPU seconds of the
    whole run."""
    start = time.perf_counter()
    proc = psutil.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        cwd=ROOT)
    marks: dict[str, float] = {}
    tail: list[bytes] = []

    def watch() -> None:
        buf = b""
        while chunk := proc.stderr.read1(4096):
            now = time.perf_counter() - start
            buf += chunk
            tail.append(chunk)
            frames = re.split(rb"[\r\n]", buf)
            buf = frames.pop()
            for frame in frames:
                match = _FRAME.search(frame.decode(errors="replace"))
                if match and match.group(1).strip() == bar:
                    marks.setdefault("bar", now)
                    if float(match.group(2)) > 0 and "update" not in marks:
                        marks["update"] = now
                        with contextlib.suppress(psutil.Error):
                            cpu = proc.cpu_times()
                            marks["update_cpu"] = cpu.user + cpu.system

    reader = threading.Thread(target=watch)
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    reader.join()
    if os.waitstatus_to_exitcode(status):
        sys.stderr.write(b"".join(tail).decode(errors="replace")[-2000:])
        raise SystemExit(f"failed: {' '.join(cmd)}")
    nan = float("nan")
    return {"bar": marks.get("bar", nan), "update": marks.get("update", nan),
            "update_cpu": marks.get("update_cpu", nan), "end": wall,
            "cpu": usage.ru_utime + usage.ru_stime}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="warm runs (median)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        corpus = _corpus(folder)
        cache = folder / "numba-cache"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_CACHE_DIR": str(cache),
               "CONTAM_PROGRESS": "1"}
        bloom = folder / "c.bloom"
        commands = {  # name: (main progress bar, command)
            "build-filter": ("building", [sys.executable, "cli.py", "build-filter",
                                          str(corpus), "-o", str(bloom)]),
            "overlap": ("ptb", [sys.executable, "cli.py", "overlap", "--bench", "ptb",
                                "--filter", str(bloom), "--out", str(folder / "overlap")]),
        }
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{'command':<13} {'cache':<5} {'first bar s':>11} {'first update s':>14} "
              f"{'CPU s by then':>13} {'end s':>6} {'CPU s':>6}")
        for name, (bar, cmd) in commands.items():
            for label, runs in (("cold", 1), ("warm", args.repeat)):
                results = []
                for _ in range(runs):
                    if label == "cold":
                        subprocess.run(["rm", "-rf", str(cache)], check=True)
                    results.append(timed_run(cmd, env, bar))
                row = {k: statistics.median(r[k] for r in results) for k in results[0]}
                print(f"{name:<13} {label:<5} {row['bar']:11.2f} {row['update']:14.2f} "
                      f"{row['update_cpu']:13.2f} {row['end']:6.2f} {row['cpu']:6.2f}",
                      flush=True)
        print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
