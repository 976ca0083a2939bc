"""Writing a corpus file back in its own format with some documents replaced: the writer of
each format (``contamkit.corpus.formats`` is the registry choosing one, and ``rewrite_file``).

The counterpart of ``corpus.read`` for tools that edit a corpus (``decontaminate``): an edit
maps a document's index, as ``corpus.iter_documents`` numbers it (jsonl: 0-based line; json:
record; parquet: row; txt: the file is document 0), to the character ranges of its text to
keep, each becoming a document of its own; no range drops the document. The text is decoded
exactly as ``corpus.read`` decodes it, so ranges found on the engine's text apply here.
Everything not edited is written back byte for byte (a file with no edit is copied), so a
rewrite touches nothing else.

Per format: jsonl/json/parquet pieces become records that copy the original's other fields;
a txt document's pieces become files ``name.part<k>.txt`` (a .txt file is one document).
Compression (.gz, .zst) is kept.
"""

from __future__ import annotations

import contextlib
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from contamkit.common.atomic import atomic_open
from contamkit.common.progress import log
from contamkit.corpus.read import COMPRESSIONS, decode_errors, open_binary

Edits = dict[int, list[tuple[int, int]]]  # document index -> [start, end) ranges to keep


@contextlib.contextmanager
def open_output(path: Path, compression: str) -> Iterator[IO[bytes]]:
    """A binary file written atomically, compressed like the input."""
    with atomic_open(path, "wb") as raw:
        if compression == "gz":
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
                yield f
        elif compression == "zst":
            import zstandard

            with zstandard.ZstdCompressor().stream_writer(raw, closefd=False) as f:
                yield f
        else:
            yield raw


def _readable_chunks(src: Path, compression: str, lines: bool = False) -> Iterator[bytes]:
    """The decompressed bytes (or lines) of ``src`` up to the first decode error, if any: the
    readers (``contamkit.corpus.read``) reported that error and numbered only the documents
    before it, so an edited file keeps what they read; the unreadable rest is not written."""
    try:
        with open_binary(str(src), compression) as f:
            read = f.readline if lines else lambda: f.read(1 << 20)
            while chunk := read():
                yield chunk
    except decode_errors() as e:
        log.warning("warning: %s: unreadable from here on (%s); the rest is not written",
                    src, type(e).__name__)


def piece_name(dst: Path, k: int) -> Path:
    """``doc.txt.gz`` -> ``doc.part<k>.txt.gz``: the format suffixes stay last."""
    compressed = dst.suffix.lower() in COMPRESSIONS
    suffixes = "".join(dst.suffixes[-2:]) if compressed else dst.suffix
    return dst.with_name(f"{dst.name[: len(dst.name) - len(suffixes)]}.part{k}{suffixes}")


def rewrite_txt(src: Path, dst: Path, edits: Edits, text_field: str,
                compression: str) -> list[Path]:
    """The one document's pieces become files ``name.part<k>.txt`` (one piece: ``name.txt``)."""
    text = b"".join(_readable_chunks(src, compression)).decode("utf-8", errors="replace")
    pieces = cut(text, edits[0])
    paths = [dst] if len(pieces) == 1 else [piece_name(dst, k) for k in range(len(pieces))]
    for path, piece in zip(paths, pieces, strict=True):
        with open_output(path, compression) as f:
            f.write(piece.encode("utf-8"))
    return paths


def cut(text: str, keep: list[tuple[int, int]]) -> list[str]:
    return [text[s:e] for s, e in keep]


def _replaced(record: dict, text_field: str, keep: list[tuple[int, int]]) -> list[dict]:
    return [{**record, text_field: piece} for piece in cut(record[text_field], keep)]


def rewrite_jsonl(src: Path, dst: Path, edits: Edits, text_field: str,
                  compression: str) -> list[Path]:
    with open_output(dst, compression) as out:
        for index, line in enumerate(_readable_chunks(src, compression, lines=True)):
            if index not in edits:
                out.write(line)
                continue
            record = json.loads(line.decode("utf-8", errors="replace"))
            for new in _replaced(record, text_field, edits[index]):
                out.write(json.dumps(new, ensure_ascii=False).encode("utf-8") + b"\n")
    return [dst]


def rewrite_json(src: Path, dst: Path, edits: Edits, text_field: str,
                 compression: str) -> list[Path]:
    with open_binary(str(src), compression) as f:
        data = json.loads(f.read().decode("utf-8", errors="replace"))
    records = data if isinstance(data, list) else [data]
    out_records = []
    for index, record in enumerate(records):
        out_records += _replaced(record, text_field, edits[index]) if index in edits else [record]
    with open_output(dst, compression) as out:
        out.write(json.dumps(out_records, ensure_ascii=False).encode("utf-8"))
    return [dst]


def rewrite_parquet(src: Path, dst: Path, edits: Edits, text_field: str,
                    compression: str) -> list[Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(src)
    texts = table.column(text_field).to_pylist()
    rows: list[int] = []
    new_texts: list[str | None] = []
    for index, text in enumerate(texts):
        pieces = cut(text, edits[index]) if index in edits else [text]
        rows += [index] * len(pieces)
        new_texts += pieces
    out = table.take(pa.array(rows, type=pa.int64()))
    column = table.schema.get_field_index(text_field)
    out = out.set_column(column, table.schema.field(column),
                         pa.array(new_texts, type=table.schema.field(column).type))
    with atomic_open(dst, "wb") as f:
        pq.write_table(out, f)
    return [dst]
