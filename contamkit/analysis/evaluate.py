"""``evaluate``: a model on a benchmark split, one JSON line per example.

The model is this toolkit's checkpoint or any local Hugging Face causal-LM directory
(``model.hf``: config.json + weights + tokenizer files), scored by the same evaluators.

Writes ``examples.jsonl`` (ids as the benchmark registry gives them, the same ids an
``overlap`` run writes) and ``summary.json`` (benchmark, split, variant, model, tokenizer,
metric values, example count, options), which ``analyze`` checks against the overlap run.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from contamkit.analysis.evaluators import evaluator_for
from contamkit.analysis.metrics import TASK_METRICS, summarize
from contamkit.analysis.options import EvalOptions
from contamkit.analysis.runs import EXAMPLES, SUMMARY
from contamkit.benchmarks import open_benchmark
from contamkit.common.atomic import write_json, write_jsonl
from contamkit.common.errors import UserError
from contamkit.common.outputs import check_output, has_format, staged_dir
from contamkit.common.progress import log
from model.checkpoint import load_checkpoint
from model.gpt2 import GPT
from model.hf import DTYPES, is_hf_model_dir, load_hf_model
from model.scoring import LM
from model.tokenizer import Tokenizer, load_gpt2, load_tokenizer

FORMAT = "contamkit-eval"
VERSION = 1
is_eval_run = has_format(SUMMARY, FORMAT)  # a folder ``evaluate`` wrote: it may replace it


def resolve_device(spec: str) -> str:
    import torch

    if spec == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if spec.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {spec!r}: CUDA is not available on this machine")
    return spec


def model_tokenizer(model_dir: str | Path, meta: dict, model: GPT,
                    spec: str | None = None) -> Tokenizer:
    """The tokenizer the checkpoint was trained with: ``spec`` if given, else GPT-2's, else
    the one saved beside the training data its config names. Refuses a tokenizer whose
    identity differs from the checkpoint's, or whose ids do not fit the model."""
    name = meta.get("tokenizer")
    where = Path(model_dir) / "config.json"
    if spec is not None:
        tok = load_tokenizer(spec)
    elif name == "gpt2":
        tok = load_gpt2()
    else:
        data_dir = meta.get("extra", {}).get("train_config", {}).get("data_dir")
        if not data_dir or not Path(data_dir).is_dir():
            raise UserError(f"{where}: tokenizer {name!r} is not GPT-2's and its training data "
                            f"{data_dir!r} is not here; pass --tokenizer DIR")
        from training.dataset import open_prepared

        tok = open_prepared(data_dir, verify=False).tokenizer()
    if name and tok.name != name:
        raise UserError(f"{where}: model was trained with tokenizer {name}, "
                        f"{spec or 'the tokenizer found'} is {tok.name}")
    if tok.vocab_size > model.config.vocab_size:
        raise UserError(f"{where}: tokenizer has {tok.vocab_size} ids, the model only "
                        f"{model.config.vocab_size}")
    return tok


def load_model(model_dir: str | Path, device: str, dtype: str = "float32",
               tokenizer: str | None = None) -> tuple[LM, Tokenizer]:
    """A Hugging Face directory with its own tokenizer, or a checkpoint of this toolkit."""
    if dtype not in DTYPES:
        raise UserError(f"--dtype {dtype!r}: choose one of {', '.join(DTYPES)}")
    if is_hf_model_dir(model_dir):
        if tokenizer is not None:
            raise UserError(f"{model_dir}: a Hugging Face model uses its own tokenizer; "
                            f"drop --tokenizer")
        return load_hf_model(model_dir, device, dtype)
    model, meta = load_checkpoint(model_dir, device)
    return model.to(DTYPES[dtype]), model_tokenizer(model_dir, meta, model, tokenizer)


def evaluate(model_dir: str | Path, bench: str, out_dir: str | Path, split: str | None = None,
             variant: str | None = None, bench_path: str | None = None, limit: int | None = None,
             tokenizer: str | None = None, device: str = "auto", dtype: str = "float32",
             opts: EvalOptions | None = None, force: bool = False) -> dict:
    """Score every example (the first ``limit``), write the run's files; return the summary.

    ``out_dir`` is replaced whole when the run is complete (a failure leaves the previous one);
    it may not be, or lie in, an input, nor replace a folder ``evaluate`` did not write unless
    ``force``.

    >>> evaluate("runs/llama-tiny", "lambada", "out/eval", limit=100)  # doctest: +SKIP
    """
    opts = opts or EvalOptions()
    if limit is not None and limit < 1:
        raise UserError(f"--limit must be positive, got {limit}")
    source = open_benchmark(bench, split, bench_path, variant)
    inputs = [model_dir, *source.paths, *(p for p in (bench_path, tokenizer)
                                          if p is not None and Path(p).exists())]
    check_output(out_dir, inputs, kind="evaluation run folder", directory=True,
                 own=is_eval_run, force=force)
    task = source.benchmark.task
    evaluator = evaluator_for(task)  # before loading anything
    examples = list(itertools.islice(source.examples(), limit))
    if not examples:
        raise UserError(f"{source.paths[0]}: {source.label} has no examples")
    model, tok = load_model(model_dir, resolve_device(device), dtype, tokenizer)
    log.info(f"evaluating {model_dir} on {len(examples)} examples of {source.label}")
    start = time.perf_counter()
    rows = evaluator(model, tok, examples, opts)
    seconds = time.perf_counter() - start
    metrics = summarize(task, rows)
    summary = {
        "format": FORMAT,
        "version": VERSION,
        "bench": source.benchmark.name,
        "split": source.split,
        "variant": source.variant.name,
        "task": task,
        "model": str(Path(model_dir).resolve()),
        "num_params": model.num_params(),
        "tokenizer": tok.name,
        "examples": len(rows),
        "limit": limit,
        "metrics": metrics,
        "options": {"batch_size": opts.batch_size, "stride": opts.stride,
                    "max_new_tokens": opts.max_new_tokens, "device": str(device),
                    "dtype": dtype},
        "seconds": round(seconds, 2),
    }
    out = Path(out_dir)
    with staged_dir(out) as tmp:
        write_jsonl(tmp / EXAMPLES, rows)
        write_json(tmp / SUMMARY, summary)
    shown = ", ".join(f"{m.name} {metrics[m.name]:.4g}" for m in TASK_METRICS[task])
    log.info(f"{source.label}: {shown} over {len(rows)} examples ({seconds:.1f} s) -> {out}")
    return summary
