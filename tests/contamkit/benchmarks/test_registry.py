"""The registry's public surface: names, attributes, and the errors for bad names."""

from __future__ import annotations

import pytest

from contamkit.benchmarks import Example, benchmark_names, get_benchmark, load_benchmark
from contamkit.common.errors import UserError

ALL = [
    "lambada",
    "coqa",
    "winograd",
    "wikitext2",
    "wikitext103",
    "ptb",
    "text8",
    "enwik8",
    "1bw",
    "webtext",
]
# Today's sets, read from their Hugging Face releases (issue 21).
TODAY = ["mmlu", "hellaswag", "arc_easy", "arc_challenge", "truthfulqa", "winogrande", "gsm8k",
         "triviaqa", "squad", "humaneval", "mbpp"]


def test_every_benchmark_of_the_issue_is_registered():
    # jsonl: a user's own file; hf: any local dataset with a text template
    assert sorted(benchmark_names()) == sorted([*ALL, *TODAY, "jsonl", "hf"])


def test_each_benchmark_declares_its_task():
    tasks = {n: get_benchmark(n).task for n in benchmark_names()}
    assert {n: tasks[n] for n in ("lambada", "coqa", "winograd", "winogrande", "ptb")} == {
        "lambada": "lambada", "coqa": "coqa", "winograd": "winograd",
        "winogrande": "winograd", "ptb": "lm"}
    assert {n for n in TODAY if tasks[n] == "multiple_choice"} == {
        "mmlu", "hellaswag", "arc_easy", "arc_challenge", "truthfulqa"}
    assert {n for n in TODAY if tasks[n] == "exact_match"} == {"gsm8k", "triviaqa", "squad"}


def test_benchmark_attributes():
    lam = get_benchmark("lambada")
    assert (lam.name, lam.default_split, lam.variants) == ("lambada", "test", ("openai", "plain"))
    assert lam.splits == ("valid", "test")
    coqa = get_benchmark("coqa")
    assert (coqa.default_split, coqa.splits, coqa.variants) == (
        "valid",
        ("train", "valid"),
        ("stories", "turns"),
    )
    assert get_benchmark("1bw").splits == ("train", "test")
    assert get_benchmark("text8").splits == ("train", "valid", "test")
    assert all(get_benchmark(n).description for n in ALL)


def test_aliases_and_case():
    assert get_benchmark("WSC273").name == "winograd"
    assert get_benchmark("wikitext-103").name == "wikitext103"


def test_unknown_benchmark_lists_the_known_ones():
    with pytest.raises(UserError) as e:
        get_benchmark("squad_v2")
    assert "unknown benchmark 'squad_v2'" in str(e.value)
    assert all(n in str(e.value) for n in ALL)


def test_unknown_split_and_variant_say_what_exists():
    with pytest.raises(
        UserError, match=r"lambada \(openai\): no split 'train' \(available: test\)"
    ):
        load_benchmark("lambada", "train")
    with pytest.raises(UserError, match=r"unknown variant 'csv' \(known: jsonl, xml\)"):
        load_benchmark("winograd", variant="csv")


def test_split_aliases(shared_data):
    dev = load_benchmark("lambada", "dev", variant="plain")
    assert len(dev) == 4869 and dev[0].id == "lambada/valid/00000"


def test_example_is_frozen():
    ex = Example("x/test/00000", "text", {"a": 1})
    with pytest.raises(AttributeError):
        ex.text = "other"  # type: ignore[misc]
