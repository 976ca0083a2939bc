"""What a run reports: the metrics JSONL, the loss-curve PNG, throughput and MFU."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from contamkit.common.atomic import write_figure, write_jsonl
from model.gpt2 import GPTConfig

# Dense bf16 peaks (PAPER.md's MFU anchors; H200 has H100's compute).
PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12}


def flops_per_token(config: GPTConfig, num_params: int) -> float:
    """Training flops per token, 6N + 12·L·H·Q·T (PaLM appendix B, as nanoGPT uses it).

    N excludes the position embeddings (no matmul); the tied token embedding counts once, as
    the output projection.
    """
    n = num_params - config.block_size * config.n_embd
    head_dim = config.n_embd // config.n_head
    return 6 * n + 12 * config.n_layer * config.n_head * head_dim * config.block_size


def peak_flops(device: torch.device, configured: float) -> float | None:
    """The accelerator's peak for MFU: the config's value, else known GPUs; None on CPU."""
    if configured > 0:
        return configured
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for key, peak in PEAK_BF16_FLOPS.items() if key in name), None)


class MetricsLog:
    """``metrics.jsonl``: one JSON object per line, appended as the run goes.

    On resume the rows after the checkpoint's step (written before an interruption) are dropped,
    so the file reads as one uninterrupted run.
    """

    def __init__(self, path: Path, resume_step: int | None):
        self.path = path
        kept = []
        if resume_step is not None and path.is_file():
            kept = [r for r in read_metrics(path) if r["step"] <= resume_step]
        write_jsonl(path, kept)

    def write(self, row: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")


def read_metrics(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def loss_figure(rows: list[dict], title: str):
    """Training loss per logged step and the periodic train/val estimates (a Figure)."""
    from matplotlib.figure import Figure

    steps = [r for r in rows if r["kind"] == "train"]
    evals = [r for r in rows if r["kind"] == "eval"]
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    ax.plot([r["step"] for r in steps], [r["loss"] for r in steps], lw=0.8, alpha=0.6,
            label="train (batch)")
    for key, marker in (("train_loss", "o"), ("val_loss", "s")):
        points = [r for r in evals if r.get(key) is not None]
        if points:  # markers only: a line between two estimates would invent the values between
            ax.plot([r["step"] for r in points], [r[key] for r in points], marker, ms=5,
                    linestyle="none", label=key.replace("_", " ") + " (estimate)")
    ax.set_title(title)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_losses(metrics_path: Path, png_path: Path) -> None:
    """The loss figure of a run's metrics.jsonl, as PNG."""
    fig = loss_figure(read_metrics(metrics_path), f"Training loss: {metrics_path.parent.name}")
    write_figure(fig, png_path, dpi=120)
