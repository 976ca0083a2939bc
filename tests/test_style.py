"""The code base stays ruff-clean: part of the test suite, so CI enforces it."""

import shutil
import subprocess

import pytest

from contamkit.common.paths import REPO_ROOT


def test_ruff_clean():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    result = subprocess.run([ruff, "check", "--quiet", "."], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
