"""Opening a filter file, whatever its layout, and checking that a query may use it."""

from __future__ import annotations

from pathlib import Path

from contamkit.common.errors import UserError
from overlap.bloom import FORMAT_VERSION, MAGIC, BloomFilter, read_header
from overlap.normalize import NORMALIZER_VERSION
from overlap.sharded import MANIFEST_FORMAT, ShardedFilter, is_manifest
from overlap.units import same_unit


def open_filter(path: str | Path, verify: bool = True) -> BloomFilter | ShardedFilter:
    """Load a filter for queries (memory-mapped, checksum-verified unless ``verify`` is False).

    ``path`` may also be a sharded filter's manifest (``overlap.sharded``): the object returned
    then has the same query interface (``params``, ``contains``, ``stats``).
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such filter file")
    if is_manifest(path):
        return ShardedFilter.open(path, verify=verify)
    shard = read_header(path)[0].get("shard")
    if shard:
        raise UserError(f"{path}: this is shard {shard['index']} of {shard['count']} of a sharded "
                        "filter; open its manifest (the file without the .shard-… suffix)")
    return BloomFilter.load(path, verify=verify)


def is_filter(path: Path) -> bool:
    """Whether ``path`` holds a filter or a sharded filter's manifest (what build-filter may
    replace without ``--force``)."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head.startswith(MAGIC):
        return True
    return head.startswith(b"{") and f'"format": "{MANIFEST_FORMAT}"'.encode() in head


def check_compatible(bloom: BloomFilter, path: str | Path, n: int, unit: str,
                     tokenizer: str) -> None:
    """Refuse a query whose n-grams are not made the way the filter's were."""
    if same_unit(unit, bloom.params.unit):  # hf: units: the tokenizer's hash decides
        unit = bloom.params.unit
    why = bloom.params.query_mismatch(n, unit, NORMALIZER_VERSION, tokenizer)
    if why:
        raise UserError(f"{path}: filter does not match the query: {why}")


def filter_info(path: str | Path) -> dict:
    """Header and fill statistics of a filter file, for ``info``."""
    bloom = open_filter(path)
    return {"path": str(path), "format_version": FORMAT_VERSION, **bloom.header(),
            **bloom.stats()}
