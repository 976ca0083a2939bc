"""User mistakes: each is one UserError that names the file (and line) and the problem."""

from __future__ import annotations

import re

import pytest

from contamkit.benchmarks import load_benchmark
from contamkit.common.errors import UserError


def at(path, problem: str) -> str:
    """A regex for a message that starts with ``path`` and goes on with ``problem``."""
    return "^" + re.escape(str(path)) + problem


# id: (benchmark, file name, its content, what the message says after the file name)
BAD_FILES = {
    "malformed_json_line": (
        "lambada", "lambada_test.jsonl",
        b'{"text": "a passage ending in word"}\n{"text" "no colon"}\n',
        r":2: malformed JSON \(Expecting ':'",
    ),
    "truncated_last_line_where_not_expected": (
        "lambada", "lambada_test.jsonl", b'{"text": "a passage ending in word"}\n{"text": "cut off',
        r":2: malformed JSON",
    ),
    "missing_field": (
        "winograd", "winograd_wsc.jsonl", b'\n{"context_options": ["a", "b"], "gold": 0}\n',
        r":2: missing field 'continuation'",
    ),
    "json_line_that_is_not_an_object": (
        "webtext", "webtext.test.jsonl", b'{"text": "ok"}\n[1, 2]\n',
        r":2: expected a JSON object, got list",
    ),
    "malformed_xml": (
        "winograd", "WSCollection.xml",
        b'<?xml version="1.0"?>\n<collection>\n<schema><text>\n</collection>\n',
        r":4: malformed XML \(mismatched tag",
    ),
    "malformed_coqa_json": (
        "coqa", "coqa-dev-v1.0.json", b'{"data": [\n  {"id": "x",\n  "story": }\n]}',
        r":3: malformed JSON",
    ),
    "not_utf8": ("ptb", "ptb.test.txt", b" fine \n caf\xe9 \n", r":2: not UTF-8"),
}


@pytest.mark.parametrize(("name", "file", "content", "problem"), BAD_FILES.values(),
                         ids=BAD_FILES.keys())
def test_bad_file_names_file_and_line(tmp_path, name, file, content, problem):
    path = tmp_path / file
    path.write_bytes(content)
    with pytest.raises(UserError, match=at(path, problem)):
        load_benchmark(name, path=path)


def test_short_xml_collection(tmp_path):
    path = tmp_path / "WSCollection.xml"
    path.write_text("<collection><schema/></collection>")
    with pytest.raises(UserError, match=r"1 <schema> entries, WSC273 needs 273"):
        load_benchmark("winograd", path=path)


def test_explicit_path_that_does_not_exist(tmp_path):
    with pytest.raises(UserError, match=at(tmp_path / "nope", r": no such file or directory")):
        load_benchmark("ptb", path=tmp_path / "nope")


def test_one_file_for_a_many_file_split(tmp_path):
    path = tmp_path / "news.en-00001-of-00100"
    path.write_text("x\n")
    with pytest.raises(UserError, match="1bw train .* needs 99 files; give the folder"):
        load_benchmark("1bw", "train", path=path)
