"""Reading release files exactly, with errors that name the file and the line.

Lines are split on ``\\n`` only and keep it, so a loader can rebuild the file byte for byte and
character spans stay meaningful (text mode would translate ``\\r`` and split on it).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from contamkit.common.errors import UserError
from contamkit.common.progress import log, progress

_BAR_EVERY = 1 << 20  # bytes between progress-bar updates: tqdm per line would cost seconds


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, line including its ``\\n``) of a UTF-8 file."""
    with (
        open(path, "rb") as f,
        progress(total=path.stat().st_size, unit="B", unit_scale=True, desc=path.name) as bar,
    ):
        pending = 0
        for lineno, raw in enumerate(f, 1):
            pending += len(raw)
            if pending >= _BAR_EVERY:
                bar.update(pending)
                pending = 0
            try:
                yield lineno, raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise UserError(f"{path}:{lineno}: not UTF-8 ({e.reason} at byte {e.start})") from e
        bar.update(pending)


def iter_jsonl(path: Path, truncated_tail_ok: bool = False) -> Iterator[tuple[int, dict]]:
    """(line number, record) for each non-blank line of a JSON-lines file.

    ``truncated_tail_ok``: a last line without its newline that does not parse is a record cut
    off by a partial copy (our WebText train prefix); it is skipped with a warning instead of
    failing. Anywhere else a malformed line is an error naming the file and line.
    """
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            if truncated_tail_ok and not line.endswith("\n"):
                log.warning(f"{path}:{lineno}: skipped 1 truncated last line (no newline)")
                return
            raise UserError(f"{path}:{lineno}: malformed JSON ({e.msg}, column {e.colno})") from e
        except (ValueError, RecursionError) as e:  # an over-long integer, nesting too deep
            raise UserError(f"{path}:{lineno}: malformed JSON ({_reason(e)})") from None
        if not isinstance(row, dict):
            raise UserError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
        yield lineno, row


def require(row: dict, key: str, kind: type, where: str) -> Any:
    """``row[key]`` checked to be a ``kind``; ``where`` is "file:line" for the message."""
    if not isinstance(row, dict):
        raise UserError(f"{where}: expected a JSON object with field {key!r}")
    if key not in row:
        raise UserError(f"{where}: missing field {key!r}")
    if not isinstance(row[key], kind):
        raise UserError(f"{where}: field {key!r} must be {kind.__name__}")
    return row[key]


def load_json(path: Path) -> Any:
    """A whole JSON document (CoQA); a syntax error names the line."""
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 ({e.reason} at byte {e.start})") from e
    except json.JSONDecodeError as e:
        raise UserError(f"{path}:{e.lineno}: malformed JSON ({e.msg}, column {e.colno})") from e
    except (ValueError, RecursionError) as e:
        raise UserError(f"{path}: malformed JSON ({_reason(e)})") from None


def _reason(e: BaseException) -> str:
    """Why ``json`` refused a text that is valid JSON syntax."""
    return "nested too deeply" if isinstance(e, RecursionError) else str(e).split(";")[0]


def parse_xml(path: Path) -> ET.Element:
    """The root element of an XML file (the encoding comes from its declaration)."""
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as e:
        line, column = e.position
        problem = str(e).split(":")[0]
        raise UserError(f"{path}:{line}: malformed XML ({problem}, column {column})") from e
