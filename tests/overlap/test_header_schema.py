"""Filter headers and sharded manifests with a valid checksum but odd content are refused with
one line naming the file and the field, by the library and by ``info``/``verify``."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib

import pytest

from contamkit.common.errors import UserError
from contamkit.common.paths import REPO_ROOT
from overlap.bloom import _PAGE, _PREFIX, FORMAT_VERSION, MAGIC, BloomFilter, FilterParams
from overlap.filters import open_filter
from overlap.sharded import _digest


def good_header() -> dict:
    params = FilterParams.sized(100, 0.01, n=8, unit="words", normalizer="v1", tokenizer="t",
                                seed=0)
    bloom = BloomFilter(params)  # empty: its bits are the zeros ``write_filter`` writes
    return bloom.header(), len(bloom.bits)


def write_filter(path, header, nbytes: int) -> None:
    """A filter file whose header is ``header`` (any JSON), with a correct CRC and length."""
    raw = json.dumps(header).encode()
    prefix = _PREFIX.pack(MAGIC, FORMAT_VERSION, len(raw), zlib.crc32(raw))
    used = len(prefix) + len(raw)
    path.write_bytes(prefix + raw + b"\0" * (-used % _PAGE) + b"\0" * nbytes)


def mutations():
    header, _ = good_header()
    p = header["params"]
    yield "list", [header]
    yield "missing params", {k: v for k, v in header.items() if k != "params"}
    yield "missing k", {**header, "params": {k: v for k, v in p.items() if k != "k"}}
    for key, value in (("k", -1), ("k", 0), ("k", 2.5), ("k", "27"), ("k", True), ("m", 0),
                       ("n", 0), ("n", 10**15), ("target_fpr", 1.0), ("target_fpr", 0),
                       ("capacity", 0), ("seed", -1), ("unit", 3), ("extra", 1)):
        yield f"{key}={value!r}", {**header, "params": {**p, key: value}}
    yield "inserted", {**header, "inserted": -5}
    yield "checksum", {**header, "bits_checksum": 7}
    yield "shard", {**header, "shard": {"index": 4, "count": 4}}
    yield "params list", {**header, "params": list(p.values())}


@pytest.mark.parametrize("name, header", list(mutations()), ids=lambda x: x
                         if isinstance(x, str) else "")
def test_odd_headers_are_refused_by_name(tmp_path, name, header):
    path = tmp_path / "f.bloom"
    write_filter(path, header, good_header()[1])
    with pytest.raises(UserError, match=r"^" + str(path) + r": (filter header|this is shard)"):
        open_filter(path)


def test_info_and_verify_refuse_k_minus_one_in_one_line(tmp_path):
    header, nbytes = good_header()
    path = tmp_path / "f.bloom"
    write_filter(path, {**header, "params": {**header["params"], "k": -1}}, nbytes)
    for command in ("info", "verify"):
        r = subprocess.run([sys.executable, "cli.py", command, str(path)], cwd=REPO_ROOT,
                           capture_output=True, text=True)
        assert r.returncode == 2 and "Traceback" not in r.stderr
        (line,) = r.stderr.strip().splitlines()
        assert line == f"error: {path}: filter header: params.k must be between 1 and 255, got -1"


def write_manifest(path, body: dict) -> None:
    path.write_text(json.dumps({**body, "checksum": _digest(body)}))


@pytest.fixture
def manifest_body(tmp_path):
    header, nbytes = good_header()
    entries = []
    for i in range(2):
        shard = {**header, "shard": {"index": i, "count": 2}}
        write_filter(tmp_path / f"m.shard-{i}", shard, nbytes)
        entries.append({**shard, "file": f"m.shard-{i}"})
    params = {**header["params"], "m": 2 * header["params"]["m"]}
    return {"format": "contam-sharded-filter", "version": 1, "params": params,
            "routing": "top log2(shards) bits of h1", "shards": entries}


def test_a_well_formed_manifest_opens(tmp_path, manifest_body):
    write_manifest(tmp_path / "m", manifest_body)
    assert len(open_filter(tmp_path / "m").shards) == 2


@pytest.mark.parametrize("file, match", [
    ("../outside/m.shard-1", "plain file name"), ("/etc/passwd", "plain file name"),
    ("..", "plain file name"), ("link", "resolves outside the manifest's directory")])
def test_manifest_shards_must_be_plain_names_inside_its_directory(tmp_path, manifest_body,
                                                                   file, match):
    (tmp_path / "link").symlink_to(tmp_path.parent)
    manifest_body["shards"][1]["file"] = file
    write_manifest(tmp_path / "m", manifest_body)
    with pytest.raises(UserError, match=match):
        open_filter(tmp_path / "m")


@pytest.mark.parametrize("change, match", [
    (lambda b: b.update(shards=[]), "power of two"),
    (lambda b: b.update(shards=b["shards"] + b["shards"][:1]), "power of two"),
    (lambda b: b["params"].update(k=0), "params.k must be between"),
    (lambda b: b["shards"][0].pop("bits_checksum"), r"shards\[0\].bits_checksum is missing"),
    (lambda b: b["shards"][1].update(shard={"index": 0, "count": 2}), "entry 1 says"),
    (lambda b: b.update(shards={"a": 1}), "shards must be a list"),
])
def test_odd_manifests_are_refused(tmp_path, manifest_body, change, match):
    change(manifest_body)
    write_manifest(tmp_path / "m", manifest_body)
    with pytest.raises(UserError, match=match):
        open_filter(tmp_path / "m")
