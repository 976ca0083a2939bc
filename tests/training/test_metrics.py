"""MFU arithmetic against GPT-2 124M's published size; the metrics log's resume truncation."""

from __future__ import annotations

import torch

from model.gpt2 import GPT, GPTConfig
from training.metrics import (
    MetricsLog,
    flops_per_token,
    loss_figure,
    peak_flops,
    plot_losses,
    read_metrics,
)


def test_flops_per_token_for_gpt2_124m():
    config = GPTConfig.named("124M")
    with torch.device("meta"):
        n = GPT(config).num_params()
    assert n == 124_439_808  # Hugging Face's count for gpt2
    non_embedding = n - 1024 * 768  # position embeddings do no matmul
    assert flops_per_token(config, n) == 6 * non_embedding + 12 * 12 * 12 * 64 * 1024
    assert flops_per_token(config, n) == 855_166_464


def test_peak_flops():
    assert peak_flops(torch.device("cpu"), 0.0) is None  # no MFU on CPU
    assert peak_flops(torch.device("cpu"), 1e12) == 1e12


def test_metrics_log_drops_rows_after_the_resumed_step(tmp_path):
    path = tmp_path / "metrics.jsonl"
    log = MetricsLog(path, None)
    for step in range(1, 7):
        log.write({"kind": "train", "step": step, "loss": 10.0 - step})
    log.write({"kind": "eval", "step": 6, "train_loss": 4.0, "val_loss": 4.5})
    MetricsLog(path, 4).write({"kind": "train", "step": 5, "loss": 0.5})
    assert [(r["step"], r["loss"]) for r in read_metrics(path)] == [
        (1, 9.0), (2, 8.0), (3, 7.0), (4, 6.0), (5, 0.5)]
    plot_losses(path, tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"
    MetricsLog(path, None)  # a fresh run starts an empty log
    assert read_metrics(path) == []


def test_loss_estimates_are_points_not_a_line():
    rows = [{"kind": "train", "step": s, "loss": 5.0 - 0.1 * s} for s in range(1, 21)]
    rows += [{"kind": "eval", "step": s, "train_loss": 4.0 - 0.1 * s, "val_loss": 4.2 - 0.1 * s}
             for s in (10, 20)]
    fig = loss_figure(rows, "run")
    (ax,) = fig.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"train (batch)", "train loss (estimate)", "val loss (estimate)"}
    for name in ("train loss (estimate)", "val loss (estimate)"):
        assert lines[name].get_linestyle() == "None" and list(lines[name].get_xdata()) == [10, 20]
    assert lines["train (batch)"].get_linestyle() == "-"
    assert ax.get_title() == "run"
