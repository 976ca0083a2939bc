"""Membership measures of many texts under one model: one batched scoring pass."""

from __future__ import annotations

from collections.abc import Sequence

from contamkit.experiments.detectors import text_measures
from model.gpt2 import GPT
from model.scoring import token_logprob_moments
from model.tokenizer import Tokenizer


def score_texts(model: GPT, tok: Tokenizer, ids: Sequence[str], texts: Sequence[str],
                k: float, batch_size: int = 16) -> list[dict]:
    """Per text: tokens scored and every model-based measure (``detectors.MEASURES``). Each
    text is scored as a document is trained, after <|endoftext|>, so its first token counts
    too."""
    sequences = [[tok.eot_id, *t] for t in tok.encode_batch(list(texts))]
    moments = token_logprob_moments(model, sequences, batch_size)
    return [{"id": i, "tokens": len(m), **text_measures(text, m, k)}
            for i, text, m in zip(ids, texts, moments, strict=True)]
