"""Benchmark registry: one loader per benchmark, reading its official file format.

    from contamkit.benchmarks import load_benchmark
    for ex in load_benchmark("lambada"):          # split "test", OpenAI jsonl
        ex.id, ex.text, ex.fields["target"]

Files are found in an explicit path, the cache ($CONTAM_CACHE), or the shared data dir, or
downloaded (``download=True``) from the official URL with a checksum check. What an example
is for each benchmark, and its fields: benchmarks/README.md.
"""

from contamkit.benchmarks.example import Example
from contamkit.benchmarks.load import fetch_benchmark, load_benchmark, open_benchmark
from contamkit.benchmarks.registry import benchmark_names, get_benchmark
from contamkit.benchmarks.spec import Benchmark

__all__ = [
    "Benchmark",
    "Example",
    "benchmark_names",
    "fetch_benchmark",
    "get_benchmark",
    "load_benchmark",
    "open_benchmark",
]
