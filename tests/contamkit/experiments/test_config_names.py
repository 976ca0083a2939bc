"""An experiment's name and model names become folders: they may not climb out of the output."""

from __future__ import annotations

import json

import pytest

from contamkit.common.errors import UserError
from contamkit.experiments.config import load_experiment
from tests.contamkit.experiments.conftest import tiny_config


@pytest.mark.parametrize("change, message", [
    ({"models": {"../../escape": {}}}, "model name '../../escape' must be a plain name"),
    ({"models": {"/abs": {}}}, "model name '/abs' must be a plain name"),
    ({"models": {"..": {}}}, "model name '..' must be a plain name"),
    ({"name": "../up"}, "name '../up' must be a plain name"),
])
def test_names_that_are_paths_are_refused(tmp_path, builtin_data, change, message):
    path = tmp_path / "exp.json"
    path.write_text(json.dumps({**tiny_config(builtin_data), **change}))
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_experiment(path)
