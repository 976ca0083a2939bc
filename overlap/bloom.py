"""A persistent Bloom filter of n-gram hashes: compiled probe loops over a file-backed bit array.

Two layouts (``overlap.layouts``, recorded in the parameters, so a filter is always read the way
it was written): ``blocked``, the default for new filters, puts all k probes of an n-gram in two
cache lines; ``classic``, the paper's, spreads them over the whole filter, as follows.

Classic sizing (PAPER.md): m = the first prime >= -n·ln p / (ln 2)² bits and k = round(log2(1/p))
probes; at p = 1e-8 that is 38.34 bits per element and k = 27. Probe i of an n-gram with
128-bit hash (h1, h2) is bit g_i = (a + i·b + i(i-1)/2·c) mod m, with a = h1 mod m,
b = 1 + h2 mod (m - 1) and c = fmix64(h1 xor rotl32(h2)) mod m: double hashing with the
quadratic term of triple hashing (Dillinger & Manolios, 2004). Plain double hashing
(a + i·b) cannot reach 1e-8 on small filters: an absent n-gram whose (a, b) equals a stored
one's, or whose b is equal and a a few steps off, shares its probes with it, a false-positive
floor of several n/m² (`bench/bench_probing.py`, 1e8 absent queries of a filter of 8,000
n-grams: 65 hits for a + i·b, 12 with the cubic term of "enhanced" double hashing, 0 with this
scheme, against 1.0 expected). m is prime, so that no step b has a small order
modulo m (a composite m let a step of m/2, m/3, ... cycle through 2, 3, ... bits).

File format (version 3: adds the layout to the parameters), all little-endian::

    8 bytes   magic b"CTMBLOOM"
    4 bytes   format version
    4 bytes   length L of the JSON header
    4 bytes   CRC-32 of the JSON header
    L bytes   JSON header: parameters, inserted count, bits checksum (xxh3-128), and
              optionally "provenance": what the filter was built from (overlap.provenance)
    padding   to the next multiple of 4096, so the bits can be memory-mapped page-aligned
    ceil(m/8) bytes of bits, bit g stored as byte g >> 3, bit g & 7

Files are written atomically (temporary file + rename). Loading memory-maps the bits read-only,
so a filter larger than RAM can be queried and only the pages a query touches are read.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import xxhash

from contamkit.common.atomic import atomic_open
from contamkit.common.errors import UserError
from contamkit.common.schema import Field, at_least, between, validate
from overlap.layouts import DEFAULT_LAYOUT, LAYOUTS
from overlap.provenance import SCHEMA as PROVENANCE_SCHEMA

MAGIC = b"CTMBLOOM"
FORMAT_VERSION = 3  # 2: enhanced double hashing, prime m; 3: layout recorded
_PREFIX = struct.Struct("<8sIII")
_PAGE = 4096
_CHECKSUM_BLOCK = 1 << 26
MAX_K = 255  # probes per n-gram: far beyond any rate asked (k = 27 at 1e-8)
MAX_N = 1 << 16  # n-gram length: far beyond any used (13 for GPT-3); bounds what verify draws

# What a header must hold (``contamkit.common.schema``); checked before any value is used.
PARAMS_SCHEMA = {
    "n": Field(int, lambda v: 1 <= v <= MAX_N, f"between 1 and {MAX_N}"),
    "unit": Field(str),
    "normalizer": Field(str),
    "tokenizer": Field(str),
    "seed": Field(int, lambda v: 0 <= v < 2**64, "a 64-bit unsigned integer"),
    "m": Field(int, lambda v: 0 < v < 2**63, "positive"),
    "k": Field(int, lambda v: 1 <= v <= MAX_K, f"between 1 and {MAX_K}"),
    "target_fpr": Field(float, *between(0, 1)),
    "capacity": Field(int, *at_least(1)),
    "layout": Field(str, lambda v: v in LAYOUTS, "one of " + ", ".join(LAYOUTS)),
}
HEADER_SCHEMA = {
    "params": Field(dict, fields=PARAMS_SCHEMA, closed=True),
    "inserted": Field(int, *at_least(0)),
    "bits_checksum": Field(str, lambda v: v.startswith("xxh3_128:"), "'xxh3_128:<hex>'"),
    "shard": Field(dict, required=False, closed=True, fields={
        "index": Field(int, *at_least(0)),
        "count": Field(int, lambda v: v >= 1 and not v & (v - 1), "a power of two"),
    }),
    "provenance": Field(dict, required=False, fields=PROVENANCE_SCHEMA),
}


@dataclass(frozen=True)
class FilterParams:
    """Everything that decides which bits an n-gram sets; two filters must agree on all of it."""

    n: int
    unit: str
    normalizer: str
    tokenizer: str
    seed: int
    m: int
    k: int
    target_fpr: float
    capacity: int
    layout: str = DEFAULT_LAYOUT  # a key of overlap.layouts.LAYOUTS

    @staticmethod
    def sized(capacity: int, fpr: float, layout: str = DEFAULT_LAYOUT, **kw) -> FilterParams:
        """Parameters for ``capacity`` distinct n-grams at false-positive rate ``fpr``."""
        if not 0 < fpr < 1:
            raise UserError(f"false-positive rate must be in (0, 1), got {fpr}")
        if layout not in LAYOUTS:
            raise UserError(f"unknown filter layout {layout!r} (known: {', '.join(LAYOUTS)})")
        capacity = max(int(capacity), 1)
        m, k = LAYOUTS[layout].impl().size(capacity, fpr)
        return FilterParams(m=m, k=k, target_fpr=fpr, capacity=capacity, layout=layout, **kw)

    def query_mismatch(self, n: int, unit: str, normalizer: str, tokenizer: str) -> str | None:
        """Why n-grams made with these settings cannot be looked up here (None if they can)."""
        wanted = {"n": n, "unit": unit, "normalizer": normalizer, "tokenizer": tokenizer}
        diffs = [f"{k}={v!r} (filter has {getattr(self, k)!r})" for k, v in wanted.items()
                 if getattr(self, k) != v]
        return ", ".join(diffs) or None


def _u64(h: np.ndarray) -> np.ndarray:
    """One array type for the compiled probe loops (each new type would compile again)."""
    return np.ascontiguousarray(h, dtype=np.uint64)


def _checksum(bits: np.ndarray) -> str:
    h = xxhash.xxh3_128()
    for start in range(0, len(bits), _CHECKSUM_BLOCK):
        h.update(bits[start : start + _CHECKSUM_BLOCK])
    return h.hexdigest()


def _zeros(nbytes: int) -> np.ndarray:
    """Zeroed bits starting on a 64-byte boundary, so that a line of the blocked layout is one
    cache line (large allocations otherwise start 16 bytes past a page boundary)."""
    raw = np.zeros(nbytes + 64, dtype=np.uint8)
    skip = -raw.ctypes.data % 64
    return raw[skip : skip + nbytes]


class BloomFilter:
    """Batch add/contains over (h1, h2) hash arrays from ``overlap.murmur``."""

    def __init__(self, params: FilterParams, bits: np.ndarray | None = None, inserted: int = 0,
                 provenance: dict | None = None):
        self.params = params
        self.provenance = provenance  # the corpus it was built from (overlap.provenance)
        self.layout = LAYOUTS[params.layout].impl()  # overlap.classic or overlap.blocked
        nbytes = (params.m + 7) // 8
        self.bits = _zeros(nbytes) if bits is None else bits
        if len(self.bits) != nbytes:
            raise ValueError(f"bit array has {len(self.bits)} bytes, parameters need {nbytes}")
        self.inserted = inserted  # n-gram occurrences added, duplicates included

    # ------------------------------------------------------------------ probes (overlap.probes)
    def add(self, h1: np.ndarray, h2: np.ndarray) -> None:
        """Insert the n-grams with hashes (h1, h2)."""
        self.layout.add(self.bits, _u64(h1), _u64(h2), self.params.m, self.params.k)
        self.inserted += len(h1)

    def contains(self, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
        """Boolean membership of each n-gram (false positives at the filter's rate)."""
        out = np.empty(len(h1), dtype=bool)
        self.layout.contains(self.bits, _u64(h1), _u64(h2), self.params.m, self.params.k, out)
        return out

    # ------------------------------------------------------------------ statistics
    def _fill(self):
        return self.layout.stats(self.bits, self.params.m, self.params.k)

    def fill_ratio(self) -> float:
        return self._fill().fill_ratio

    def estimated_count(self) -> float:
        """Distinct n-grams estimated from the bits (``overlap.classic``, ``overlap.blocked``)."""
        return self._fill().estimated_distinct

    def estimated_fpr(self) -> float:
        """The false-positive rate this filter has now, from its bits."""
        return self._fill().estimated_fpr

    def stats(self) -> dict:
        fill = self._fill()
        count = fill.estimated_distinct
        return {
            "fill_ratio": fill.fill_ratio,
            "estimated_distinct": count,
            "inserted": self.inserted,
            "estimated_fpr": fill.estimated_fpr,
            "bits_per_element": self.params.m / count if count else math.inf,
            "size_bytes": len(self.bits),
        }

    # ------------------------------------------------------------------ union
    def union(self, other: BloomFilter) -> BloomFilter:
        """A new filter holding both sets; parameters must be identical."""
        if other.params != self.params:
            diffs = [
                f"{k}: {v!r} vs {getattr(other.params, k)!r}"
                for k, v in asdict(self.params).items()
                if getattr(other.params, k) != v
            ]
            raise UserError("cannot merge filters with different parameters: " + "; ".join(diffs))
        bits = np.bitwise_or(self.bits, other.bits, out=_zeros(len(self.bits)))
        return BloomFilter(self.params, bits, self.inserted + other.inserted)

    # ------------------------------------------------------------------ persistence
    def header(self) -> dict:
        header = {
            "params": asdict(self.params),
            "inserted": self.inserted,
            "bits_checksum": "xxh3_128:" + _checksum(self.bits),
        }
        if self.provenance is not None:
            header["provenance"] = self.provenance
        return header

    def save(self, path: str | Path) -> None:
        """Write atomically: the file at ``path`` is either the old one or this complete one."""
        header = json.dumps(self.header(), sort_keys=True).encode()
        prefix = _PREFIX.pack(MAGIC, FORMAT_VERSION, len(header), zlib.crc32(header))
        used = len(prefix) + len(header)
        padding = b"\0" * (-used % _PAGE)
        with atomic_open(path, "wb") as f:
            f.write(prefix + header + padding)
            for start in range(0, len(self.bits), _CHECKSUM_BLOCK):
                f.write(memoryview(self.bits[start : start + _CHECKSUM_BLOCK]))  # no copy

    @classmethod
    def load(cls, path: str | Path, verify: bool = True) -> BloomFilter:
        """Memory-map a filter file; refuse anything that is not exactly what was written."""
        path = Path(path)
        header, offset = read_header(path)
        params = FilterParams(**header["params"])
        if params.layout == "blocked" and params.m % 512:
            raise UserError(f"{path}: a blocked filter's m must be whole 512-bit lines, "
                            f"got {params.m}")
        nbytes = (params.m + 7) // 8
        size = path.stat().st_size
        if size != offset + nbytes:
            raise UserError(
                f"{path}: truncated or padded filter file "
                f"({size} bytes, expected {offset + nbytes})"
            )
        bits = np.memmap(path, dtype=np.uint8, mode="r", offset=offset, shape=(nbytes,))
        if verify and "xxh3_128:" + _checksum(bits) != header["bits_checksum"]:
            raise UserError(f"{path}: checksum mismatch: the filter's bits are corrupt")
        return cls(params, bits, header["inserted"], header.get("provenance"))


def read_header(path: Path) -> tuple[dict, int]:
    """The JSON header of a filter file and the offset of its bits."""
    try:
        with open(path, "rb") as f:
            prefix = f.read(_PREFIX.size)
            if len(prefix) < _PREFIX.size or prefix[:8] != MAGIC:
                raise UserError(f"{path}: not a filter file (bad magic)")
            _, version, length, crc = _PREFIX.unpack(prefix)
            if version != FORMAT_VERSION:
                raise UserError(
                    f"{path}: filter format version {version}, this toolkit reads "
                    f"{FORMAT_VERSION} (the format records the layout since version 3); "
                    "rebuild it with build-filter"
                )
            raw = f.read(length)
    except OSError as e:
        raise UserError(f"{path}: cannot read filter: {e.strerror}") from None
    if len(raw) != length or zlib.crc32(raw) != crc:
        raise UserError(f"{path}: filter header is truncated or corrupt")
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, nested too deeply
        raise UserError(f"{path}: filter header is not valid JSON") from None
    validate(header, HEADER_SCHEMA, f"{path}: filter header")
    params = header["params"]
    check = getattr(LAYOUTS[params.get("layout", DEFAULT_LAYOUT)].impl(), "invalid", None)
    why = check(params["m"], params["k"]) if check else None
    if why:
        raise UserError(f"{path}: filter header: {why} (layout {params.get('layout')})")
    shard = header.get("shard")
    if shard and shard["index"] >= shard["count"]:
        raise UserError(f"{path}: filter header: shard.index {shard['index']} is not below "
                        f"shard.count {shard['count']}")
    used = _PREFIX.size + length
    return header, used + (-used % _PAGE)
