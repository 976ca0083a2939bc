"""Per-example evaluation of one benchmark family: rows that ``analysis.metrics`` sums.

Each evaluator takes the model (this toolkit's GPT-2 or any Hugging Face causal LM, see
``model.hf``), its tokenizer and a list of ``benchmarks.Example`` and returns one dict per
example (its ``id`` first). Every row has a ``loss``: the per-example quantity the overlap
regression uses (nats; per target word for LAMBADA, per token otherwise), None where undefined
(an empty document). Protocols follow lm-evaluation-harness: contexts are tokenized with the
model's own tokenizer (and its BOS where it adds one), a continuation is cut from the encoding
of the joined text, and multiple choice and exact match use its definitions (see each function).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from contamkit.analysis.coqa_f1 import normalize_answer, turn_f1
from contamkit.analysis.options import EvalOptions
from contamkit.benchmarks import Example
from contamkit.benchmarks.winograd import join_words
from contamkit.common.errors import UserError
from contamkit.common.progress import log, progress
from model.generate import generate
from model.scoring import LM, continuation_scores, token_logprobs
from model.tokenizer import Tokenizer

COQA_STOP = "\nQ:"  # the next question marker ends an answer (lm-evaluation-harness's coqa)
COQA_MAX_NEW = 32


def split_pairs(tok: Tokenizer, pairs: list[tuple[str, str]]) -> list[tuple[list[int], list[int]]]:
    """Token ids of (context, continuation) pairs as lm-evaluation-harness cuts them: spaces
    that end a context move to the continuation, the continuation is scored as it is tokenized
    in the joined text, and the tokenizer's own prefix (a BOS) starts every context. Where the
    joined encoding does not start with the context's, both are encoded apart."""
    moved = []
    for ctx, cont in pairs:
        kept = ctx.rstrip()
        moved.append((kept, ctx[len(kept):] + cont) if kept else (ctx, cont))
    joined = tok.encode_batch([c + x for c, x in moved])
    contexts = tok.encode_batch([c for c, _ in moved])
    prefix = list(tok.context_prefix)
    out = []
    for (_, cont), whole, ctx in zip(moved, joined, contexts, strict=True):
        if whole[:len(ctx)] == ctx and len(whole) > len(ctx):
            out.append((prefix + ctx, whole[len(ctx):]))
        else:
            out.append((prefix + ctx, tok.encode(cont)))
    return out


def evaluate_lambada(model: LM, tok: Tokenizer, examples: list[Example],
                     opts: EvalOptions) -> list[dict]:
    """lambada_openai: log-likelihood of " " + last word given the passage before it; correct
    when every target token is the greedy choice."""
    pairs = split_pairs(tok, [(ex.fields["context"], ex.fields["target"]) for ex in examples])
    scores = continuation_scores(model, [c for c, _ in pairs], [t for _, t in pairs],
                                 opts.batch_size)
    rows = []
    for ex, (logprobs, greedy) in zip(examples, scores, strict=True):
        nll = -float(logprobs.sum(dtype=np.float64))
        rows.append({"id": ex.id, "target": ex.fields["target"], "tokens": len(logprobs),
                     "nll": nll, "correct": int(greedy), "loss": nll})
    return rows


def evaluate_winograd(model: LM, tok: Tokenizer, examples: list[Example],
                      opts: EvalOptions) -> list[dict]:
    """Partial scoring (Trinh & Le): the option under which the shared continuation is more
    likely wins."""
    if any("options" not in ex.fields for ex in examples):
        raise UserError("winograd: partial scoring needs the jsonl variant (fields 'options')")
    pairs = split_pairs(tok, [(opt, join_words(opt, ex.fields["continuation"])[len(opt):])
                              for ex in examples for opt in ex.fields["options"]])
    scores = continuation_scores(model, [c for c, _ in pairs], [t for _, t in pairs],
                                 opts.batch_size)
    rows = []
    for i, ex in enumerate(examples):
        option_lps = [scores[2 * i][0], scores[2 * i + 1][0]]
        sums = [float(lp.sum(dtype=np.float64)) for lp in option_lps]
        pred, label = int(np.argmax(sums)), ex.fields["label"]
        rows.append({"id": ex.id, "logprobs": sums, "tokens": [len(lp) for lp in option_lps],
                     "pred": pred, "label": label, "correct": int(pred == label),
                     "loss": -sums[label] / len(option_lps[label])})
    return rows


def evaluate_lm(model: LM, tok: Tokenizer, examples: list[Example],
                opts: EvalOptions) -> list[dict]:
    """NLL of every token of each document, the first one predicted from <|endoftext|> (an HF
    model: its BOS, else EOS),
    longer documents through a sliding window; words are whitespace-separated, bytes UTF-8."""
    sequences = [[tok.prefix_id, *ids] for ids in tok.encode_batch([ex.text for ex in examples])]
    logprobs = token_logprobs(model, sequences, opts.batch_size, stride=opts.stride)
    rows = []
    for ex, lp in zip(examples, logprobs, strict=True):
        nll = -float(lp.sum(dtype=np.float64))
        rows.append({"id": ex.id, "nll": nll, "tokens": len(lp), "words": len(ex.text.split()),
                     "bytes": len(ex.text.encode("utf-8")),
                     "loss": nll / len(lp) if len(lp) else None})
    return rows


def coqa_turns(ex: Example) -> list[dict]:
    """The turns of a CoQA example (a story, or one turn of the ``turns`` variant), each with
    the gold history of the turns before it."""
    f = ex.fields
    if "questions" not in f:  # one turn, history given
        return [{"story": f["story"], "history": f["history"], "question": f["question"],
                 "answers": f["answers"]}]
    history, turns = [], []
    for question, answers in zip(f["questions"], f["answers"], strict=True):
        turns.append({"story": f["story"], "history": list(history), "question": question,
                      "answers": answers})
        history.append({"question": question, "answer": answers[0]})
    return turns


def coqa_prompt(turn: dict) -> str:
    """Story, then the earlier questions and answers, then "Q: question\\n\\nA:" (the
    conditioning of GPT-2's paper, in lm-evaluation-harness's layout)."""
    past = "".join(f"Q: {h['question']}\n\nA: {h['answer']}\n\n" for h in turn["history"])
    return f"{turn['story']}\n\n{past}Q: {turn['question']}\n\nA:"


def evaluate_coqa(model: LM, tok: Tokenizer, examples: list[Example],
                  opts: EvalOptions) -> list[dict]:
    """Greedy answers, one turn at a time with a KV cache, stopped at the next question
    marker and cut at the first line break (lm-evaluation-harness's coqa); official F1.
    ``loss`` is the NLL per token of the main gold answer."""
    turns = [(i, t) for i, ex in enumerate(examples) for t in coqa_turns(ex)]
    prefix = list(tok.context_prefix)
    prompts = [prefix + p for p in tok.encode_batch([coqa_prompt(t) for _, t in turns])]
    max_new = opts.max_new_tokens or COQA_MAX_NEW
    room = model.config.block_size - max_new
    cut = sum(len(p) > room for p in prompts)
    if cut:
        log.warning(f"coqa: {cut} of {len(prompts)} prompts exceed {room} tokens and lose the "
                    f"start of their story")
    predictions = []
    with progress(total=len(turns), desc="coqa", unit="turn") as bar:
        for prompt in prompts:
            new = generate(model, prompt, max_new, stop_ids=[tok.eot_id],
                           stop_strings=[COQA_STOP], tokenizer=tok)
            predictions.append(tok.decode(new).strip().split("\n")[0])
            bar.update(1)
    golds = [tok.encode(" " + t["answers"][0]) for _, t in turns]
    gold_scores = continuation_scores(model, prompts, golds, opts.batch_size)
    rows = [{"id": ex.id, "turns": 0, "f1_sum": 0.0, "f1": [], "predictions": [], "nll": 0.0,
             "gold_tokens": 0} for ex in examples]
    for (i, turn), pred, (lp, _) in zip(turns, predictions, gold_scores, strict=True):
        row, f1 = rows[i], turn_f1(turn["answers"], pred)
        row["turns"] += 1
        row["f1_sum"] += f1
        row["f1"].append(f1)
        row["predictions"].append(pred)
        row["nll"] -= float(lp.sum(dtype=np.float64))
        row["gold_tokens"] += len(lp)
    for row, ex in zip(rows, examples, strict=True):
        row["source"] = ex.fields.get("source")
        row["loss"] = row["nll"] / row["gold_tokens"] if row["gold_tokens"] else None
    return rows


def evaluate_multiple_choice(model: LM, tok: Tokenizer, examples: list[Example],
                             opts: EvalOptions) -> list[dict]:
    """lm-evaluation-harness's multiple choice: the log-likelihood of each choice (the target
    delimiter included) after the query; ``acc`` takes the highest, ``acc_norm`` the highest
    per character of the choice as lm-eval counts it (the delimiter left out)."""
    for ex in examples:
        f = ex.fields
        if not (isinstance(f.get("choices"), list) and f["choices"] and "query" in f
                and isinstance(f.get("gold"), int) and 0 <= f["gold"] < len(f["choices"])):
            raise UserError(f"{ex.id}: a multiple-choice example needs fields query, choices "
                            f"and gold (an index into choices)")
    pairs = split_pairs(tok, [(ex.fields["query"], c) for ex in examples
                              for c in ex.fields["choices"]])
    scores = iter(continuation_scores(model, [c for c, _ in pairs], [t for _, t in pairs],
                                      opts.batch_size))
    rows = []
    for ex in examples:
        choices, gold = ex.fields["choices"], ex.fields["gold"]
        option_lps = [next(scores)[0] for _ in choices]
        lls = np.array([float(lp.sum(dtype=np.float64)) for lp in option_lps])
        delimiter = ex.fields.get("target_delimiter", " ")
        chars = np.array([float(len(c.removeprefix(delimiter))) for c in choices])
        pred, pred_norm = int(np.argmax(lls)), int(np.argmax(lls / chars))
        rows.append({"id": ex.id, "logprobs": lls.tolist(),
                     "tokens": [len(lp) for lp in option_lps], "pred": pred,
                     "pred_norm": pred_norm, "gold": gold, "acc": int(pred == gold),
                     "acc_norm": int(pred_norm == gold),
                     "loss": float(-lls[gold] / len(option_lps[gold]))})
    return rows


@dataclass(frozen=True)
class AnswerRule:
    """How lm-evaluation-harness's task YAML stops, extracts and compares a generated answer.

    ``strict`` and ``flexible`` are (regex, which match: 0 the first, -1 the last), the two
    filters of lm-eval's gsm8k; None takes the whole answer, leading spaces stripped (its
    ``remove_whitespace``). ``normalize`` is applied to both sides before comparing.
    """

    stop: tuple[str, ...]
    max_new_tokens: int
    normalize: Callable[[str], str]
    strict: tuple[str, int] | None = None
    flexible: tuple[str, int] | None = None


def gsm8k_normalize(text: str) -> str:
    """gsm8k's exact_match: drop commas, dollar signs, everything up to "#### " and a final
    period, then lower-case."""
    for pattern in (",", r"\$", r"(?s).*#### ", r"\.$"):
        text = re.sub(pattern, "", text)
    return text.lower()


def triviaqa_normalize(text: str) -> str:
    """triviaqa's exact_match: lower-case, ASCII punctuation removed."""
    return text.lower().translate(str.maketrans("", "", string.punctuation))


INVALID = "[invalid]"  # lm-eval's regex filter fallback
# Keyed by benchmark name; an exact-match benchmark not listed gets GSM8K's rule.
ANSWER_RULES: dict[str, AnswerRule] = {
    "gsm8k": AnswerRule(("Question:", "</s>", "<|im_end|>"), 256, gsm8k_normalize,
                        strict=(r"#### (\-?[0-9\.\,]+)", 0),
                        flexible=(r"(-?[$0-9.,]{2,})|(-?[0-9]+)", -1)),
    "triviaqa": AnswerRule(("\n", ".", ","), 32, triviaqa_normalize),
    "squad": AnswerRule(("\n",), 32, normalize_answer),  # the official SQuAD normalization
}


def answer_rule(example_id: str) -> AnswerRule:
    """The rule of the benchmark an example id ("<benchmark>/<split>/<key>") names."""
    return ANSWER_RULES.get(example_id.split("/", 1)[0], ANSWER_RULES["gsm8k"])


def extract_answer(text: str, how: tuple[str, int] | None) -> str:
    """lm-eval's regex filter (a tuple match takes its first non-empty group), or the text."""
    if how is None:
        return text.lstrip()
    matches = re.findall(how[0], text)
    if not matches:
        return INVALID
    match = matches[how[1]]
    if isinstance(match, tuple):
        match = next((m for m in match if m), INVALID)
    return match.strip()


def evaluate_exact_match(model: LM, tok: Tokenizer, examples: list[Example],
                         opts: EvalOptions) -> list[dict]:
    """Greedy generation after ``question`` until the rule's stop strings, then the extracted
    answer against ``answer`` (and any ``aliases``/``answers``) after normalization.
    ``exact_match`` uses the strict extraction, ``exact_match_flexible`` the flexible one;
    ``loss`` is the NLL per token of " " + answer right after the prompt. The rule is the
    benchmark's (named by the example id's first part)."""
    for ex in examples:
        if not (isinstance(ex.fields.get("question"), str)
                and isinstance(ex.fields.get("answer"), str)):
            raise UserError(f"{ex.id}: an exact-match example needs string fields question "
                            f"and answer")
    prefix = list(tok.context_prefix)
    prompts = [prefix + p for p in tok.encode_batch([ex.fields["question"] for ex in examples])]
    golds = [tok.encode(" " + ex.fields["answer"]) for ex in examples]
    gold_scores = continuation_scores(model, prompts, golds, opts.batch_size)
    rows = []
    with progress(total=len(examples), desc="generate", unit="answer") as bar:
        for ex, prompt, (lp, _) in zip(examples, prompts, gold_scores, strict=True):
            rule = answer_rule(ex.id)
            new = generate(model, prompt, opts.max_new_tokens or rule.max_new_tokens,
                           stop_ids=[tok.eot_id],
                           stop_strings=list(rule.stop), tokenizer=tok)
            text = tok.decode(new)
            f = ex.fields
            accepted = {rule.normalize(a) for a in [f["answer"], *f.get("aliases", ()),
                                                    *f.get("answers", ())]}
            strict, flexible = extract_answer(text, rule.strict), extract_answer(text,
                                                                                  rule.flexible)
            nll = -float(lp.sum(dtype=np.float64))
            rows.append({"id": ex.id, "generation": text, "extracted": strict,
                         "extracted_flexible": flexible, "answer": f["answer"],
                         "exact_match": int(rule.normalize(strict) in accepted),
                         "exact_match_flexible": int(rule.normalize(flexible) in accepted),
                         "nll": nll, "tokens": len(lp), "loss": nll / len(lp)})
            bar.update(1)
    return rows


Evaluator = Callable[[LM, Tokenizer, list[Example], EvalOptions], list[dict]]
EVALUATORS: dict[str, Evaluator] = {
    "lambada": evaluate_lambada,
    "coqa": evaluate_coqa,
    "winograd": evaluate_winograd,
    "lm": evaluate_lm,
    "multiple_choice": evaluate_multiple_choice,
    "exact_match": evaluate_exact_match,
}

# What each task's per-example ``loss`` is (the y of the overlap regression).
LOSS_LABELS = {
    "lambada": "target NLL (nats per word)",
    "coqa": "gold-answer NLL (nats per token)",
    "winograd": "continuation NLL under the right option (nats per token)",
    "lm": "document NLL (nats per token)",
    "multiple_choice": "gold-choice NLL (nats per token)",
    "exact_match": "gold-answer NLL after the prompt (nats per token)",
}


def evaluator_for(task: str) -> Evaluator:
    """The evaluator of a benchmark's declared task (``Benchmark.task``)."""
    if task not in EVALUATORS:
        raise UserError(f"no evaluator for task {task!r} (known: {', '.join(EVALUATORS)})")
    return EVALUATORS[task]
