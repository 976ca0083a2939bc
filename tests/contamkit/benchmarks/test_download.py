"""Downloads against http.server on 127.0.0.1: checksums, atomic writes, archive members."""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import socket
import tarfile
import zipfile

import pytest

from contamkit.benchmarks import fetch_benchmark, load_benchmark
from contamkit.benchmarks.download import download, fetch, trusting_unverified
from contamkit.benchmarks.spec import DataFile, Remote
from contamkit.common.errors import UserError
from contamkit.common.outputs import pid_alive

WEBTEXT = b'{"text": "first document"}\n{"text": "second document"}\n'


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_download_checks_the_sha256(http_dir, tmp_path):
    url, served = http_dir
    (served / "f.txt").write_bytes(b"payload\n")
    dest = tmp_path / "out" / "f.txt"
    download(f"{url}/f.txt", dest, sha(b"payload\n"))
    assert dest.read_bytes() == b"payload\n"


def test_checksum_mismatch_fails_and_leaves_no_file(http_dir, tmp_path):
    url, served = http_dir
    (served / "f.txt").write_bytes(b"tampered\n")
    out = tmp_path / "out"
    with pytest.raises(UserError, match=rf"{url}/f.txt: sha256 mismatch \(expected {sha(b'x')}"):
        download(f"{url}/f.txt", out / "f.txt", sha(b"x"))
    assert list(out.iterdir()) == []  # not even the temporary file


def test_http_error_and_offline(http_dir, tmp_path):
    url, _ = http_dir
    with pytest.raises(UserError, match=r"missing.txt: download failed \(HTTP 404"):
        download(f"{url}/missing.txt", tmp_path / "m.txt", None)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/f.txt"
    with pytest.raises(UserError, match=r"download failed \(.*refused"):
        download(closed, tmp_path / "f.txt", None)
    assert not (tmp_path / "m.txt").exists() and not (tmp_path / "f.txt").exists()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _tgz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize("pack,archive", [(_zip, "set-v1.zip"), (_tgz, "set.tar.gz")])
def test_archive_members_are_extracted_in_one_download(http_dir, tmp_path, pack, archive):
    url, served = http_dir
    members = {"set/wiki.test.tokens": b"test\n", "./set/wiki.valid.tokens": b"valid\n"}
    data = pack(members)
    (served / archive).write_bytes(data)
    files = [
        DataFile(
            f"wiki.{s}.tokens",
            "set",
            Remote(f"{url}/{archive}", sha(data), f"set/wiki.{s}.tokens"),
            sha256=sha(f"{s}\n".encode()),
        )
        for s in ("test", "valid")
    ]
    out = tmp_path / "cache"
    assert fetch(files, out) == [out / "wiki.test.tokens", out / "wiki.valid.tokens"]
    assert (out / "wiki.valid.tokens").read_bytes() == b"valid\n"
    assert (out / archive).read_bytes() == data  # kept: the next split needs no download


def test_member_checksum_mismatch_leaves_no_member(http_dir, tmp_path):
    url, served = http_dir
    data = _zip({"set/a.txt": b"changed\n"})
    (served / "set.zip").write_bytes(data)
    f = DataFile(
        "a.txt", "set", Remote(f"{url}/set.zip", sha(data), "set/a.txt"), sha256=sha(b"a\n")
    )
    with pytest.raises(UserError, match=r"set.zip:set/a.txt: sha256 mismatch"):
        fetch([f], tmp_path / "cache")
    assert not (tmp_path / "cache" / "a.txt").exists()


def test_missing_member(http_dir, tmp_path):
    url, served = http_dir
    data = _zip({"other.txt": b"x"})
    (served / "set.zip").write_bytes(data)
    f = DataFile("a.txt", "set", Remote(f"{url}/set.zip", sha(data), "set/a.txt"))
    with pytest.raises(UserError, match=r"no member set/a.txt in the archive.*extract set/a.txt"):
        fetch([f], tmp_path / "cache")


def test_load_downloads_into_the_cache_through_a_mirror(http_dir, empty_cache, monkeypatch, caplog):
    url, served = http_dir
    (served / "webtext.test.jsonl").write_bytes(WEBTEXT)
    monkeypatch.setenv("CONTAM_BENCH_MIRROR", url)
    monkeypatch.setenv("CONTAM_DATA_DIR", str(served / "none"))
    with pytest.raises(UserError, match="no pinned sha256 .* --trust-unverified"):
        load_benchmark("webtext", download=True)
    assert not (empty_cache / "webtext" / "webtext.test.jsonl").exists()
    with caplog.at_level(logging.WARNING, logger="contam"), trusting_unverified():
        docs = load_benchmark("webtext", download=True)
    assert [d.text for d in docs] == ["first document", "second document"]
    assert (empty_cache / "webtext" / "webtext.test.jsonl").read_bytes() == WEBTEXT
    assert f"no known sha256 to check against (got {sha(WEBTEXT)})" in caplog.text
    (served / "webtext.test.jsonl").unlink()  # now served from the cache
    assert len(load_benchmark("webtext")) == 2


def test_fetch_with_a_wrong_file_fails_and_says_where_to_put_it(
    http_dir, empty_cache, monkeypatch, coqa_file
):
    url, served = http_dir
    shutil.copy(coqa_file, served / "coqa-dev-v1.0.json")  # not the real file: wrong sha256
    monkeypatch.setenv("CONTAM_BENCH_MIRROR", url)
    with pytest.raises(UserError) as e:
        fetch_benchmark("coqa")
    message = str(e.value)
    assert "coqa-dev-v1.0.json: sha256 mismatch (expected dfa367a9" in message
    target = empty_cache / "coqa" / "coqa-dev-v1.0.json"
    official = "https://nlp.stanford.edu/data/coqa/coqa-dev-v1.0.json"
    assert message.endswith(f"download {official} by hand and put it at {target}")
    assert list((empty_cache / "coqa").iterdir()) == []


def test_fetch_into_a_bench_path(http_dir, tmp_path, monkeypatch):
    url, served = http_dir
    for split in ("train", "valid", "test"):
        (served / f"webtext.{split}.jsonl").write_bytes(WEBTEXT)
    monkeypatch.setenv("CONTAM_BENCH_MIRROR", url)
    dest = tmp_path / "mine"
    with trusting_unverified():
        paths = fetch_benchmark("webtext", split="all", path=dest)
    assert paths == [dest / f"webtext.{s}.jsonl" for s in ("train", "valid", "test")]
    assert len(load_benchmark("webtext", "valid", path=dest)) == 2


def test_an_archive_already_on_disk_is_checked_again(http_dir, tmp_path):
    url, served = http_dir
    data = _zip({"set/a.txt": b"a\n"})
    (served / "set.zip").write_bytes(data)
    f = DataFile("a.txt", "set", Remote(f"{url}/set.zip", sha(data), "set/a.txt"))
    out = tmp_path / "cache"
    fetch([f], out)
    (out / "a.txt").unlink()
    (out / "set.zip").write_bytes(_zip({"set/a.txt": b"evil\n"}))  # changed after download
    with pytest.raises(UserError, match=r"set.zip: sha256 mismatch"):
        fetch([f], out)
    assert not (out / "a.txt").exists()


def test_a_changed_file_in_the_cache_is_refused(http_dir, empty_cache, monkeypatch):
    url, served = http_dir
    data = b'{"text": "one"}\n'
    (served / "lambada_test.jsonl").write_bytes(data)
    cached = empty_cache / "lambada" / "lambada_test.jsonl"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(data)  # not the official file: its sha256 is not the pinned one
    monkeypatch.setenv("CONTAM_DATA_DIR", str(served / "none"))
    with pytest.raises(UserError, match="differs from the pinned release"):
        load_benchmark("lambada")


def test_every_registry_download_is_https():
    from contamkit.benchmarks.registry import REGISTRY

    urls = {f.remote.url for b in REGISTRY.values() for v in b.variant_specs
            for files in v.files.values() for f in files}
    assert [u for u in urls if u.startswith("http://")] == []


def test_the_shared_copies_equal_their_pinned_checksums(shared_data):
    """Where the shared data holds a file we pin (a direct download, or a pinned archive
    member), its bytes are the pinned ones: the pins were computed from the official files."""
    from contamkit.benchmarks.registry import REGISTRY
    from contamkit.common.files import file_sha256

    checked = 0
    for b in REGISTRY.values():
        for v in b.variant_specs:
            for files in v.files.values():
                for f in files:
                    pin = f.sha256 or (f.remote.sha256 if f.remote.member is None else None)
                    local = shared_data / f.subdir / f.name
                    if pin and local.is_file():
                        assert file_sha256(local) == pin, local
                        checked += 1
    assert checked >= 6  # PTB x3, LAMBADA jsonl, WSC jsonl, the WikiText test members


def test_extracting_a_member_removes_what_a_killed_extraction_left(http_dir, tmp_path):
    url, served = http_dir
    data = _zip({"set/a.txt": b"a\n"})
    (served / "set.zip").write_bytes(data)
    out = tmp_path / "cache"
    out.mkdir()
    dead = next(pid for pid in range(4_000_000, 4_100_000) if not pid_alive(pid))
    (out / f".a.txt.{dead}-q9w8e7.tmp").write_bytes(b"half")
    fetch([DataFile("a.txt", "set", Remote(f"{url}/set.zip", sha(data), "set/a.txt"))], out)
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "set.zip"]
