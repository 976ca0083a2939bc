"""Code-generation sets from their Hugging Face releases: HumanEval and MBPP.

lm-evaluation-harness scores these by running generated code against tests (pass@k), which
contamkit does not do: their task is ``lm``, the model's loss on the text checked for overlap
(the prompt and its canonical solution), a memorization signal. ``fields`` keep what an
execution-based evaluation needs, and ``prompt`` is lm-eval's ``doc_to_text``.
"""

from __future__ import annotations

from typing import Any

from contamkit.benchmarks.hf_release import HFSet, strings


def humaneval(row: dict, where: str) -> tuple[str, dict[str, Any]]:
    fields = {k: row[k] for k in ("task_id", "prompt", "canonical_solution", "test",
                                  "entry_point")}
    return row["prompt"] + row["canonical_solution"], fields


def mbpp(row: dict, where: str) -> tuple[str, dict[str, Any]]:
    tests = strings(row["test_list"], "test_list", where)
    prompt = (f"You are an expert Python programmer, and here is your task: {row['text']} "
              "Your code should pass these tests:\n\n" + "".join(t + "\n" for t in tests[:3])
              + "[BEGIN]\n")
    fields = {"task_id": row["task_id"], "prompt": prompt, "code": row["code"],
              "test_list": tests}
    return "\n".join([row["text"], row["code"], *tests]), fields


SETS = (
    HFSet("humaneval", "openai/openai_humaneval", "openai_humaneval", ("test",),
          {"task_id": str, "prompt": str, "canonical_solution": str, "test": str,
           "entry_point": str}, humaneval, "lm", "HumanEval (164 Python problems)",
          "one problem; fields task_id, prompt, canonical_solution, test, entry_point"),
    HFSet("mbpp", "google-research-datasets/mbpp", "full", ("train", "valid", "test"),
          {"task_id": int, "text": str, "code": str, "test_list": list}, mbpp, "lm",
          "MBPP, Mostly Basic Python Problems (full)",
          "one problem; fields task_id, prompt, code, test_list"),
)
BENCHMARKS = tuple(s.benchmark() for s in SETS)
