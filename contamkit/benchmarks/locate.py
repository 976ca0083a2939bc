"""Finding a benchmark's files: explicit path > cache > shared data dir > download.

The order lets a user override everything with ``--bench-path``, keeps downloads in one cache
(``$CONTAM_CACHE``, default ~/.cache/contamkit/<benchmark>/), and lets anyone with our data
layout (common.paths.shared_data_dir) work offline with no flags at all.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from contamkit.benchmarks.download import fetch
from contamkit.benchmarks.spec import DataFile
from contamkit.common.errors import UserError
from contamkit.common.files import file_sha256
from contamkit.common.paths import shared_data_dir


def cache_root() -> Path:
    env = os.environ.get("CONTAM_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "contamkit"


def cache_dir(benchmark: str) -> Path:
    return cache_root() / benchmark


def find_file(directory: Path, f: DataFile) -> Path | None:
    """``f`` under ``directory``, by its release name, an alias, or inside its subdir."""
    for rel in f.relative_paths():
        if (directory / rel).is_file():
            return directory / rel
    return None


def find_local(benchmark: str, files: Sequence[DataFile]) -> list[Path] | None:
    """The files from the cache or the shared data dir, or None if any is missing."""
    found = [_first(f, [cache_dir(benchmark), shared_data_dir()]) for f in files]
    return None if None in found else found


def resolve(
    benchmark: str,
    what: str,
    files: Sequence[DataFile],
    path: str | os.PathLike | None = None,
    download: bool = False,
) -> list[Path]:
    """Paths of ``files``; ``what`` names the benchmark/split/variant in messages.

    ``path``: a file (only for a one-file split) or a directory to look in and, with
    ``download``, to download into. Without it: the cache, then the shared data dir, then a
    download into the cache.
    """
    if path is None:
        return _find_or_fetch(
            what, files, [cache_dir(benchmark), shared_data_dir()], cache_dir(benchmark), download
        )
    p = Path(path).expanduser()
    if p.is_file():
        if len(files) != 1:
            raise UserError(f"{p}: {what} needs {len(files)} files; give the folder holding them")
        return [p]
    if not p.exists() and not download:
        raise UserError(f"{p}: no such file or directory")
    return _find_or_fetch(what, files, [p], p, download)


def _first(f: DataFile, directories: Sequence[Path]) -> Path | None:
    for d in directories:
        if found := find_file(d, f):
            return found
    return None


def _find_or_fetch(
    what: str, files: Sequence[DataFile], look_in: list[Path], target: Path, download: bool
) -> list[Path]:
    found = [_first(f, look_in) for f in files]
    for f, p in zip(files, found, strict=True):
        if p is not None and p.is_relative_to(cache_root()):
            _recheck(f, p)
    missing = [f for f, p in zip(files, found, strict=True) if p is None]
    if not missing:
        return found
    if not download:
        raise UserError(_missing_message(what, missing, look_in, target))
    fetched = iter(fetch(missing, target))
    return [p if p is not None else next(fetched) for p in found]


def _recheck(f: DataFile, path: Path) -> None:
    """A downloaded file in the cache is checked again before use, where its sha256 is known:
    a changed file is refused, never read."""
    expected = f.sha256 or (f.remote.sha256 if f.remote.member is None else None)
    if expected and file_sha256(path) != expected:
        raise UserError(f"{path}: sha256 differs from the pinned release (expected {expected}); "
                        "delete it to download it again")


def _missing_message(what: str, missing: list[DataFile], look_in: list[Path], target: Path) -> str:
    f = missing[0]
    more = f" and {len(missing) - 1} more files like it" if len(missing) > 1 else ""
    source = f.remote.url if f.remote.member is None else f"{f.remote.member} in {f.remote.url}"
    looked = ", ".join(str(d) for d in look_in)
    return (
        f"{target / f.name}: {what} needs {f.name}{more}, not found (looked in {looked}); "
        f"put it there (or pass --bench-path), or add --download (download=True) to fetch "
        f"{source}"
    )
