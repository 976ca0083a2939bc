"""The demo's built-in corpus: the docstrings of the Python standard library.

Every machine that runs the toolkit has them, they need no download and they are English prose
(~1200 documents, ~0.7 MB from the top-level modules). The order is fixed (modules sorted by
name, docstrings in ``ast.walk`` order), so a given Python version always gives the same corpus.
"""

from __future__ import annotations

import ast
import sysconfig
import warnings
from dataclasses import dataclass
from pathlib import Path

from contamkit.common.errors import UserError
from contamkit.common.progress import progress

MIN_WORDS = 30  # shorter docstrings are signatures and one-liners, not prose
DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def module_docstrings(source: bytes, min_words: int = MIN_WORDS) -> list[str]:
    """Docstrings of the module, its classes and functions with at least ``min_words`` words."""
    with warnings.catch_warnings():  # old modules have invalid escape sequences
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return []
    docs = (ast.get_docstring(node) for node in ast.walk(tree) if isinstance(node, DOCUMENTED))
    return [d for d in docs if d and len(d.split()) >= min_words]


@dataclass(frozen=True)
class Doc:
    module: str  # where it came from: documents of one module share phrasing
    text: str


def stdlib_docstrings(root: Path | None = None, min_words: int = MIN_WORDS) -> list[Doc]:
    """The docstrings of the top-level modules under ``root`` (default: this Python's stdlib),
    each distinct text once (at its first module), in a fixed order."""
    root = root or stdlib_dir()
    files = sorted(root.glob("*.py"))
    if not files:
        raise UserError(f"{root}: no Python modules found to build the demo corpus from")
    seen: dict[str, str] = {}
    for path in progress(iterable=files, desc="stdlib docstrings", unit="module"):
        for doc in module_docstrings(path.read_bytes(), min_words):
            seen.setdefault(doc, path.stem)
    return [Doc(module, text) for text, module in seen.items()]
