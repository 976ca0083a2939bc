"""Downloading official release files: sha256-checked, written atomically, archives unpacked.

Nothing half-written or unverified is ever left under the final name: bytes go to a temporary
file that is renamed only after the checksum matched (common.atomic), and the temporary a killed
download left is removed by the next one (``outputs.remove_stale``). A file with no pinned
checksum is refused unless the user trusts it (``--trust-unverified``: ``trusting_unverified``),
and an archive already on disk is checked again before its members are used.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import IO

from contamkit.benchmarks.spec import DataFile
from contamkit.common.atomic import atomic_open
from contamkit.common.errors import UserError
from contamkit.common.files import file_sha256
from contamkit.common.outputs import remove_stale
from contamkit.common.progress import log, progress

CHUNK = 1 << 20
TIMEOUT_S = 60
_TRUST_UNVERIFIED: ContextVar[bool] = ContextVar("trust_unverified", default=False)


@contextlib.contextmanager
def trusting_unverified(trust: bool = True) -> Iterator[None]:
    """Within this block, accept files that have no pinned sha256 (with a warning)."""
    token = _TRUST_UNVERIFIED.set(trust)
    try:
        yield
    finally:
        _TRUST_UNVERIFIED.reset(token)


def source_url(url: str) -> str:
    """``url``, or the same file name under ``$CONTAM_BENCH_MIRROR`` (a local mirror of the
    official files, for machines without internet); the checksums still apply."""
    mirror = os.environ.get("CONTAM_BENCH_MIRROR")
    if not mirror:
        return url
    return f"{mirror.rstrip('/')}/{Path(urllib.parse.urlparse(url).path).name}"


def fetch(files: Sequence[DataFile], directory: Path) -> list[Path]:
    """Download ``files`` into ``directory`` and return their paths, in order.

    Files that come out of one archive share one download (kept beside them, so fetching
    another split later does not download it again) and one pass over the archive.
    """
    by_url: dict[str, list[DataFile]] = {}
    for f in files:
        by_url.setdefault(f.remote.url, []).append(f)
    for url, group in by_url.items():
        try:
            _fetch_group(url, group, directory)
        except UserError as e:
            raise UserError(f"{e}; {_manual_hint(group[0], directory)}") from e
    return [directory / f.name for f in files]


def _fetch_group(url: str, group: list[DataFile], directory: Path) -> None:
    remote = group[0].remote
    if remote.member is None:
        expected = remote.sha256 or group[0].sha256
        download(source_url(url), directory / group[0].name, expected)
        return
    archive = directory / Path(urllib.parse.urlparse(url).path).name
    if archive.exists():  # from an earlier fetch: checked again before its members are used
        verify(file_sha256(archive), remote.sha256, str(archive))
    else:
        download(source_url(url), archive, remote.sha256)
    extract(archive, {f.remote.member: (directory / f.name, f.sha256) for f in group})


def _manual_hint(f: DataFile, directory: Path) -> str:
    if f.remote.member is None:
        return f"download {f.remote.url} by hand and put it at {directory / f.name}"
    return f"extract {f.remote.member} from {f.remote.url} by hand to {directory / f.name}"


def download(url: str, dest: Path, sha256: str | None) -> None:
    """Stream ``url`` into ``dest``; a checksum mismatch leaves no file behind."""
    log.info(f"downloading {url} -> {dest}")
    remove_stale(dest)  # what a killed download of it left
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            size = response.headers.get("Content-Length")
            with atomic_open(dest, "wb") as out:
                digest = _copy_hashed(response, out, int(size) if size else None, dest.name)
                verify(digest, sha256, url)
    except urllib.error.HTTPError as e:
        raise UserError(f"{url}: download failed (HTTP {e.code} {e.reason})") from e
    except urllib.error.URLError as e:
        raise UserError(f"{url}: download failed ({e.reason}; offline?)") from e
    except (OSError, http.client.HTTPException) as e:
        raise UserError(f"{url}: download failed ({e!r})") from e


def extract(archive: Path, members: dict[str, tuple[Path, str | None]]) -> None:
    """Write each ``member -> (dest, sha256)`` of a zip or tar archive, in one pass over it."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                if target := _wanted(info.filename, members):
                    with z.open(info) as src:
                        _write_member(src, archive, *target)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            for info in t:
                if info.isfile() and (target := _wanted(info.name, members)):
                    _write_member(t.extractfile(info), archive, *target)
    else:
        raise UserError(f"{archive}: neither a zip nor a tar archive")
    if members:
        raise UserError(f"{archive}: no member {', '.join(members)} in the archive")


def _wanted(name: str, members: dict) -> tuple[str, Path, str | None] | None:
    """Pop the requested member that archive entry ``name`` is (any leading folder allowed)."""
    name = name.removeprefix("./")
    for member in members:
        if name == member or name.endswith("/" + member):
            return (member, *members.pop(member))
    return None


def _write_member(src: IO[bytes], archive: Path, member: str, dest: Path, sha256: str | None):
    log.info(f"extracting {member} from {archive.name} -> {dest}")
    remove_stale(dest)
    with atomic_open(dest, "wb") as out:
        digest = _copy_hashed(src, out, None, dest.name)
        if sha256 is not None:  # else the archive's own checksum vouches for it
            verify(digest, sha256, f"{archive}:{member}")


def _copy_hashed(src: IO[bytes], dst: IO[bytes], total: int | None, desc: str) -> str:
    h = hashlib.sha256()
    with progress(total=total, unit="B", unit_scale=True, desc=desc) as bar:
        while chunk := src.read(CHUNK):
            h.update(chunk)
            dst.write(chunk)
            bar.update(len(chunk))
    return h.hexdigest()


def verify(digest: str, expected: str | None, what: str) -> None:
    """Refuse a checksum mismatch, and a file with no pinned checksum unless it is trusted
    (``trusting_unverified``: then say so and print the checksum we got)."""
    if expected is None:
        if not _TRUST_UNVERIFIED.get():
            raise UserError(f"{what}: no pinned sha256 to check it against (got {digest}); "
                            "pass --trust-unverified to accept it anyway")
        log.warning(f"{what}: no known sha256 to check against (got {digest})")
    elif digest != expected:
        raise UserError(f"{what}: sha256 mismatch (expected {expected}, got {digest})")
