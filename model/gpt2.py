"""GPT-2 as OpenAI released it, in the spirit of nanoGPT's model.py.

Pre-LayerNorm blocks, a final LayerNorm, tanh-approximate GELU, learned positions, tied
input/output embeddings and biases; residual projections start with std 0.02/sqrt(2*n_layer).
Parameter names follow OpenAI/Hugging Face (``transformer.h.0.attn.c_attn``...), so importing
released weights is a renaming-free copy. An optional :class:`KVCache` makes generation
incremental.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch
import torch.nn as nn
import torch.nn.functional as F

from contamkit.common.errors import UserError


@dataclass
class GPTConfig:
    block_size: int = 1024
    vocab_size: int = 50257
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True

    @classmethod
    def named(cls, name: str, **overrides) -> GPTConfig:
        """A published GPT-2 size or a small CPU size, with any field overridden."""
        if name not in NAMED_CONFIGS:
            known = ", ".join(NAMED_CONFIGS)
            raise UserError(f"{name}: unknown model config (known: {known})")
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise UserError(f"{name}: unknown config fields {', '.join(sorted(unknown))}")
        return cls(**{**NAMED_CONFIGS[name], **overrides})

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise UserError(f"n_embd={self.n_embd} is not a multiple of n_head={self.n_head}")


# The four released sizes (PAPER.md) and small ones for CPU experiments and tests.
NAMED_CONFIGS: dict[str, dict] = {
    "124M": dict(n_layer=12, n_head=12, n_embd=768),
    "355M": dict(n_layer=24, n_head=16, n_embd=1024),
    "774M": dict(n_layer=36, n_head=20, n_embd=1280),
    "1558M": dict(n_layer=48, n_head=25, n_embd=1600),
    "tiny": dict(n_layer=2, n_head=4, n_embd=128, block_size=256),
    "mini": dict(n_layer=4, n_head=4, n_embd=256, block_size=512),
    "small": dict(n_layer=6, n_head=6, n_embd=384, block_size=1024),
}


class KVCache:
    """Keys and values of every layer for positions ``0..length-1``, preallocated to block_size."""

    def __init__(self, config: GPTConfig, batch: int, device, dtype: torch.dtype):
        shape = (config.n_layer, 2, batch, config.n_head, config.block_size,
                 config.n_embd // config.n_head)
        self.kv = torch.zeros(shape, device=device, dtype=dtype)
        self.length = 0
        self.block_size = config.block_size

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Store k, v of the new positions; return keys and values of all positions so far."""
        start, end = self.length, self.length + k.size(2)
        self.kv[layer, 0, :, :, start:end] = k
        self.kv[layer, 1, :, :, start:end] = v
        return self.kv[layer, 0, :, :, :end], self.kv[layer, 1, :, :, :end]


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head = config.n_head
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor, cache: KVCache | None, layer: int) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        past = 0 if cache is None else cache.length
        if cache is not None:
            k, v = cache.update(layer, k, v)
        mask = None
        if past and T > 1:  # new queries see the whole past and a causal part of themselves
            mask = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(past)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=past == 0 and T > 1,
            dropout_p=self.dropout if self.training else 0.0,
        )
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=1e-5, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=1e-5, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, cache: KVCache | None, layer: int) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), cache, layer)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList(Block(config) for _ in range(config.n_layer)),
            ln_f=nn.LayerNorm(config.n_embd, eps=1e-5, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied: one matrix in and out
        self.apply(self._init_weights)
        residual_std = 0.02 / math.sqrt(2 * config.n_layer)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):  # the two projections that add into the residual
                nn.init.normal_(p, mean=0.0, std=residual_std)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def num_params(self) -> int:
        """All parameters, the tied embedding matrix counted once (as published)."""
        return sum(p.numel() for p in self.parameters())

    def hidden(self, idx: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """Final-LayerNorm states [B, T, n_embd]; scoring projects them to logits in chunks."""
        T = idx.size(1)
        past = 0 if cache is None else cache.length
        if past + T > self.config.block_size:
            raise ValueError(f"sequence of {past + T} tokens exceeds block_size "
                             f"{self.config.block_size}")
        pos = torch.arange(past, past + T, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for layer, block in enumerate(self.transformer.h):
            x = block(x, cache, layer)
        if cache is not None:
            cache.length += T
        return self.transformer.ln_f(x)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None, cache: KVCache | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits [B, T, vocab] for every position; mean cross-entropy (ignore_index=-1)."""
        logits = self.lm_head(self.hidden(idx, cache))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss

    def new_cache(self, batch: int = 1) -> KVCache:
        p = self.transformer.wte.weight
        return KVCache(self.config, batch, p.device, p.dtype)
