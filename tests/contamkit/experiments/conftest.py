"""Built-in data for the experiment tests: the standard library's docstrings (no download)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contamkit.demo.benchmark import contaminated_split
from contamkit.demo.corpus import stdlib_docstrings


def write_builtin_data(root: Path) -> dict[str, Path]:
    """A clean corpus (300 docstrings) and a jsonl benchmark of 60 passages from modules held
    out of it, so nothing is in the corpus unless the experiment injects it."""
    split = contaminated_split(stdlib_docstrings(), per_group=60, heldout=200,
                               passage_words=40, seed=0)
    corpus, bench = root / "corpus.jsonl", root / "bench.jsonl"
    corpus.write_text("".join(json.dumps({"text": d.text}) + "\n" for d in split.corpus[:300]))
    held = [r for r in split.benchmark if not r["contaminated"]]
    bench.write_text("".join(json.dumps({"id": f"p{r['id']}", "text": r["text"]}) + "\n"
                             for r in held))
    return {"corpus": corpus, "bench": bench}


@pytest.fixture(scope="session")
def builtin_data(tmp_path_factory) -> dict[str, Path]:
    return write_builtin_data(tmp_path_factory.mktemp("builtin"))


def tiny_config(data: dict[str, Path], **changes) -> dict:
    """An experiment that runs in seconds: a 1-layer, 32-wide model, 30 steps."""
    cfg = {
        "name": "tiny",
        "corpus": {"path": str(data["corpus"])},
        "benchmark": {"name": "jsonl", "path": str(data["bench"]), "limit": 40},
        "injection": {"counts": [1, 8], "per_count": 8, "seed": 0},
        "tokenizer": "bpe:400",
        "train": {"model": "tiny", "block_size": 64, "batch_size": 8, "micro_batch_size": 8,
                  "max_steps": 30, "lr": 0.003, "min_lr": 0.0003, "warmup_steps": 5,
                  "eval_interval": 30, "eval_iters": 1, "log_interval": 10,
                  "checkpoint_interval": 30, "threads": 1},
        "models": {"xs": {"n_layer": 1, "n_head": 2, "n_embd": 32}},
        "extraction": {"prefix_tokens": 8, "suffix_tokens": 12, "heldout": 4},
        "analysis": {"n_boot": 100, "n_perm": 100},
    }
    cfg.update(changes)
    return cfg
