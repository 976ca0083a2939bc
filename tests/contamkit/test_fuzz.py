"""Fuzzing: mutated corpus files of every format, filter headers and sharded manifests.

A mutated corpus file must be read without any exception, every unreadable part counted; a
mutated filter or manifest must open or be refused with a ``UserError`` (one line in the CLI),
never crash and never be used with nonsense parameters. CI runs a time-bounded slice (a few
seconds per test); the figures in docs/reliability.md come from the big run::

    CONTAM_FUZZ_EXAMPLES=10000 nice python -m pytest -q -p no:cacheprovider \\
        tests/contamkit/test_fuzz.py -s

which prints how many inputs each test tried (``fuzzed ...`` lines).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import zlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contamkit.common.errors import UserError
from contamkit.corpus.formats import iter_documents
from contamkit.corpus.read import CorpusStats
from overlap.bloom import _PAGE, _PREFIX, FORMAT_VERSION, MAGIC, BloomFilter, FilterParams
from overlap.filters import open_filter
from overlap.sharded import _digest
from overlap.verify import verify_filter

EXAMPLES = int(os.environ.get("CONTAM_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=EXAMPLES or 100, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
COUNTS: dict[str, int] = {}


def counted(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    for name, n in sorted(COUNTS.items()):
        print(f"fuzzed {name}: {n} inputs, 0 crashes")


# ---------------------------------------------------------------------------------- mutations

OPS = st.lists(st.tuples(st.sampled_from(["flip", "set", "delete", "insert", "truncate",
                                          "duplicate"]),
                         st.floats(0, 1), st.floats(0, 1), st.binary(min_size=1, max_size=16)),
               min_size=1, max_size=4)


def mutate(data: bytes, ops) -> bytes:
    """Apply byte-level edits at relative positions: the shapes real damage takes."""
    b = bytearray(data)
    for kind, where, length, payload in ops:
        i = int(where * len(b)) if b else 0
        span = max(1, int(length * min(len(b), 64)))
        if kind == "flip" and b:
            b[min(i, len(b) - 1)] ^= payload[0] or 1
        elif kind == "set" and b:
            b[min(i, len(b) - 1)] = payload[0]
        elif kind == "delete":
            del b[i : i + span]
        elif kind == "insert":
            b[i:i] = payload
        elif kind == "truncate":
            del b[i:]
        elif kind == "duplicate":
            b[i:i] = b[i : i + span]
    return bytes(b)


RECORDS = [{"text": f"document {i} with some words in it " * 3, "id": i} for i in range(12)]
PLAIN = {
    "jsonl": "".join(json.dumps(r) + "\n" for r in RECORDS).encode(),
    "json": json.dumps(RECORDS).encode(),
    "txt": ("line of plain text\n" * 40).encode(),
}
COMPRESS = {"": lambda b: b, ".gz": lambda b: gzip.compress(b, mtime=0),
            ".zst": lambda b: zstandard.ZstdCompressor().compress(b)}


def parquet_bytes() -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"text": [r["text"] for r in RECORDS]}), buf)
    return buf.getvalue()


def read_all(path) -> None:
    stats = CorpusStats()
    docs = list(iter_documents(path, stats=stats))
    assert stats.documents == len(docs) or path.name.endswith(("txt", ".gz", ".zst"))
    assert all(isinstance(d.text, str) for d in docs)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("fmt", ["jsonl", "json", "txt"])
@pytest.mark.parametrize("compression", ["", ".gz", ".zst"])
def test_mutated_corpus_files_are_read_or_counted(scratch, fmt, compression):
    path = scratch / f"f.{fmt}{compression}"

    @FUZZ
    @given(ops=OPS, inside=st.booleans())
    def check(ops, inside):
        raw = (COMPRESS[compression](mutate(PLAIN[fmt], ops)) if inside and compression
               else mutate(COMPRESS[compression](PLAIN[fmt]), ops))
        path.write_bytes(raw)
        read_all(path)
        counted("corpus files")

    check()


def test_mutated_parquet_files_are_read_or_counted(scratch):
    path = scratch / "f.parquet"
    seed = parquet_bytes()

    @FUZZ
    @given(ops=OPS)
    def check(ops):
        path.write_bytes(mutate(seed, ops))
        read_all(path)
        counted("corpus files")

    check()


# ------------------------------------------------------------------------- headers, manifests

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
                    | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def real_filter() -> BloomFilter:
    params = FilterParams.sized(50, 0.01, n=3, unit="words", normalizer="v1", tokenizer="t",
                                seed=0)
    return BloomFilter(params)  # empty: its bits are zeros, like those ``write_filter`` pads


def edit_json(obj, edits):
    """Replace or delete values at paths chosen by ``edits`` (key picks modulo the keys)."""
    for path, value, delete in edits:
        node = obj
        for step in path[:-1]:
            if isinstance(node, dict) and node:
                node = node[sorted(node)[step % len(node)]]
            elif isinstance(node, list) and node:
                node = node[step % len(node)]
        if isinstance(node, dict) and node:
            key = sorted(node)[path[-1] % len(node)]
            if delete:
                del node[key]
            else:
                node[key] = value
        elif isinstance(node, list) and node:
            node[path[-1] % len(node)] = value
    return obj


EDITS = st.lists(st.tuples(st.lists(st.integers(0, 20), min_size=1, max_size=4), JSON,
                           st.booleans()), min_size=1, max_size=3)


def write_filter(path, header, nbytes: int) -> None:
    raw = json.dumps(header, allow_nan=True).encode()
    prefix = _PREFIX.pack(MAGIC, FORMAT_VERSION, len(raw), zlib.crc32(raw))
    used = len(prefix) + len(raw)
    path.write_bytes(prefix + raw + b"\0" * (-used % _PAGE) + b"\0" * nbytes)


def open_or_refuse(path) -> None:
    try:
        f = open_filter(path)
    except UserError as e:
        assert str(e).startswith(str(path)) or str(path.name) in str(e)
        return
    assert f.params.k >= 1 and f.params.m > 0 and 0 < f.params.target_fpr < 1
    result = verify_filter(f, 1000)
    assert 0 <= result["observed_fpr"] <= 1


def test_mutated_filter_headers_open_or_are_refused(scratch):
    bloom = real_filter()
    path = scratch / "f.bloom"

    @FUZZ
    @given(edits=EDITS, whole=st.none() | JSON, ops=st.none() | OPS)
    def check(edits, whole, ops):
        header = json.loads(json.dumps(bloom.header()))
        header = whole if whole is not None else edit_json(header, edits)
        write_filter(path, header, len(bloom.bits))
        if ops is not None:  # damage the file itself too (the CRC then fails, mostly)
            path.write_bytes(mutate(path.read_bytes(), ops))
        open_or_refuse(path)
        counted("filter headers")

    check()


def test_mutated_manifests_open_or_are_refused(scratch):
    bloom = real_filter()
    folder = scratch / "sharded"
    folder.mkdir()
    entries = []
    for i in range(2):
        header = {**bloom.header(), "shard": {"index": i, "count": 2}}
        write_filter(folder / f"m.shard-{i}", header, len(bloom.bits))
        entries.append({**header, "file": f"m.shard-{i}"})
    params = {**bloom.header()["params"], "m": 2 * bloom.params.m}
    body = {"format": "contam-sharded-filter", "version": 1, "params": params,
            "routing": "top log2(shards) bits of h1", "shards": entries}
    path = folder / "m"

    @FUZZ
    @given(edits=EDITS, fix_checksum=st.booleans())
    def check(edits, fix_checksum):
        mutated = edit_json(json.loads(json.dumps(body)), edits)
        checksum = _digest(mutated) if fix_checksum else "xxh3_128:0"
        path.write_text(json.dumps({**mutated, "checksum": checksum}, allow_nan=True))
        open_or_refuse(path)
        counted("manifests")

    check()
