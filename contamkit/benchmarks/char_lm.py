"""text8 and enwik8 (Mahoney's Hutter-prize data): one 10^8-byte file each, split the
standard way into the first 90M bytes (train), the next 5M (valid) and the last 5M (test).

Neither has usable document boundaries (text8 is one line; enwik8's pages are cut by the
split), so an example is a chunk of about CHUNK_BYTES, cut just after a separator (a space
in text8, a newline in enwik8) so no word is split; the chunks of a split joined back give
the split exactly. Only n-grams that straddle two chunks are lost to per-example counts:
about 0.4 % of the 8-grams of text8 (8-word windows over ~1700-word chunks).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from contamkit.benchmarks.spec import Benchmark, DataFile, Item, Remote, Variant, index_key
from contamkit.common.errors import UserError

TOTAL_BYTES = 100_000_000
SPLIT_RANGES = {
    "train": (0, 90_000_000),
    "valid": (90_000_000, 95_000_000),
    "test": (95_000_000, 100_000_000),
}
CHUNK_BYTES = 10_000
BASE_URL = "https://mattmahoney.net/dc/"
# enwik8.zip: recorded by HuggingFace datasets (enwik8/dataset_infos.json). No independent
# sha256 of text8.zip is known to us: the download is size-checked only (TOTAL_BYTES).
ZIP_SHA256 = {
    "text8.zip": None,
    "enwik8.zip": "547994d9980ebed1288380d652999f38a14fe291a6247c157c3d33d4932534bc",
}


def split_bytes(path: Path, split: str) -> bytes:
    """The split's byte range, after checking that the file is the full 10^8 bytes."""
    size = path.stat().st_size
    if size != TOTAL_BYTES:
        raise UserError(f"{path}: {size} bytes, expected {TOTAL_BYTES} (the official file)")
    start, end = SPLIT_RANGES[split]
    with open(path, "rb") as f:
        f.seek(start)
        return f.read(end - start)


def chunk_bounds(data: bytes, size: int, separator: bytes) -> list[tuple[int, int]]:
    """(start, end) of consecutive chunks of at most ``size`` bytes, each ending just after
    the last ``separator`` in its window (a hard cut where a window has none)."""
    bounds = []
    start = 0
    while start < len(data):
        end = min(start + size, len(data))
        if end < len(data):
            cut = data.rfind(separator, start, end)
            end = cut + 1 if cut >= start else end
        bounds.append((start, end))
        start = end
    return bounds


def _reader(separator: bytes):
    def read_chunks(paths: Sequence[Path], split: str) -> Iterator[Item]:
        """Chunks decoded as UTF-8; a character cut by the split boundary becomes U+FFFD."""
        (path,) = paths
        data = split_bytes(path, split)
        for i, (start, end) in enumerate(chunk_bounds(data, CHUNK_BYTES, separator)):
            yield index_key(i), data[start:end].decode("utf-8", errors="replace"), {}

    return read_chunks


def _benchmark(name: str, separator: bytes, description: str) -> Benchmark:
    archive = f"{name}.zip"
    data = DataFile(name, name, Remote(BASE_URL + archive, ZIP_SHA256[archive], member=name))
    return Benchmark(
        name=name,
        description=description,
        example=f"a ~{CHUNK_BYTES}-byte chunk cut at a separator (no documents)",
        variant_specs=(Variant("text", _reader(separator), {s: (data,) for s in SPLIT_RANGES}),),
    )


BENCHMARKS = (
    _benchmark("text8", b" ", "10^8 characters of cleaned Wikipedia, 90M/5M/5M split"),
    _benchmark("enwik8", b"\n", "10^8 bytes of Wikipedia XML (Hutter prize), 90M/5M/5M split"),
)
