"""Per-example evaluation of one benchmark family: rows that ``analysis.metrics`` sums.

Each evaluator takes the model, its tokenizer and a list of ``benchmarks.Example`` and returns
one dict per example (its ``id`` first). Every row has a ``loss``: the per-example quantity the
overlap regression uses (nats; per target word for LAMBADA, per token otherwise), None where
undefined (an empty document).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from contamkit.analysis.coqa_f1 import turn_f1
from contamkit.analysis.options import EvalOptions
from contamkit.benchmarks import Example
from contamkit.benchmarks.winograd import join_words
from contamkit.common.errors import UserError
from contamkit.common.progress import log, progress
from model.generate import generate
from model.gpt2 import GPT
from model.scoring import continuation_scores, token_logprobs
from model.tokenizer import Tokenizer

COQA_STOP = "\nQ:"  # the next question marker ends an answer (lm-evaluation-harness's coqa)


def split_pairs(tok: Tokenizer, pairs: list[tuple[str, str]]) -> list[tuple[list[int], list[int]]]:
    """Token ids of (context, continuation) pairs, cut from the encoding of the joined text
    (lm-evaluation-harness's rule: the continuation is scored as it is tokenized in context);
    where the joined encoding does not start with the context's, both are encoded apart."""
    joined = tok.encode_batch([c + x for c, x in pairs])
    contexts = tok.encode_batch([c for c, _ in pairs])
    out = []
    for (_, cont), whole, ctx in zip(pairs, joined, contexts, strict=True):
        if whole[:len(ctx)] == ctx and len(whole) > len(ctx):
            out.append((ctx, whole[len(ctx):]))
        else:
            out.append((ctx, tok.encode(cont)))
    return out


def evaluate_lambada(model: GPT, tok: Tokenizer, examples: list[Example],
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


def evaluate_winograd(model: GPT, tok: Tokenizer, examples: list[Example],
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


def evaluate_lm(model: GPT, tok: Tokenizer, examples: list[Example],
                opts: EvalOptions) -> list[dict]:
    """NLL of every token of each document, the first one predicted from <|endoftext|>,
    longer documents through a sliding window; words are whitespace-separated, bytes UTF-8."""
    sequences = [[tok.eot_id, *ids] for ids in tok.encode_batch([ex.text for ex in examples])]
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


def evaluate_coqa(model: GPT, tok: Tokenizer, examples: list[Example],
                  opts: EvalOptions) -> list[dict]:
    """Greedy answers, one turn at a time with a KV cache, stopped at the next question
    marker; official F1. ``loss`` is the NLL per token of the main gold answer."""
    turns = [(i, t) for i, ex in enumerate(examples) for t in coqa_turns(ex)]
    prompts = tok.encode_batch([coqa_prompt(t) for _, t in turns])
    room = model.config.block_size - opts.max_new_tokens
    cut = sum(len(p) > room for p in prompts)
    if cut:
        log.warning(f"coqa: {cut} of {len(prompts)} prompts exceed {room} tokens and lose the "
                    f"start of their story")
    predictions = []
    with progress(total=len(turns), desc="coqa", unit="turn") as bar:
        for prompt in prompts:
            new = generate(model, prompt, opts.max_new_tokens, stop_ids=[tok.eot_id],
                           stop_strings=[COQA_STOP], tokenizer=tok)
            predictions.append(tok.decode(new).strip())
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


Evaluator = Callable[[GPT, Tokenizer, list[Example], EvalOptions], list[dict]]
EVALUATORS: dict[str, Evaluator] = {
    "lambada": evaluate_lambada,
    "coqa": evaluate_coqa,
    "winograd": evaluate_winograd,
    "lm": evaluate_lm,
}

# What each task's per-example ``loss`` is (the y of the overlap regression).
LOSS_LABELS = {
    "lambada": "target NLL (nats per word)",
    "coqa": "gold-answer NLL (nats per token)",
    "winograd": "continuation NLL under the right option (nats per token)",
    "lm": "document NLL (nats per token)",
}


def evaluator_for(task: str) -> Evaluator:
    """The evaluator of a benchmark's declared task (``Benchmark.task``)."""
    if task not in EVALUATORS:
        raise UserError(f"no evaluator for task {task!r} (known: {', '.join(EVALUATORS)})")
    return EVALUATORS[task]
