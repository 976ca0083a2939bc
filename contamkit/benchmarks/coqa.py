"""CoQA: conversational question answering over a story (Reddy et al. 2019), official json.

GPT-2 was evaluated on the dev set (the test set is hidden), which is therefore this
benchmark's default split. The ``stories`` variant gives one example per story (the unit the
paper checked for overlap with WebText); ``turns`` gives one per question, with the
conversation history that an evaluation conditions on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from contamkit.benchmarks.readers import load_json, require
from contamkit.benchmarks.spec import Benchmark, DataFile, Item, Remote, Variant
from contamkit.common.errors import UserError
from contamkit.common.progress import log

BASE_URL = "https://nlp.stanford.edu/data/coqa/"
# Recorded by HuggingFace datasets (coqa/dataset_infos.json); the dev one is also ParlAI's.
SHA256 = {
    "coqa-train-v1.0.json": "b0fdb2bc1bd38dd3ca2ce5fa2ac3e02c6288ac914f241ac409a655ffb6619fa6",
    "coqa-dev-v1.0.json": "dfa367a9733ce53222918d0231d9b3bedc2b8ee831a2845f62dfc70701f2540a",
}
FILES = {
    split: (DataFile(name, "coqa", Remote(BASE_URL + name, SHA256[name])),)
    for split, name in (("train", "coqa-train-v1.0.json"), ("valid", "coqa-dev-v1.0.json"))
}


def read_stories(paths: Sequence[Path], split: str) -> Iterator[Item]:
    for story in _stories(paths):
        fields = {k: story[k] for k in ("story", "questions", "answers", "source")}
        yield story["id"], story["story"], fields


def read_turns(paths: Sequence[Path], split: str) -> Iterator[Item]:
    """The text of a turn is its question; history holds the earlier turns' main answers."""
    for story in _stories(paths):
        history: list[dict[str, str]] = []
        turns = zip(story["questions"], story["answers"], strict=True)
        for turn, (question, answers) in enumerate(turns, 1):
            fields = {
                "story": story["story"],
                "history": list(history),
                "question": question,
                "answers": answers,
                "source": story["source"],
            }
            yield f"{story['id']}/{turn}", question, fields
            history.append({"question": question, "answer": answers[0]})


def _stories(paths: Sequence[Path]) -> Iterator[dict[str, Any]]:
    """Each story with its questions and, per question, the gold answers: the main answer,
    then the additional ones (aligned by position, as the official evaluation script does)."""
    (path,) = paths
    data = load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise UserError(f"{path}: not a CoQA file (no top-level 'data' list)")
    for n, story in enumerate(data["data"]):
        where = f"{path}: story {n}"
        story_id = require(story, "id", str, where)
        where = f"{path}: story {story_id}"
        questions = require(story, "questions", list, where)
        extra = story.get("additional_answers", {})
        if not isinstance(extra, dict):
            raise UserError(f"{where}: 'additional_answers' must be an object")
        answer_sets = [require(story, "answers", list, where), *extra.values()]
        for answers in answer_sets:
            if not isinstance(answers, list) or len(answers) != len(questions):
                raise UserError(f"{where}: answers do not line up with {len(questions)} questions")
        turns = [(q, [s[i] for s in answer_sets]) for i, q in enumerate(questions)]
        for i, (q, golds) in enumerate(turns, 1):
            _check_turn(f"{where} turn {i}", i, q, golds)
        yield {
            "id": story_id,
            "story": require(story, "story", str, where),
            "source": require(story, "source", str, where),
            "questions": [q["input_text"] for q, _ in turns],
            "answers": [[a["input_text"] for a in golds] for _, golds in turns],
        }


def _check_turn(where: str, turn: int, question: Any, golds: list[Any]) -> None:
    """Fields must be there; turn ids that disagree with the position only warn, as in the
    official evaluation script."""
    for record in (question, *golds):
        require(record, "input_text", str, where)
    ids = {question.get("turn_id"), *(a.get("turn_id") for a in golds)}
    if ids != {turn}:
        log.warning(f"{where}: turn ids {sorted(map(str, ids))} disagree with the position")


BENCHMARK = Benchmark(
    name="coqa",
    task="coqa",
    description="CoQA conversational QA, official json (GPT-2 used dev: split 'valid')",
    example="stories: one story; turns: one question with its history",
    variant_specs=(Variant("stories", read_stories, FILES), Variant("turns", read_turns, FILES)),
    default_split="valid",
)
