"""The notebooks run top to bottom (nbclient, a python3 kernel) on small data, and are stored
without outputs. Each gets its parameters cell followed by a cell of small-size overrides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from contamkit.common.paths import REPO_ROOT
from tests.contamkit.experiments.conftest import tiny_config, write_builtin_data

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "python3"


@pytest.fixture(scope="session")
def kernel() -> str:
    """The python3 kernel, its spec installed for this interpreter if Jupyter lacks one."""
    from jupyter_client.kernelspec import KernelSpecManager

    if KERNEL not in KernelSpecManager().find_kernel_specs():
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--user", "--name",
                        KERNEL], check=True, capture_output=True)
    return KERNEL


def execute(name: str, overrides: str, kernel: str) -> nbformat.NotebookNode:
    nb = nbformat.read(REPO_ROOT / "notebooks" / name, as_version=4)
    [at] = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(overrides))
    NotebookClient(nb, timeout=300, kernel_name=kernel,
                   resources={"metadata": {"path": str(REPO_ROOT)}}).execute()
    return nb


def text_output(nb: nbformat.NotebookNode) -> str:
    return "\n".join(o.get("text", "") or json.dumps(o.get("data", {}).get("text/plain", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_there_are_the_three_notebooks_and_they_are_stored_clean():
    assert {p.name for p in NOTEBOOKS} >= {"overlap_tour.ipynb",
                                           "memorization_vs_generalization.ipynb",
                                           "lambada_winograd_overlap.ipynb",
                                           "which_overlap_matters.ipynb"}
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: needs one cell tagged 'parameters'"


def test_overlap_tour(shared_data, kernel, tmp_path):
    nb = execute("overlap_tour.ipynb", f"PROBES = 20_000\nOUT = Path({str(tmp_path)!r})", kernel)
    out = text_output(nb)
    assert "PTB" in out and "measured 2.67 %" in out  # Table 6's own-train PTB figure
    assert (tmp_path / "table6.json").is_file()
    assert (tmp_path / "overlap" / "lambada" / "summary.json").is_file()


@pytest.fixture(scope="session")
def tiny_experiment(tmp_path_factory) -> tuple[Path, Path]:
    """(config, output) of the tiny experiment on built-in data, run once for the notebooks
    that read an experiment."""
    from contamkit.experiments import load_experiment, run_experiment

    root = tmp_path_factory.mktemp("experiment")
    config = root / "tiny.json"
    config.write_text(json.dumps(tiny_config(write_builtin_data(root))))
    run_experiment(load_experiment(config), root / "out")
    return config, root / "out"


def test_memorization_vs_generalization(kernel, tiny_experiment):
    config, out_dir = tiny_experiment
    nb = execute("memorization_vs_generalization.ipynb",
                 f"CONFIG = Path({str(config)!r})\nOUT = Path({str(out_dir)!r})", kernel)
    out = text_output(nb)
    assert "all injected" in out and "(100.0 %)" in out
    assert "Min-K% AUC recomputed" in out and (out_dir / "results.json").is_file()


def test_lambada_winograd_overlap(shared_data, kernel, tmp_path):
    nb = execute("lambada_winograd_overlap.ipynb",
                 f"OUT = Path({str(tmp_path)!r})\nSTEPS = 10\nLIMIT = 150\nN_BOOT = 100\n"
                 "MODEL = {'n_layer': 1, 'n_head': 2, 'n_embd': 32}", kernel)
    out = text_output(nb)
    assert "winograd" in out and "lambada" in out and "dirty - clean" in out
    for bench in ("lambada", "winograd"):
        assert (tmp_path / "analysis" / bench / "report.md").is_file()


def test_which_overlap_matters(kernel, tiny_experiment, tmp_path):
    config, out_dir = tiny_experiment
    nb = execute("which_overlap_matters.ipynb",
                 f"OUT = Path({str(tmp_path)!r})\nDEMO_QUICK = True\nCONFIG = Path({str(config)!r})"
                 f"\nEXPERIMENT_OUT = Path({str(out_dir)!r})\nN_BOOT, N_PERM = 100, 300", kernel)
    out = text_output(nb)
    assert "longest_run" in out and "token_contamination(L=10)" in out and "true split" in out
    assert "on the held-out half B" in out or "no definition explains" in out
    assert (tmp_path / "demo-sweep" / "report.md").is_file()


def test_notebooks_use_the_library():
    """They import the toolkit's packages rather than carry copies of its code."""
    for path in NOTEBOOKS:
        source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                           if c.cell_type == "code")
        packages = ("overlap", "contamkit.experiments", "contamkit.analysis")
        assert any(f"from {pkg}" in source for pkg in packages), Path(path).name
