"""The training loop: one process or torchrun DDP, exact resume, metrics as it goes.

A step is ``batch_size`` sequences, split evenly over processes and, inside each, into
micro-batches whose gradients accumulate. Which sequences a step uses depends only on the step
(``training.sequences``), so one process and N processes with the same ``batch_size`` compute
the same update, and a resumed run continues the interrupted one's loss curve.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from contamkit.common.atomic import write_json
from contamkit.common.errors import UserError
from contamkit.common.outputs import check_output, remove_debris, replace_foreign
from contamkit.common.progress import log, progress
from model.gpt2 import GPT, GPTConfig
from training import distributed
from training.config import TrainConfig, from_dict
from training.dataset import PreparedData, check_tokenizer, open_prepared
from training.metrics import MetricsLog, flops_per_token, peak_flops, plot_losses
from training.optim import build_optimizer, lr_at
from training.sequences import WindowOrder, fixed_windows, gather
from training.state import (
    CHECKPOINTS,
    LATEST,
    latest_checkpoint,
    restore_state,
    save_state,
    step_seed,
)

METRICS, PLOT, RUN_CONFIG = "metrics.jsonl", "loss.png", "train_config.json"


@dataclass
class TrainResult:
    out_dir: Path
    step: int  # optimizer steps done
    train_loss: float | None  # estimate on the fixed train windows at the last evaluation
    val_loss: float | None  # the same on val (None without a val split)
    checkpoint: Path | None  # the latest checkpoint directory
    tokens_per_s: float | None  # training steps only (evaluation and checkpoints excluded)


def train(cfg: TrainConfig, force: bool = False) -> TrainResult:
    """Train (or resume, when ``out_dir`` has a checkpoint) until ``max_steps``/``stop_after``.

    ``out_dir`` is checked before any work: never the data (or the tokenizer) nor inside them,
    and a folder ``train`` did not write only with ``force`` (it is then emptied first); a run
    folder of its own, with its checkpoints, is continued.
    """
    tokenizer = [cfg.tokenizer] if Path(cfg.tokenizer).exists() else []
    out = check_output(cfg.out_dir, [cfg.data_dir, *tokenizer], kind="training run folder",
                       directory=True, own=is_train_run, force=force)
    d, device = distributed.setup(cfg.device)
    try:
        if d.main:
            replace_foreign(out, is_train_run)
            for folder in (out, out / CHECKPOINTS):  # what a killed run was writing
                remove_debris(folder)
        return _Run(cfg, d, device).run()
    finally:
        distributed.teardown(d)


def is_train_run(path: Path) -> bool:
    """Whether ``path`` is a folder ``train`` wrote: it has checkpoints, or the config it
    records is a training config."""
    if (path / CHECKPOINTS / LATEST).is_file():
        return True
    values = json.loads((path / RUN_CONFIG).read_text(encoding="utf-8"))
    return isinstance(values, dict) and bool(from_dict(values, str(path / RUN_CONFIG)))


def model_config(cfg: TrainConfig, vocab_size: int) -> GPTConfig:
    sizes = {k: getattr(cfg, k) for k in ("n_layer", "n_head", "n_embd", "block_size")
             if getattr(cfg, k) is not None}
    return GPTConfig.named(cfg.model, vocab_size=vocab_size, dropout=cfg.dropout, bias=cfg.bias,
                           **sizes)


def accumulation_steps(cfg: TrainConfig, world: int) -> int:
    per_pass = cfg.micro_batch_size * world
    if cfg.batch_size % per_pass:
        raise UserError(f"config: batch_size {cfg.batch_size} is not a multiple of "
                        f"micro_batch_size {cfg.micro_batch_size} x {world} process(es)")
    return cfg.batch_size // per_pass


class _Clock:
    """Seconds spent in training steps; evaluation and checkpoint time is left out."""

    def __init__(self, device: torch.device):
        self.device = device
        self.seconds = 0.0
        self.steps = 0
        self.restart(0)

    def restart(self, step: int) -> None:
        self._sync()
        self._t, self._step = time.perf_counter(), step

    def lap(self, step: int) -> tuple[int, float]:
        """Steps and seconds since the last restart/lap (added to the totals)."""
        self._sync()
        now = time.perf_counter()
        steps, seconds = step - self._step, now - self._t
        self.steps += steps
        self.seconds += seconds
        self._t, self._step = now, step
        return steps, seconds

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


class _Run:
    def __init__(self, cfg: TrainConfig, d: distributed.Dist, device: torch.device):
        self.cfg, self.d, self.device = cfg, d, device
        torch.set_num_threads(cpu_threads(cfg.threads, d.local_world))
        self.data: PreparedData = open_prepared(cfg.data_dir)
        check_tokenizer(cfg.tokenizer, self.data)
        self.config = model_config(cfg, self.data.vocab_size)
        self.accum = accumulation_steps(cfg, d.world)
        T = self.config.block_size
        self.order = WindowOrder(len(self.data.train), T, cfg.seed, f"{cfg.data_dir}: train")
        count = cfg.eval_iters * cfg.micro_batch_size
        self.eval_windows = {s: fixed_windows(len(getattr(self.data, s)), T, count, cfg.seed)
                             for s in ("train", "val")}
        torch.manual_seed(cfg.seed)  # same initial weights in every process
        self.model = GPT(self.config).to(device)
        self.optimizer = build_optimizer(self.model, cfg)
        self.out = Path(cfg.out_dir)
        checkpoint = latest_checkpoint(self.out)
        self.start = 0 if checkpoint is None else restore_state(
            checkpoint, self.model, self.optimizer, cfg, self.data.identity())
        self.eval_net = torch.compile(self.model) if cfg.compile else self.model
        self.net = self.eval_net
        if d.world > 1:
            ids = [device.index] if device.type == "cuda" else None
            self.net = DistributedDataParallel(self.eval_net, device_ids=ids)
        self.autocast = _autocast(cfg.dtype, device)
        self.tokens_per_step = cfg.batch_size * T
        self.peak = peak_flops(device, cfg.peak_flops)
        self.flops_per_token = flops_per_token(self.config, self.model.num_params())
        self.speed = ""  # the last logged throughput, repeated in evaluation lines

    # ------------------------------------------------------------------------------ loop

    def run(self) -> TrainResult:
        cfg, main = self.cfg, self.d.main
        end = min(cfg.max_steps, cfg.stop_after or cfg.max_steps)
        losses: dict[str, float | None] = {"train": None, "val": None}
        if main:
            write_json(self.out / RUN_CONFIG, asdict(cfg))
            self._describe()
        metrics = MetricsLog(self.out / METRICS, self.start or None) if main else None
        clock = _Clock(self.device)
        step = self.start
        bar = progress(total=end, initial=step, desc="training", unit="step",
                       disable=not main)  # one bar, on the main process
        with bar:
            while True:
                paused = False
                due = step % cfg.eval_interval == 0 or step == cfg.max_steps
                if due and not step == self.start > 0:  # a resumed step was evaluated
                    clock.lap(step)
                    losses = self._evaluate()
                    self._log_eval(metrics, step, losses)
                    paused = True
                if step > self.start and (step % cfg.checkpoint_interval == 0 or step == end):
                    clock.lap(step)
                    self._save(step, metrics)
                    paused = True
                if step >= end:
                    break
                if paused:
                    clock.restart(step)
                loss = self._step(step)
                step += 1
                bar.update(1)
                if step % cfg.log_interval == 0 or step == end:
                    self._log_step(metrics, bar, step, loss, clock)
        if losses["train"] is None:  # resumed at the end: nothing trained, estimate now
            losses = self._evaluate()
        tps = clock.steps * self.tokens_per_step / clock.seconds if clock.seconds else None
        if main:
            val = "n/a" if losses["val"] is None else f"{losses['val']:.4f}"
            speed = "" if tps is None else f", {tps:,.0f} tokens/s"
            log.info(f"trained {self.out}: step {step}, train loss {losses['train']:.4f}, "
                     f"val loss {val}{speed}")
        return TrainResult(self.out, step, losses["train"], losses["val"],
                           latest_checkpoint(self.out), tps)

    def _step(self, step: int) -> torch.Tensor:
        """One optimizer step; the mean loss of this process's micro-batches (not synced)."""
        cfg, mbs = self.cfg, self.cfg.micro_batch_size
        lr = lr_at(step, cfg)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        torch.manual_seed(step_seed(cfg.seed, self.d.rank, step))
        per_process = cfg.batch_size // self.d.world
        windows = self.order.windows(step * cfg.batch_size + self.d.rank * per_process,
                                     per_process)
        total = torch.zeros((), device=self.device)
        for i in range(self.accum):
            x, y = self._batch(self.data.train, windows[i * mbs:(i + 1) * mbs])
            if self.d.world > 1:
                self.net.require_backward_grad_sync = i == self.accum - 1
            with self.autocast:
                _, loss = self.net(x, y)
            loss = loss / self.accum
            loss.backward()
            total += loss.detach()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return total

    def _batch(self, tokens: np.ndarray, windows: np.ndarray) -> tuple[torch.Tensor, ...]:
        x, y = gather(tokens, windows, self.config.block_size)
        if self.device.type == "cuda":
            return (x.pin_memory().to(self.device, non_blocking=True),
                    y.pin_memory().to(self.device, non_blocking=True))
        return x, y

    @torch.no_grad()
    def _evaluate(self) -> dict[str, float | None]:
        """Mean loss per token on the fixed train and val windows, shared out over processes."""
        self.model.eval()
        out: dict[str, float | None] = {}
        mbs = self.cfg.micro_batch_size
        for split, windows in self.eval_windows.items():
            tokens = getattr(self.data, split)
            chunks = [windows[i:i + mbs] for i in range(0, len(windows), mbs)]
            sums = torch.zeros(2, dtype=torch.float64, device=self.device)
            for chunk in chunks[self.d.rank::self.d.world]:
                x, y = self._batch(tokens, chunk)
                with self.autocast:
                    _, loss = self.eval_net(x, y)
                sums[0] += loss.double() * len(chunk)
                sums[1] += len(chunk)
            sums = distributed.sum_over_processes(sums, self.d)
            out[split] = (sums[0] / sums[1]).item() if sums[1] > 0 else None
        self.model.train()
        return out

    # ---------------------------------------------------------------------- reporting

    def _log_step(self, metrics: MetricsLog | None, bar, step: int, loss: torch.Tensor,
                  clock: _Clock) -> None:
        loss = distributed.sum_over_processes(loss, self.d) / self.d.world  # every process
        steps, seconds = clock.lap(step)
        if metrics is None:
            return
        tps = steps * self.tokens_per_step / seconds if seconds > 0 and steps else None
        mfu = None
        if tps is not None and self.peak is not None:
            mfu = self.flops_per_token * tps / (self.peak * self.d.world)
        row = {"kind": "train", "step": step, "loss": loss.item(), "lr": lr_at(step - 1, self.cfg),
               "tokens": step * self.tokens_per_step, "tokens_per_s": tps, "mfu": mfu}
        metrics.write(row)
        postfix = {"loss": f"{row['loss']:.3f}"}
        if tps is not None:
            postfix["tok/s"] = f"{tps:,.0f}"
        if mfu is not None:
            postfix["mfu"] = f"{100 * mfu:.1f}%"
        bar.set_postfix(postfix, refresh=False)
        self.speed = ", ".join(f"{k} {v}" for k, v in postfix.items() if k != "loss")

    def _log_eval(self, metrics: MetricsLog | None, step: int, losses: dict) -> None:
        if metrics is None:
            return
        metrics.write({"kind": "eval", "step": step, "train_loss": losses["train"],
                       "val_loss": losses["val"]})
        val = "n/a" if losses["val"] is None else f"{losses['val']:.4f}"
        speed = f" ({self.speed})" if self.speed else ""
        log.info(f"step {step}: train loss {losses['train']:.4f}, val loss {val}{speed}")

    def _save(self, step: int, metrics: MetricsLog | None) -> None:
        if metrics is None:
            return
        save_state(self.out, step, self.model, self.optimizer, self.cfg, self.data.identity(),
                   self.cfg.keep_checkpoints)
        plot_losses(self.out / METRICS, self.out / PLOT)

    def _describe(self) -> None:
        c, cfg = self.config, self.cfg
        verb = f"resuming at step {self.start}" if self.start else "starting"
        log.info(f"{verb}: GPT {c.n_layer} layers x {c.n_embd} ({self.model.num_params():,} "
                 f"parameters, vocab {c.vocab_size}, context {c.block_size}) on "
                 f"{self.d.world} x {self.device}; {cfg.batch_size} x {c.block_size} tokens per "
                 f"step in {self.accum} micro-batch(es) of {cfg.micro_batch_size} per process")


def _autocast(dtype: str, device: torch.device) -> contextlib.AbstractContextManager:
    """bfloat16 autocast on CUDA by default (weights and optimizer stay float32)."""
    if dtype == "auto":
        bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
        dtype = "bfloat16" if bf16 else "float32"
    if dtype == "bfloat16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def cpu_threads(requested: int, local_processes: int) -> int:
    """``requested``, or this machine's cores shared out among the processes on it."""
    if requested:
        return requested
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // local_processes)
