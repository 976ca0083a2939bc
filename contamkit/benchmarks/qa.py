"""Open-answer sets from their Hugging Face releases: GSM8K, TriviaQA (rc.nocontext), SQuAD.

``fields`` follow the exact-match contract: ``question`` is the prompt as lm-evaluation-harness's
``doc_to_text`` writes it (0-shot), ``answer`` the one string a generation is compared with after
lm-eval-style normalization (GSM8K: the number after "####"; TriviaQA: the answer's value, with
every accepted alias in ``aliases``; SQuAD: the first reference answer, all in ``answers``).
The text checked for overlap holds the question and its full answer (GSM8K: the worked solution;
SQuAD: the passage too).
"""

from __future__ import annotations

from typing import Any

from contamkit.benchmarks.hf_release import HFSet, strings
from contamkit.common.errors import UserError

GSM8K_MARK = "#### "


def gsm8k(row: dict, where: str) -> tuple[str, dict[str, Any]]:
    question, solution = row["question"], row["answer"]
    if GSM8K_MARK not in solution:
        raise UserError(f"{where}: answer has no '{GSM8K_MARK.strip()}' final answer")
    final = solution.rsplit(GSM8K_MARK, 1)[1].strip()
    fields = {"question": f"Question: {question}\nAnswer:", "answer": final,
              "solution": solution}
    return f"{question}\n{solution}", fields


def triviaqa(row: dict, where: str) -> tuple[str, dict[str, Any]]:
    answer = row["answer"]
    value = answer.get("value")
    if not isinstance(value, str) or not value:
        raise UserError(f"{where}: answer.value must be a non-empty string (the test split "
                        "has no answers: use the validation split)")
    aliases = strings(answer.get("aliases"), "answer.aliases", where)
    fields = {"question": f"Question: {row['question']}?\nAnswer:", "answer": value,
              "aliases": aliases, "question_id": row["question_id"]}
    return f"{row['question']}\n{value}", fields


def squad(row: dict, where: str) -> tuple[str, dict[str, Any]]:
    answers = strings(row["answers"].get("text"), "answers.text", where)
    if not answers:
        raise UserError(f"{where}: no reference answer")
    # lm-eval's SQuAD v2 prompt (it has no v1 task); v1 questions always have an answer.
    prompt = (f"Title: {row['title']}\n\nBackground: {row['context']}\n\n"
              f"Question: {row['question']}\n\n Answer:")
    fields = {"question": prompt, "answer": answers[0], "answers": answers, "id": row["id"]}
    return f"{row['context']}\n{row['question']}\n{answers[0]}", fields


SETS = (
    HFSet("gsm8k", "openai/gsm8k", "main", ("train", "test"),
          {"question": str, "answer": str}, gsm8k, "exact_match",
          "GSM8K grade-school math word problems",
          "one problem; fields question (prompt), answer (final number), solution"),
    HFSet("triviaqa", "mandarjoshi/trivia_qa", "rc.nocontext", ("valid",),
          {"question": str, "question_id": str, "answer": dict}, triviaqa, "exact_match",
          "TriviaQA reading comprehension, no context (lm-eval: validation)",
          "one question; fields question (prompt), answer (value), aliases",
          default_split="valid"),
    HFSet("squad", "rajpurkar/squad", "plain_text", ("train", "valid"),
          {"id": str, "title": str, "context": str, "question": str, "answers": dict},
          squad, "exact_match", "SQuAD v1.1 reading comprehension",
          "one question; fields question (prompt with passage), answer, answers",
          default_split="valid"),
)
BENCHMARKS = tuple(s.benchmark() for s in SETS)
