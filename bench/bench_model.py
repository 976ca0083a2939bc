#!/usr/bin/env python
"""Measured speed of the model package, each figure beside a baseline from the same run.

- training step (forward + backward) tokens/s on CPU for a small config, with the achieved
  GFLOP/s by nanoGPT's estimate (6N + 12·L·H·Q·T flops per token);
- scoring (token_logprobs) tokens/s;
- generation tokens/s with the KV cache against recomputing every step;
- GPT-2 BPE encode MB/s: ours (tiktoken) against the tokenizers library's GPT-2 BPE built from
  the same local encoder.json + vocab.bpe, on real text from the shared data.

    python bench/bench_model.py [--config tiny] [--batch 8] [--seq 256]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, uninstalled
os.environ.setdefault("CONTAM_PROGRESS", "0")  # scoring bars would interleave with the table

import torch  # noqa: E402
from tokenizers import Tokenizer, decoders, models, pre_tokenizers  # noqa: E402

from contamkit.common.paths import gpt2_vocab_dir, shared_data_dir  # noqa: E402
from contamkit.corpus.formats import iter_documents  # noqa: E402
from model.generate import generate  # noqa: E402
from model.gpt2 import GPT, GPTConfig  # noqa: E402
from model.scoring import token_logprobs  # noqa: E402
from model.tokenizer import load_gpt2  # noqa: E402


def best_of(fn, repeats: int) -> float:
    """Fastest wall time of ``repeats`` runs (after one warm-up run)."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_train(model: GPT, batch: int, seq: int, steps: int) -> tuple[float, float]:
    """tokens/s of forward + backward, and achieved GFLOP/s."""
    model.train()
    idx = torch.randint(0, model.config.vocab_size, (batch, seq))

    def step():
        _, loss = model(idx, idx)
        loss.backward()
        model.zero_grad(set_to_none=True)

    seconds = best_of(step, steps)
    c = model.config
    n = model.num_params() - model.transformer.wpe.weight.numel()
    flops_per_token = 6 * n + 12 * c.n_layer * c.n_head * (c.n_embd // c.n_head) * seq
    tokens_per_s = batch * seq / seconds
    return tokens_per_s, tokens_per_s * flops_per_token / 1e9


def bench_gemm(size: int = 2048) -> float:
    """GFLOP/s of one large float32 matrix product: what this CPU's BLAS can reach."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size**3 / best_of(lambda: a @ b, 3) / 1e9


def bench_scoring(model: GPT, batch: int, seq: int, repeats: int) -> tuple[float, float]:
    """tokens/s of token_logprobs, and of the plain way: full logits, log_softmax, gather."""
    seqs = torch.randint(0, model.config.vocab_size, (batch, seq))
    listed = seqs.tolist()

    def plain():
        with torch.inference_mode():
            logp = model(seqs)[0][:, :-1].log_softmax(-1)
            return logp.gather(2, seqs[:, 1:, None])

    ours = best_of(lambda: token_logprobs(model, listed, batch_size=batch), repeats)
    return batch * seq / ours, batch * seq / best_of(plain, repeats)


def bench_generate(model: GPT, new_tokens: int, use_cache: bool) -> float:
    prompt = torch.randint(0, model.config.vocab_size, (32,)).tolist()
    run = lambda: generate(model, prompt, new_tokens, use_cache=use_cache)  # greedy
    return new_tokens / best_of(run, 2)


def hf_gpt2_bpe(vocab_dir: Path) -> Tokenizer:
    """GPT-2's BPE in the tokenizers library, from the same two files."""
    tok = Tokenizer(models.BPE.from_file(str(vocab_dir / "encoder.json"),
                                         str(vocab_dir / "vocab.bpe")))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return tok


def real_texts(limit_mb: float) -> list[str]:
    """WebText documents (the sample's cut-off last line skipped), then WikiText-2 raw lines,
    up to ``limit_mb`` of UTF-8."""
    data = shared_data_dir()
    webtext = (d.text for d in iter_documents(data / "webtext" / "webtext.train.jsonl"))
    wiki = (data / "wikitext-2-raw" / "wiki.test.raw").read_text(encoding="utf-8")
    out, size = [], 0
    for t in itertools.chain(webtext, wiki.splitlines(keepends=True)):
        if size >= limit_mb * 1e6:
            break
        out.append(t)
        size += len(t.encode())
    return out


def bench_tokenizers(limit_mb: float) -> list[tuple[str, float, float]]:
    vocab = gpt2_vocab_dir()
    ours, theirs = load_gpt2(vocab), hf_gpt2_bpe(vocab)
    texts = real_texts(limit_mb)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    ids_ours = ours.encode_batch(texts)
    ids_theirs = [e.ids for e in theirs.encode_batch_fast(texts, add_special_tokens=False)]
    if ids_ours != ids_theirs:
        raise SystemExit("tokenizers disagree: the comparison would be meaningless")
    rows = [
        ("batch (all threads)",
         mb / best_of(lambda: ours.encode_batch(texts), 3),
         mb / best_of(lambda: theirs.encode_batch_fast(texts, add_special_tokens=False), 3)),
        ("one text at a time",
         mb / best_of(lambda: [ours.encode(t) for t in texts], 3),
         mb / best_of(lambda: [theirs.encode(t, add_special_tokens=False) for t in texts], 3)),
    ]
    print(f"\nGPT-2 BPE encode, {mb:.2f} MB of WebText + WikiText-2 text, "
          f"{sum(map(len, ids_ours)):,} tokens (ids identical in both)")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="tiny", help="named config (default tiny)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=5, help="timed training steps (best of)")
    ap.add_argument("--new-tokens", type=int, default=200, help="generated tokens")
    ap.add_argument("--text-mb", type=float, default=4.0, help="text for the tokenizer bench")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    model = GPT(GPTConfig.named(args.config))
    c = model.config
    print(f"model {args.config}: {model.num_params():,} params, {c.n_layer} layers, "
          f"{c.n_embd} wide; batch {args.batch} x {args.seq} tokens; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    train_tps, gflops = bench_train(model, args.batch, args.seq, args.steps)
    gemm = bench_gemm()
    score_tps, score_plain = bench_scoring(model.eval(), args.batch, args.seq, 3)
    gen_cache = bench_generate(model, args.new_tokens, use_cache=True)
    gen_plain = bench_generate(model, args.new_tokens, use_cache=False)
    print(f"{'':36}{'ours':>14}{'baseline':>14}")
    print(f"{'train fwd+bwd tokens/s':36}{train_tps:>14,.0f}")
    print(f"{'train GFLOP/s (baseline: 2048^3 GEMM)':36}{gflops:>14.1f}{gemm:>14.1f}"
          f"  ({gflops / gemm:.0%} of GEMM)")
    print(f"{'scoring tokens/s (baseline: full':36}{score_tps:>14,.0f}{score_plain:>14,.0f}")
    print("   log_softmax over all logits)")
    print(f"{'greedy generation tokens/s':36}{gen_cache:>14,.1f}{gen_plain:>14,.1f}"
          f"  (KV cache vs recompute, x{gen_cache / gen_plain:.1f})")
    rows = bench_tokenizers(args.text_mb)
    print(f"{'':36}{'tiktoken':>14}{'tokenizers':>14}")
    for label, ours_mbs, theirs_mbs in rows:
        print(f"{'encode MB/s, ' + label:36}{ours_mbs:>14.2f}{theirs_mbs:>14.2f}"
              f"  (x{ours_mbs / theirs_mbs:.1f})")


if __name__ == "__main__":
    main()
