"""Experiment configs: every key and type checked, with messages that name the problem."""

from __future__ import annotations

import json

import pytest

from contamkit.common.errors import UserError
from contamkit.common.paths import REPO_ROOT, shared_data_dir
from contamkit.experiments.config import load_experiment, resolve_path
from tests.contamkit.experiments.conftest import tiny_config


def write(tmp_path, cfg: dict):
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(cfg))
    return path


def test_tiny_config_loads(tmp_path, builtin_data):
    cfg = load_experiment(write(tmp_path, tiny_config(builtin_data)))
    assert cfg.injection.counts == [1, 8] and cfg.models["xs"]["n_embd"] == 32
    tc = cfg.train_config("xs", tmp_path / "d", tmp_path / "o", "gpt2")
    assert (tc.n_layer, tc.max_steps, tc.data_dir) == (1, 30, str(tmp_path / "d"))


@pytest.mark.parametrize("change, message", [
    ({"injecton": {}}, "unknown key 'injecton' (did you mean 'injection'?)"),
    ({"injection": {"counts": [1, 1]}}, "distinct positive copy counts"),
    ({"injection": {"counts": "4"}}, "injection: counts must be a list"),
    ({"benchmark": {"name": "jsonl", "limit": 10}}, "leaves no held-out examples"),
    ({"train": {"max_stesp": 3}}, "unknown training key 'max_stesp' (did you mean 'max_steps'?)"),
    ({"train": {"out_dir": "x"}}, "'out_dir' is set by the experiment"),
    ({"models": {}}, "'models' must name at least one model"),
    ({"models": {"a": {"n_layer": "two"}}}, "n_layer must be int or null"),
    ({"measures": {"min_k": 0}}, "min_k must be in (0, 1]"),
])
def test_mistakes_name_the_key(tmp_path, builtin_data, change, message):
    with pytest.raises(UserError) as e:
        load_experiment(write(tmp_path, tiny_config(builtin_data, **change)))
    assert message in str(e.value) and "exp.json" in str(e.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_experiment(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(UserError, match="bad.json: invalid JSON"):
        load_experiment(bad)


def test_data_prefix_means_the_shared_data_dir():
    assert resolve_path("$DATA/lambada/x.jsonl") == shared_data_dir() / "lambada" / "x.jsonl"
    assert str(resolve_path("rel/x")) == "rel/x"


def test_shipped_configs_load():
    for path in sorted((REPO_ROOT / "configs" / "experiments").glob("*.json")):
        cfg = load_experiment(path)
        assert cfg.models and cfg.benchmark.limit > cfg.injection.per_count


def test_digest_ignores_how_a_run_is_driven_not_what_it_computes(tmp_path, builtin_data):
    base = tiny_config(builtin_data)
    digest = load_experiment(write(tmp_path, base)).digest()
    driven = {**base, "device": "cpu", "out_dir": "elsewhere",
              "train": {**base["train"], "threads": 2, "log_interval": 5}}
    assert load_experiment(write(tmp_path, driven)).digest() == digest
    changed = {**base, "train": {**base["train"], "lr": 0.001}}
    assert load_experiment(write(tmp_path, changed)).digest() != digest
