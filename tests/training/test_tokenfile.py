"""Token files: round trip in both widths, and every kind of damage refused."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from contamkit.common.errors import UserError
from training.tokenfile import HEADER_BYTES, TokenWriter, open_tokens, read_header


def write(path, chunks, vocab_size):
    with TokenWriter(path, vocab_size) as w:
        for chunk in chunks:
            w.write(np.asarray(chunk))
    return path


@pytest.mark.parametrize("vocab, itemsize", [(50257, 2), (65536, 2), (65537, 4), (100277, 4)])
def test_round_trip_and_width(tmp_path, vocab, itemsize):
    rng = np.random.default_rng(0)
    chunks = [rng.integers(0, vocab, size=n) for n in (5, 0, 1000, 3)]
    path = write(tmp_path / "t.bin", chunks, vocab)
    expected = np.concatenate(chunks)
    header = read_header(path)
    assert header["itemsize"] == itemsize and header["count"] == len(expected)
    assert header["vocab_size"] == vocab
    payload = path.read_bytes()[HEADER_BYTES:]
    assert header["sha256"] == hashlib.sha256(payload).hexdigest()
    assert len(payload) == itemsize * len(expected)
    np.testing.assert_array_equal(open_tokens(path), expected)


def test_empty_file(tmp_path):
    path = write(tmp_path / "t.bin", [], 100)
    assert len(open_tokens(path)) == 0


def test_damage_is_refused(tmp_path):
    path = write(tmp_path / "t.bin", [np.arange(100)], 1000)
    raw = bytearray(path.read_bytes())

    flipped = raw.copy()
    flipped[-1] ^= 1
    (tmp_path / "flip.bin").write_bytes(flipped)
    with pytest.raises(UserError, match="do not match the header checksum"):
        open_tokens(tmp_path / "flip.bin")

    (tmp_path / "cut.bin").write_bytes(raw[:-2])
    with pytest.raises(UserError, match="truncated or altered"):
        open_tokens(tmp_path / "cut.bin")

    (tmp_path / "magic.bin").write_bytes(b"X" + raw[1:])
    with pytest.raises(UserError, match="bad magic"):
        open_tokens(tmp_path / "magic.bin")

    version = raw.copy()
    version[8] = 9
    (tmp_path / "version.bin").write_bytes(version)
    with pytest.raises(UserError, match="version 9"):
        open_tokens(tmp_path / "version.bin")

    with pytest.raises(UserError, match="differs from the manifest"):
        open_tokens(path, expected_sha256="0" * 64)


def test_failed_write_leaves_no_file(tmp_path):
    with pytest.raises(RuntimeError), TokenWriter(tmp_path / "t.bin", 100) as w:
        w.write(np.arange(10))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
