"""What a filter was built from, recorded in its header so that it can be named a month later.

The record (an optional ``provenance`` object of the filter header or sharded manifest) holds
the corpus root, every file with its size, modification time and a fast checksum, the
documents / records / bad-records counts, the build date, the command line and the toolkit and
normalizer versions. A long file list (more than ``INLINE_FILES``) goes to a sidecar JSON beside
the filter, named after the list's digest (``F.bloom.files-<digest>.json``), written atomically
before the filter; the header keeps the name and the digest. Until the new filter is in place
the old one's sidecar stays (a failed build leaves the previous filter whole); after, sidecars
of earlier builds are removed.

The fast checksum reads at most three 1 MiB pieces of a file (its start, middle and end) and
its size: it tells files apart and notices truncation or rewriting in a fraction of a second per
file, however large, but it is not a digest of every byte.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
from importlib import metadata
from pathlib import Path

import xxhash

from contamkit.common.atomic import write_text
from contamkit.common.errors import UserError
from contamkit.common.invocation import command_line
from contamkit.common.schema import Field, at_least, plain_name
from contamkit.corpus.read import CorpusStats
from overlap.normalize import NORMALIZER_VERSION

INLINE_FILES = 64  # more files than this: the list goes to the sidecar
SIDECAR_FORMAT = "contamkit-corpus-files"
_PIECE = 1 << 20
CHECKSUM_KIND = "xxh3_64 of size + first, middle and last MiB"

_COUNT = Field(int, *at_least(0))
FILE_SCHEMA = {"path": Field(str), "bytes": _COUNT, "mtime": Field(str), "checksum": Field(str)}
# The header's "provenance" object (``contamkit.common.schema``); open to keys added later.
SCHEMA = {
    "corpus": Field(str), "file_count": _COUNT, "bytes": _COUNT, "documents": _COUNT,
    "records": _COUNT, "bad_records": _COUNT, "skipped_files": _COUNT,
    "invalid_utf8_files": _COUNT, "checksum": Field(str), "built": Field(str),
    "command": Field(list, items=Field(str)), "cwd": Field(str), "toolkit_version": Field(str),
    "normalizer": Field(str),
    "files": Field(list, required=False, items=Field(dict, fields=FILE_SCHEMA, closed=True)),
    "files_sidecar": Field(str, plain_name, "a plain file name (no directory part)",
                           required=False),
    "files_digest": Field(str, lambda v: v.startswith("xxh3_128:"), "'xxh3_128:<hex>'",
                          required=False),
}


def toolkit_version() -> str:
    try:
        return metadata.version("contamkit")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def fast_checksum(path: Path, size: int) -> str:
    """xxh3-64 of the size and of up to three 1 MiB pieces: start, middle and end."""
    h = xxhash.xxh3_64(str(size).encode())
    starts = sorted({0, max(size // 2 - _PIECE // 2, 0), max(size - _PIECE, 0)})
    with open(path, "rb") as f:
        for start in starts:
            f.seek(start)
            h.update(f.read(_PIECE))
    return h.hexdigest()


def file_record(path: Path, root: Path) -> dict:
    """One corpus file: its path relative to the corpus root, size, mtime and checksum."""
    st = path.stat()
    name = path.name if path == root else path.relative_to(root).as_posix()
    mtime = dt.datetime.fromtimestamp(st.st_mtime, dt.UTC).isoformat(timespec="seconds")
    return {"path": name, "bytes": st.st_size, "mtime": mtime,
            "checksum": fast_checksum(path, st.st_size)}


def files_digest(files: list[dict]) -> str:
    return "xxh3_128:" + xxhash.xxh3_128_hexdigest(json.dumps(files, sort_keys=True).encode())


def _sidecars(filter_path: Path) -> list[Path]:
    return list(filter_path.parent.glob(glob.escape(filter_path.name) + ".files-*.json"))


def corpus_provenance(corpus: str | Path, files: list[Path], stats: CorpusStats,
                      filter_path: str | Path) -> tuple[dict, list[dict]]:
    """The provenance record of a build as the header holds it, and the file list.

    Call it after the corpus was read (``stats`` complete). Publishing then goes
    ``write_sidecar``, save the filter, ``drop_old_sidecars``.
    """
    root = Path(corpus)  # not resolved: the files are found under it as given (links and all)
    records = [file_record(Path(p), root) for p in files]
    record = {
        "corpus": str(root.resolve()),
        "file_count": len(records),
        "bytes": sum(r["bytes"] for r in records),
        "documents": stats.documents,
        "records": stats.documents + stats.bad_records,
        "bad_records": stats.bad_records,
        "skipped_files": stats.skipped_files,
        "invalid_utf8_files": stats.invalid_utf8_files,
        "checksum": CHECKSUM_KIND,
        "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "cwd": os.getcwd(),
        "toolkit_version": toolkit_version(),
        "normalizer": NORMALIZER_VERSION,
    }
    if len(records) <= INLINE_FILES:
        return {**record, "files": records}, records
    digest = files_digest(records)
    filter_path = Path(filter_path)
    sidecar = f"{filter_path.name}.files-{digest.split(':')[1][:16]}.json"
    return {**record, "files_sidecar": sidecar, "files_digest": digest}, records


def write_sidecar(filter_path: str | Path, provenance: dict, files: list[dict]) -> None:
    """Write the file list beside the filter when the header names a sidecar for it."""
    if "files_sidecar" in provenance:
        write_text(Path(filter_path).with_name(provenance["files_sidecar"]),
                   json.dumps({"format": SIDECAR_FORMAT, "files": files}, indent=1) + "\n")


def drop_old_sidecars(filter_path: str | Path, provenance: dict | None) -> None:
    """Remove the file-list sidecars of earlier builds of ``filter_path``."""
    keep = (provenance or {}).get("files_sidecar")
    for path in _sidecars(Path(filter_path)):
        if path.name != keep:
            path.unlink(missing_ok=True)


def provenance_files(provenance: dict, filter_path: str | Path) -> list[dict]:
    """The file list of a record, read from its sidecar when it is not inline; refused if the
    sidecar is missing or does not match the digest in the header."""
    if "files" in provenance:
        return provenance["files"]
    sidecar = Path(filter_path).with_name(provenance["files_sidecar"])
    try:
        files = json.loads(sidecar.read_text(encoding="utf-8"))["files"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise UserError(f"{sidecar}: cannot read the filter's corpus file list ({e})") from None
    if files_digest(files) != provenance["files_digest"]:
        raise UserError(f"{sidecar}: file list does not match the digest in {filter_path}'s "
                        "header (it was overwritten by another build)")
    return files


def describe(provenance: dict | None) -> str:
    """One line naming the corpus, for report headers and plot captions."""
    if not provenance:
        return "corpus not recorded (filter built before provenance was kept)"
    return (f"{provenance['corpus']}: {provenance['file_count']:,} files, "
            f"{provenance['bytes'] / 1e6:,.1f} MB, {provenance['documents']:,} documents "
            f"({provenance['bad_records']:,} bad records), built {provenance['built']} with "
            f"contamkit {provenance['toolkit_version']}")
