"""Contamination measures against a per-unit brute force, hand-made examples with known spans,
and the runs ``overlap`` writes."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contamkit.common.errors import UserError
from overlap.contamination import MEASURES, measure_table
from overlap.per_example import mark_scored, matched_runs, measure_texts, scored_offset
from overlap.spans import SpanCoder
from tests.overlap.test_per_example import filter_of


def brute_force(hit: list[bool], n: int, units: int, lo: int, hi: int, min_run: int) -> dict:
    """Every measure from the matched window bits, one unit at a time, in the region [lo, hi)."""
    region = range(lo, hi)
    windows = [w for w in range(len(hit)) if any(w <= u < w + n for u in region)]
    matches = []  # (first unit, last unit) of each run of consecutive matched windows
    w = 0
    while w < len(hit):
        if hit[w]:
            k = w
            while k + 1 < len(hit) and hit[k + 1]:
                k += 1
            matches.append((w, k + n - 1))
            w = k + 1
        else:
            w += 1
    covered = [any(a <= u <= b for a, b in matches) for u in region]
    long_covered = [any(a <= u <= b and b - a + 1 >= min_run for a, b in matches)
                    for u in region]
    inside = [len([u for u in region if a <= u <= b]) for a, b in matches]
    regions = sum(1 for i, c in enumerate(covered) if c and (i == 0 or not covered[i - 1]))
    size = hi - lo
    return {"ngram_fraction": sum(hit[w] for w in windows) / len(windows),
            "any_match": float(any(covered)),
            "longest_run": float(max(inside, default=0)),
            "longest_run_share": max(inside, default=0) / size,
            "coverage": sum(covered) / size,
            f"token_contamination(L={min_run})": sum(long_covered) / size,
            "matched_spans": float(regions)}


def row_of(hit: list[bool], n: int, scored_from: int | None = None) -> dict:
    runs = matched_runs(np.array(hit, bool), n).tolist() if any(hit) else []
    return {"units": len(hit) + n - 1, "runs": runs, "scored_from": scored_from if runs else None}


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 6), st.lists(st.booleans(), min_size=1, max_size=30), st.integers(1, 12),
       st.data())
def test_measures_match_a_unit_by_unit_brute_force(n, hit, min_run, data):
    units = len(hit) + n - 1
    scored = data.draw(st.integers(1, units - 1)) if units > 1 else None
    for part, (lo, hi) in (("all", (0, units)), ("scored", (scored, units)),
                           ("context", (0, scored))):
        if part != "all" and (scored is None or not any(hit)):
            continue
        got = measure_table([row_of(hit, n, scored)], n, list(MEASURES), [min_run], part)
        want = brute_force(hit, n, units, lo, hi, min_run)
        assert got.keys() == want.keys()
        for key, value in want.items():
            assert got[key][0] == pytest.approx(value), (part, key)


def test_hand_made_example_with_known_spans():
    """8 units matched contiguously, a gap, then two matches of 4 that overlap: n = 4."""
    n = 4
    # windows 0..4 matched (units 0..7), window 9 and 11 (units 9..12 and 11..14)
    hit = [True] * 5 + [False] * 4 + [True, False, True, False]
    row = row_of(hit, n)
    assert row["runs"] == [[0, 8], [9, 13], [11, 15]] and row["units"] == 16
    got = measure_table([row], n, list(MEASURES), [5, 9])
    assert got["ngram_fraction"][0] == 7 / 13
    assert got["any_match"][0] == 1.0
    assert got["longest_run"][0] == 8 and got["longest_run_share"][0] == 8 / 16
    assert got["coverage"][0] == 14 / 16  # units 8 and 15 are not matched
    assert got["token_contamination(L=5)"][0] == 8 / 16  # only the 8-unit match is >= 5
    assert got["token_contamination(L=9)"][0] == 0.0
    assert got["matched_spans"][0] == 2  # [0, 8) and [9, 15)
    # the scored part = the last 3 units (13..15): windows 10..12 overlap it, 11 matched
    scored = measure_table([{**row, "scored_from": 13}], n, list(MEASURES), [5], "scored")
    assert scored["ngram_fraction"][0] == pytest.approx(1 / 3)
    assert scored["coverage"][0] == pytest.approx(2 / 3) and scored["longest_run"][0] == 2


def test_untestable_examples_have_no_value():
    rows = [{"units": 3, "runs": [], "scored_from": None},  # too short for n = 4
            {"units": 10, "runs": [[0, 4]], "scored_from": None},  # no scored part found
            {"units": 10, "runs": [], "scored_from": None}]  # clean: 0 in every part
    got = measure_table(rows, 4, ["coverage"], [10], "scored")["coverage"]
    assert math.isnan(got[0]) and math.isnan(got[1]) and got[2] == 0.0


def test_bad_requests_fail_clearly():
    row = {"units": 10, "runs": []}
    with pytest.raises(UserError, match="unknown measure 'nope'"):
        measure_table([row], 4, ["nope"], [10])
    with pytest.raises(UserError, match="unknown part"):
        measure_table([row], 4, ["coverage"], [10], "middle")
    with pytest.raises(UserError, match="run `overlap` again"):
        measure_table([{"units": 10}], 4, ["coverage"], [10], where="x.jsonl:1")


def test_runs_and_scored_part_from_the_filter():
    """End to end through ``measure_texts``: the runs are the matched words, and the scored
    part of a LAMBADA-like example starts at its last word."""
    coder = SpanCoder("words")
    bloom = filter_of(["one two three four five six", "nine ten eleven twelve"], 3, coder)
    text = "zero one two three four five six seven nine ten eleven twelve"
    (r,) = measure_texts(["e"], [text], bloom, coder)
    assert r.runs == [[1, 7], [8, 12]]  # "one .. six", "nine .. twelve"
    offset = scored_offset(text, " twelve")
    assert text[offset:] == "twelve"
    assert mark_scored([r], [text], [offset], coder) == 0 and r.scored_from == 11
    assert measure_table([r.row()], 3, ["longest_run"], [10], "scored")["longest_run"][0] == 1
    assert measure_table([r.row()], 3, ["longest_run"], [10], "context")["longest_run"][0] == 6
