"""Opening a filter file, whatever its layout, and checking that a query may use it."""

from __future__ import annotations

from pathlib import Path

from common.errors import UserError
from overlap.bloom import FORMAT_VERSION, BloomFilter
from overlap.normalize import NORMALIZER_VERSION


def open_filter(path: str | Path, verify: bool = True) -> BloomFilter:
    """Load a filter for queries (memory-mapped, checksum-verified unless ``verify`` is False)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such filter file")
    return BloomFilter.load(path, verify=verify)


def check_compatible(bloom: BloomFilter, path: str | Path, n: int, unit: str,
                     tokenizer: str) -> None:
    """Refuse a query whose n-grams are not made the way the filter's were."""
    why = bloom.params.query_mismatch(n, unit, NORMALIZER_VERSION, tokenizer)
    if why:
        raise UserError(f"{path}: filter does not match the query: {why}")


def filter_info(path: str | Path) -> dict:
    """Header and fill statistics of a filter file, for ``info``."""
    bloom = open_filter(path)
    return {"path": str(path), "format_version": FORMAT_VERSION, **bloom.header(),
            **bloom.stats()}
