"""Extraction: greedy decoding from a prefix, checked against teacher forcing (if every true
next token is the argmax given the true past, greedy decoding walks exactly that path)."""

from __future__ import annotations

import pytest
import torch

from contamkit.experiments.extraction import extraction_rows, leading_matches
from model.gpt2 import GPT, GPTConfig
from model.scoring import continuation_scores

MEMORIZED = "the quick brown fox jumps over the lazy dog, twice a day."
OTHER = "an entirely different sentence that the model never saw before."


class Bytes:
    """A byte tokenizer: enough for a model trained here."""

    name, vocab_size, eot_id = "bytes", 257, 256

    def encode(self, text: str) -> list[int]:
        return list(text.encode())

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]


@pytest.fixture(scope="module")
def model() -> GPT:
    """A one-layer GPT trained on MEMORIZED alone until it reproduces it."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(block_size=72, vocab_size=257, n_layer=1, n_head=2, n_embd=32))
    seq = torch.tensor([[256, *MEMORIZED.encode()]])
    opt = torch.optim.AdamW(model.parameters(), lr=2e-2)
    for _ in range(60):
        _, loss = model(seq[:, :-1], seq[:, 1:])
        loss.backward()
        opt.step()
        opt.zero_grad()
    return model.eval()


def test_leading_matches():
    assert leading_matches([1, 2, 3], [1, 2, 4]) == 2
    assert leading_matches([1, 2], [1, 2, 3]) == 2
    assert leading_matches([9], [1]) == 0


def test_extraction_agrees_with_teacher_forcing(model):
    tok = Bytes()
    prefix, suffix = 10, 30
    rows = extraction_rows(model, tok, ["m", "o", "short"], [MEMORIZED, OTHER, "tiny"],
                           prefix, suffix)
    assert rows[0] == {"id": "m", "suffix_tokens": 30, "matched": 30, "exact": True}
    assert rows[1]["exact"] is False and rows[1]["matched"] < 30
    assert rows[2] == {"id": "short", "suffix_tokens": 0, "matched": None, "exact": None}
    for row, text in zip(rows[:2], [MEMORIZED, OTHER], strict=True):
        ids = tok.encode(text)
        ctx, cont = [256, *ids[:prefix]], ids[prefix:prefix + suffix]
        [(_, all_greedy)] = continuation_scores(model, [ctx], [cont])
        assert row["exact"] == all_greedy


def test_a_text_shorter_than_prefix_plus_suffix_is_checked_on_what_it_has(model):
    tok = Bytes()
    [row] = extraction_rows(model, tok, ["m"], [MEMORIZED], 50, 40)
    assert row["suffix_tokens"] == len(MEMORIZED.encode()) - 50 and row["exact"] is True
