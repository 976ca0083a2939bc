"""Binary token files: a 64-byte header, then the token ids as little-endian uint16 or uint32.

Header: magic, format version, bytes per token, token count, vocabulary size and the sha256 of
the payload. Readers get a read-only memory map after checking every header field against the
file (and, by default, the checksum), so a truncated, altered or foreign file is refused.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np

from contamkit.common import faults
from contamkit.common.atomic import atomic_open
from contamkit.common.errors import UserError
from contamkit.common.files import file_sha256

MAGIC = b"CTKTOKS\x00"
VERSION = 1
HEADER = struct.Struct("<8sIIQQ32s")  # magic, version, itemsize, count, vocab_size, sha256
HEADER_BYTES = 64


def dtype_for(vocab_size: int) -> np.dtype:
    """uint16 when every id fits, else uint32: half the disk and page cache for GPT-2."""
    return np.dtype("<u2") if vocab_size <= 1 << 16 else np.dtype("<u4")


class TokenWriter:
    """Streams token arrays into a token file; the header is written last, on close."""

    def __init__(self, path: str | Path, vocab_size: int):
        self.path = Path(path)
        self.vocab_size = vocab_size
        self.dtype = dtype_for(vocab_size)
        self.count = 0
        self._hash = hashlib.sha256()
        self._ctx = atomic_open(self.path, "wb")
        self._f = self._ctx.__enter__()
        self._f.write(b"\0" * HEADER_BYTES)

    def write(self, tokens: np.ndarray) -> None:
        data = np.ascontiguousarray(tokens, dtype=self.dtype).tobytes()
        self._f.write(data)
        self._hash.update(data)
        self.count += len(tokens)
        faults.step()

    def close(self) -> str:
        """Finish the file (atomically renamed into place); returns the payload's sha256."""
        digest = self._hash.digest()
        self._f.seek(0)
        self._f.write(HEADER.pack(MAGIC, VERSION, self.dtype.itemsize, self.count,
                                  self.vocab_size, digest).ljust(HEADER_BYTES, b"\0"))
        self._ctx.__exit__(None, None, None)
        return digest.hex()

    def abort(self) -> None:
        """Drop the partial file."""
        self._ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def __enter__(self) -> TokenWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def read_header(path: str | Path) -> dict:
    """The header fields, after checking magic, version, item size and the file's length."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: token file not found")
    with open(path, "rb") as f:
        raw = f.read(HEADER_BYTES)
    if len(raw) < HEADER_BYTES or raw[:8] != MAGIC:
        raise UserError(f"{path}: not a token file (bad magic)")
    _, version, itemsize, count, vocab_size, digest = HEADER.unpack(raw[:HEADER.size])
    if version != VERSION:
        raise UserError(f"{path}: token file version {version}, this reader knows {VERSION}")
    if itemsize not in (2, 4) or np.dtype(f"<u{itemsize}") != dtype_for(vocab_size):
        raise UserError(f"{path}: {itemsize}-byte tokens do not suit vocabulary {vocab_size}")
    size = path.stat().st_size
    if size != HEADER_BYTES + count * itemsize:
        raise UserError(f"{path}: {size} bytes, header promises {count} tokens "
                        f"({HEADER_BYTES + count * itemsize} bytes); truncated or altered")
    return {"count": count, "itemsize": itemsize, "vocab_size": vocab_size, "sha256": digest.hex()}


def payload_sha256(path: str | Path) -> str:
    return file_sha256(path, offset=HEADER_BYTES)


def open_tokens(path: str | Path, expected_sha256: str | None = None,
                verify: bool = True) -> np.ndarray:
    """A read-only memory map of the tokens; refuses any mismatch with the header or manifest."""
    path = Path(path)
    header = read_header(path)
    if expected_sha256 is not None and expected_sha256 != header["sha256"]:
        raise UserError(f"{path}: checksum in header differs from the manifest's")
    if verify and payload_sha256(path) != header["sha256"]:
        raise UserError(f"{path}: tokens do not match the header checksum (corrupt file)")
    if header["count"] == 0:
        return np.zeros(0, dtype=dtype_for(header["vocab_size"]))
    return np.memmap(path, dtype=dtype_for(header["vocab_size"]), mode="r",
                     offset=HEADER_BYTES, shape=(header["count"],))
