"""Bad release files: missing, in another set's schema, not parquet at all."""

from __future__ import annotations

import shutil

import pytest

from contamkit.benchmarks import load_benchmark
from contamkit.benchmarks.registry import benchmark_names
from contamkit.common.errors import UserError
from tests.contamkit.benchmarks.conftest import hf_release_rows, write_hf_release


def test_missing_file_names_the_set_the_file_and_where_to_put_it(tmp_path, empty_cache):
    with pytest.raises(UserError) as e:
        load_benchmark("mmlu")
    message = str(e.value)
    assert message.startswith(f"{empty_cache / 'mmlu' / 'all/test-00000-of-00001.parquet'}: "
                               "mmlu test (hf) needs all/test-00000-of-00001.parquet, not found")
    assert "(or pass --bench-path)" in message
    assert "huggingface.co/datasets/cais/mmlu/resolve/main/all/test-00000-of-00001.parquet" \
        in message
    assert "\n" not in message


def test_converted_parquet_layout_is_found_too(tmp_path):
    rows = {"arc_easy": {**hf_release_rows()["arc_easy"], "file": "ARC-Easy/test/0000.parquet"}}
    root = write_hf_release(tmp_path, rows)
    assert len(load_benchmark("arc_easy", path=root)) == 2


def test_a_file_in_another_schema_is_refused(hf_release):
    mmlu_file = hf_release / "mmlu" / "all" / "test-00000-of-00001.parquet"
    shutil.copy(hf_release / "gsm8k" / "main" / "test-00000-of-00001.parquet", mmlu_file)
    with pytest.raises(UserError) as e:
        load_benchmark("mmlu", path=hf_release)
    assert str(e.value) == (f"{mmlu_file}: not mmlu's schema: no column 'subject', 'choices' "
                            "(it has question, answer)")


def test_a_wrong_type_and_a_label_out_of_range_are_refused(tmp_path):
    rows = hf_release_rows()
    bad_type = {"mmlu": {**rows["mmlu"], "rows": [{**rows["mmlu"]["rows"][0], "answer": "B"}]}}
    with pytest.raises(UserError, match=r"row 0: not mmlu's schema: field 'answer' is str, "
                                        "expected int"):
        load_benchmark("mmlu", path=write_hf_release(tmp_path / "a", bad_type))
    no_label = {"hellaswag": {**rows["hellaswag"],
                              "rows": [{**rows["hellaswag"]["rows"][0], "label": ""}]}}
    with pytest.raises(UserError, match=r"row 0: label '' is not a choice .*validation split"):
        load_benchmark("hellaswag", path=write_hf_release(tmp_path / "b", no_label))


def test_a_file_that_is_not_parquet_is_refused(hf_release):
    f = hf_release / "gsm8k" / "main" / "test-00000-of-00001.parquet"
    f.write_text("question,answer\nwhat?,42\n")
    with pytest.raises(UserError, match=f"^{f}: not a readable parquet file"):
        load_benchmark("gsm8k", path=hf_release)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(UserError) as e:
        load_benchmark("mmlu_pro")
    assert str(e.value).startswith("unknown benchmark 'mmlu_pro' (known: lambada, ")
    for name in ("mmlu", "gsm8k", "hellaswag", "arc_easy", "arc_challenge", "truthfulqa",
                 "winogrande", "humaneval", "mbpp", "triviaqa", "squad", "hf"):
        assert name in benchmark_names()
        assert name in str(e.value)
