"""Fixtures for the benchmark tests: an empty cache, and a local HTTP server for downloads."""

from __future__ import annotations

import functools
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
