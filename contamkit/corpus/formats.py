"""Corpus formats: the registry (file suffix -> reader and writer) and the functions that go
through it: which files a corpus has, how each is read, how one is rewritten.

A format is one ``FORMATS`` entry. Its reader yields the documents of a ``Task`` (a file, or a
byte range of one where ``ranges``); its writer writes a file back with some documents replaced
(``decontaminate``). Formats marked ``compressible`` may also come as ``.gz`` or ``.zst``.

>>> file_format(Path("shard-00.jsonl.zst"))
('jsonl', 'zst')
>>> file_format(Path("notes.md")) is None
True
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from contamkit.common.atomic import atomic_open
from contamkit.common.errors import UserError
from contamkit.corpus import read, write
from contamkit.corpus.read import COMPRESSIONS, CorpusStats, Document, Task

Reader = Callable[[Task, str, str, CorpusStats, list[bool]], Iterator[Document]]
Writer = Callable[[Path, Path, write.Edits, str, str], list[Path]]


@dataclass(frozen=True)
class CorpusFormat:
    """One corpus file format.

    ``read(task, compression, text_field, stats, flagged)`` yields a task's documents (problems
    counted in ``stats``; ``flagged`` remembers that invalid UTF-8 was reported for the file);
    ``write(src, dst, edits, text_field, compression)`` writes ``src`` with ``edits`` applied and
    returns the files written.
    """

    name: str
    read: Reader
    write: Writer
    compressible: bool = True  # may come as .gz / .zst
    ranges: bool = False  # an uncompressed file may be cut into byte ranges at line ends
    one_document: bool = False  # a file is one document (read in pieces)


FORMATS: dict[str, CorpusFormat] = {  # suffix -> format
    ".txt": CorpusFormat("txt", read.read_txt, write.rewrite_txt, ranges=True, one_document=True),
    ".jsonl": CorpusFormat("jsonl", read.read_jsonl, write.rewrite_jsonl, ranges=True),
    ".json": CorpusFormat("json", read.read_json, write.rewrite_json),
    ".parquet": CorpusFormat("parquet", read.read_parquet, write.rewrite_parquet,
                             compressible=False),
}


def known_suffixes() -> str:
    """The suffixes for messages: ``.txt, .jsonl, ..., optionally .gz/.zst``."""
    return f"{', '.join(FORMATS)}, optionally {'/'.join(COMPRESSIONS)}"


def format_of(path: Path) -> tuple[CorpusFormat, str] | None:
    """The format and compression ("", "gz", "zst") of a file, from its name; None if no
    format reads it."""
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    compression = ""
    if suffixes and suffixes[-1] in COMPRESSIONS:
        compression = suffixes.pop()[1:]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None or (compression and not fmt.compressible):
        return None
    return fmt, compression


def file_format(path: Path) -> tuple[str, str] | None:
    """(format name, compression) from the file name, e.g. ("jsonl", "zst"); None if
    unsupported."""
    found = format_of(path)
    return None if found is None else (found[0].name, found[1])


def corpus_files(path: str | Path, stats: CorpusStats | None = None) -> list[Path]:
    """The supported files under ``path`` (sorted, so builds are deterministic)."""
    root = Path(path)
    if not root.exists():
        raise UserError(f"{root}: no such file or directory")
    candidates = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    files = []
    for p in candidates:
        if p.name.startswith("."):
            continue
        if format_of(p) is None:
            if stats is not None:
                stats.skipped_files += 1
                stats.unknown_files += 1
                stats.problem(f"{p}: unknown file type, skipped (expected {known_suffixes()})")
            continue
        files.append(p)
    if not files:
        raise UserError(f"{root}: no corpus files found ({known_suffixes()})")
    return files


def plan_tasks(files: list[Path], workers: int = 1) -> list[Task]:
    """Cut plain files of the formats with ``ranges`` into byte ranges: ~4 per worker, 1-64 MiB
    each (64 MiB for one worker: it gains nothing from small ranges, and a range's reading and
    coding only overlap across its batches)."""
    total = sum(p.stat().st_size for p in files)
    range_bytes = min(max(total // (4 * workers), 1 << 20), 64 << 20) if workers > 1 else 64 << 20
    tasks = []
    for p in files:
        fmt, compression = format_of(p)
        size = p.stat().st_size
        if fmt.ranges and not compression and size > range_bytes:
            starts = range(0, size, range_bytes)
            tasks += [Task(str(p), s, min(s + range_bytes, size)) for s in starts]
        else:
            tasks.append(Task(str(p)))
    return tasks


def read_task(task: Task, text_field: str, stats: CorpusStats) -> Iterator[Document]:
    """The documents of one task; a ``.txt`` range yields its lines as pieces of one document."""
    fmt, compression = format_of(Path(task.path))
    if task.start == 0:  # counted first: a range's reader may be closed before its end
        stats.files += 1
    before = stats.documents
    try:
        yield from fmt.read(task, compression, text_field, stats, [False])
    except read.decode_errors() as e:  # corrupt archive, unreadable file, stream cut short
        stats.skipped_files += 1
        done = stats.documents - before
        what = "truncated" if isinstance(e, EOFError) else "unreadable"
        stats.problem(f"{task.path}: {what} after {done} documents ({type(e).__name__}: "
                      f"{read.short_message(e)}); rest of file skipped")


def iter_documents(path: str | Path, text_field: str = "text",
                   stats: CorpusStats | None = None) -> Iterator[Document]:
    """Every document of a corpus, whole (a ``.txt`` file is one document)."""
    stats = stats if stats is not None else CorpusStats()
    for p in corpus_files(path, stats):
        if format_of(p)[0].one_document:
            pieces = [d.text for d in read_task(Task(str(p)), text_field, stats)]
            if pieces:
                yield Document(str(p), 0, "".join(pieces))
        else:
            yield from read_task(Task(str(p)), text_field, stats)


def rewrite_file(src: Path, dst: Path, edits: write.Edits,
                 text_field: str = "text") -> list[Path]:
    """Write ``src`` with ``edits`` applied under ``dst`` (a file name; txt pieces go beside
    it); returns the files written. A file without edits is copied byte for byte."""
    if not edits:
        with open(src, "rb") as f, atomic_open(dst, "wb") as out:
            shutil.copyfileobj(f, out)
        return [dst]
    fmt, compression = format_of(src)
    return fmt.write(src, dst, edits, text_field, compression)
