"""Reading a training corpus: documents, what was read, and the reader of each format.

Which reader reads which file is the registry's choice (``contamkit.corpus.formats``); the
functions over a whole corpus (``corpus_files``, ``plan_tasks``, ``read_task``,
``iter_documents``) are there too.

Formats: ``.txt`` (a file is one document), ``.jsonl`` (one JSON object per line), ``.json`` (an
array of objects, or one object), ``.parquet`` (a text column); ``.txt``/``.jsonl``/``.json`` may
be compressed as ``.gz`` or ``.zst``. The text field/column is ``text`` unless configured.

Bad input never stops a build where going on is safe, and is never skipped silently: an
unreadable or corrupt file (any decode error: gzip/zlib, zstd, parquet, JSON nested too deeply
or holding an integer too long to convert), a compressed stream that ends early (reported as
truncated, with the documents read before the end), a malformed or truncated JSON line (WebText's
sample ends with one; the lines after it are still read), a record without the text field, or an
unknown extension is logged with its file (and line) and counted in ``CorpusStats``; invalid
UTF-8 bytes are replaced and counted. ``CorpusStats.unread`` says whether any part of the
corpus could not be read (``decontaminate`` refuses to call such a corpus clean).

Uncompressed ``.txt`` and ``.jsonl`` files are cut into byte ranges at line ends
(``formats.plan_tasks``), so one large file still spreads over all workers.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from contamkit.common.progress import log

COMPRESSIONS = (".gz", ".zst")
_MAX_REPORTED = 10  # problems logged one by one; the rest are only counted
PIECE_BYTES = 1 << 18  # long documents are read and hashed in pieces of this size (one batch)
MAX_RUN_BYTES = 1 << 22  # a run without whitespace longer than this is cut anyway


@dataclass
class Document:
    source: str  # file path
    index: int  # document number within the file (0-based line for jsonl, byte offset in ranges)
    text: str
    continues: bool = False  # a later piece of the document before it (long .txt files)
    lookahead: bool = False  # text after a range, read only to finish its last n-grams
    end: int = -1  # how far into the file as stored reading got with it (-1: not known)


@dataclass
class CorpusStats:
    """What was read and what was skipped; merged across workers."""

    files: int = 0
    documents: int = 0
    bytes: int = 0
    skipped_files: int = 0
    unknown_files: int = 0  # of skipped_files: not corpus files at all (never read or copied)
    bad_records: int = 0
    invalid_utf8_files: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, message: str) -> None:
        """Record a problem; the first few are logged by ``report_new``, the rest counted."""
        self.problems.append(message)

    def report_new(self, already: int) -> int:
        """Log the problems after the first ``already`` (up to a limit); returns the new count."""
        for message in self.problems[already:_MAX_REPORTED]:
            log.warning("warning: %s", message)
        if already <= _MAX_REPORTED < len(self.problems):
            log.warning("warning: further problems are only counted")
        return len(self.problems)

    def unread(self) -> int:
        """Files and records (partly) not read: what a clean bill of health must not ignore."""
        return self.skipped_files - self.unknown_files + self.bad_records

    def merge(self, other: CorpusStats) -> None:
        for name in ("files", "documents", "bytes", "skipped_files", "unknown_files", "bad_records",
                     "invalid_utf8_files"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems += other.problems


@dataclass(frozen=True)
class Task:
    """A unit of reading work: a whole file, or a byte range [start, end) of a plain file."""

    path: str
    start: int = 0
    end: int = -1  # -1: to the end of the file


def _decode(raw: bytes, path: str, stats: CorpusStats, flagged: list[bool]) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if not flagged[0]:
            flagged[0] = True
            stats.invalid_utf8_files += 1
            stats.problem(f"{path}: invalid UTF-8 bytes, replaced with U+FFFD")
        return raw.decode("utf-8", errors="replace")


def open_binary(path: str, compression: str) -> io.BufferedIOBase:
    """A binary stream of a corpus file's decompressed bytes (supports ``readline``)."""
    if compression == "gz":
        return gzip.open(path, "rb")
    if compression == "zst":
        import zstandard

        stream = _ZstdStream(path, zstandard.ZstdDecompressor())
        f = _ZstdFile(stream)  # adds readline
        f.fileobj = stream.source
        return f
    return open(path, "rb")


class _ZstdStream(io.RawIOBase):
    """The decompressed bytes of a ``.zst`` file, frame after frame. A file that ends inside a
    frame raises ``EOFError`` (zstandard's own stream reader just stops there, silently)."""

    def __init__(self, path: str, dctx):
        self.source = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._dctx, self._frame = dctx, None
        self._out, self._pos = b"", 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._pos >= len(self._out):
            chunk = self.source.read(1 << 17)
            if not chunk:
                if self._frame is not None:
                    raise EOFError("compressed stream ended before the end of its last frame")
                return 0
            self._out, self._pos = self._decompress(chunk), 0
        n = min(len(buffer), len(self._out) - self._pos)
        buffer[:n] = self._out[self._pos : self._pos + n]
        self._pos += n
        return n

    def _decompress(self, data: bytes) -> bytes:
        out = []
        while data:
            if self._frame is None:
                self._frame = self._dctx.decompressobj()
            out.append(self._frame.decompress(data))
            data = b""
            if self._frame.eof:
                data, self._frame = self._frame.unused_data, None
        return b"".join(out)

    def close(self) -> None:
        self.source.close()
        super().close()


def decode_errors() -> tuple[type[BaseException], ...]:
    """Every exception a corrupt file of a supported format raises while it is decoded."""
    import pyarrow
    import zstandard

    return (OSError, EOFError, ValueError, zlib.error, zstandard.ZstdError, RecursionError,
            MemoryError, pyarrow.ArrowException)


class _ZstdFile(io.BufferedReader):
    """A zstd stream with ``readline``; ``fileobj`` is the compressed file, as in GzipFile."""

    fileobj: io.BufferedIOBase


def _stored_offset(f: io.BufferedIOBase) -> int:
    """How far into the file as stored ``f`` has read: compressed bytes for .gz and .zst."""
    return getattr(f, "fileobj", f).tell()


def _skip_partial_line(f: io.BufferedIOBase, pos: int) -> int:
    """Seek to the first line that begins at or after ``pos`` > 0; returns its offset. Reads
    the skipped part in pieces, so a huge line costs no memory."""
    f.seek(pos - 1)
    pos -= 1
    while chunk := f.readline(PIECE_BYTES):
        pos += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return pos


def line_start_after(path: str | Path, pos: int, limit: int) -> int | None:
    """The first offset at or after ``pos`` where a line of the plain file ``path`` begins (its
    size at the end), if one lies within ``limit`` bytes; None otherwise (``pos`` is inside a
    long line). Reads at most ``limit`` bytes."""
    if pos <= 0:
        return 0
    with open(path, "rb") as f:
        f.seek(pos - 1)
        scanned = 0
        while scanned <= limit:
            block = f.read(min(1 << 16, limit + 1 - scanned))
            if not block:
                return pos - 1 + scanned
            found = block.find(b"\n")
            if found >= 0:
                return pos + scanned + found
            scanned += len(block)
    return None


def _range_lines(f: io.BufferedIOBase, task: Task) -> Iterator[tuple[int, bytes]]:
    """Lines whose first byte lies in [start, end): ranges tile a file with no line twice."""
    pos = _skip_partial_line(f, task.start) if task.start > 0 else 0
    line_no = 0  # unknown inside a range: report byte offsets there
    while task.end < 0 or pos < task.end:
        line = f.readline()
        if not line:
            return
        yield (pos if task.start else line_no), line
        pos += len(line)
        line_no += 1


def _range_chunks(f: io.BufferedIOBase, task: Task) -> Iterator[bytes]:
    """The bytes of the lines whose first byte lies in [start, end), in chunks of at most
    ``PIECE_BYTES`` (a long line comes as several)."""
    pos = _skip_partial_line(f, task.start) if task.start > 0 else 0
    line_start = True
    while task.end < 0 or not line_start or pos < task.end:
        chunk = f.readline(PIECE_BYTES)
        if not chunk:
            return
        yield chunk
        pos += len(chunk)
        line_start = chunk.endswith(b"\n")


_SPACES = (" ", "\n", "\t", "\r", "\x0b", "\x0c")
_SPACE_BYTES = tuple(c.encode() for c in _SPACES)


def whitespace_cut(text: bytes | bytearray | str, limit: int) -> int:
    """Where to end a piece of ``text`` (bytes or characters) of about ``limit``: just after its
    last ASCII whitespace before ``limit`` (else its first one after), so that no word is cut
    and normalization reads both sides as it reads the whole (NFKC composes nothing with
    whitespace, and the context of lower-casing's final-sigma rule stops at it). A run without
    whitespace longer than ``MAX_RUN_BYTES`` is cut at a character boundary (only n-grams
    holding such a giant "word" can then differ from reading the text whole). 0: no place to
    cut in ``text`` yet."""
    if len(text) <= limit:
        return len(text)
    spaces = _SPACES if isinstance(text, str) else _SPACE_BYTES
    cut = max(text.rfind(c, 0, limit) for c in spaces) + 1
    if not cut:
        after = [i for c in spaces if (i := text.find(c, limit, MAX_RUN_BYTES)) >= 0]
        cut = min(after) + 1 if after else 0
    if cut or len(text) <= MAX_RUN_BYTES:
        return cut
    cut = MAX_RUN_BYTES
    if not isinstance(text, str):
        while text[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte
            cut -= 1
    return cut


def _cut_pieces(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The bytes of ``chunks`` regrouped into pieces of about ``PIECE_BYTES``, each but the
    last ending where ``whitespace_cut`` says."""
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        while len(pending) > PIECE_BYTES:
            cut = whitespace_cut(pending, PIECE_BYTES)
            if not cut:
                break
            yield bytes(pending[:cut])
            del pending[:cut]
    if pending:
        yield bytes(pending)


def _text_pieces(f: io.BufferedIOBase, task: Task, stats: CorpusStats,
                 flagged: list[bool]) -> Iterator[Document]:
    """A ``.txt`` file (or range of one) as pieces of about ``PIECE_BYTES`` cut at ASCII
    whitespace, so that a document with no line break streams in bounded memory.

    After a range, lookahead pieces follow with the next bytes; the consumer stops reading them
    once it has the n - 1 units that finish the range's last n-grams.
    """
    first = task.start == 0
    for raw in _cut_pieces(_range_chunks(f, task)):
        stats.bytes += len(raw)
        yield Document(task.path, 0, _decode(raw, task.path, stats, flagged), not first,
                       end=_stored_offset(f))
        first = False
    if first:  # an empty file is still one (empty) document
        yield Document(task.path, 0, "")
    if task.start == 0:
        stats.documents += 1
    if task.end >= 0:  # _range_chunks stopped at the first line of the next range
        for raw in _cut_pieces(iter(lambda: f.read(PIECE_BYTES), b"")):
            yield Document(task.path, 0, _decode(raw, task.path, stats, flagged), True, True)


def split_long(docs: Iterable[Document], limit: int = 0) -> Iterator[Document]:
    """Documents longer than ``limit`` characters (default ``PIECE_BYTES``) as pieces cut where
    ``whitespace_cut`` says, later pieces marked ``continues``: hashing a document's n-grams
    then needs memory for one piece, not the whole (a 100 MB JSON record), with the same
    n-grams as a result."""
    limit = limit or PIECE_BYTES
    for doc in docs:
        text, continues = doc.text, doc.continues
        while len(text) > limit and (cut := whitespace_cut(text, limit)):
            yield Document(doc.source, doc.index, text[:cut], continues, doc.lookahead, doc.end)
            text, continues = text[cut:], True
        yield Document(doc.source, doc.index, text, continues, doc.lookahead, doc.end)


def read_txt(task: Task, compression: str, text_field: str, stats: CorpusStats,
             flagged: list[bool]) -> Iterator[Document]:
    """A ``.txt`` file is one document, read in pieces (``_text_pieces``)."""
    with open_binary(task.path, compression) as f:
        yield from _text_pieces(f, task, stats, flagged)


def read_jsonl(task: Task, compression: str, text_field: str, stats: CorpusStats,
               flagged: list[bool]) -> Iterator[Document]:
    """One JSON object per line, its ``text_field`` the document."""
    with open_binary(task.path, compression) as f:
        for where, line in _range_lines(f, task):
            stats.bytes += len(line)
            label = f"byte {where}" if task.start else f"line {where + 1}"
            doc = _json_document(line, task.path, label, text_field, stats, flagged)
            if doc is not None:
                yield Document(task.path, where, doc, end=_stored_offset(f))


def read_json(task: Task, compression: str, text_field: str, stats: CorpusStats,
              flagged: list[bool]) -> Iterator[Document]:
    """An array of objects, or one object."""
    with open_binary(task.path, compression) as f:
        raw = f.read()
    stats.bytes += len(raw)
    yield from _json_file_documents(raw, task.path, text_field, stats, flagged)


def read_parquet(task: Task, compression: str, text_field: str, stats: CorpusStats,
                 flagged: list[bool]) -> Iterator[Document]:
    """A text column."""
    yield from _parquet_documents(Path(task.path), text_field, stats)


def short_message(e: BaseException) -> str:
    """An exception's message on one line, at most 200 characters."""
    text = " ".join(str(e).split())
    return text if len(text) <= 200 else text[:200] + "..."


def _json_document(line: bytes, path: str, label: str, text_field: str, stats: CorpusStats,
                   flagged: list[bool]) -> str | None:
    if not line.strip():
        return None
    try:
        record = json.loads(_decode(line, path, stats, flagged))
    except (ValueError, RecursionError) as e:  # JSONDecodeError, an over-long integer, nesting
        stats.bad_records += 1
        what = "truncated" if not line.endswith(b"\n") else "malformed"
        why = e.msg if isinstance(e, json.JSONDecodeError) else short_message(e)
        stats.problem(f"{path}: {label}: {what} JSON line skipped ({why})")
        return None
    return _record_text(record, path, label, text_field, stats)


def _record_text(record: object, path: str, label: str, text_field: str,
                 stats: CorpusStats) -> str | None:
    text = record.get(text_field) if isinstance(record, dict) else None
    if not isinstance(text, str):
        stats.bad_records += 1
        stats.problem(f"{path}: {label}: no string field {text_field!r}, record skipped")
        return None
    stats.documents += 1
    return text


def _json_file_documents(raw: bytes, path: str, text_field: str, stats: CorpusStats,
                         flagged: list[bool]) -> Iterator[Document]:
    try:
        data = json.loads(_decode(raw, path, stats, flagged))
    except json.JSONDecodeError as e:
        raise ValueError(f"malformed JSON at line {e.lineno}: {e.msg}") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    records = data if isinstance(data, list) else [data]
    size = Path(path).stat().st_size  # all of it is read
    for i, record in enumerate(records):
        text = _record_text(record, path, f"record {i}", text_field, stats)
        if text is not None:
            yield Document(path, i, text, end=size)


def _parquet_documents(path: Path, column: str, stats: CorpusStats) -> Iterator[Document]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    if column not in pf.schema_arrow.names:
        raise ValueError(f"no column {column!r} (columns: {', '.join(pf.schema_arrow.names)})")
    index = 0
    size, rows = path.stat().st_size, max(pf.metadata.num_rows, 1)
    for batch in pf.iter_batches(columns=[column]):
        for text in batch.column(0).to_pylist():
            if isinstance(text, str):
                stats.documents += 1
                stats.bytes += len(text)
                yield Document(str(path), index, text, end=size * (index + 1) // rows)
            else:
                stats.bad_records += 1
            index += 1


