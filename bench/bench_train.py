#!/usr/bin/env python
"""Trainer throughput vs a plain training loop, same model, batch, optimizer and data.

Prints tokens/s for ``configs/tiny.toml`` through ``training.trainer.train`` and for the
simplest loop that does the same work (random windows from the token file, forward, backward,
gradient clipping, fused AdamW). The two alternate in ABBA order for several rounds, so load
from other processes hits both alike. The trainer figure counts training steps only (its own
clock, which leaves out evaluation and checkpoints); the end-to-end figure includes setup, the
step-0 and final evaluations and the final checkpoint.

    python bench/bench_train.py [--steps 150] [--rounds 4] [--threads N] [--data DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contamkit.common.paths import REPO_ROOT, shared_data_dir  # noqa: E402
from model.gpt2 import GPT  # noqa: E402
from training.config import load_config  # noqa: E402
from training.dataset import open_prepared  # noqa: E402
from training.prepare import prepare_corpus  # noqa: E402
from training.trainer import cpu_threads, model_config, train  # noqa: E402


def plain_loop(cfg, vocab_size: int, tokens: np.ndarray, steps: int) -> float:
    """nanoGPT-style loop written the simplest way; tokens/s over all ``steps``."""
    torch.manual_seed(cfg.seed)
    model = GPT(model_config(cfg, vocab_size))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2),
                            weight_decay=cfg.weight_decay, fused=True)
    T, B = model.config.block_size, cfg.batch_size
    start = time.perf_counter()
    for _ in range(steps):
        ix = torch.randint(len(tokens) - T - 1, (B,))
        x = torch.stack([torch.from_numpy(tokens[i:i + T].astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy(tokens[i + 1:i + 1 + T].astype(np.int64)) for i in ix])
        _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
    return steps * B * T / (time.perf_counter() - start)


def trainer_run(cfg) -> tuple[float, float]:
    """(tokens/s over training steps, tokens/s end to end)."""
    t0 = time.perf_counter()
    result = train(cfg)
    wall = time.perf_counter() - t0
    return result.tokens_per_s, result.step * cfg.batch_size * cfg.block_size / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads for both (default: the trainer's choice)")
    parser.add_argument("--data", default=str(REPO_ROOT / "out/data/webtext-bpe2048"))
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "manifest.json").is_file():
        corpus = shared_data_dir() / "webtext" / "webtext.train.jsonl"
        prepare_corpus(corpus, data, "bpe:2048", val_fraction=0.05)
    prepared = open_prepared(data)
    trainer, trainer_e2e, plain = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            cfg = load_config(REPO_ROOT / "configs/tiny.toml", {
                "data_dir": str(data), "out_dir": f"{tmp}/run{r}", "max_steps": args.steps,
                "eval_interval": args.steps, "log_interval": args.steps,
                "checkpoint_interval": args.steps, "threads": args.threads})
            torch.set_num_threads(cpu_threads(cfg.threads, 1))  # as the trainer will
            for which in ("plain", "trainer") if r % 2 == 0 else ("trainer", "plain"):
                if which == "plain":
                    plain.append(plain_loop(cfg, prepared.vocab_size, prepared.train, args.steps))
                else:
                    steps_tps, e2e_tps = trainer_run(cfg)
                    trainer.append(steps_tps)
                    trainer_e2e.append(e2e_tps)
            print(f"round {r}: plain {plain[-1]:,.0f}  trainer {trainer[-1]:,.0f}  "
                  f"trainer end-to-end {trainer_e2e[-1]:,.0f} tokens/s", flush=True)
    p, t, e = (statistics.median(v) for v in (plain, trainer, trainer_e2e))
    print(f"tiny config, {args.steps} steps x {cfg.batch_size} x {cfg.block_size} tokens, "
          f"{torch.get_num_threads()} thread(s), median of {args.rounds} rounds:")
    print(f"  plain loop          {p:10,.0f} tokens/s")
    print(f"  trainer (steps)     {t:10,.0f} tokens/s   overhead {100 * (1 - t / p):+.1f} %")
    print(f"  trainer end-to-end  {e:10,.0f} tokens/s   overhead {100 * (1 - e / p):+.1f} %")


if __name__ == "__main__":
    main()
