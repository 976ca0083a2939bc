"""WebText jsonl on the real files, including the truncated last line of the train prefix."""

from __future__ import annotations

import json
import logging

from contamkit.benchmarks import load_benchmark


def test_train_prefix_skips_the_cut_record(shared_data, caplog):
    with caplog.at_level(logging.WARNING, logger="contam"):
        docs = load_benchmark("webtext", "train")
    assert len(docs) == 1408  # SOURCES.md: 1408 complete records, then a cut one
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "webtext.train.jsonl:1409: skipped 1 truncated" in warnings[0].msg
    first = json.loads((shared_data / "webtext" / "webtext.train.jsonl").open().readline())
    assert docs[0].text == first["text"] and docs[0].id == "webtext/train/00000"


def test_test_and_valid(shared_data):
    assert len(load_benchmark("webtext")) == 4723
    assert len(load_benchmark("webtext", "valid")) == 4724
