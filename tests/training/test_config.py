"""Config files, base chains, overrides and the errors that name what is wrong."""

from __future__ import annotations

import math

import pytest

from contamkit import cli
from contamkit.common.errors import UserError
from contamkit.common.paths import REPO_ROOT
from training.config import TrainConfig, differing_keys, load_config
from training.optim import build_optimizer, lr_at
from training.trainer import accumulation_steps, model_config


def test_toml_base_chain_and_overrides(tmp_path):
    (tmp_path / "base.toml").write_text('lr = 1e-3\nmax_steps = 100\nmodel = "tiny"\n')
    (tmp_path / "child.toml").write_text('base = "base.toml"\nmax_steps = 50\nn_layer = 3\n')
    cfg = load_config(tmp_path / "child.toml", ["--lr=2e-3", "--compile=true", "--out-dir=x"])
    assert (cfg.lr, cfg.max_steps, cfg.n_layer, cfg.compile, cfg.out_dir) == (
        2e-3, 50, 3, True, "x")
    assert cfg.model == "tiny" and cfg.batch_size == TrainConfig.batch_size


def test_json_config_and_int_for_float(tmp_path):
    (tmp_path / "c.json").write_text('{"lr": 1, "weight_decay": 0}')
    cfg = load_config(tmp_path / "c.json")
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float) and cfg.weight_decay == 0.0


@pytest.mark.parametrize("text, message", [
    ("lrr = 1e-3\n", "unknown config key 'lrr' (did you mean 'lr'?)"),
    ("max_steps = 1.5\n", "max_steps must be int, got 1.5"),
    ("compile = 1\n", "compile must be bool, got 1"),
    ("batch_size = 4\nmicro_batch_size = 8\n", "micro_batch_size 8 exceeds batch_size 4"),
    ("[model]\nn_layer = 2\n", "config keys are flat"),
    ("lr = \n", "invalid TOML"),
])
def test_bad_config_file_names_file_and_problem(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(UserError) as e:
        load_config(path)
    assert str(e.value).startswith(str(path)) and message in str(e.value)


def test_unknown_override_is_named(tmp_path):
    (tmp_path / "c.toml").write_text("")
    with pytest.raises(UserError, match=r"override --n_layr: unknown config key 'n_layr' "
                                        r"\(did you mean 'n_layer'\?\)"):
        load_config(tmp_path / "c.toml", ["--n_layr=4"])
    with pytest.raises(UserError, match="not of the form --key=value"):
        load_config(tmp_path / "c.toml", ["--lr", "3"])


def test_cli_train_unknown_key_exits_2_with_one_line(tmp_path, capsys):
    (tmp_path / "c.toml").write_text("")
    assert cli.main(["train", "--config", str(tmp_path / "c.toml"), "--bogus=1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {tmp_path / 'c.toml'}: override --bogus: unknown config key 'bogus'"


def test_base_loop_refused(tmp_path):
    (tmp_path / "a.toml").write_text('base = "b.toml"\n')
    (tmp_path / "b.toml").write_text('base = "a.toml"\n')
    with pytest.raises(UserError, match="loops back"):
        load_config(tmp_path / "a.toml")


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "configs").rglob("*.toml")))
def test_shipped_configs_load(path):
    cfg = load_config(path)
    assert model_config(cfg, 2048).n_layer >= 1
    assert accumulation_steps(cfg, 1) >= 1


def test_differing_keys_ignores_run_control():
    a = TrainConfig()
    b = TrainConfig(out_dir="elsewhere", eval_interval=7, stop_after=3, lr=1e-3, n_embd=64)
    assert differing_keys(a, b) == ["n_embd", "lr"]


def test_accumulation_must_divide():
    cfg = TrainConfig(batch_size=12, micro_batch_size=4)
    assert accumulation_steps(cfg, 1) == 3
    with pytest.raises(UserError, match="not a multiple of micro_batch_size 4 x 2"):
        accumulation_steps(cfg, 2)


def test_lr_schedule_hand_values():
    cfg = TrainConfig(lr=1.0, min_lr=0.1, warmup_steps=4, max_steps=14)
    assert [lr_at(s, cfg) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr_at(4, cfg) == 1.0  # cosine starts at the peak
    assert lr_at(9, cfg) == pytest.approx(0.55)  # halfway: min + (max - min) / 2
    assert lr_at(14, cfg) == pytest.approx(0.1) and lr_at(20, cfg) == pytest.approx(0.1)
    assert lr_at(6, cfg) == pytest.approx(0.1 + 0.45 * (1 + math.cos(math.pi * 0.2)))


def test_weight_decay_on_matrices_only():
    import torch

    from model.gpt2 import GPT, GPTConfig

    model = GPT(GPTConfig.named("tiny", vocab_size=300, n_layer=1, n_embd=32, n_head=2,
                                block_size=16))
    opt = build_optimizer(model, TrainConfig(weight_decay=0.1))
    decayed, plain = opt.param_groups
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decayed["params"])
    assert all(p.dim() == 1 for p in plain["params"])
    total = sum(p.numel() for g in opt.param_groups for p in g["params"])
    assert total == model.num_params()  # every parameter once (the tied matrix too)
    names = {id(p): n for n, p in model.named_parameters()}
    assert "transformer.wte.weight" in {names[id(p)] for p in decayed["params"]}
    assert isinstance(opt, torch.optim.AdamW)
