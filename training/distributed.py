"""Processes and devices: one process, or torchrun's DistributedDataParallel (NCCL / gloo)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from contamkit.common.errors import UserError


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1
    owns_group: bool = False  # we initialized the process group, so we tear it down

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup(device_spec: str) -> tuple[Dist, torch.device]:
    """Join torchrun's process group when launched by it (WORLD_SIZE > 1); pick the device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = _device(device_spec, local_rank if world > 1 else None)
    if world == 1:
        return Dist(), device
    owns = not dist.is_initialized()
    if owns:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    return Dist(dist.get_rank(), dist.get_world_size(), local_rank, local_world, owns), device


def teardown(d: Dist) -> None:
    if d.owns_group:
        dist.destroy_process_group()


def sum_over_processes(value: torch.Tensor, d: Dist) -> torch.Tensor:
    if d.world > 1:
        value = value.clone()
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value


def _device(spec: str, local_rank: int | None) -> torch.device:
    if spec == "auto":
        spec = "cuda" if torch.cuda.is_available() else "cpu"
    if spec.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {spec!r}: CUDA is not available on this machine")
    if spec == "cuda" and local_rank is not None:
        spec = f"cuda:{local_rank}"
    try:
        return torch.device(spec)
    except RuntimeError as e:
        raise UserError(f"device {spec!r}: {e}") from None
