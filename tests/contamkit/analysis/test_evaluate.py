"""``evaluate`` from the command line: files, ids, summary, and the mistakes it refuses."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from contamkit import cli
from contamkit.benchmarks import load_benchmark
from model.checkpoint import save_checkpoint
from tests.contamkit.common.output_checks import (
    keeps_previous_on_failure,
    refuses_foreign,
    refuses_inputs,
)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, tiny_model):
    path = tmp_path_factory.mktemp("ck")
    save_checkpoint(tiny_model, path, "gpt2")
    return path


def run(*args) -> int:
    return cli.main(["evaluate", *map(str, args)])


def read_rows(out) -> list[dict]:
    return [json.loads(line) for line in (out / "examples.jsonl").read_text().splitlines()]


def test_lambada_run(tmp_path, checkpoint, shared_data, gpt2_vocab):
    out = tmp_path / "ev"
    assert run("--model", checkpoint, "--bench", "lambada", "--limit", 4, "--out", out,
               "--device", "cpu", "--batch-size", 3) == 0
    rows = read_rows(out)
    assert [r["id"] for r in rows] == [e.id for e in load_benchmark("lambada")[:4]]
    s = json.loads((out / "summary.json").read_text())
    assert (s["bench"], s["split"], s["variant"], s["task"], s["tokenizer"], s["examples"]) == (
        "lambada", "test", "openai", "lambada", "gpt2", 4)
    assert s["metrics"]["accuracy"] == pytest.approx(100 * np.mean([r["correct"] for r in rows]))
    assert s["metrics"]["perplexity"] == pytest.approx(math.exp(np.mean([r["nll"]
                                                                         for r in rows])))
    assert s["model"] == str(checkpoint.resolve()) and s["limit"] == 4


def test_lm_and_winograd_runs(tmp_path, checkpoint, shared_data, gpt2_vocab):
    assert run("--model", checkpoint, "--bench", "ptb", "--limit", 5, "--out", tmp_path / "p",
               "--stride", 16) == 0
    s = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert set(s["metrics"]) == {"token_perplexity", "word_perplexity", "bits_per_byte"}
    assert s["options"]["stride"] == 16
    assert run("--model", checkpoint, "--bench", "wsc", "--limit", 3, "--out",
               tmp_path / "w") == 0
    assert [r["id"] for r in read_rows(tmp_path / "w")] == [
        "winograd/test/00000", "winograd/test/00001", "winograd/test/00002"]


def test_mistakes_exit_2_with_one_line(tmp_path, checkpoint, tiny_model, shared_data,
                                       gpt2_vocab, capsys):
    other = tmp_path / "other"
    save_checkpoint(tiny_model, other, "bpe300:0123456789abcdef")
    cases = [
        ([other], "is not GPT-2's and its training data"),
        ([other, "--tokenizer", "gpt2"], "was trained with tokenizer bpe300"),
        ([checkpoint, "--variant", "xml", "--bench", "winograd"],
         "partial scoring needs the jsonl variant"),
        ([tmp_path / "nothing"], "checkpoint directory lacks"),
    ]
    for args, message in cases:
        bench = [] if "--bench" in args else ["--bench", "lambada"]
        limit = [] if "--limit" in args else ["--limit", 2]
        assert run("--model", *args, *bench, *limit, "--out", tmp_path / "o") == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err.startswith("error: ") and message in err, err
    # an option out of range: argparse's usage error, returned as exit status 2
    assert run("--model", checkpoint, "--bench", "lambada", "--limit", 0,
               "--out", tmp_path / "o") == 2
    assert "argument --limit: must be at least 1, got 0" in capsys.readouterr().err


def test_output_is_never_an_input_nor_foreign_and_survives_a_failure(tmp_path, checkpoint,
                                                                      gpt2_vocab, capsys,
                                                                      monkeypatch):
    bench = tmp_path / "bench" / "lambada_test.jsonl"
    bench.parent.mkdir()
    bench.write_text("".join(json.dumps({"text": f"Story {i} ends with the word door"}) + "\n"
                             for i in range(3)))

    def command(out, limit=2):
        return ["evaluate", "--model", checkpoint, "--bench", "lambada", "--bench-path", bench,
                "--out", out, "--device", "cpu", "--limit", limit]

    refuses_inputs(capsys, command, [checkpoint, checkpoint / "eval", bench, bench / "eval"],
                   [checkpoint, bench])
    refuses_foreign(capsys, command, tmp_path / "mine", "evaluation run folder")
    out = tmp_path / "runs" / "eval"
    out.parent.mkdir()

    def state(out):  # the files, less the run's duration
        summary = json.loads((out / "summary.json").read_text())
        return (out / "examples.jsonl").read_text(), {**summary, "seconds": None}

    keeps_previous_on_failure(capsys, monkeypatch, command(out, 2), command(out, 3), out, state)
    assert sorted(p.name for p in out.iterdir()) == ["examples.jsonl", "summary.json"]
