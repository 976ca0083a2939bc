"""Winograd Schema Challenge, WSC273 (Levesque et al.), in two formats with the same order.

``jsonl`` (default) is the partial-scoring form GPT-2 used (Trinh & Le): two contexts, each
ending with a candidate substituted for the pronoun, and the shared continuation. Its
substitutions are hand-written (possessives, dropped articles), so ``xml``, E. Davis's
collection, does not pretend to rebuild them: it gives the original sentence with its pronoun
and the two candidates as written.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from pathlib import Path

from contamkit.benchmarks.readers import iter_jsonl, parse_xml, require
from contamkit.benchmarks.spec import Benchmark, DataFile, Item, Remote, Variant, index_key
from contamkit.common.errors import UserError

WSC273 = 273  # the XML collection holds 285 schemas; the first 273 are the standard set
XML_URL = "https://cs.nyu.edu/~davise/papers/WinogradSchemas/WSCollection.xml"
# llm-foundry's copy, pinned to the commit whose file hash we know.
JSONL_URL = (
    "https://raw.githubusercontent.com/mosaicml/llm-foundry/"
    "8c8dd48f72168c5d51e2f7b151595892a8fba43d/scripts/eval/local_data/"
    "language_understanding/winograd_wsc.jsonl"
)
# The NYU file has had several revisions; no checksum of the current one is known.
XML_REMOTE = Remote(XML_URL, None)
JSONL_SHA256 = "746336c27cd2e39a554cb1b8b4869d0f1ae2577ac5bfe799842d26bca5a5bf5e"
_NO_SPACE_BEFORE = tuple(".,;:!?")


def join_words(left: str, right: str) -> str:
    """Join two pieces of a sentence with a space, except before punctuation."""
    return left + right if right.startswith(_NO_SPACE_BEFORE) else f"{left} {right}"


def read_jsonl(paths: Sequence[Path], split: str) -> Iterator[Item]:
    """text = the gold context + continuation: the sentence with the right referent in it."""
    (path,) = paths
    for i, (lineno, row) in enumerate(iter_jsonl(path)):
        where = f"{path}:{lineno}"
        options = require(row, "context_options", list, where)
        continuation = require(row, "continuation", str, where)
        label = require(row, "gold", int, where)
        if len(options) != 2 or not all(isinstance(o, str) for o in options) or label not in (0, 1):
            raise UserError(f"{where}: expected two context_options and gold 0 or 1")
        fields = {"options": options, "continuation": continuation, "label": label}
        yield index_key(i), join_words(options[label], continuation), fields


def read_xml(paths: Sequence[Path], split: str) -> Iterator[Item]:
    """text = txt1 + pronoun + txt2 with the XML's line breaks and padding collapsed."""
    (path,) = paths
    schemas = parse_xml(path).findall("schema")
    if len(schemas) < WSC273:
        raise UserError(f"{path}: {len(schemas)} <schema> entries, WSC273 needs {WSC273}")
    for i, schema in enumerate(schemas[:WSC273]):
        where = f"{path}: schema {i + 1}"
        prefix, pronoun, continuation = (
            _text(schema, f"text/{tag}", where) for tag in ("txt1", "pron", "txt2")
        )
        candidates = [" ".join((a.text or "").split()) for a in schema.findall("answers/answer")]
        answer = _text(schema, "correctAnswer", where)[:1]
        if len(candidates) != 2 or answer not in ("A", "B"):
            raise UserError(f"{where}: expected two <answer> and a correctAnswer A or B")
        fields = {
            "prefix": prefix,
            "pronoun": pronoun,
            "candidates": candidates,
            "continuation": continuation,
            "label": "AB".index(answer),
        }
        yield index_key(i), join_words(join_words(prefix, pronoun), continuation), fields


def _text(schema: ET.Element, tag: str, where: str) -> str:
    node = schema.find(tag)
    if node is None or not (node.text or "").strip():
        raise UserError(f"{where}: missing <{tag}>")
    return " ".join(node.text.split())


BENCHMARK = Benchmark(
    name="winograd",
    task="winograd",
    description="Winograd Schema Challenge WSC273 (partial-scoring jsonl, or Davis's XML)",
    example="one schema; jsonl: options, continuation, label; xml: pronoun, candidates, label",
    variant_specs=(
        Variant(
            "jsonl",
            read_jsonl,
            {"test": (DataFile("winograd_wsc.jsonl", "wsc", Remote(JSONL_URL, JSONL_SHA256)),)},
        ),
        Variant("xml", read_xml, {"test": (DataFile("WSCollection.xml", "wsc", XML_REMOTE),)}),
    ),
    scored_field="continuation",
)
