"""Hugging Face models through ``evaluate``: the same numbers as the GPT-2 path for a GPT-2 in
HF format, end to end from the CLI for tiny Llama and GPT-NeoX models, and the multiple-choice
and exact-match evaluators against lm-evaluation-harness's own definitions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from contamkit import cli
from contamkit.analysis.evaluate import load_model
from contamkit.analysis.evaluators import (
    ANSWER_RULES,
    EvalOptions,
    evaluate_exact_match,
    evaluate_multiple_choice,
    extract_answer,
)
from contamkit.benchmarks import Example, load_benchmark
from model.checkpoint import convert_hf_gpt2

OPTS = EvalOptions(batch_size=4)


def read_rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "examples.jsonl").read_text().splitlines()]


def evaluate(*args) -> int:
    return cli.main(["evaluate", "--device", "cpu", *map(str, args)])


@pytest.fixture(scope="module")
def gpt2_pair(tmp_path_factory, gpt2_vocab) -> tuple[Path, Path]:
    """One random GPT-2 (context 64) as a Hugging Face folder with GPT-2's tokenizer, and
    converted to this toolkit's checkpoint."""
    import transformers as tf
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    hf_dir = tmp_path_factory.mktemp("hf_gpt2")
    torch.manual_seed(0)
    tf.GPT2LMHeadModel(tf.GPT2Config(n_positions=64, n_embd=32, n_layer=2,
                                     n_head=2)).save_pretrained(hf_dir)
    bpe = Tokenizer(models.BPE.from_file(str(gpt2_vocab / "encoder.json"),
                                         str(gpt2_vocab / "vocab.bpe")))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    eot = "<|endoftext|>"
    tf.PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token=eot,
                               eos_token=eot).save_pretrained(hf_dir)
    ckpt = tmp_path_factory.mktemp("ours")
    convert_hf_gpt2(hf_dir, ckpt)
    return hf_dir, ckpt


@pytest.mark.parametrize("bench,limit,fields", [
    ("lambada", 10, ("nll", "tokens", "correct")),  # passages longer than 64 tokens: cut
    ("webtext", 3, ("nll", "tokens", "words", "bytes")),  # past 64 tokens: sliding windows
    ("winograd", 4, ("logprobs", "pred", "correct")),
])
def test_a_gpt2_gives_the_same_numbers_through_both_paths(tmp_path, gpt2_pair, shared_data,
                                                          bench, limit, fields):
    rows = {}
    for name, model in zip(("hf", "ours"), gpt2_pair, strict=True):
        assert evaluate("--model", model, "--bench", bench, "--limit", limit,
                        "--out", tmp_path / name, "--batch-size", 3) == 0
        rows[name] = read_rows(tmp_path / name)
    assert [r["id"] for r in rows["hf"]] == [r["id"] for r in rows["ours"]]
    if bench == "lambada":  # the test must reach the truncation rule
        assert any(len(ex.text) > 64 * 4 for ex in load_benchmark("lambada")[:limit])
    for hf, ours in zip(rows["hf"], rows["ours"], strict=True):
        for f in fields:
            np.testing.assert_allclose(hf[f], ours[f], rtol=1e-4, err_msg=f"{hf['id']} {f}")
        assert hf["loss"] == pytest.approx(ours["loss"], rel=1e-4)


def test_multiple_choice_and_exact_match_agree_through_both_paths(gpt2_pair):
    (hf, hf_tok), (ours, our_tok) = (load_model(d, "cpu") for d in gpt2_pair)
    mc = [Example(f"arc/test/{i}", "", {"query": f"Question: {q}\nAnswer:", "choices": c,
                                        "gold": g})
          for i, (q, c, g) in enumerate([("Which is a colour?", [" red", " seven", " a dog"], 0),
                                         ("2 + 2 =", [" 4", " four", " 22"], 1)])]
    em = [Example("gsm8k/test/0", "", {"question": "Question: 2 + 2?\nAnswer:", "answer": "4"})]
    opts = EvalOptions(batch_size=2, max_new_tokens=8)
    for evaluator, keys in ((evaluate_multiple_choice, ("logprobs", "acc", "acc_norm")),
                            (evaluate_exact_match, ("generation", "exact_match", "nll"))):
        for a, b in zip(evaluator(hf, hf_tok, mc if keys[1] == "acc" else em, opts),
                        evaluator(ours, our_tok, mc if keys[1] == "acc" else em, opts),
                        strict=True):
            for k in keys:
                if isinstance(a[k], str):
                    assert a[k] == b[k]
                else:
                    np.testing.assert_allclose(a[k], b[k], rtol=1e-4)


@pytest.mark.parametrize("arch", ["llama", "gpt_neox"])
def test_tiny_models_evaluate_from_the_cli(tmp_path, tiny_hf, shared_data, arch):
    """LAMBADA's first passages; each row against the model's own forward pass on lm-eval's
    encoding: [BOS] + context, the target cut from the encoding of the joined text."""
    model_dir = tiny_hf(arch, tmp_path / arch, context=64)
    out = tmp_path / "ev"
    assert evaluate("--model", model_dir, "--bench", "lambada", "--limit", 6, "--out", out,
                    "--batch-size", 4, "--dtype", "float32") == 0
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["task"], summary["examples"], summary["options"]["dtype"]) == (
        "lambada", 6, "float32")
    assert summary["tokenizer"].startswith("hf:")
    model, tok = load_model(model_dir, "cpu")
    for ex, row in zip(load_benchmark("lambada")[:6], read_rows(out), strict=True):
        ctx, target = ex.fields["context"], ex.fields["target"]
        enc = tok.tok(ctx + target)["input_ids"]  # the tokenizer's default: <s> in front
        n_ctx = len(tok.tok(ctx)["input_ids"])
        fed = enc[-65:][:-1]
        with torch.no_grad():
            logp = model.hf(input_ids=torch.tensor([fed])).logits[0].double().log_softmax(-1)
        n = len(enc) - n_ctx
        targets = torch.tensor(enc[-n:])
        lp = logp[torch.arange(len(fed) - n, len(fed)), targets]
        assert row["tokens"] == n
        assert row["nll"] == pytest.approx(-float(lp.sum()), rel=1e-4)
        greedy = (logp[len(fed) - n:].argmax(-1) == targets).all()
        assert row["correct"] == int(greedy)


def test_multiple_choice_follows_lm_eval(tmp_path, tiny_hf):
    """acc: the choice of highest log-likelihood; acc_norm: per character of the choice, the
    delimiter left out (lm-eval's completion_len); log-likelihoods from the model's forward."""
    model, tok = load_model(tiny_hf("llama", tmp_path / "m"), "cpu")
    choices = [" json", " a module for regular expressions", " os", " x"]
    examples = [Example(f"arc/test/{g}", "", {"query": "import", "choices": choices, "gold": g})
                for g in range(4)]
    rows = evaluate_multiple_choice(model, tok, examples, OPTS)
    ctx = tok.tok("import")["input_ids"]
    lls = []
    for c in choices:
        whole = tok.tok("import" + c)["input_ids"]
        with torch.no_grad():
            logp = model.hf(input_ids=torch.tensor([whole])).logits[0].double().log_softmax(-1)
        lls.append(float(logp[torch.arange(len(ctx) - 1, len(whole) - 1),
                              torch.tensor(whole[len(ctx):])].sum()))
    pred = int(np.argmax(lls))
    pred_norm = int(np.argmax(np.array(lls) / [len(c) - 1 for c in choices]))
    for g, row in enumerate(rows):
        np.testing.assert_allclose(row["logprobs"], lls, rtol=1e-5)
        assert (row["acc"], row["acc_norm"]) == (int(pred == g), int(pred_norm == g))
    assert sum(r["acc"] for r in rows) == sum(r["acc_norm"] for r in rows) == 1


def test_answer_extraction_is_lm_evals(forced_model, gpt2_tok):
    """The gsm8k filters and exact_match against lm-eval's own implementation, and a model that
    always says " 4" scores on the flexible extraction only."""
    from lm_eval.api.metrics import exact_match_hf_evaluate
    from lm_eval.filters.extraction import RegexFilter

    gens = [" The answer is 72.\n#### 72", " so $1,000.", "#### -3.5", " nothing here", " 4 4 4",
            " 18 then 20", " #### 1,234\nQuestion: next"]
    golds = ["72", "1000", "-3.5", "5", "4", "20", "1234"]
    rule = ANSWER_RULES["gsm8k"]
    for how in (rule.strict, rule.flexible):
        ref = RegexFilter(regex_pattern=how[0], group_select=how[1]).apply(
            [[g] for g in gens], [{}] * len(gens))
        ours = [extract_answer(g, how) for g in gens]
        assert ours == [r[0] for r in ref]
        for pred, gold in zip(ours, golds, strict=True):
            expected = exact_match_hf_evaluate([pred], [gold], ignore_case=True,
                                               regexes_to_ignore=[",", "\\$", "(?s).*#### ",
                                                                  "\\.$"])["exact_match"]
            assert (rule.normalize(pred) == rule.normalize(gold)) == bool(expected)
    (four,) = gpt2_tok.encode(" 4")
    ex = Example("gsm8k/test/0", "", {"question": "Question: 2 + 2?\nAnswer:", "answer": "4"})
    [row] = evaluate_exact_match(forced_model(four), gpt2_tok, [ex],
                                 EvalOptions(max_new_tokens=5))
    assert row["generation"] == " 4" * 5
    assert (row["extracted"], row["exact_match"]) == ("[invalid]", 0)
    assert (row["extracted_flexible"], row["exact_match_flexible"]) == ("4", 1)


def test_todays_benchmarks_evaluate_from_the_cli(tmp_path, tiny_hf):
    """The multiple-choice and exact-match sets, from their release files (the benchmark
    tests' fixture rows), through ``evaluate`` with a tiny Llama."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    fixtures = Path(__file__).parents[1] / "benchmarks" / "fixtures" / "hf_release_rows.json"
    releases = json.loads(fixtures.read_text(encoding="utf-8"))
    model = tiny_hf("llama", tmp_path / "llama")
    expected = {"mmlu": ("acc", "acc_norm"), "winogrande": ("accuracy",),
                "gsm8k": ("exact_match", "exact_match_flexible"),
                "triviaqa": ("exact_match", "exact_match_flexible")}
    for bench, metrics in expected.items():
        spec = releases[bench]
        path = tmp_path / "hf" / bench / spec["file"]
        path.parent.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(spec["rows"]), path)
        out = tmp_path / bench
        assert evaluate("--model", model, "--bench", bench, "--bench-path", tmp_path / "hf",
                        "--out", out, "--max-new-tokens", 4) == 0
        summary, rows = json.loads((out / "summary.json").read_text()), read_rows(out)
        assert len(rows) == len(spec["rows"]) == summary["examples"]
        assert tuple(summary["metrics"]) == metrics
        column = {"accuracy": "correct"}.get(metrics[0], metrics[0])
        assert summary["metrics"][metrics[0]] == pytest.approx(
            100 * np.mean([r[column] for r in rows]))


def test_bad_model_directories_exit_2_with_one_line(tmp_path, tiny_hf, shared_data, capsys):
    good = tiny_hf("llama", tmp_path / "good")
    no_tok, t5 = tmp_path / "no_tok", tmp_path / "t5"
    for d in (no_tok, t5):
        d.mkdir()
        for f in good.iterdir():
            if d is t5 or f.name in ("config.json", "model.safetensors"):
                (d / f.name).write_bytes(f.read_bytes())
    (t5 / "config.json").write_text(json.dumps({"model_type": "t5"}))
    cases = [((no_tok,), f"{no_tok}: no tokenizer files"),
             ((t5,), f"{t5 / 'config.json'}: unsupported architecture 't5'"),
             ((good, "--tokenizer", "gpt2"), f"{good}: a Hugging Face model uses its own")]
    for args, message in cases:
        capsys.readouterr()
        assert evaluate("--model", *args, "--bench", "lambada", "--limit", 2,
                        "--out", tmp_path / "o") == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith(f"error: {message}"), err
        assert not any("Traceback" in line for line in err)
