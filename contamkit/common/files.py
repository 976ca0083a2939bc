"""Reading small files the same way everywhere: checksums, settings files, versioned JSON."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from contamkit.common.errors import UserError

_CHUNK = 1 << 24


def file_sha256(path: str | Path, offset: int = 0) -> str:
    """sha256 of a file's bytes from ``offset`` on, read in 16 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(offset)
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def read_settings(path: Path, what: str = "config") -> dict[str, Any]:
    """A ``.json`` or ``.toml`` file of settings as a dict; any problem is a one-line error."""
    if not path.is_file():
        raise UserError(f"{path}: {what} file not found")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".json":
            values = json.loads(text)
        elif path.suffix == ".toml":
            values = tomllib.loads(text)
        else:
            raise UserError(f"{path}: {what} must be a .json or .toml file")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as e:
        raise UserError(f"{path}: invalid {path.suffix[1:].upper()} ({e})") from None
    if not isinstance(values, dict):
        raise UserError(f"{path}: {what} must be a table of key = value")
    return values


def read_versioned_json(path: Path, fmt: str, version: int, missing: str) -> dict:
    """A JSON file whose ``format``/``version`` fields must be ours; ``missing`` if absent."""
    if not path.is_file():
        raise UserError(missing)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, dict) or data.get("format") != fmt or data.get("version") != version:
        raise UserError(f"{path}: not a {fmt} v{version} file")
    return data
