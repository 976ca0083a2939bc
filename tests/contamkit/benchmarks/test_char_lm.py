"""text8/enwik8 on sparse 10^8-byte files: the 90M/5M/5M split and the chunking."""

from __future__ import annotations

from pathlib import Path

import pytest

from contamkit.benchmarks import load_benchmark
from contamkit.benchmarks.char_lm import CHUNK_BYTES, chunk_bounds
from contamkit.common.errors import UserError


def _sparse(path: Path, content: dict[int, bytes]) -> Path:
    """A 10^8-byte file that holds ``content`` at the given offsets and zeros elsewhere
    (sparse on disk: the test writes a few MB, not 100)."""
    with open(path, "wb") as f:
        f.truncate(100_000_000)
        for offset, data in content.items():
            f.seek(offset)
            f.write(data)
    return path


def test_text8_test_split_is_the_last_5m(tmp_path):
    words = b"".join(f"w{i} ".encode() for i in range(1_000_000))[:5_000_000]
    path = _sparse(tmp_path / "text8", {94_999_990: b"valid-tail", 95_000_000: words})
    chunks = load_benchmark("text8", path=path)
    assert "".join(c.text for c in chunks).encode() == words
    assert all(len(c.text) <= CHUNK_BYTES for c in chunks)
    assert all(c.text.endswith(" ") for c in chunks[:-1])  # no word is cut
    assert chunks[0].text.startswith("w0 w1 w2 ") and chunks[0].id == "text8/test/00000"
    assert len(chunks) == pytest.approx(5_000_000 / CHUNK_BYTES, rel=0.01)
    valid = load_benchmark("text8", "valid", path=path)
    assert valid[-1].text.endswith("valid-tail")


def test_enwik8_cuts_at_newlines_and_replaces_a_cut_character(tmp_path):
    # 9-byte lines ("é" is 2 bytes); 5_000_011 = 555_556 lines + 7 bytes, so the file ends
    # in the middle of an "é"
    body = ("<page>é\n" * 600_000).encode()[:5_000_011]
    path = _sparse(tmp_path / "enwik8", {100_000_000 - len(body): body})
    chunks = load_benchmark("enwik8", path=path)
    text = "".join(c.text for c in chunks)
    assert text == body[-5_000_000:].decode("utf-8", errors="replace")
    assert text.startswith("age>é\n") and text.endswith("<page>\ufffd")
    assert all(c.text.endswith("\n") for c in chunks[:-1])


def test_wrong_size_is_refused(tmp_path):
    path = tmp_path / "text8"
    path.write_bytes(b"too short")
    with pytest.raises(UserError, match=r"text8: 9 bytes, expected 100000000"):
        load_benchmark("text8", path=path)


def test_chunk_bounds():
    assert chunk_bounds(b"ab cd ef", 4, b" ") == [(0, 3), (3, 6), (6, 8)]
    assert chunk_bounds(b"abcdefgh", 3, b" ") == [(0, 3), (3, 6), (6, 8)]  # hard cuts
    assert chunk_bounds(b"", 3, b" ") == []
