"""GSM8K, TriviaQA and SQuAD: the exact-match contract (prompt, answer)."""

from __future__ import annotations

from contamkit.benchmarks import get_benchmark, load_benchmark


def test_gsm8k_answer_is_the_number_after_the_mark_and_text_holds_the_solution(hf_release):
    examples = load_benchmark("gsm8k", path=hf_release)
    assert [e.fields["answer"] for e in examples] == ["12", "45"]
    assert examples[1].fields["question"] == ("Question: Tom buys 3 books that cost $15 each. "
                                              "How many dollars does he spend?\nAnswer:")
    assert examples[1].text.endswith("He spends 3 * 15 = <<3*15=45>>45 dollars.\n#### 45")
    assert get_benchmark("gsm8k").task == "exact_match"
    for name in ("gsm8k", "triviaqa", "squad"):  # the answer, the scored part, ends the text
        assert get_benchmark(name).scored_field == "answer"
        assert all(e.text.endswith(e.fields["answer"])
                   for e in load_benchmark(name, path=hf_release))


def test_triviaqa_prompt_adds_question_mark_and_keeps_aliases(hf_release):
    (first, second) = load_benchmark("triviaqa", path=hf_release)
    assert first.id == "triviaqa/valid/00000"
    assert first.fields["question"] == ("Question: Which Lloyd Webber musical premiered in the "
                                        "US on 10th December 1993?\nAnswer:")
    assert first.fields["answer"] == "Sunset Boulevard"
    assert first.fields["aliases"] == ["Sunset Blvd", "Sunset Boulevard"]
    assert second.text == "Who was the man behind The Chipmunks\nDavid Seville"


def test_squad_prompt_holds_the_passage(hf_release):
    examples = load_benchmark("squad", "validation", path=hf_release)
    second = examples[1]
    assert second.fields["answer"] == "2015 season"
    assert second.fields["answers"] == ["2015 season", "the 2015 season"]
    assert second.fields["question"] == (
        "Title: Super_Bowl_50\n\nBackground: Super Bowl 50 was an American football game to "
        "determine the champion of the National Football League (NFL) for the 2015 season.\n\n"
        "Question: Which season did Super Bowl 50 determine the champion for?\n\n Answer:")
    assert second.text.endswith("\nWhich season did Super Bowl 50 determine the champion "
                                "for?\n2015 season")
