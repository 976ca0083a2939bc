"""Spilled n-gram hashes: the out-of-core build's intermediate files, partitioned by hash prefix.

A map task writes its hashes as *runs* of (h1, h2) pairs sorted by h1. Sorting does two jobs at
once: it groups the pairs by partition (the top bits of h1, the same prefix that picks a filter's
shard, see ``overlap.sharded``) and it puts repeats next to each other, so they are dropped before
they reach the disk. A reducer then reads one contiguous slice of every run: its partitions.

Run file format (version 1), all little-endian::

    8 bytes   magic b"CTMSPILL"
    4 bytes   format version
    4 bytes   partitions P
    8 bytes   rows R
    4 bytes   CRC-32 of the index
    4 bytes   zero
    16·P      index: rows per partition (uint64[P]), then xxh3-64 of each partition's bytes
    16·R      pairs (h1, h2) as uint64, sorted by h1

Every partition carries its own digest because reducers read single partitions, never whole runs.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import xxhash

from contamkit.common.atomic import atomic_open
from contamkit.common.errors import UserError
from overlap.sharded import prefix_bounds

MAGIC = b"CTMSPILL"
VERSION = 1
_PREFIX = struct.Struct("<8sIIQII")
PAIR_BYTES = 16


def partition_offsets(h1_sorted: np.ndarray, partitions: int) -> np.ndarray:
    """Row offsets (P + 1 of them) where each partition starts in a sorted h1 array."""
    inner = np.searchsorted(h1_sorted, prefix_bounds(partitions))
    return np.concatenate([[0], inner, [len(h1_sorted)]]).astype(np.int64)


def sort_run(h1: np.ndarray, h2: np.ndarray,
             partitions: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pairs sorted by h1 with adjacent repeats dropped, their rows per partition, occurrences
    per partition counting repeats). Repeats of a pair are adjacent unless another pair shares
    its h1 (a 2^-64 event), which only leaves a harmless duplicate."""
    order = np.argsort(h1)
    h1, h2 = h1[order], h2[order]
    occurrences = np.diff(partition_offsets(h1, partitions))
    keep = np.ones(len(h1), dtype=bool)
    keep[1:] = (h1[1:] != h1[:-1]) | (h2[1:] != h2[:-1])
    pairs = np.stack([h1[keep], h2[keep]], axis=1)
    rows = np.diff(partition_offsets(pairs[:, 0], partitions))
    return pairs, rows, occurrences


def _digests(pairs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    raw = np.ascontiguousarray(pairs, dtype=np.uint64).reshape(-1).view(np.uint8)
    return np.array([xxhash.xxh3_64_intdigest(raw[a * PAIR_BYTES : b * PAIR_BYTES])
                     for a, b in zip(offsets[:-1], offsets[1:], strict=True)], dtype=np.uint64)


def write_run(path: str | Path, pairs: np.ndarray, rows: np.ndarray) -> None:
    """Write a run atomically; ``rows`` are the pairs per partition (from ``sort_run``)."""
    offsets = np.concatenate([[0], np.cumsum(rows)])
    index = np.concatenate([rows.astype(np.uint64), _digests(pairs, offsets)]).tobytes()
    prefix = _PREFIX.pack(MAGIC, VERSION, len(rows), len(pairs), zlib.crc32(index), 0)
    with atomic_open(path, "wb") as f:
        f.write(prefix + index)
        f.write(np.ascontiguousarray(pairs, dtype=np.uint64).tobytes())


class Run:
    """A spilled run opened for reading partition slices; refuses anything not as written."""

    def __init__(self, path: str | Path, partitions: int):
        self.path = Path(path)
        try:
            with open(self.path, "rb") as f:
                prefix = f.read(_PREFIX.size)
                magic, version, parts, total, crc, _ = _PREFIX.unpack(prefix)
                index = f.read(2 * 8 * parts)
        except (OSError, struct.error) as e:
            raise UserError(f"{self.path}: cannot read spilled hashes ({e}); is the spill "
                            "directory on a filesystem every worker sees?") from None
        if magic != MAGIC or version != VERSION or parts != partitions:
            raise UserError(f"{self.path}: not a spill run of this build "
                            f"(magic {magic!r}, version {version}, {parts} partitions)")
        if zlib.crc32(index) != crc:
            raise UserError(f"{self.path}: spill index is corrupt")
        table = np.frombuffer(index, dtype=np.uint64)
        self.rows, self.digests = table[:parts].astype(np.int64), table[parts:]
        self.offsets = np.concatenate([[0], np.cumsum(self.rows)])
        self._data_start = _PREFIX.size + len(index)
        expected = self._data_start + PAIR_BYTES * total
        if self.offsets[-1] != total or self.path.stat().st_size != expected:
            raise UserError(f"{self.path}: truncated spill run")

    def read(self, first: int, stop: int) -> np.ndarray:
        """The pairs of partitions [first, stop), checked against their digests."""
        a, b = int(self.offsets[first]), int(self.offsets[stop])
        with open(self.path, "rb") as f:
            f.seek(self._data_start + a * PAIR_BYTES)
            raw = f.read((b - a) * PAIR_BYTES)
        pairs = np.frombuffer(raw, dtype=np.uint64).reshape(-1, 2)
        got = _digests(pairs, self.offsets[first : stop + 1] - a)
        if len(pairs) != b - a or not np.array_equal(got, self.digests[first:stop]):
            raise UserError(f"{self.path}: spilled hashes are corrupt (digest mismatch)")
        return pairs
