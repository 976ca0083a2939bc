"""The wheel installs only the layout's top-level packages and a working ``contamkit`` command.

Built without isolation and installed with ``--no-deps`` into a fresh venv that sees the
system's site-packages, so the test is offline and quick (~20 s); the venv's own copy of the
package must be the one imported, from outside the repository.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile

import pytest

from contamkit.common.paths import REPO_ROOT

TOP_LEVEL = {"contamkit", "overlap", "model", "training"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the wheel, the venv's bin directory)."""
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"  # a copy: building in the tree would leave build/ there
    shutil.copytree(REPO_ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "out", "*.egg-info", "__pycache__", ".*_cache", "notebooks"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "--no-build-isolation", "--no-index", "-w", str(tmp / "dist"),
                            str(source)], capture_output=True, text=True, cwd=tmp)
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = (tmp / "dist").glob("contamkit-*.whl")
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(tmp / "venv")
    bin_dir = tmp / "venv" / "bin"
    # --ignore-installed: the venv sees the system's packages, maybe an editable contamkit
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"),
                              "install", "--no-deps", "--no-index", "--ignore-installed",
                              str(wheel)], capture_output=True, text=True, cwd=tmp)
    assert install.returncode == 0, install.stdout + install.stderr
    return wheel, bin_dir


def test_wheel_holds_only_the_layouts_packages(installed):
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as z:
        tops = {name.split("/")[0] for name in z.namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == TOP_LEVEL
    assert not any(name.endswith("__init__.py") and name.count("/") == 1
                   and name.startswith("contamkit/") for name in z.namelist())  # namespace


def test_console_command_runs_from_the_venv(installed, tmp_path):
    _, bin_dir = installed
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    where = subprocess.run([bin_dir / "python", "-c", "import contamkit.cli, overlap.units; "
                            "print(contamkit.cli.__file__); print(overlap.units.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, env=env)
    assert where.returncode == 0, where.stderr
    assert all(line.startswith(str(bin_dir.parent)) for line in where.stdout.split()), where.stdout
    run = subprocess.run([bin_dir / "contamkit", "--help"], capture_output=True, text=True,
                         cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert "build-filter" in run.stdout and "usage: contamkit" in run.stdout
