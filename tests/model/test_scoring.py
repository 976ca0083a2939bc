"""Batched per-token log-probabilities against one-sequence-at-a-time forward passes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model.gpt2 import GPT, GPTConfig
from model.scoring import continuation_scores, token_logprobs

BLOCK, VOCAB = 32, 97


@pytest.fixture(scope="module")
def model() -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig.named("tiny", block_size=BLOCK, vocab_size=VOCAB)).eval()


def logprobs_of(model: GPT, tokens: list[int]) -> np.ndarray:
    """log p(tokens[j+1] | tokens[:j+1]) for every j, from one unbatched forward."""
    with torch.no_grad():
        logp = model(torch.tensor([tokens]))[0][0].double().log_softmax(-1)
    return logp[torch.arange(len(tokens) - 1), torch.tensor(tokens[1:])].numpy()


def random_seqs(lengths, seed=0) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, VOCAB, n).tolist() for n in lengths]


def test_short_sequences_match_unbatched_forward(model):
    seqs = random_seqs([0, 1, 2, 5, 17, 31, 32, 3, 9])
    for batch_size in (1, 4, 16):
        out = token_logprobs(model, seqs, batch_size=batch_size)
        assert [o.dtype for o in out] == [np.float32] * len(seqs)
        assert [len(o) for o in out] == [max(0, len(s) - 1) for s in seqs]
        for s, o in zip(seqs, out, strict=True):
            if len(s) > 1:
                np.testing.assert_allclose(o, logprobs_of(model, s), atol=2e-5)


def test_long_sequences_use_a_sliding_window(model):
    """Target i is predicted from window [e - BLOCK, e), e the first window end past i."""
    stride = 8
    seqs = random_seqs([33, 40, 70, 100], seed=1)
    out = token_logprobs(model, seqs, batch_size=3, stride=stride)
    for s, o in zip(seqs, out, strict=True):
        ends = [*range(BLOCK, len(s), stride), len(s)]
        expected = []
        for i in range(1, len(s)):
            e = next(e for e in ends if e > i)
            window = s[e - BLOCK:e]
            expected.append(logprobs_of(model, window)[i - (e - BLOCK) - 1])
        assert len(o) == len(s) - 1
        np.testing.assert_allclose(o, expected, atol=2e-5)


def test_continuation_scores_and_greedy_flag(model):
    ctx = random_seqs([6], seed=2)[0]
    greedy = list(ctx)
    with torch.no_grad():
        for _ in range(4):
            greedy.append(int(model(torch.tensor([greedy]))[0][0, -1].argmax()))
    cont = greedy[6:]
    wrong = cont[:3] + [(cont[3] + 1) % VOCAB]
    long_ctx = random_seqs([50], seed=3)[0]
    scores = continuation_scores(model, [ctx, ctx, long_ctx], [cont, wrong, [5, 6]], batch_size=2)
    (lp, all_greedy), (lp_wrong, wrong_greedy), (lp_long, _) = scores
    assert all_greedy and not wrong_greedy
    np.testing.assert_allclose(lp, logprobs_of(model, ctx + cont)[-4:], atol=2e-5)
    np.testing.assert_allclose(lp_wrong[:3], lp[:3], atol=2e-5)
    assert lp_wrong[3] < lp[3]
    # too long: lm-eval's rule, the input is (context + continuation)[-(BLOCK + 1):][:-1]
    fed = (long_ctx + [5, 6])[-(BLOCK + 1):][:-1]
    assert len(fed) == BLOCK
    with torch.no_grad():
        logp = model(torch.tensor([fed]))[0][0].double().log_softmax(-1)
    np.testing.assert_allclose(lp_long, [logp[-2, 5], logp[-1, 6]], atol=2e-5)


def test_a_continuation_as_long_as_the_block_is_scored(model):
    """Every one of BLOCK continuation tokens is predicted: from one context token on."""
    ctx, cont = random_seqs([10, BLOCK], seed=4)
    [(lp, _)] = continuation_scores(model, [ctx], [cont])
    with torch.no_grad():
        logp = model(torch.tensor([ctx[-1:] + cont[:-1]]))[0][0].double().log_softmax(-1)
    np.testing.assert_allclose(lp, logp[torch.arange(BLOCK), torch.tensor(cont)], atol=2e-5)


def test_bad_arguments_and_mode_restored(model):
    with pytest.raises(ValueError, match="2 contexts but 1"):
        continuation_scores(model, [[1], [2]], [[3]])
    with pytest.raises(ValueError, match="continuation of 1..32"):
        continuation_scores(model, [[1]], [[]])
    with pytest.raises(ValueError, match="stride"):
        token_logprobs(model, [[1, 2]], stride=BLOCK)
    model.train()
    token_logprobs(model, [[1, 2, 3]])
    assert model.training
    model.eval()
