"""Per-token log-probabilities of many variable-length sequences, batched.

Sequences are cut into *windows* (at most block_size + 1 tokens, the last of them only a
target, plus the index of the first token to score), sorted by length and right-padded into
batches. Right padding needs no attention mask: causal attention never lets a real position see
the padding after it. Only the scored positions are projected to the vocabulary, in chunks, so
memory stays at O(chunk x vocab) whatever the batch.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from contamkit.common.progress import log, progress
from model.gpt2 import GPT
from model.hf import HFCausalLM

LM = GPT | HFCausalLM  # what scoring and generation take: this toolkit's GPT-2 or an HF model

LOGIT_CHUNK = 1 << 25  # floats of logits materialized at once (128 MiB)


def token_logprobs(
    model: LM,
    sequences: list[list[int]],
    batch_size: int = 16,
    device: str | torch.device | None = None,
    stride: int | None = None,
) -> list[np.ndarray]:
    """float32 log p(t_i | t_<i) for i = 1..len-1 of each sequence (empty for len < 2).

    A sequence longer than block_size is scored with a sliding window advancing ``stride``
    tokens (default block_size // 2): tokens past the first window are predicted from at least
    block_size - stride preceding tokens, and every token is scored exactly once.
    """
    return _score_sequences(model, sequences, batch_size, device, stride, moments=False)


def token_logprob_moments(
    model: LM,
    sequences: list[list[int]],
    batch_size: int = 16,
    device: str | torch.device | None = None,
    stride: int | None = None,
) -> list[np.ndarray]:
    """Per sequence, a float32 array [len-1, 3]: log p(t_i | t_<i), and the mean mu and standard
    deviation sigma of log p(v | t_<i) over the vocabulary under the model's own distribution
    (mu = sum_v p log p, sigma^2 = sum_v p (log p)^2 - mu^2): what Min-K%++ normalizes by.
    Windows as in ``token_logprobs``."""
    return _score_sequences(model, sequences, batch_size, device, stride, moments=True)


def _score_sequences(
    model: LM,
    sequences: list[list[int]],
    batch_size: int,
    device: str | torch.device | None,
    stride: int | None,
    moments: bool,
) -> list[np.ndarray]:
    """Score every sequence through sliding windows and join each one's windows back up."""
    block = model.config.block_size
    stride = stride or block // 2
    if not 0 < stride < block:
        raise ValueError(f"stride {stride} must be in 1..{block - 1}")
    windows, owner = [], []
    for i, seq in enumerate(sequences):
        for w in _sliding_windows(seq, block, stride):
            windows.append(w)
            owner.append(i)
    scored = _score_windows(model, windows, batch_size, device, moments=moments)
    parts: list[list[np.ndarray]] = [[] for _ in sequences]
    for i, (rows, _) in zip(owner, scored, strict=True):
        parts[i].append(rows)
    empty = np.zeros((0, 3) if moments else 0, np.float32)
    return [np.concatenate(p) if p else empty for p in parts]


def continuation_scores(
    model: LM,
    contexts: list[list[int]],
    continuations: list[list[int]],
    batch_size: int = 16,
    device: str | torch.device | None = None,
) -> list[tuple[np.ndarray, bool]]:
    """For each pair: log-probs of the continuation's tokens given the context, and whether
    every one of them is the greedy (argmax) choice (LAMBADA accuracy, Winograd scoring).

    A pair longer than the context keeps ``(context + continuation)[-(block_size + 1):]`` and
    feeds all but its last token, as lm-evaluation-harness does: the model sees block_size
    tokens, and every continuation token is predicted from all the tokens that fit before it.
    """
    if len(contexts) != len(continuations):
        raise ValueError(f"{len(contexts)} contexts but {len(continuations)} continuations")
    block = model.config.block_size
    windows = []
    for ctx, cont in zip(contexts, continuations, strict=True):
        if not ctx or not cont or len(cont) > block:
            raise ValueError(f"need a context and a continuation of 1..{block} tokens, got "
                             f"{len(ctx)} + {len(cont)}")
        tokens = (list(ctx) + list(cont))[-(block + 1):]
        windows.append((tokens, len(tokens) - len(cont)))
    return [(lp, bool(greedy.all())) for lp, greedy in
            _score_windows(model, windows, batch_size, device)]


def _sliding_windows(seq: list[int], block: int, stride: int) -> list[tuple[list[int], int]]:
    """(tokens, first scored index) windows covering targets 1..len-1 exactly once."""
    if len(seq) < 2:
        return []
    windows = [(list(seq[:block]), 1)]
    end = min(len(seq), block)
    while end < len(seq):
        new_end = min(len(seq), end + stride)
        start = new_end - block
        windows.append((list(seq[start:new_end]), end - start))
        end = new_end
    return windows


def _score_windows(
    model: LM, windows: list[tuple[list[int], int]], batch_size: int, device,
    moments: bool = False,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per window: log-probs (with ``moments``: [n, 3] rows of log-prob, mu, sigma) and greedy
    flags of tokens[first:], each given all before it. A window may hold block_size + 1
    tokens: its last token is a target, never an input."""
    device = torch.device(device) if device else next(model.parameters()).device
    model.to(device)
    was_training = model.training
    model.eval()
    order = sorted(range(len(windows)), key=lambda i: -len(windows[i][0]))
    results: list = [None] * len(windows)
    start = time.perf_counter()
    try:
        with torch.inference_mode(), progress(total=len(windows), desc="scoring",
                                              unit="seq") as bar:
            for b in range(0, len(order), batch_size):
                idx = order[b:b + batch_size]
                batch = _score_batch(model, [windows[i] for i in idx], device, moments)
                for i, r in zip(idx, batch, strict=True):
                    results[i] = r
                bar.update(len(idx))
    finally:
        model.train(was_training)
    scored = sum(len(lp) for lp, _ in results)
    seconds = time.perf_counter() - start
    log.info(f"scored {scored:,} tokens in {len(windows):,} windows ({seconds:.1f} s)")
    return results


def _score_batch(
    model: LM, windows: list[tuple[list[int], int]], device, moments: bool = False
) -> list[tuple[np.ndarray, np.ndarray]]:
    lengths = torch.tensor([len(t) for t, _ in windows])
    firsts = torch.tensor([f for _, f in windows])
    x = torch.zeros(len(windows), int(lengths.max()), dtype=torch.long)
    pos = torch.arange(x.size(1))
    flat = np.concatenate([np.asarray(tokens, dtype=np.int64) for tokens, _ in windows])
    x[pos < lengths[:, None]] = torch.from_numpy(flat)
    # position j predicts token j+1; keep predictions of tokens first..len-1
    keep = (pos[1:] >= firsts[:, None]) & (pos[1:] < lengths[:, None])
    x = x.to(device)
    keep_d = keep.to(device)
    h = model.hidden(x[:, :-1])[keep_d]
    targets = x[:, 1:][keep_d]
    logprobs, greedy = [], []
    rows = max(1, LOGIT_CHUNK // model.config.vocab_size)
    for c in range(0, h.size(0), rows):
        logits = model.lm_head(h[c:c + rows]).float()
        t = targets[c:c + rows, None]
        if moments:
            logprobs.append(_with_moments(logits.log_softmax(1), t))
        else:
            logprobs.append((logits.gather(1, t) - logits.logsumexp(1, keepdim=True))[:, 0])
        greedy.append(logits.argmax(1) == t[:, 0])
    counts = keep.sum(1).tolist()
    lp_all = torch.cat(logprobs).cpu().numpy().astype(np.float32)
    greedy_all = torch.cat(greedy).cpu().numpy()
    splits = np.cumsum(counts)[:-1]
    return list(zip(np.split(lp_all, splits), np.split(greedy_all, splits), strict=True))


def _with_moments(logp: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """[rows, 3]: the target's log-prob, and mu, sigma of log p under p (0 log 0 = 0; the
    variance as sum p (log p - mu)^2, which does not cancel the way E[x^2] - mu^2 does)."""
    p = logp.exp()
    mu = torch.special.xlogy(p, p).sum(1)
    spread = torch.where(p > 0, p * (logp - mu[:, None]).square(), torch.zeros_like(p))
    sigma = spread.sum(1).sqrt()
    return torch.stack([logp.gather(1, targets)[:, 0], mu, sigma], 1)
