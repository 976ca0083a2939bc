"""Comparing two builds' files: identical but for the build date their provenance records."""

from __future__ import annotations

import json
from pathlib import Path

from overlap.bloom import read_header
from overlap.sharded import is_manifest


def _undated(provenance: dict | None) -> dict | None:
    return None if provenance is None else {k: v for k, v in provenance.items() if k != "built"}


def _content(path: Path) -> tuple:
    if is_manifest(path):
        manifest = json.loads(path.read_text())
        manifest.pop("checksum")  # covers the dated provenance
        manifest["provenance"] = _undated(manifest.get("provenance"))
        for shard in manifest["shards"]:
            shard["provenance"] = _undated(shard.get("provenance"))
        return manifest, None
    header, offset = read_header(path)
    header["provenance"] = _undated(header.get("provenance"))
    return header, path.read_bytes()[offset:]


def same_build(a: Path, b: Path) -> bool:
    """Filters ``a`` and ``b`` (each a file, or a manifest with its shards beside it) hold the
    same bits and headers, the build date aside."""
    def parts(f: Path) -> list[str]:  # the file, then its shards by their suffixes
        return sorted(p.name[len(f.name):] for p in f.parent.glob(f.name + "*"))

    if parts(a) != parts(b):
        return False
    return all(_content(a.with_name(a.name + s)) == _content(b.with_name(b.name + s))
               for s in parts(a))
