"""MMLU, HellaSwag, ARC, TruthfulQA and Winogrande read from parquet files in their release's
schema, with lm-eval's prompts written out here by hand."""

from __future__ import annotations

from contamkit.benchmarks import get_benchmark, load_benchmark
from contamkit.benchmarks.multiple_choice import TRUTHFULQA_PROMPT


def test_mmlu_ids_group_by_subject_and_fields_follow_lm_eval(hf_release):
    examples = load_benchmark("mmlu", path=hf_release)
    assert [e.id for e in examples] == ["mmlu/test/abstract_algebra/00000",
                                        "mmlu/test/abstract_algebra/00001",
                                        "mmlu/test/anatomy/00000"]
    assert examples[1].fields["query"] == (
        "The following are multiple choice questions (with answers) about abstract algebra.\n\n"
        "Which of the following statements about the symmetric group S_3 is true?\n"
        "A. It is cyclic\nB. It is abelian\nC. It has order 6\nD. It has order 3\nAnswer:")
    assert examples[1].fields["choices"] == [" A", " B", " C", " D"]
    assert examples[1].fields["gold"] == 2
    assert examples[2].text == ("The longest bone in the human body, running from the hip to "
                                "the knee, is called the\ntibia\nfemur\nhumerus\nfibula")
    assert get_benchmark("mmlu").task == "multiple_choice"


def test_hellaswag_preprocess_and_text(hf_release):
    examples = load_benchmark("hellaswag", path=hf_release)  # default split: valid
    assert [e.id for e in examples] == [f"hellaswag/valid/0000{i}" for i in range(3)]
    first, _, wikihow = examples
    assert first.fields["query"] == "Roof shingle removal: A man is sitting on a roof. He"
    assert first.fields["choices"][3] == " starts pulling up roofing on a roof."
    assert first.fields["gold"] == 3
    assert first.text == "A man is sitting on a roof. he starts pulling up roofing on a roof."
    # "[title]" becomes a sentence break, other brackets vanish, "  " becomes " "
    assert wikihow.fields["query"] == ("Home and Garden: How to keep a garden hose from "
                                       "kinking. Store the hose on a reel.")
    # lm-eval strips before removing "[step]", so the space after it stays: "  A reel ..."
    assert wikihow.fields["choices"][0] == "  A reel keeps the hose in loose loops."


def test_arc_gold_from_answer_key_with_letter_or_digit_labels(hf_release):
    easy = load_benchmark("arc_easy", path=hf_release)
    assert [e.fields["gold"] for e in easy] == [2, 0]
    assert easy[0].fields["query"].startswith("Question: An astronomer observes")
    assert easy[0].fields["query"].endswith("in rotation?\nAnswer:")
    assert easy[1].fields["choices"][0] == " cellular telephone"
    assert easy[1].fields["id"] == "MCAS_2000_4_6"
    challenge = load_benchmark("arc-challenge", path=hf_release)
    assert [e.id for e in challenge] == ["arc_challenge/test/00000"]


def test_truthfulqa_mc1_prompt_and_gold_first(hf_release):
    examples = load_benchmark("truthfulqa", path=hf_release)
    q = examples[1].fields["query"]
    assert q.startswith("Q: What is human life expectancy in the United States?\nA: Human")
    assert q.endswith("A: The 1992 Olympics were held in Barcelona, Spain.\n\n"
                      "Q: Why do veins appear blue?\nA:")
    assert TRUTHFULQA_PROMPT.count("\n\n") == 5  # six question/answer pairs
    assert examples[0].fields["gold"] == 0
    assert examples[0].fields["choices"][1] == " You grow watermelons in your stomach."
    assert examples[0].fields["mc2_labels"] == [1, 1, 0]


def test_winogrande_partial_scoring_fields(hf_release):
    examples = load_benchmark("winogrande", path=hf_release)
    ian = examples[2]
    assert ian.fields == {
        "options": ["Ian volunteered to eat Dennis's menudo after already having a bowl "
                    "because Ian",
                    "Ian volunteered to eat Dennis's menudo after already having a bowl "
                    "because Dennis"],
        "continuation": "despised eating intestine.",
        "label": 1,
    }
    assert ian.text == ("Ian volunteered to eat Dennis's menudo after already having a bowl "
                        "because Dennis despised eating intestine.")
    assert get_benchmark("winogrande").task == "winograd"
    # the scored part ends the text, as overlap's scored-part marking needs
    assert get_benchmark("winogrande").scored_field == "continuation"
    assert all(e.text.endswith(e.fields["continuation"]) for e in examples)
