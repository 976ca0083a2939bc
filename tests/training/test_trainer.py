"""The trainer end to end: it learns, resumes exactly, and DDP matches one process."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from contamkit import cli
from contamkit.common.errors import UserError
from contamkit.common.outputs import pid_alive
from contamkit.common.paths import REPO_ROOT
from model.checkpoint import load_checkpoint
from tests.contamkit.common.output_checks import (
    failure_points,
    inject_failure,
    listing,
    refuses_foreign,
    refuses_inputs,
    run_cli,
    tree,
)
from training.config import load_config
from training.dataset import open_prepared
from training.exposure import document_exposures, run_exposures
from training.sequences import fixed_windows, gather
from training.state import CHECKPOINTS, LATEST
from training.trainer import train

from .conftest import raw_tokens, small_config


def rows(out_dir, kind):
    lines = (out_dir / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def unigram_entropy(tokens: np.ndarray) -> float:
    """Entropy (nats) of the tokens' own unigram distribution: the best any model that ignores
    context can do on them."""
    p = np.bincount(tokens)
    p = p[p > 0] / len(tokens)
    return float(-(p * np.log(p)).sum())


def test_tiny_config_learns_well_below_unigram_entropy(bpe_data, tmp_path):
    cfg = load_config(REPO_ROOT / "configs/tiny.toml", {
        "data_dir": str(bpe_data), "out_dir": str(tmp_path / "run"), "max_steps": 150,
        "eval_interval": 150, "checkpoint_interval": 150, "threads": 1})
    result = train(cfg)
    entropy = unigram_entropy(raw_tokens(bpe_data / "val.bin"))
    first = rows(tmp_path / "run", "eval")[0]
    assert first["step"] == 0 and abs(first["val_loss"] - math.log(2048)) < 0.2  # uniform start
    assert result.step == 150 and 6.0 < entropy < 7.0
    assert result.val_loss < entropy - 0.5, (result.val_loss, entropy)
    assert (tmp_path / "run" / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.tokens_per_s > 0


def test_resume_after_interruption_continues_the_same_curve(bpe_data, tmp_path):
    """Dropout on and two micro-batches per step, so RNG and accumulation are exercised."""
    full = train(small_config(bpe_data, tmp_path / "full", dropout=0.1))
    # Stop at step 6, then lose the step-6 checkpoint as if the process died after logging
    # steps 5-6: the rerun resumes from step 4 and must rewrite those rows identically.
    train(small_config(bpe_data, tmp_path / "cut", dropout=0.1, stop_after=6))
    root = tmp_path / "cut" / CHECKPOINTS
    shutil.rmtree(root / "step_0000006")
    (root / LATEST).write_text("step_0000004\n")
    resumed = train(small_config(bpe_data, tmp_path / "cut", dropout=0.1))
    a, b = rows(tmp_path / "full", "train"), rows(tmp_path / "cut", "train")
    assert [r["step"] for r in b] == list(range(1, 13))
    assert [r["loss"] for r in b] == pytest.approx([r["loss"] for r in a], abs=1e-6)
    assert rows(tmp_path / "cut", "eval") == rows(tmp_path / "full", "eval")
    assert resumed.val_loss == pytest.approx(full.val_loss, abs=1e-6)
    assert a[-1]["loss"] < a[0]["loss"] - 0.3  # it trained


def test_checkpoint_is_loadable_and_pickle_free(bpe_data, tmp_path):
    cfg = small_config(bpe_data, tmp_path / "run", max_steps=8)
    result = train(cfg)
    ckpt = result.checkpoint
    assert ckpt.name == "step_0000008"
    assert sorted(p.name for p in ckpt.iterdir()) == [
        "config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json"]
    model, meta = load_checkpoint(ckpt)
    assert meta["tokenizer"] == open_prepared(bpe_data).tokenizer_name
    # The reported val loss, recomputed from the saved weights on the same windows.
    data = open_prepared(bpe_data)
    windows = fixed_windows(len(data.val), 32, cfg.eval_iters * cfg.micro_batch_size, cfg.seed)
    with torch.no_grad():
        x, y = gather(data.val, windows, 32)
        assert model(x, y)[1].item() == pytest.approx(result.val_loss, abs=1e-5)
    state = json.loads((ckpt / "trainer_state.json").read_text())
    assert state["step"] == 8 and state["sequences_seen"] == 64
    np.testing.assert_array_equal(run_exposures(tmp_path / "run"),
                                  document_exposures(data, 32, cfg.seed, 64))


def test_checkpoint_from_another_config_is_refused(bpe_data, tmp_path):
    train(small_config(bpe_data, tmp_path / "run", max_steps=2))
    with pytest.raises(UserError, match=r"checkpoint is from another config \(n_embd: 32 -> 48, "
                                        r"lr: 0.01 -> 0.001\)"):
        train(small_config(bpe_data, tmp_path / "run", max_steps=2, n_embd=48, lr=1e-3))


def test_data_with_another_tokenizer_is_refused(bpe_data, gpt2_vocab, tmp_path):
    with pytest.raises(UserError, match="tokenized with bpe:2048 .* asks for tokenizer 'gpt2'"):
        train(small_config(bpe_data, tmp_path / "run", tokenizer="gpt2"))


def test_cli_train_and_missing_manifest(bpe_data, tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text(json.dumps(vars(small_config(bpe_data, tmp_path / "run", max_steps=2))))
    assert cli.main(["train", "--config", str(config), "--max_steps=3"]) == 0
    assert [r["step"] for r in rows(tmp_path / "run", "train")] == [1, 2, 3]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["train", "--config", str(config), f"--data_dir={empty}"]) == 2
    assert f"error: {empty}: no manifest.json" in capsys.readouterr().err


def test_ddp_two_gloo_processes_match_one_process(bpe_data, tmp_path):
    """Global batch 8: one process accumulates 2 x 4, two processes take 4 each."""
    cfg = small_config(bpe_data, tmp_path / "one", max_steps=6, eval_interval=6)
    one = train(cfg)
    config = tmp_path / "ddp.json"
    config.write_text(json.dumps({**vars(cfg), "out_dir": str(tmp_path / "two")}))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "CONTAM_PROGRESS": "0",
           "OMP_NUM_THREADS": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(REPO_ROOT / "cli.py"), "train", "--config", str(config)],
        env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "on 2 x cpu" in run.stderr and "1 micro-batch(es) of 4" in run.stderr
    a, b = rows(tmp_path / "one", "train"), rows(tmp_path / "two", "train")
    assert [r["loss"] for r in b] == pytest.approx([r["loss"] for r in a], abs=1e-4)
    two_val = rows(tmp_path / "two", "eval")[-1]["val_loss"]
    assert two_val == pytest.approx(one.val_loss, abs=1e-4)
    assert a[-1]["loss"] < a[0]["loss"]


def test_output_is_never_the_data_nor_foreign_and_resumes_in_its_own(bpe_data, tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text(json.dumps(vars(small_config(bpe_data, tmp_path / "run", max_steps=8))))

    def command(out, *more):
        return ["train", "--config", config, f"--out_dir={out}", *more]

    refuses_inputs(capsys, command, [bpe_data, bpe_data / "run", bpe_data.parent], [bpe_data])
    refuses_foreign(capsys, command, tmp_path / "mine", "training run folder")
    assert rows(tmp_path / "mine", "train")[-1]["step"] == 8
    out = tmp_path / "run"  # a run folder of its own is continued, without --force
    assert run_cli(capsys, command(out, "--stop_after=4")).returncode == 0
    dead = next(pid for pid in range(4_000_000, 4_100_000) if not pid_alive(pid))
    debris = [out / f".metrics.jsonl.{dead}-a1b2.tmp", out / CHECKPOINTS / f".latest.{dead}-c3.tmp"]
    for path in debris:  # what a run killed while writing them left
        path.write_text("half")
    (out / CHECKPOINTS / f".step_0000008.{dead}-d4e5.tmp").mkdir()
    assert run_cli(capsys, command(out)).returncode == 0
    assert [r["step"] for r in rows(out, "train")] == list(range(1, 9))
    assert rows(out, "eval") == rows(tmp_path / "mine", "eval")  # as one uninterrupted run
    assert [listing(d)[1] for d in (out, out / CHECKPOINTS)] == [[], []]


def test_a_failed_checkpoint_keeps_the_last_one_and_resumes_exactly(bpe_data, tmp_path, capsys,
                                                                    monkeypatch):
    """ENOSPC at each step where the resumed run (step 4 -> 8) changes the file system: the
    step-4 checkpoint stays as it was (or step 8 is there whole), no temporary is left, and the
    next run ends with the weights of an uninterrupted one."""
    config = tmp_path / "c.json"
    config.write_text(json.dumps(vars(small_config(bpe_data, tmp_path / "run", max_steps=8))))
    base, out, ref = tmp_path / "base", tmp_path / "run", tmp_path / "ref"
    assert run_cli(capsys, ["train", "--config", config, f"--out_dir={base}",
                            "--stop_after=4"]).returncode == 0
    shutil.copytree(base, ref)
    steps = inject_failure(monkeypatch, None)
    assert run_cli(capsys, ["train", "--config", config, f"--out_dir={ref}"]).returncode == 0
    total = steps[0]
    expected = weights(ref / CHECKPOINTS / "step_0000008")
    step4 = tree(base / CHECKPOINTS / "step_0000004")
    for n in failure_points(total):
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(base, out)
        inject_failure(monkeypatch, n)
        r = run_cli(capsys, ["train", "--config", config])
        assert r.returncode == 1 and "injected" in r.stderr, f"step {n} of {total}: {r.stderr}"
        assert [listing(d)[1] for d in (out, out / CHECKPOINTS)] == [[], []], f"step {n}"
        latest = (out / CHECKPOINTS / LATEST).read_text().strip()
        if latest == "step_0000004":
            assert tree(out / CHECKPOINTS / latest) == step4, f"step {n}: step 4 changed"
        else:
            assert weights(out / CHECKPOINTS / latest) == expected, f"step {n}: half written"
        inject_failure(monkeypatch, None)
        assert run_cli(capsys, ["train", "--config", config]).returncode == 0
        assert weights(out / CHECKPOINTS / "step_0000008") == expected, f"step {n}: not exact"


def weights(checkpoint) -> dict[str, bytes]:
    model, _ = load_checkpoint(checkpoint)
    return {k: v.numpy().tobytes() for k, v in model.state_dict().items()}
