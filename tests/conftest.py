"""Shared fixtures: the public data in ../shared/data (skip locally when absent, fail in CI)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from contamkit.common.paths import gpt2_vocab_dir, shared_data_dir

os.environ.setdefault("CONTAM_PROGRESS", "0")


def _require(path: Path) -> Path:
    if path.exists():
        return path
    reason = f"shared data not found at {path} (set CONTAM_DATA_DIR)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " -- required in CI")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return _require(shared_data_dir())


@pytest.fixture(scope="session")
def gpt2_vocab() -> Path:
    return _require(gpt2_vocab_dir())
