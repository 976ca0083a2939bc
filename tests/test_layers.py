"""Imports run one way: each module imports only from its own layer or the layers below it, and
no modules import each other in a circle.

The order is written once here and once in docs/architecture.md (a test checks the two agree).
Every import counts, including those inside functions: a deferred import is still a dependency.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from contamkit.common.paths import REPO_ROOT

LAYERS = [
    "contamkit.common",
    "contamkit.corpus",
    "contamkit.benchmarks",
    "model",
    "overlap",
    "contamkit.scale",
    "training",
    "contamkit.analysis",
    "contamkit.experiments",
    "contamkit.demo",
    "contamkit.cli",
]
PACKAGES = ("contamkit", "overlap", "model", "training")


def layer_of(module: str) -> int | None:
    """Index in ``LAYERS`` of the layer holding ``module`` (None: not one of ours)."""
    for i, layer in reversed(list(enumerate(LAYERS))):
        if module == layer or module.startswith(layer + "."):
            return i
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, module) of every import in ``tree``, relative ones resolved."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            # ``from pkg import mod`` imports pkg.mod: count the submodule's layer
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def violations(root: Path = REPO_ROOT) -> list[str]:
    """One line per import that runs up the layer order."""
    out = []
    files = [p for pkg in PACKAGES for p in sorted((root / pkg).rglob("*.py"))]
    files.append(root / "cli.py")
    for path in files:
        module = "contamkit.cli" if path == root / "cli.py" else module_name(path)
        own = layer_of(module)
        assert own is not None, f"{path}: module {module} is in no layer"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, name in imported_modules(tree, module, path.name == "__init__.py"):
            target = layer_of(name)
            if target is not None and target > own:
                out.append(f"{path.relative_to(root)}:{line}: {module} ({LAYERS[own]}) imports "
                           f"{name} ({LAYERS[target]}), a layer above it")
    return out


def import_graph(root: Path = REPO_ROOT) -> dict[str, set[str]]:
    """Each of our modules -> the modules of ours it imports (anywhere in the file)."""
    paths = {module_name(p): p for pkg in PACKAGES for p in sorted((root / pkg).rglob("*.py"))}
    graph = {}
    for module, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        deps = set()
        for _, name in imported_modules(tree, module, path.name == "__init__.py"):
            parts = name.split(".")  # the longest prefix that is a module (``from m import f``)
            found = next((".".join(parts[:i]) for i in range(len(parts), 0, -1)
                          if ".".join(parts[:i]) in paths), None)
            if found and found != module:
                deps.add(found)
        graph[module] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = stack[stack.index(v):]
            del stack[stack.index(v):]
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_cycles_are_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_imports_run_down_the_layers():
    found = violations()
    assert not found, "imports against the layer order:\n" + "\n".join(found)


def test_layer_order_documented_once():
    """docs/architecture.md states the same order as ``LAYERS``."""
    text = (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- layers -->\s*(.+?)\s*<!-- /layers -->", text, re.S)
    assert match, "docs/architecture.md lost its <!-- layers --> block"
    assert re.findall(r"`([\w.]+)`", match.group(1)) == LAYERS


@pytest.mark.parametrize(("module", "layer"), [
    ("overlap.units", "overlap"), ("contamkit.scale.plan", "contamkit.scale"),
    ("contamkit.cli", "contamkit.cli"), ("contamkit", None), ("numpy", None),
])
def test_layer_of(module, layer):
    assert (None if layer_of(module) is None else LAYERS[layer_of(module)]) == layer
