"""Generation: KV cache equals recomputation; greedy, temperature, top-k, top-p, stops."""

from __future__ import annotations

import pytest
import torch

from model.generate import _choose, generate
from model.gpt2 import GPT, GPTConfig

BLOCK, VOCAB = 64, 97


@pytest.fixture(scope="module")
def model() -> GPT:
    torch.manual_seed(0)
    m = GPT(GPTConfig.named("tiny", block_size=BLOCK, vocab_size=VOCAB)).eval()
    with torch.no_grad():  # at init a random model repeats one token; larger weights vary
        for name, p in m.named_parameters():
            if "ln" not in name and "wte" not in name:
                p.mul_(4)
    return m


PROMPT = [3, 14, 15, 92, 65, 35, 89, 79]


class CommaTokenizer:
    """decode([3, 14]) == "3,14," -- a stand-in whose text is easy to reason about."""

    def decode(self, ids: list[int]) -> str:
        return "".join(f"{i}," for i in ids)


def greedy_by_hand(model: GPT, prompt: list[int], n: int) -> list[int]:
    tokens = list(prompt)
    with torch.no_grad():
        for _ in range(n):
            tokens.append(int(model(torch.tensor([tokens]))[0][0, -1].argmax()))
    return tokens[len(prompt):]


def test_greedy_with_and_without_cache_equal_argmax_chain(model):
    expected = greedy_by_hand(model, PROMPT, 40)
    assert generate(model, PROMPT, 40, use_cache=True) == expected
    assert generate(model, PROMPT, 40, use_cache=False) == expected
    assert len(set(expected)) > 3


def test_sampling_with_and_without_cache_agree_and_seed_matters(model):
    kw = dict(temperature=1.0, top_k=40, top_p=0.95, seed=7)
    cached = generate(model, PROMPT, 30, use_cache=True, **kw)
    assert cached == generate(model, PROMPT, 30, use_cache=False, **kw)
    others = [generate(model, PROMPT, 30, temperature=1.0, seed=s) for s in range(3)]
    assert len({tuple(o) for o in others}) == 3


def test_truncation_to_one_token_is_greedy(model):
    greedy = generate(model, PROMPT, 20)
    assert generate(model, PROMPT, 20, temperature=1.5, top_k=1, seed=1) == greedy
    assert generate(model, PROMPT, 20, temperature=1.5, top_p=1e-6, seed=1) == greedy


def test_top_k_and_top_p_keep_the_right_tokens():
    logits = torch.tensor([0.5, 0.3, 0.15, 0.05]).log()
    g = torch.Generator().manual_seed(0)
    # top-p 0.7: tokens 0 (mass before it 0) and 1 (0.5) stay; token 2 has 0.8 above it
    drawn = {_choose(logits, 1.0, None, 0.7, g) for _ in range(300)}
    assert drawn == {0, 1}
    assert {_choose(logits, 1.0, 3, None, g) for _ in range(300)} == {0, 1, 2}
    assert {_choose(logits, 1.0, None, None, g) for _ in range(600)} == {0, 1, 2, 3}


def test_stop_ids_and_stop_strings(model):
    full = generate(model, PROMPT, 30)
    k = next(i for i in range(3, 30) if full[i] not in full[:i])
    assert generate(model, PROMPT, 30, stop_ids=[full[k]]) == full[:k]

    tok = CommaTokenizer()
    text = tok.decode(full)
    starts = [len(tok.decode(full[:i])) for i in range(30)]

    def first_at(offset: int) -> tuple[int, str]:
        """A token k >= 3 (two digits) and the stop string that first occurs offset chars into
        token k's text and runs into token k + 1."""
        for k in range(3, 29):
            stop = text[starts[k] + offset:starts[k + 1] + 2]
            if full[k] >= 10 and text.find(stop) == starts[k] + offset:
                return k, stop
        raise AssertionError("no usable stop string in this output")

    k, stop = first_at(0)  # stop string begins exactly at token k
    assert generate(model, PROMPT, 30, stop_strings=["zz", stop], tokenizer=tok) == full[:k]
    k, stop = first_at(1)  # begins inside token k: token k is dropped too
    assert generate(model, PROMPT, 30, stop_strings=[stop], tokenizer=tok) == full[:k]
    assert generate(model, PROMPT, 30, stop_strings=["no such"], tokenizer=tok) == full


def test_long_prompt_is_cut_on_the_left_and_limits(model):
    long_prompt = (PROMPT * 20)[:100]
    assert generate(model, long_prompt, 10) == generate(model, long_prompt[-(BLOCK - 10):], 10)
    assert generate(model, long_prompt, 10, use_cache=False) == generate(model, long_prompt, 10)
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(model, PROMPT, BLOCK)
    for bad in (dict(temperature=-1.0), dict(top_k=0), dict(top_p=0.0), dict(top_p=1.5)):
        with pytest.raises(ValueError, match="need temperature >= 0"):
            generate(model, PROMPT, 5, **bad)
    with pytest.raises(ValueError, match="tokenizer"):
        generate(model, PROMPT, 5, stop_strings=["x"])
