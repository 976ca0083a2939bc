"""The run folder and its report: layout, tables, embedded PNGs, and the page's script driven in
a real browser (headless Chromium): sorting, expanding, highlighting and searching."""

import base64
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from contamkit.common.paths import REPO_ROOT
from overlap.build import build_filter
from overlap.options import BuildOptions

TRAIN = ("the old lighthouse keeper climbed the spiral stairs every evening at dusk to light "
         "the great lamp for the fishing boats that came home late across the dark and stormy "
         "northern sea while his wife waited by the window with a candle")
WORDS = TRAIN.split()
FILLER = ["quartz", "zebra", "violin", "marmalade", "oboe", "tundra", "saffron", "gondola",
          "pixel", "walnut", "harbor", "comet", "velvet", "cactus", "lantern", "meadow"]


def passage(i: int, taken: int) -> str:
    """``taken`` words of TRAIN (from word i) between words that are in no corpus."""
    return " ".join(FILLER[:3 + i] + WORDS[i : i + taken] + FILLER[-4:])


# ids in file order are not the order of any column: sorting has to move rows
BENCH = [(passage(0, 10), "a"), (passage(2, 25), "b"),
         ("nothing in this passage was ever seen by the filter at all", "c"),
         (passage(1, 14), "d"), (passage(3, 9), "e"), ("tiny one", "f")]


def cli(*args, env=None):
    return subprocess.run([sys.executable, "cli.py", *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    corpus = tmp / "train.jsonl"
    corpus.write_text(json.dumps({"text": TRAIN}) + "\n")
    bloom = tmp / "train.bloom"
    build_filter(corpus, bloom, BuildOptions(workers=1))
    bench = tmp / "mine.jsonl"
    bench.write_text("".join(json.dumps({"text": t, "id": i}) + "\n" for t, i in BENCH))
    out = tmp / "out"
    r = cli("overlap", "--bench", "jsonl", "--bench-path", bench, "--filter", bloom, "--out", out)
    assert r.returncode == 0, r.stderr
    return out


def rows_of(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_one_benchmark_gets_its_folder_and_the_run_summary(run):
    assert sorted(p.name for p in run.iterdir()) == [
        "contamination.png", "jsonl", "report.html", "report.md", "summary.json"]
    assert sorted(p.name for p in (run / "jsonl").iterdir()) == [
        "examples.csv", "examples.jsonl", "overlap_buckets.png", "overlap_spread.png",
        "summary.json"]
    top = json.loads((run / "summary.json").read_text())
    bench = json.loads((run / "jsonl" / "summary.json").read_text())
    assert top["benches"] == ["jsonl"] and top["plots"] == ["contamination.png"]
    assert top["filter"]["provenance"]["file_count"] == 1
    (row,) = top["benchmarks"]
    rows = rows_of(run / "jsonl" / "examples.jsonl")
    assert row["examples"] == 6 and row["too_short"] == 1  # "tiny one"
    assert row["examples_with_any_overlap"] == sum(r["found"] > 0 for r in rows) == 4
    fpr = top["filter"]["estimated_fpr"]
    assert row["expected_false_positive_ngrams"] == pytest.approx(
        sum(r["ngrams"] for r in rows) * fpr)
    assert bench["bench_label"] == "mine.jsonl"  # titles name the user's file, not "jsonl"
    assert [r["text"] for r in rows] == [t for t, _ in BENCH]


def test_report_tables_and_embedded_images(run):
    html = (run / "report.html").read_text()
    md = (run / "report.md").read_text()
    bench = json.loads((run / "jsonl" / "summary.json").read_text())
    for text in (html, md):
        assert "mine.jsonl (test)" in text and "train.jsonl" in text  # names its corpus
        assert "false-positive n-grams expected" in text
    assert f"| n-grams | {bench['ngrams']} |" in md
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    names = ["contamination.png", *(f"jsonl/{p}" for p in bench["plots"])]
    assert len(images) == 3
    for data, name in zip(images, names, strict=True):
        assert base64.b64decode(data) == (run / name).read_bytes()
    assert not re.search(r'(src|href)="(?!data:)', html)  # self-contained: nothing loaded
    assert "http" not in html.split("<script>")[1]
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert links == names


def test_report_command(run, tmp_path):
    (run / "report.md").unlink()
    r = cli("report", run)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(run / "report.md"), str(run / "report.html")]
    empty = tmp_path / "empty"
    empty.mkdir()
    r = cli("report", empty)
    assert r.returncode == 2 and r.stderr.startswith(f"error: {empty}: no overlap run")


# ------------------------------------------------------------------------------ browser

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run")

# Drives the page's own script as a reader would, then leaves what it saw in <pre id=result>.
DRIVER = """
(function(){
 var t=document.querySelector("table[id^=explore]");
 function ids(){return Array.from(t.querySelectorAll("tr.row")).map(function(r){
  return r.cells[0].textContent.trim();});}
 var th=t.querySelectorAll("thead th"), seen={initial:ids()};
 th[2].click(); seen.found_ascending=ids();
 th[2].click(); seen.found_descending=ids();
 th[0].click(); seen.by_id=ids();
 var row=t.querySelector("tr.row"), detail=row.nextElementSibling;
 seen.detail_hidden_before=detail.hidden; row.click();
 seen.detail_hidden_after=detail.hidden; seen.expanded=row.getAttribute("aria-expanded");
 seen.first=row.cells[0].textContent.trim();
 seen.marks=Array.from(detail.querySelectorAll("mark")).map(function(m){return m.textContent;});
 var box=document.querySelector("input.search"); box.value="LAMP";
 box.dispatchEvent(new Event("input"));
 seen.search=ids().filter(function(id, i){return !t.querySelectorAll("tr.row")[i].hidden;});
 seen.count=box.nextElementSibling.textContent;
 var pre=document.createElement("pre"); pre.id="result"; pre.textContent=JSON.stringify(seen);
 document.body.appendChild(pre);
})();
"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    reason = "chromium is not installed (apt-get install chromium); the report's DOM test needs it"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " -- required in CI")
    pytest.skip(reason)


def test_report_in_a_real_browser(run, tmp_path):
    browser = chromium()
    page = tmp_path / "page.html"
    page.write_text((run / "report.html").read_text().replace(
        "</body>", f"<script>{DRIVER}</script></body>"))
    r = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                        "--dump-dom", page.as_uri()], capture_output=True, text=True,
                       timeout=120)
    found = re.search(r'<pre id="result">(.*?)</pre>', r.stdout, re.S)
    assert found, r.stderr[-2000:]
    seen = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))

    rows = {r["id"]: r for r in rows_of(run / "jsonl" / "examples.jsonl")}
    hit = [r for r in rows.values() if r["found"]]
    assert seen["initial"] == [r["id"] for r in sorted(
        hit, key=lambda r: (-r["overlap_pct"], -r["found"], r["id"]))]
    by_found = [r["id"] for r in sorted(hit, key=lambda r: r["found"])]
    assert len({r["found"] for r in hit}) == len(hit)  # no ties: one right order
    assert seen["found_ascending"] == by_found != seen["initial"]
    assert seen["found_descending"] == by_found[::-1]
    assert seen["by_id"] == sorted(r["id"] for r in hit)

    assert seen["detail_hidden_before"] is True and seen["detail_hidden_after"] is False
    assert seen["expanded"] == "true"
    first = rows[seen["first"]]
    assert seen["marks"] == first["matches"] == [first["text"][s:e] for s, e in first["spans"]]
    assert all(m in TRAIN for m in seen["marks"])

    # case-insensitive search over the rows and their texts; "lamp" is in one passage only
    assert seen["search"] == [i for i in seen["by_id"] if "lamp" in rows[i]["text"]]
    assert len(seen["search"]) == 1
    assert seen["count"] == f"{len(seen['search'])} of {len(hit)} rows"
