"""The one reader of run folders and its convention for examples too short to test."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from contamkit.common.errors import UserError
from overlap.results import overlap_fractions, read_overlap_run


def write(folder, summary, rows):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "examples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_too_short_examples_are_nan_and_left_out_of_means(tmp_path):
    rows = [{"id": "b/test/0", "ngrams": 4, "found": 1}, {"id": "b/test/1", "ngrams": 0,
                                                          "found": 0},
            {"id": "b/test/2", "ngrams": 2, "found": 2}]
    write(tmp_path, {"bench": "b", "split": "test"}, rows)
    run = read_overlap_run(tmp_path)
    fractions = overlap_fractions(run.rows)
    assert fractions[0] == 0.25 and math.isnan(fractions[1]) and fractions[2] == 1.0
    assert np.nanmean(fractions) == pytest.approx((0.25 + 1.0) / 2)
    assert list(run.by_id()) == ["b/test/0", "b/test/1", "b/test/2"]


@pytest.mark.parametrize(("summary", "rows", "message"), [
    (None, [{"id": "a", "ngrams": 1, "found": 0}], "no summary.json"),
    ({"bench": "b"}, [{"id": "a", "ngrams": 1, "found": 0}], "split"),
    ({"bench": "b", "split": "test"}, [{"id": "a", "ngrams": 1}], "missing field 'found'"),
    ({"bench": "b", "split": "test"}, [{"id": "a", "ngrams": 1, "found": 0}] * 2,
     "duplicate id 'a'"),
    ({"bench": "b", "split": "test"}, [], "no examples"),
])
def test_broken_folders_are_one_line_errors(tmp_path, summary, rows, message):
    write(tmp_path, summary or {}, rows)
    if summary is None:
        (tmp_path / "summary.json").unlink()
    with pytest.raises(UserError, match=message):
        read_overlap_run(tmp_path)
