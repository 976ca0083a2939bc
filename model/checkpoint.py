"""Checkpoints as safetensors + JSON (never pickle), and import of Hugging Face GPT-2 folders.

A checkpoint directory holds ``model.safetensors`` (weights; its header metadata repeats the
format and config) and ``config.json`` (GPTConfig fields, tokenizer identity, format version,
the weights' sha256, caller's extras). config.json is written last, so a directory whose
weights were cut short fails its checksum instead of loading garbage.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_bytes

from contamkit.common.atomic import atomic_open, write_json
from contamkit.common.errors import UserError
from contamkit.common.files import file_sha256
from contamkit.common.outputs import check_output, has_format, staged_dir
from contamkit.common.progress import log
from model.gpt2 import GPT, GPTConfig
from model.tokenizer import GPT2_VOCAB

FORMAT = "contamkit-gpt"
FORMAT_VERSION = 1
WEIGHTS, CONFIG = "model.safetensors", "config.json"
TIED = "lm_head.weight"  # stored once, as transformer.wte.weight
MAX_NAMES = 8  # how many offending tensor names an error message lists
is_checkpoint = has_format(CONFIG, FORMAT)  # a directory of ours (import-gpt2 may replace it)


def save_checkpoint(
    model: GPT, directory: str | Path, tokenizer_name: str, extra: dict | None = None
) -> None:
    """Write weights then config.json, each atomically."""
    model = getattr(model, "_orig_mod", model)  # torch.compile's wrapper prefixes every name
    directory = Path(directory)
    config = asdict(model.config)
    tensors = {
        k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items() if k != TIED
    }
    header = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "config": json.dumps(config)}
    data = safetensors_bytes(tensors, metadata=header)
    with atomic_open(directory / WEIGHTS, "wb") as f:
        f.write(data)
    write_json(directory / CONFIG, {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": config,
        "tokenizer": tokenizer_name,
        "num_params": model.num_params(),
        "weights_sha256": hashlib.sha256(data).hexdigest(),
        "extra": extra or {},
    })


def load_checkpoint(directory: str | Path, device: str = "cpu") -> tuple[GPT, dict[str, Any]]:
    """The model (eval mode) and config.json's contents; refuses any mismatch."""
    directory = Path(directory)
    missing = [f for f in (CONFIG, WEIGHTS) if not (directory / f).is_file()]
    if missing:
        raise UserError(f"{directory}: checkpoint directory lacks {', '.join(missing)}")
    meta = _read_json(directory / CONFIG)
    if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise UserError(f"{directory / CONFIG}: not a {FORMAT} v{FORMAT_VERSION} checkpoint")
    config = _config_from(meta.get("config"), directory / CONFIG)
    weights = directory / WEIGHTS
    if file_sha256(weights) != meta.get("weights_sha256"):
        raise UserError(f"{weights}: checksum differs from {CONFIG} (incomplete or altered)")
    header = _load_safetensors(weights, "cpu", header_only=True)
    if header.get("format") != FORMAT or header.get("config") != json.dumps(asdict(config)):
        raise UserError(f"{weights}: header format/config differ from {CONFIG}")
    tensors = _load_safetensors(weights, device)
    return _build(config, tensors, weights, device), meta


def import_hf_gpt2(hf_dir: str | Path) -> GPT:
    """A Hugging Face GPT-2 folder (config.json + model.safetensors or pytorch_model.bin).

    Dropout is set to 0: imported weights are for analysis. HF's Conv1D stores weights as
    [in, out]; they are transposed into nn.Linear's [out, in].
    """
    hf_dir = Path(hf_dir)
    config = _hf_config(hf_dir)
    source = next((hf_dir / f for f in ("model.safetensors", "pytorch_model.bin")
                   if (hf_dir / f).is_file()), None)
    if source is None:
        raise UserError(f"{hf_dir}: lacks model.safetensors or pytorch_model.bin")
    if source.suffix == ".safetensors":
        raw = _load_safetensors(source, "cpu")
    else:
        try:
            raw = torch.load(source, map_location="cpu", weights_only=True)
        except Exception as e:  # corrupt file or a pickle with non-tensor objects
            raise UserError(f"{source}: cannot load tensors ({e})") from None
    model = _build(config, _hf_to_ours(raw, source), source, "cpu")
    log.info(f"imported {source}: {model.num_params():,} parameters")
    return model


def convert_hf_gpt2(hf_dir: str | Path, out_dir: str | Path, tokenizer_name: str = "gpt2",
                    force: bool = False) -> GPT:
    """Import a Hugging Face GPT-2 folder and save it as our checkpoint in ``out_dir``, which
    is replaced whole once both files are written (never the input; a folder that is not a
    checkpoint only with ``force``)."""
    check_output(out_dir, [hf_dir], kind="checkpoint directory", directory=True,
                 own=is_checkpoint, force=force)
    model = import_hf_gpt2(hf_dir)
    if tokenizer_name == "gpt2" and model.config.vocab_size != GPT2_VOCAB:
        raise UserError(f"{hf_dir}: vocab_size {model.config.vocab_size} is not GPT-2's "
                        f"{GPT2_VOCAB}; name its tokenizer (--tokenizer)")
    with staged_dir(out_dir) as tmp:
        save_checkpoint(model, tmp, tokenizer_name, extra={"imported_from": str(hf_dir)})
    log.info(f"saved checkpoint to {out_dir}")
    return model


def _read_json(path: Path) -> dict:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(obj, dict):
        raise UserError(f"{path}: expected a JSON object")
    return obj


def _config_from(values: Any, path: Path) -> GPTConfig:
    names = {f.name for f in fields(GPTConfig)}
    if not isinstance(values, dict) or set(values) != names:
        raise UserError(f"{path}: 'config' must hold exactly the fields {', '.join(sorted(names))}")
    return GPTConfig(**values)


def _load_safetensors(path: Path, device: str, header_only: bool = False) -> dict:
    """The tensors, or with ``header_only`` the header's metadata strings."""
    try:
        if header_only:
            with safe_open(path, "pt") as f:
                return f.metadata() or {}
        return load_file(path, device=device)
    except (SafetensorError, OSError) as e:
        raise UserError(f"{path}: not a readable safetensors file ({e})") from None


def _build(config: GPTConfig, tensors: dict[str, torch.Tensor], source: Path, device) -> GPT:
    """Check names and shapes against the config, then adopt the tensors without a copy."""
    with torch.device("meta"):
        model = GPT(config)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items() if k != TIED}
    _check_tensors(expected, {k: tuple(v.shape) for k, v in tensors.items()}, source)
    model.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=False, assign=True)
    model.lm_head.weight = model.transformer.wte.weight  # assign=True replaced the tied parameter
    return model.to(device).eval()


def _check_tensors(expected: dict[str, tuple], got: dict[str, tuple], source: Path) -> None:
    """One error naming every missing, unexpected and mis-shaped tensor."""
    problems = []
    for label, names in (
        ("missing", [k for k in expected if k not in got]),
        ("unexpected", [k for k in got if k not in expected]),
    ):
        if names:
            problems.append(f"{label} {_names(names)}")
    shaped = [f"{k} {list(got[k])} != {list(s)}" for k, s in expected.items()
              if k in got and got[k] != s]
    if shaped:
        problems.append(f"mis-shaped {_names(shaped)}")
    if problems:
        raise UserError(f"{source}: tensors do not match the config: {'; '.join(problems)}")


def _names(items: list[str]) -> str:
    more = f" and {len(items) - MAX_NAMES} more" if len(items) > MAX_NAMES else ""
    return ", ".join(items[:MAX_NAMES]) + more


# ------------------------------------------------------------------------- Hugging Face

HF_REQUIRED = ("n_positions", "vocab_size", "n_layer", "n_head", "n_embd")
HF_GELU = ("gelu_new", "gelu_pytorch_tanh")  # both are GELU's tanh approximation
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def _hf_config(hf_dir: Path) -> GPTConfig:
    path = hf_dir / "config.json"
    if not path.is_file():
        raise UserError(f"{hf_dir}: lacks config.json")
    hf = _read_json(path)
    absent = [k for k in HF_REQUIRED if k not in hf]
    if absent:
        raise UserError(f"{path}: not a GPT-2 config, lacks {', '.join(absent)}")
    unsupported = {
        "activation_function": hf.get("activation_function", "gelu_new") not in HF_GELU,
        "layer_norm_epsilon": hf.get("layer_norm_epsilon", 1e-5) != 1e-5,
        "n_inner": hf.get("n_inner") not in (None, 4 * hf["n_embd"]),
        "tie_word_embeddings": hf.get("tie_word_embeddings", True) is not True,
        "scale_attn_by_inverse_layer_idx": hf.get("scale_attn_by_inverse_layer_idx", False),
        "scale_attn_weights": hf.get("scale_attn_weights", True) is not True,
    }
    bad = [k for k, is_bad in unsupported.items() if is_bad]
    if bad:
        raise UserError(f"{path}: unsupported GPT-2 variant ({', '.join(bad)})")
    return GPTConfig(
        block_size=hf["n_positions"], vocab_size=hf["vocab_size"], n_layer=hf["n_layer"],
        n_head=hf["n_head"], n_embd=hf["n_embd"], dropout=0.0, bias=True,
    )


def _hf_to_ours(raw: dict[str, torch.Tensor], source: Path) -> dict[str, torch.Tensor]:
    """Our names and layouts: add the ``transformer.`` prefix, drop attention-mask buffers,
    transpose Conv1D weights, and keep lm_head only as the tied wte."""
    out = {}
    for name, t in raw.items():
        if name.endswith((".attn.bias", ".attn.masked_bias")):  # causal-mask buffers, not weights
            continue
        key = name if name.startswith(("transformer.", "lm_head.")) else f"transformer.{name}"
        out[key] = t.t() if key.endswith(CONV1D) and t.dim() == 2 else t
    head = out.pop(TIED, None)
    wte = out.get("transformer.wte.weight")
    if head is not None and wte is not None and not torch.equal(head, wte):
        raise UserError(f"{source}: lm_head.weight differs from wte (untied heads unsupported)")
    return out
