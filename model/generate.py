"""Autoregressive generation (CoQA answers, extraction tests) with a KV cache.

With the cache the prompt is run once and each new token costs one position; without it every
step reruns the whole sequence (kept as the reference the cache is tested against). The prompt
is cut on the left so that prompt + max_new_tokens fits in block_size: both paths then see the
same context at every step.
"""

from __future__ import annotations

import torch

from model.scoring import LM
from model.tokenizer import Tokenizer


def generate(
    model: LM,
    prompt: list[int],
    max_new_tokens: int,
    temperature: float = 0.0,
    top_k: int | None = None,
    top_p: float | None = None,
    stop_ids: list[int] | None = None,
    stop_strings: list[str] | None = None,
    tokenizer: Tokenizer | None = None,
    seed: int | None = None,
    use_cache: bool = True,
) -> list[int]:
    """The new tokens (prompt excluded). temperature 0 is greedy.

    Generation ends after max_new_tokens, at a token in ``stop_ids`` (not returned), or when the
    decoded output contains one of ``stop_strings`` (needs ``tokenizer``): the output is then
    cut before the first token that reaches into the stop string.
    """
    block = model.config.block_size
    if not 0 < max_new_tokens < block:
        raise ValueError(f"max_new_tokens must be in 1..{block - 1}, got {max_new_tokens}")
    if not prompt:
        raise ValueError("empty prompt")
    bad_k = top_k is not None and top_k < 1
    if temperature < 0 or bad_k or (top_p is not None and not 0 < top_p <= 1):
        raise ValueError(f"need temperature >= 0, top_k >= 1, 0 < top_p <= 1; got "
                         f"{temperature}, {top_k}, {top_p}")
    if stop_strings and tokenizer is None:
        raise ValueError("stop_strings need a tokenizer to decode with")
    device = next(model.parameters()).device
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()  # fresh entropy, leaving torch's global generator alone
    else:
        generator.manual_seed(seed)
    stop = set(stop_ids or ())
    tokens = list(prompt[-(block - max_new_tokens):])
    n_prompt = len(tokens)
    cache = model.new_cache() if use_cache else None
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            step_input = tokens
            for _ in range(max_new_tokens):
                x = torch.tensor([step_input if use_cache else tokens], device=device)
                logits = model.lm_head(model.hidden(x, cache)[0, -1])  # last position only
                nxt = _choose(logits, temperature, top_k, top_p, generator)
                if nxt in stop:
                    break
                tokens.append(nxt)
                step_input = [nxt]
                cut = _stop_cut(tokens[n_prompt:], stop_strings, tokenizer)
                if cut is not None:
                    return tokens[n_prompt:n_prompt + cut]
    finally:
        model.train(was_training)
    return tokens[n_prompt:]


def _choose(logits: torch.Tensor, temperature: float, top_k: int | None, top_p: float | None,
            generator: torch.Generator) -> int:
    """Greedy at temperature 0, else a sample from the (top-k, then top-p) truncated softmax."""
    if temperature == 0.0:
        return int(logits.argmax())
    logits = logits.float() / temperature
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.size(-1))).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None:
        sorted_logits, order = logits.sort(descending=True)
        probs = sorted_logits.softmax(-1)
        # drop a token when the tokens ranked above it already hold top_p of the mass
        drop = probs.cumsum(-1) - probs >= top_p
        logits = logits.masked_fill(torch.zeros_like(drop).scatter(0, order, drop), float("-inf"))
    return int(torch.multinomial(logits.softmax(-1), 1, generator=generator))


def _stop_cut(
    new: list[int], stop_strings: list[str] | None, tokenizer: Tokenizer | None
) -> int | None:
    """How many tokens of ``new`` precede the first stop string, or None if none occurs."""
    if not stop_strings:
        return None
    text = tokenizer.decode(new)
    hits = [i for i in (text.find(s) for s in stop_strings) if i >= 0]
    if not hits:
        return None
    first = min(hits)
    keep = len(new)
    while keep and len(tokenizer.decode(new[:keep])) > first:
        keep -= 1
    return keep
