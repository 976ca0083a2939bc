"""Compiled kernels are cached per user when the installed package cannot hold the cache."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import overlap.murmur

CALL = ("import numpy as np, murmur; murmur.fmix(np.uint64(7)); "
        "print(sum(murmur.fmix.stats.cache_hits.values()))")


def test_kernels_cache_in_the_users_cache_folder_when_the_package_folder_is_not_writable(
        tmp_path):
    package = tmp_path / "site-packages"
    package.mkdir()
    shutil.copy(Path(overlap.murmur.__file__), package / "murmur.py")
    (package / "__pycache__").write_text("")  # no cache can be made beside the module
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(PYTHONPATH=str(package), XDG_CACHE_HOME=str(tmp_path / "cache"),
               PYTHONDONTWRITEBYTECODE="1")

    def hits() -> int:
        run = subprocess.run([sys.executable, "-c", CALL], env=env, capture_output=True,
                             text=True, check=True, cwd=tmp_path)
        return int(run.stdout)

    assert hits() == 0  # compiled, and saved
    assert list((tmp_path / "cache" / "numba").rglob("*.nbi"))
    assert hits() == 1  # loaded from the user's cache, not compiled again
