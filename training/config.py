"""Training configs: plain TOML/JSON files in ``configs/`` plus ``--key=value`` overrides.

A config file may name a ``base`` file (path relative to itself) whose keys it overrides, so a
family of model sizes shares one recipe. Every key must be a field of :class:`TrainConfig`; a
typo is an error that names the key, never a silently ignored setting.
"""

from __future__ import annotations

import difflib
import json
import typing
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from contamkit.common.errors import UserError
from contamkit.common.files import read_settings
from contamkit.common.options import option

BASE_KEY = "base"


@dataclass
class TrainConfig:
    # data and output (relative paths are relative to the working directory)
    data_dir: str = option("out/data/webtext", "prepared data directory (`prepare`)")
    out_dir: str = option("out/train", "checkpoints, metrics.jsonl, loss.png")
    tokenizer: str = option("gpt2", "must match the data: gpt2, bpe:N (trained by prepare) or "
                            "a directory")
    # model: a named GPTConfig size, any field overridden (vocab_size comes from the tokenizer)
    model: str = option("124M", "named model size; the fields below override it")
    n_layer: int | None = option(None, "layers", shown_default="the size's")
    n_head: int | None = option(None, "attention heads", shown_default="the size's")
    n_embd: int | None = option(None, "embedding width", shown_default="the size's")
    block_size: int | None = option(None, "context length", shown_default="the size's")
    dropout: float = option(0.0, "dropout")
    bias: bool = option(True, "biases in linear layers and layer norms")
    # optimization; batch sizes count sequences of block_size tokens
    batch_size: int = option(512, "sequences per optimizer step, all processes together")
    micro_batch_size: int = option(16, "sequences per forward pass in one process; the rest "
                                   "is accumulation")
    max_steps: int = option(5000, "optimizer steps")
    lr: float = option(6e-4, "peak learning rate")
    min_lr: float = option(6e-5, "learning rate at the end of the cosine decay")
    warmup_steps: int = option(100, "linear warm-up steps")
    weight_decay: float = option(0.1, "weight decay, on matrices (dim >= 2) only")
    beta1: float = option(0.9, "Adam beta1")
    beta2: float = option(0.95, "Adam beta2")
    grad_clip: float = option(1.0, "max global gradient norm; 0 disables")
    # evaluation, logging, checkpoints (in optimizer steps)
    eval_interval: int = option(250, "steps between loss estimates")
    eval_iters: int = option(20, "micro-batches per loss estimate, on fixed train and val "
                             "sequences")
    log_interval: int = option(10, "steps between log lines")
    checkpoint_interval: int = option(1000, "steps between checkpoints")
    keep_checkpoints: int = option(2, "checkpoints kept")
    stop_after: int = option(0, "stop (with a checkpoint) after this step; resume later; "
                             "0: never")
    # system
    seed: int = option(1337, "random seed")
    device: str = option("auto", "auto | cpu | cuda | cuda:N")
    dtype: str = option("auto", "auto (bfloat16 autocast on CUDA, else float32) | float32 | "
                        "bfloat16")
    compile: bool = option(False, "torch.compile (CUDA)")
    threads: int = option(0, "torch CPU threads per process; 0: cores / local processes")
    peak_flops: float = option(0.0, "for MFU; 0: from the GPU's name (bf16 dense peak)")


# Keys that may change when a run resumes: they steer the run, not what it computes.
RUN_CONTROL_KEYS = frozenset({
    "data_dir", "out_dir", "eval_interval", "log_interval", "checkpoint_interval",
    "keep_checkpoints", "stop_after", "device", "compile", "threads", "peak_flops",
})


def load_config(path: str | Path | None, overrides: dict[str, Any] | list[str] | None = None
                ) -> TrainConfig:
    """The config file (with its ``base`` chain) and then the overrides, type-checked."""
    values: dict[str, Any] = {} if path is None else _read_chain(Path(path), seen=())
    where = str(path) if path is not None else "config"
    if isinstance(overrides, list):
        overrides = parse_overrides(overrides, where)
    for key, value in (overrides or {}).items():
        _check_key(key, f"{where}: override --{key}")
        values[key] = value
    return from_dict(values, where)


def from_dict(values: dict[str, Any], where: str) -> TrainConfig:
    """A TrainConfig from plain values; ``where`` names the source in error messages."""
    hints = typing.get_type_hints(TrainConfig)
    checked = {}
    for key, value in values.items():
        _check_key(key, where)
        checked[key] = _coerce(value, hints[key], f"{where}: {key}")
    cfg = TrainConfig(**checked)
    _validate(cfg, where)
    return cfg


def parse_overrides(args: list[str], where: str) -> dict[str, Any]:
    """``--key=value`` strings; values are read as JSON when they parse, else as text."""
    out = {}
    for arg in args:
        if not arg.startswith("--") or "=" not in arg:
            raise UserError(f"{where}: override {arg!r} is not of the form --key=value")
        key, raw = arg[2:].split("=", 1)
        key = key.replace("-", "_")
        _check_key(key, f"{where}: override --{key}")
        out[key] = parse_value(raw)
    return out


def parse_value(raw: str) -> Any:
    """An override's value: JSON when it parses (numbers, true, null), else the text."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def differing_keys(a: TrainConfig, b: TrainConfig) -> list[str]:
    """Keys, other than run-control ones, whose values differ: what forbids a resume."""
    da, db = asdict(a), asdict(b)
    return [k for k in da if k not in RUN_CONTROL_KEYS and da[k] != db[k]]


def _read_chain(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    if path.resolve() in seen:
        raise UserError(f"{path}: config 'base' chain loops back to itself")
    values = _read_file(path)
    base = values.pop(BASE_KEY, None)
    for key in values:
        _check_key(key, str(path))
    if base is None:
        return values
    if not isinstance(base, str):
        raise UserError(f"{path}: 'base' must be a path to another config file")
    merged = _read_chain(path.parent / base, seen + (path.resolve(),))
    merged.update(values)
    return merged


def _read_file(path: Path) -> dict[str, Any]:
    values = read_settings(path)
    nested = [k for k, v in values.items() if isinstance(v, dict)]
    if nested:
        raise UserError(f"{path}: config keys are flat; '{nested[0]}' is a table")
    return values


def _check_key(key: str, where: str) -> None:
    names = [f.name for f in fields(TrainConfig)]
    if key in names:
        return
    close = difflib.get_close_matches(key, names, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise UserError(f"{where}: unknown config key '{key}'{hint}")


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """The value as the field's type: ints become floats where a float is wanted, no other
    conversion (a string where a number is expected is a mistake, not something to guess)."""
    allowed = typing.get_args(hint) or (hint,)
    if value is None and type(None) in allowed:
        return None
    for kind in allowed:
        if kind is bool and isinstance(value, bool):
            return value
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if kind is str and isinstance(value, str):
            return value
    names = " or ".join("null" if k is type(None) else k.__name__ for k in allowed)
    raise UserError(f"{where} must be {names}, got {value!r}")


def _validate(cfg: TrainConfig, where: str) -> None:
    positive = ["batch_size", "micro_batch_size", "max_steps", "eval_interval", "eval_iters",
                "log_interval", "checkpoint_interval", "keep_checkpoints"]
    for key in positive:
        if getattr(cfg, key) <= 0:
            raise UserError(f"{where}: {key} must be positive, got {getattr(cfg, key)}")
    for key in ("warmup_steps", "stop_after", "threads", "weight_decay", "grad_clip", "min_lr"):
        if getattr(cfg, key) < 0:
            raise UserError(f"{where}: {key} must not be negative, got {getattr(cfg, key)}")
    if cfg.lr <= 0 or cfg.min_lr > cfg.lr:
        raise UserError(f"{where}: need 0 <= min_lr <= lr and lr > 0, got lr={cfg.lr} "
                        f"min_lr={cfg.min_lr}")
    if not 0 <= cfg.dropout < 1:
        raise UserError(f"{where}: dropout must be in [0, 1), got {cfg.dropout}")
    if cfg.micro_batch_size > cfg.batch_size:
        raise UserError(f"{where}: micro_batch_size {cfg.micro_batch_size} exceeds "
                        f"batch_size {cfg.batch_size}")
    if cfg.dtype not in ("auto", "float32", "bfloat16"):
        raise UserError(f"{where}: dtype must be auto, float32 or bfloat16, got {cfg.dtype!r}")
