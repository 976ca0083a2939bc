"""Sharded filters: one logical Bloom filter stored as S shard files plus a small manifest.

Routing: an n-gram belongs to shard ``h1 >> (64 - log2 S)``, the top bits of its hash (S is a
power of two). Shard s is an ordinary Bloom filter (``overlap.bloom`` file format, its header
adds ``{"shard": {"index", "count"}}``) of exactly the n-grams routed to it, sized for their own
exact distinct count, with the same k and the same double hashing inside its own m_s bits.

What "answers exactly like the unsharded filter" means here (contamkit/scale/README.md): every
inserted n-gram is found by both (no false negatives in either), every n-gram answered False by one
is answered False by the other unless it is a false positive of the other, and each shard meets the
target rate, so the false-positive rate is the same. The false positives themselves are a different,
equally rare set: at 1e-8, 1M random queries are expected to differ in 0.02 answers. With S = 1 the
output is the unsharded filter itself, byte for byte.

Manifest (JSON, written last and atomically): format name and version, the logical parameters,
and for each shard its file name, parameters, inserted count and bits checksum; opening checks
every shard file against it, so a missing shard or one left from another build is refused.
"""

from __future__ import annotations

import glob
import json
import math
import re
from dataclasses import asdict
from pathlib import Path

import numpy as np
import xxhash

from contamkit.common.atomic import write_text
from contamkit.common.errors import UserError
from contamkit.common.schema import Field, plain_name, validate
from overlap.bloom import HEADER_SCHEMA, PARAMS_SCHEMA, BloomFilter, FilterParams, read_header

MANIFEST_FORMAT = "contam-sharded-filter"
MANIFEST_VERSION = 1


def prefix_bits(count: int) -> int:
    """log2 of a shard or partition count, which must be a power of two."""
    if count < 1 or count & (count - 1):
        raise UserError(f"shard count must be a power of two, got {count}")
    return count.bit_length() - 1


def prefix_index(h1: np.ndarray, count: int) -> np.ndarray:
    """Which of ``count`` prefix ranges (shards or partitions) each hash falls in."""
    bits = prefix_bits(count)
    if bits == 0:
        return np.zeros(len(h1), dtype=np.intp)
    return (h1 >> np.uint64(64 - bits)).astype(np.intp)


def prefix_bounds(count: int) -> np.ndarray:
    """The first h1 of prefix ranges 1..count-1 (range 0 starts at 0)."""
    bits = prefix_bits(count)
    if bits == 0:
        return np.empty(0, dtype=np.uint64)
    return np.arange(1, count, dtype=np.uint64) << np.uint64(64 - bits)


def shard_name(out: Path, index: int, count: int, build: str = "") -> str:
    """``<out>.shard-<index>-of-<count>.<build>``: ``build`` (``<pid>-<random>``) keeps each
    build's shards apart, so a new build never touches the shards the current manifest names."""
    return f"{out.name}.shard-{index:05d}-of-{count:05d}" + (f".{build}" if build else "")


def shard_files(out: Path) -> list[tuple[Path, int | None]]:
    """Shard files of ``out`` in its directory, each with the id of the process that built it
    (None for shards of older builds, named without one)."""
    pattern = re.compile(re.escape(out.name) + r"\.shard-\d{5}-of-\d{5}(?:\.(\d+)-[0-9a-f]+)?")
    found = []
    for path in out.parent.glob(f"{glob.escape(out.name)}.shard-*"):
        match = pattern.fullmatch(path.name)
        if match:
            found.append((path, int(match[1]) if match[1] else None))
    return sorted(found)


class ShardFile(BloomFilter):
    """A shard: an ordinary filter whose header says which shard of how many it is."""

    def __init__(self, params: FilterParams, index: int, count: int):
        super().__init__(params)
        self.index, self.count = index, count

    def header(self) -> dict:
        return {**super().header(), "shard": {"index": self.index, "count": self.count}}


def combined_stats(stats: list[dict], params: list[FilterParams]) -> dict:
    """Fill statistics of the logical filter from its shards' ``BloomFilter.stats()``.

    Queries of absent n-grams spread evenly over the prefix ranges, so the logical false-positive
    rate is the mean of the shards' rates.
    """
    m = sum(p.m for p in params)
    distinct = sum(s["estimated_distinct"] for s in stats)
    return {
        "fill_ratio": sum(s["fill_ratio"] * p.m for s, p in zip(stats, params, strict=True)) / m,
        "estimated_distinct": distinct,
        "inserted": sum(s["inserted"] for s in stats),
        "estimated_fpr": sum(s["estimated_fpr"] for s in stats) / len(stats),
        "bits_per_element": m / distinct if distinct else math.inf,
        "size_bytes": sum(s["size_bytes"] for s in stats),
    }


def logical_params(shards: list[FilterParams]) -> FilterParams:
    """The parameters the sharded filter presents: shared settings, summed m and capacity."""
    first = asdict(shards[0])
    return FilterParams(**{**first, "m": sum(p.m for p in shards),
                           "capacity": sum(p.capacity for p in shards)})


def _digest(body: dict) -> str:
    return "xxh3_128:" + xxhash.xxh3_128_hexdigest(json.dumps(body, sort_keys=True).encode())


def write_manifest(out: Path, entries: list[dict], provenance: dict | None = None) -> None:
    """Tie shard files together; ``entries`` are their headers plus their file names,
    ``provenance`` the corpus record (``overlap.provenance``)."""
    params = logical_params([FilterParams(**e["params"]) for e in entries])
    body = {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "params": asdict(params),
            "routing": "top log2(shards) bits of h1", "shards": entries}
    if provenance is not None:
        body["provenance"] = provenance
    write_text(out, json.dumps({**body, "checksum": _digest(body)}, indent=1) + "\n")


def is_manifest(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(1) == b"{"


# What a manifest must hold (``contamkit.common.schema``); a shard entry is the shard's header
# plus its file name, a plain name in the manifest's own directory.
SHARD_ENTRY_SCHEMA = {
    **HEADER_SCHEMA,
    "shard": Field(dict, closed=True, fields=HEADER_SCHEMA["shard"].fields),
    "file": Field(str, plain_name, "a plain file name (no directory part)"),
}
MANIFEST_SCHEMA = {
    "format": Field(str),
    "version": Field(int),
    "params": Field(dict, fields=PARAMS_SCHEMA, closed=True),
    "routing": Field(str),
    "shards": Field(list, lambda v: len(v) >= 1 and not len(v) & (len(v) - 1),
                    "a list of shards whose length is a power of two",
                    items=Field(dict, fields=SHARD_ENTRY_SCHEMA, closed=True)),
    "checksum": Field(str),
    "provenance": HEADER_SCHEMA["provenance"],
}


def read_manifest(path: Path) -> dict:
    """The manifest's JSON, refused unless it is complete, of a known version and well formed."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        data = None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise UserError(f"{path}: not a sharded-filter manifest, or it is corrupt")
    if data.get("version") != MANIFEST_VERSION:
        raise UserError(f"{path}: manifest version {data.get('version')!r:.20}, this toolkit "
                        f"reads {MANIFEST_VERSION}")
    body = {k: v for k, v in data.items() if k != "checksum"}
    if data.get("checksum") != _digest(body):
        raise UserError(f"{path}: not a sharded-filter manifest, or it is corrupt (checksum)")
    validate(data, MANIFEST_SCHEMA, f"{path}: manifest")
    return data


def _check_shard(manifest: Path, index: int, count: int, entry: dict) -> Path:
    """The shard file of ``entry``, refused if missing or not the one the manifest names."""
    path = manifest.parent / entry["file"]
    if path.resolve().parent != manifest.parent.resolve():
        raise UserError(f"{manifest}: shard {index} ({entry['file']}) resolves outside the "
                        "manifest's directory")
    if entry["shard"] != {"index": index, "count": count}:
        raise UserError(f"{manifest}: entry {index} says it is shard {entry['shard']}")
    if not path.is_file():
        raise UserError(f"{manifest}: shard {index} of {count} is missing ({path})")
    header, _ = read_header(path)
    if header.get("shard") != {"index": index, "count": count}:
        raise UserError(f"{path}: not shard {index} of {count} (header says "
                        f"{header.get('shard')})")
    if header["bits_checksum"] != entry["bits_checksum"] or header["params"] != entry["params"]:
        raise UserError(f"{path}: shard {index} is from a different build than {manifest} "
                        "(its checksum or parameters differ)")
    return path


class ShardedFilter:
    """``BloomFilter``'s query interface (params, contains, stats) over memory-mapped shards."""

    def __init__(self, path: Path, manifest: dict, shards: list[BloomFilter]):
        self.path, self.manifest, self.shards = path, manifest, shards
        self.params = FilterParams(**manifest["params"])
        self.inserted = sum(s.inserted for s in shards)
        self.provenance = manifest.get("provenance")

    @classmethod
    def open(cls, path: str | Path, verify: bool = True) -> ShardedFilter:
        path = Path(path)
        manifest = read_manifest(path)
        entries = manifest["shards"]
        shards = [BloomFilter.load(_check_shard(path, i, len(entries), e), verify=verify)
                  for i, e in enumerate(entries)]
        return cls(path, manifest, shards)

    def contains(self, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
        """Membership of each n-gram, each answered by the shard its hash prefix routes it to."""
        count = len(self.shards)
        if count == 1:
            return self.shards[0].contains(h1, h2)
        shard = prefix_index(h1, count)
        order = np.argsort(shard.astype(np.uint16 if count <= 1 << 16 else np.intp),
                           kind="stable")
        sizes = np.bincount(shard, minlength=count)
        ends = np.cumsum(sizes)
        out = np.zeros(len(h1), dtype=bool)
        for s in np.flatnonzero(sizes):
            rows = order[ends[s] - sizes[s] : ends[s]]
            out[rows] = self.shards[s].contains(h1[rows], h2[rows])
        return out

    def stats(self) -> dict:
        return combined_stats([s.stats() for s in self.shards], [s.params for s in self.shards])

    def header(self) -> dict:
        header = {"storage": "sharded", "format_version": self.manifest["version"],
                  "shards": len(self.shards), "params": self.manifest["params"],
                  "inserted": self.inserted, "manifest_checksum": self.manifest["checksum"]}
        if self.provenance is not None:
            header["provenance"] = self.provenance
        return header
