"""overlap --scheduler: the same per-example results as the in-process run."""

import json

from contamkit.cli import main
from overlap.build import build_filter
from overlap.options import BuildOptions


def rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_dask_overlap_equals_serial(shared_data, tmp_path):
    bloom = tmp_path / "wt.bloom"
    build_filter(shared_data / "webtext" / "webtext.train.jsonl", bloom, BuildOptions(workers=1))
    common = ["overlap", "--bench", "lambada", "--filter", str(bloom)]
    assert main([*common, "--out", str(tmp_path / "serial")]) == 0
    assert main([*common, "--out", str(tmp_path / "dask"), "--scheduler", "local:2"]) == 0
    serial = rows(tmp_path / "serial" / "lambada" / "examples.jsonl")
    dask = rows(tmp_path / "dask" / "lambada" / "examples.jsonl")
    assert len(serial) == 5153 and serial == dask
    assert sum(r["found"] for r in dask) > 0  # the WebText sample shares a few LAMBADA 8-grams


def test_unreachable_scheduler_is_a_one_line_error(shared_data, tmp_path, capsys):
    bloom = tmp_path / "p.bloom"
    build_filter(shared_data / "ptb" / "ptb.valid.txt", bloom, BuildOptions(workers=1))
    code = main(["overlap", "--bench", "winograd", "--filter", str(bloom), "--out",
                 str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9",
                 "--connect-timeout", "2"])
    assert code == 2
    assert "cannot reach a Dask scheduler" in capsys.readouterr().err
