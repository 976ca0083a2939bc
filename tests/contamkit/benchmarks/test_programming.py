"""HumanEval and MBPP: prompt + canonical solution is the text checked."""

from __future__ import annotations

from contamkit.benchmarks import load_benchmark
from tests.contamkit.benchmarks.conftest import hf_release_rows


def test_humaneval_text_is_prompt_then_solution(hf_release):
    (ex,) = load_benchmark("humaneval", path=hf_release)
    row = hf_release_rows()["humaneval"]["rows"][0]
    assert ex.text == row["prompt"] + row["canonical_solution"]
    assert ex.text.startswith("from typing import List\n\n\ndef has_close_elements(")
    assert ex.fields["entry_point"] == "has_close_elements"


def test_mbpp_prompt_is_lm_evals(hf_release):
    (ex,) = load_benchmark("mbpp", path=hf_release)
    assert ex.fields["prompt"] == (
        "You are an expert Python programmer, and here is your task: Write a python function "
        "to remove first and last occurrence of a given character from the string. Your code "
        "should pass these tests:\n\n"
        'assert remove_Occ("hello","l") == "heo"\nassert remove_Occ("abcda","a") == "bcd"\n'
        'assert remove_Occ("PHP","P") == "H"\n[BEGIN]\n')
    assert ex.text.startswith("Write a python function to remove first")
    assert 'return s \nassert remove_Occ("hello","l") == "heo"\n' in ex.text
