"""Benchmark registry: one loader per benchmark, reading its official file format.

    from benchmarks import load_benchmark
    for ex in load_benchmark("lambada"):          # split "test", OpenAI jsonl
        ex.id, ex.text, ex.fields["target"]

Files are found in an explicit path, the cache ($CONTAM_CACHE), or the shared data dir, or
downloaded (``download=True``) from the official URL with a checksum check. What an example
is for each benchmark, and its fields: benchmarks/README.md.
"""

from benchmarks.example import Example
from benchmarks.load import fetch_benchmark, load_benchmark, open_benchmark
from benchmarks.registry import benchmark_names, get_benchmark
from benchmarks.spec import Benchmark

__all__ = [
    "Benchmark",
    "Example",
    "benchmark_names",
    "fetch_benchmark",
    "get_benchmark",
    "load_benchmark",
    "open_benchmark",
]
