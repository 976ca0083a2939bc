"""Training checkpoints: everything needed to continue a run exactly, and no pickle.

``<out_dir>/checkpoints/step_NNNNNNN/`` holds the model (``model.checkpoint`` format:
model.safetensors + config.json), ``optimizer.safetensors`` (AdamW's moments and step counts)
and ``trainer_state.json`` (step, data position, config, data identity, checksums), written
last. The directory is built under a name of the writing process's and swapped in whole
(``outputs.staged_dir``) before ``latest`` points at it: a failure or a kill leaves the previous
checkpoint as it was, and the next run removes what a killed one left. Randomness needs no
saved state: data order and dropout seeds are functions of (seed, step, rank) — see
``training.sequences`` and ``step_seed``.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as safetensors_load
from safetensors.torch import save as safetensors_bytes

from contamkit.common.atomic import atomic_open, write_json, write_text
from contamkit.common.errors import UserError
from contamkit.common.files import read_versioned_json
from contamkit.common.outputs import staged_dir
from model.checkpoint import load_checkpoint, save_checkpoint
from model.gpt2 import GPT
from training.config import TrainConfig, differing_keys, from_dict

FORMAT = "contamkit-train-state"
VERSION = 1
STATE, OPTIMIZER, LATEST = "trainer_state.json", "optimizer.safetensors", "latest"
CHECKPOINTS = "checkpoints"


def step_seed(seed: int, rank: int, step: int) -> int:
    """The torch seed for one optimizer step on one process (dropout masks)."""
    return (seed * 1_000_003 + rank) * 1_000_033 + step


def save_state(out_dir: Path, step: int, model: GPT, optimizer: torch.optim.Optimizer,
               cfg: TrainConfig, data_identity: dict, keep: int) -> Path:
    """Write checkpoint ``step`` and point ``latest`` at it; keep the newest ``keep``."""
    root = out_dir / CHECKPOINTS
    final = root / f"step_{step:07d}"
    with staged_dir(final) as tmp:  # a name of this process's; swapped in whole, or removed
        save_checkpoint(model, tmp, data_identity["tokenizer"],
                        extra={"step": step, "train_config": asdict(cfg)})
        tensors = {f"{pid}.{key}": value.detach().to("cpu").contiguous()
                   for pid, entry in optimizer.state_dict()["state"].items()
                   for key, value in entry.items()}
        blob = safetensors_bytes(tensors)
        with atomic_open(tmp / OPTIMIZER, "wb") as f:
            f.write(blob)
        write_json(tmp / STATE, {
            "format": FORMAT,
            "version": VERSION,
            "step": step,
            "sequences_seen": step * cfg.batch_size,
            "config": asdict(cfg),
            "data": data_identity,
            "optimizer_sha256": hashlib.sha256(blob).hexdigest(),
            "rng": "none saved: seeds derive from (seed, step, rank)",
        })
    write_text(root / LATEST, final.name + "\n")
    for old in sorted(root.glob("step_*"))[:-keep]:
        shutil.rmtree(old)
    return final


def latest_checkpoint(out_dir: Path) -> Path | None:
    pointer = out_dir / CHECKPOINTS / LATEST
    if not pointer.is_file():
        return None
    directory = pointer.parent / pointer.read_text().strip()
    if not directory.is_dir():
        raise UserError(f"{pointer}: points at missing checkpoint {directory.name}")
    return directory


def read_state(directory: Path) -> dict:
    return read_versioned_json(directory / STATE, FORMAT, VERSION,
                               f"{directory}: not a training checkpoint (no {STATE})")


def restore_state(directory: Path, model: GPT, optimizer: torch.optim.Optimizer,
                  cfg: TrainConfig, data_identity: dict) -> int:
    """Load weights and optimizer state into ``model``/``optimizer``; the step to continue at.

    Refuses a checkpoint made with another config (naming the differing keys) or other data.
    """
    state = read_state(directory)
    saved = from_dict(state["config"], str(directory / STATE))
    differ = differing_keys(saved, cfg)
    if differ:
        changes = ", ".join(f"{k}: {getattr(saved, k)!r} -> {getattr(cfg, k)!r}" for k in differ)
        raise UserError(f"{directory}: checkpoint is from another config ({changes}); "
                        f"use a new out_dir")
    if state["data"] != data_identity:
        raise UserError(f"{directory}: checkpoint was trained on other data "
                        f"(tokenizer or token checksums differ from data_dir)")
    loaded, _ = load_checkpoint(directory, "cpu")
    model.load_state_dict(loaded.state_dict())
    optimizer.load_state_dict(_optimizer_state(directory, optimizer, state))
    return int(state["step"])


def _optimizer_state(directory: Path, optimizer: torch.optim.Optimizer, state: dict) -> dict:
    """The optimizer's state dict with the saved per-parameter tensors (groups come from the
    config, which ``restore_state`` has checked is the same)."""
    path = directory / OPTIMIZER
    if not path.is_file():
        raise UserError(f"{directory}: checkpoint lacks {OPTIMIZER}")
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != state["optimizer_sha256"]:
        raise UserError(f"{path}: checksum differs from {STATE} (incomplete or altered)")
    try:
        tensors = safetensors_load(blob)
    except SafetensorError as e:
        raise UserError(f"{path}: not a readable safetensors file ({e})") from None
    per_param: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        pid, key = name.split(".", 1)
        per_param.setdefault(int(pid), {})[key] = value
    expected = optimizer.state_dict()
    count = sum(len(g["params"]) for g in expected["param_groups"])
    if sorted(per_param) != list(range(count)):
        raise UserError(f"{path}: optimizer state for {len(per_param)} parameters, model has "
                        f"{count}")
    return {"state": per_param, "param_groups": expected["param_groups"]}
