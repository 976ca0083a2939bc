"""The report page: tables of every run, PNGs embedded in the HTML, links in the markdown."""

import base64
import json
import re
import subprocess
import sys

import pytest

from contamkit.common.paths import REPO_ROOT
from overlap.build import build_filter
from overlap.measure import run_overlap
from overlap.options import BuildOptions, OverlapOptions

TRAIN = ("the old lighthouse keeper climbed the spiral stairs every evening at dusk to light "
         "the great lamp for the fishing boats")
BENCH = [TRAIN, "nothing in this passage was ever seen by the filter at all, not one bit",
         "tiny one"]


def cli(*args):
    return subprocess.run([sys.executable, "cli.py", *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True)


@pytest.fixture
def runs(tmp_path):
    corpus = tmp_path / "train.jsonl"
    corpus.write_text(json.dumps({"text": TRAIN}) + "\n")
    bloom = tmp_path / "train.bloom"
    build_filter(corpus, bloom, BuildOptions(workers=1))
    bench = tmp_path / "lambada_test.jsonl"
    bench.write_text("".join(json.dumps({"text": t}) + "\n" for t in BENCH))
    out = tmp_path / "out"
    summaries = run_overlap(["lambada"], bloom, out, OverlapOptions(bench_path=str(bench)))
    return out, summaries


def test_report_embeds_everything(runs):
    out, (summary,) = runs
    assert (summary["examples"], summary["too_short"], summary["examples_with_any_overlap"]) == (
        3, 1, 1)
    html = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    for text in (html, md):
        assert "lambada (test)" in text and f"| n-grams | {summary['ngrams']} |" in md
        assert "50.000 %" in text  # 1 of 2 tested examples at 100 %: mean 50 %
        assert "lambada/test/00000" in text and "100.0 %" in text
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 3 == len(summary["plots"])
    for data, name in zip(images, summary["plots"], strict=True):
        assert base64.b64decode(data) == (out / name).read_bytes()
    assert not re.search(r'src="(?!data:)', html)  # self-contained: nothing else loaded
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert links == summary["plots"] and all((out / link).is_file() for link in links)


def test_report_command(runs, tmp_path):
    out, _ = runs
    (out / "report.md").unlink()
    r = cli("report", out)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(out / "report.md"), str(out / "report.html")]
    empty = tmp_path / "empty"
    empty.mkdir()
    r = cli("report", empty)
    assert r.returncode == 2 and r.stderr.startswith(f"error: {empty}: no overlap run")
