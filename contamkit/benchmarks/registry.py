"""The known benchmarks, by name."""

from __future__ import annotations

from contamkit.benchmarks import (
    char_lm,
    coqa,
    custom,
    generic,
    lambada,
    multiple_choice,
    programming,
    qa,
    sentences,
    webtext,
    wikitext,
    winograd,
)
from contamkit.benchmarks.spec import Benchmark
from contamkit.common.errors import UserError

REGISTRY: dict[str, Benchmark] = {
    b.name: b
    for b in (
        lambada.BENCHMARK,
        coqa.BENCHMARK,
        winograd.BENCHMARK,
        *wikitext.BENCHMARKS,
        sentences.PTB,
        *char_lm.BENCHMARKS,
        sentences.ONE_BILLION_WORD,
        webtext.BENCHMARK,
        *multiple_choice.BENCHMARKS,
        *qa.BENCHMARKS,
        *programming.BENCHMARKS,
        custom.BENCHMARK,
        generic.BENCHMARK,
    )
}
# Other names people write for the same sets.
ALIASES = {
    "wsc": "winograd",
    "wsc273": "winograd",
    "wikitext-2": "wikitext2",
    "wikitext-103": "wikitext103",
    "lm1b": "1bw",
    "arc-easy": "arc_easy",
    "arc-challenge": "arc_challenge",
    "truthful_qa": "truthfulqa",
    "truthfulqa_mc": "truthfulqa",
    "trivia_qa": "triviaqa",
    "openai_humaneval": "humaneval",
}


def benchmark_names() -> list[str]:
    return list(REGISTRY)


def get_benchmark(name: str) -> Benchmark:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in REGISTRY:
        raise UserError(f"unknown benchmark {name!r} (known: {', '.join(REGISTRY)})")
    return REGISTRY[key]
