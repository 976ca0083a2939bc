"""Comparing two builds' files: identical but for the build date their provenance records."""

from __future__ import annotations

import json
from pathlib import Path

from overlap.bloom import read_header
from overlap.sharded import is_manifest


def _undated(provenance: dict | None) -> dict | None:
    return None if provenance is None else {k: v for k, v in provenance.items() if k != "built"}


def _content(path: Path) -> tuple:
    """A filter's header and bits, or a manifest (shard file names, which carry a build tag,
    set aside) with the content of each shard it lists, in order."""
    if is_manifest(path):
        manifest = json.loads(path.read_text())
        manifest.pop("checksum")  # covers the dated provenance and the shard names
        manifest["provenance"] = _undated(manifest.get("provenance"))
        shards = [_content(path.with_name(entry.pop("file"))) for entry in manifest["shards"]]
        for entry in manifest["shards"]:
            entry["provenance"] = _undated(entry.get("provenance"))
        return manifest, shards
    header, offset = read_header(path)
    header["provenance"] = _undated(header.get("provenance"))
    return header, path.read_bytes()[offset:]


def same_build(a: Path, b: Path) -> bool:
    """Filters ``a`` and ``b`` (each a file, or a manifest with the shards it lists) hold the
    same bits and headers, the build date aside."""
    return _content(a) == _content(b)
