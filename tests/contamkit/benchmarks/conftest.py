"""Fixtures for the benchmark tests: an empty cache, and a local HTTP server for downloads."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own cache: a developer's ~/.cache must not change results."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CONTAM_CACHE", str(cache))
    monkeypatch.delenv("CONTAM_BENCH_MIRROR", raising=False)
    return cache


@pytest.fixture
def coqa_file() -> Path:
    return FIXTURES / "coqa-dev-mini.json"


def hf_release_rows() -> dict[str, dict]:
    """benchmark -> {"file": its path in the HF repository, "rows": rows in its schema}."""
    return json.loads((FIXTURES / "hf_release_rows.json").read_text(encoding="utf-8"))


def write_hf_release(root: Path, rows: dict[str, dict] | None = None) -> Path:
    """Each set's rows as the parquet file of its release, at ``root/<benchmark>/<file>``
    (one folder holding every set, as ``--bench-path`` takes it)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for name, spec in (rows or hf_release_rows()).items():
        path = root / name / spec["file"]
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(spec["rows"]), path)
    return root


@pytest.fixture
def hf_release(tmp_path: Path) -> Path:
    return write_hf_release(tmp_path / "hf")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_dir(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, folder): whatever the test writes into the folder is served on 127.0.0.1."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
