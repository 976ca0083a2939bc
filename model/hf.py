"""Any local Hugging Face causal LM behind the interface the GPT-2 path uses.

Scoring (model/scoring.py) and generation (model/generate.py) need four things of a model:
``config.block_size`` and ``config.vocab_size``, ``hidden(ids, cache)`` (the last layer's states),
``lm_head(states)`` (logits) and ``new_cache()``. :class:`HFCausalLM` gives them for a
``transformers`` model, so a Llama, Qwen, Mistral, OLMo or GPT-NeoX checkpoint is scored by the
same code, with the same memory bound (only scored positions are projected to the vocabulary),
as this toolkit's GPT-2. :class:`HFTokenizer` gives ``model.tokenizer.Tokenizer``'s interface
for the directory's own tokenizer.

Loading is offline (``local_files_only``), safetensors first, ``.bin`` only through
``torch.load(weights_only=True)``; nothing in the directory is executed (no remote code).

>>> model, tok = load_hf_model("path/to/llama", device="cpu", dtype="bfloat16")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
from safetensors import SafetensorError

from contamkit.common.errors import UserError
from contamkit.common.files import file_sha256
from contamkit.common.progress import log

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
# A directory holds a tokenizer if it has one of these (fast tokenizer, sentencepiece, BPE).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "spiece.model")
SAFETENSORS, BIN = ("model.safetensors", "model.safetensors.index.json"), (
    "pytorch_model.bin", "pytorch_model.bin.index.json")
# Where configs keep the context length, in lm-evaluation-harness's order.
CONTEXT_KEYS = ("n_positions", "max_position_embeddings", "n_ctx")
DEFAULT_CONTEXT = 2048  # lm-eval's fallback when neither config nor tokenizer says
PROBE_TOKENS = 8  # the load-time check that logits are lm_head(hidden)


def is_hf_model_dir(directory: str | Path) -> bool:
    """A Hugging Face model directory: config.json naming a ``model_type``."""
    path = Path(directory) / "config.json"
    if not path.is_file():
        return False
    try:
        return "model_type" in json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError):
        return False


@dataclass(frozen=True)
class LMShape:
    """What scoring and generation read of a model's config."""

    block_size: int
    vocab_size: int


class HFCausalLM(nn.Module):
    """A ``transformers`` causal LM split into its decoder (``hidden``) and head (``lm_head``)."""

    def __init__(self, hf: nn.Module, block_size: int):
        super().__init__()
        self.hf = hf
        self.decoder = hf.base_model  # the module under the head (LlamaModel, GPTNeoXModel, ...)
        head = hf.get_output_embeddings()
        self.config = LMShape(block_size, head.weight.shape[0])
        # transformers renamed the decoder's ``past_key_values`` argument ``cache`` (5.x)
        params = inspect.signature(self.decoder.forward).parameters
        self._cache_arg = "cache" if "cache" in params else "past_key_values"

    @property
    def lm_head(self) -> nn.Module:
        return self.hf.get_output_embeddings()

    def hidden(self, idx: torch.Tensor, cache=None) -> torch.Tensor:
        """Last-layer states; with a cache (from :meth:`new_cache`), ``idx`` continues it."""
        out = self.decoder(input_ids=idx, use_cache=cache is not None,
                           **{self._cache_arg: cache})
        return out[0]

    def new_cache(self):
        from transformers import DynamicCache

        return DynamicCache(config=self.hf.config)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.hf.parameters())


class HFTokenizer:
    """A directory's ``transformers`` tokenizer as ``model.tokenizer.Tokenizer``.

    ``encode`` adds no special tokens (text only); ``context_prefix`` holds what the tokenizer
    puts in front of a text by default (Llama's BOS, nothing for GPT-2), which lm-evaluation-
    harness keeps in front of every context. ``prefix_id`` starts a document scored from its
    first token (BOS, else EOS: lm-eval's prefix token).
    """

    def __init__(self, tok, name: str):
        self.tok = tok
        self.name = name
        self.vocab_size = len(tok)
        eos, bos = tok.eos_token_id, tok.bos_token_id
        if eos is None and bos is None:
            raise UserError(f"{name}: tokenizer has neither an EOS nor a BOS token")
        self.eot_id = eos if eos is not None else bos
        self.prefix_id = bos if bos is not None else eos
        self.context_prefix = _default_prefix(tok)

    def encode(self, text: str) -> list[int]:
        return self.tok(text, add_special_tokens=False)["input_ids"]

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        if not texts:
            return []
        return self.tok(list(texts), add_special_tokens=False)["input_ids"]

    def decode(self, ids: list[int]) -> str:
        return self.tok.decode(list(ids), skip_special_tokens=False)


def _default_prefix(tok) -> list[int]:
    """The ids a tokenizer puts before a text when asked for its special tokens."""
    plain = tok("a", add_special_tokens=False)["input_ids"]
    full = tok("a")["input_ids"]
    for start in range(len(full) - len(plain) + 1):
        if full[start:start + len(plain)] == plain:
            return list(full[:start])
    return []


def tokenizer_identity(directory: Path) -> str:
    """"hf:" + a digest of the tokenizer's files: the same files, the same name."""
    names = sorted(p.name for p in directory.iterdir() if p.is_file() and (
        p.name in TOKENIZER_FILES or p.name in ("merges.txt", "tokenizer_config.json",
                                                "special_tokens_map.json")))
    digest = hashlib.sha256("".join(f"{n}:{file_sha256(directory / n)}" for n in names).encode())
    return f"hf:{digest.hexdigest()[:16]}"


def load_hf_tokenizer(directory: str | Path) -> HFTokenizer:
    """The directory's own tokenizer, offline; a directory without one is refused."""
    directory = Path(directory)
    if not any((directory / f).is_file() for f in TOKENIZER_FILES):
        raise UserError(f"{directory}: no tokenizer files (want one of "
                        f"{', '.join(TOKENIZER_FILES)})")
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    except (OSError, ValueError, TypeError, KeyError) as e:
        raise UserError(f"{directory}: cannot load its tokenizer ({_first_line(e)})") from None
    return HFTokenizer(tok, tokenizer_identity(directory))


def load_hf_model(directory: str | Path, device: str = "cpu",
                  dtype: str = "float32") -> tuple[HFCausalLM, HFTokenizer]:
    """Model (eval mode, on ``device``, in ``dtype``) and tokenizer of a local HF directory."""
    directory = Path(directory)
    if dtype not in DTYPES:
        raise UserError(f"--dtype {dtype!r}: choose one of {', '.join(DTYPES)}")
    tok = load_hf_tokenizer(directory)
    config = _load_config(directory)
    use_safetensors = _weights_format(directory)
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # our own log line says what was loaded
    try:
        hf = AutoModelForCausalLM.from_pretrained(
            directory, config=config, local_files_only=True, dtype=DTYPES[dtype],
            use_safetensors=use_safetensors, weights_only=True, trust_remote_code=False)
    except ValueError as e:  # a config class without a causal-LM model
        raise UserError(f"{directory / 'config.json'}: unsupported architecture "
                        f"{config.model_type!r} ({_first_line(e)})") from None
    except (OSError, RuntimeError, SafetensorError) as e:  # missing/corrupt weights, shapes
        raise UserError(f"{directory}: cannot load its weights ({_first_line(e)})") from None
    hf = hf.to(device).eval()
    model = HFCausalLM(hf, _context_length(config, tok))
    _check_head(model, directory)
    if model.config.vocab_size < tok.vocab_size:
        raise UserError(f"{directory}: tokenizer has {tok.vocab_size} ids, the model only "
                        f"{model.config.vocab_size}")
    log.info(f"loaded {directory} ({config.model_type}, {model.num_params():,} parameters, "
             f"{dtype}, context {model.config.block_size})")
    return model, tok


def _load_config(directory: Path):
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(directory, local_files_only=True)
    except (ValueError, KeyError) as e:  # an unknown model_type
        raise UserError(f"{directory / 'config.json'}: unsupported architecture "
                        f"({_first_line(e)})") from None
    except OSError as e:
        raise UserError(f"{directory / 'config.json'}: {_first_line(e)}") from None


def _weights_format(directory: Path) -> bool:
    """True for safetensors (preferred), False for .bin; a directory with neither is refused."""
    if any((directory / f).is_file() for f in SAFETENSORS):
        return True
    if any((directory / f).is_file() for f in BIN):
        return False
    raise UserError(f"{directory}: no weights (want {SAFETENSORS[0]} or {BIN[0]})")


def _context_length(config, tok: HFTokenizer) -> int:
    for key in CONTEXT_KEYS:
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tok.tok, "model_max_length", None)
    return limit if isinstance(limit, int) and 0 < limit < 1 << 30 else DEFAULT_CONTEXT


def _check_head(model: HFCausalLM, directory: Path) -> None:
    """Refuse a model whose logits are not its output layer applied to the decoder's states
    (logit soft-capping, scaling): scoring projects only the positions it needs."""
    n = min(PROBE_TOKENS, model.config.block_size)
    ids = torch.arange(n, device=next(model.parameters()).device)[None] % model.config.vocab_size
    with torch.inference_mode():
        full = model.hf(input_ids=ids).logits.float()
        split = model.lm_head(model.hidden(ids)).float()
    if not torch.allclose(full, split, rtol=1e-3, atol=1e-3 * float(full.abs().max()) + 1e-6):
        raise UserError(f"{directory / 'config.json'}: unsupported architecture "
                        f"{model.hf.config.model_type!r} (its logits are not the output layer "
                        f"of the decoder's states)")


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
