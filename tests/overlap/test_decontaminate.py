"""Decontamination: a planted benchmark passage is cut out with its window, nothing else moves."""

import gzip
import hashlib
import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contamkit.common.errors import UserError
from contamkit.common.paths import REPO_ROOT
from overlap.decontaminate import DOCUMENTS_NAME, REPORT_NAME, decontaminate, plan_cut
from overlap.ngram_set import NgramSet
from overlap.options import DecontamOptions

PASSAGES = [
    "Harriet folded the letter twice before slipping it beneath the loose floorboard where "
    "her brother kept his marbles and the brass key nobody had ever explained",
    "The ferry horn sounded across the harbour as the last passengers hurried up the ramp "
    "carrying baskets of oranges and a cage with a very indignant goose",
]


def filler(seed: int, words: int = 120) -> str:
    """Text sharing no 13-gram with the passages (made-up words)."""
    rng = np.random.default_rng(seed)
    return " ".join(f"zq{rng.integers(0, 10**6)}" for _ in range(words))


@pytest.fixture
def bench(tmp_path):
    path = tmp_path / "bench" / "lambada_test.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps({"text": p}) + "\n" for p in PASSAGES))
    return path


def gunzip(path) -> str:
    return gzip.decompress(path.read_bytes()).decode()


def digest(root):
    return {p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_planted_passage_is_removed_with_its_window(tmp_path, bench):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    before, after = filler(1) + " ", ". " + filler(2)
    planted = before + PASSAGES[0] + after
    records = [{"id": 0, "text": filler(3), "meta": "a"},
               {"id": 1, "text": planted, "meta": "b"},
               {"id": 2, "text": filler(4), "meta": "c"}]
    lines = [json.dumps(r) + "\n" for r in records]
    (corpus / "a.jsonl").write_text("".join(lines) + '{"text": "cut off')  # truncated tail
    (corpus / "sub" / "clean.txt").write_text(filler(5))
    with gzip.open(corpus / "sub" / "b.txt.gz", "wt") as f:
        f.write(filler(6) + "\n" + PASSAGES[1].upper() + "!\n" + filler(7))
    pq.write_table(pa.table({"text": [filler(8), planted], "n": [10, 11]}),
                   corpus / "c.parquet")
    inputs = digest(corpus)

    out = tmp_path / "clean"
    with pytest.raises(UserError, match="1 record.s. could not be read"):  # the truncated tail
        decontaminate(corpus, ["lambada"], out, DecontamOptions(bench_path=str(bench)))
    assert not out.exists()
    report = decontaminate(corpus, ["lambada"], out,
                           DecontamOptions(bench_path=str(bench), allow_unreadable=True))
    assert digest(corpus) == inputs  # the input is never modified

    start = len(before)
    end = start + len(PASSAGES[0])
    pieces = [planted[: start - 200], planted[end + 200 :]]
    got = (out / "a.jsonl").read_text().splitlines(keepends=True)
    assert got[0] == lines[0] and got[3] == lines[2]  # untouched records: byte for byte
    assert [json.loads(x) for x in got[1:3]] == [{"id": 1, "text": p, "meta": "b"}
                                                 for p in pieces]
    assert got[4] == '{"text": "cut off'  # what the reader skipped is passed through
    assert (out / "sub" / "clean.txt").read_bytes() == (corpus / "sub" / "clean.txt").read_bytes()
    assert pq.read_table(out / "c.parquet").to_pylist() == [
        {"text": filler(8), "n": 10}, {"text": pieces[0], "n": 11}, {"text": pieces[1], "n": 11}]
    txt = gunzip(corpus / "sub" / "b.txt.gz")
    s = txt.index(PASSAGES[1].upper())
    e = s + len(PASSAGES[1])
    assert not (out / "sub" / "b.txt.gz").exists()
    assert gunzip(out / "sub" / "b.part0.txt.gz") == txt[: s - 200]
    assert gunzip(out / "sub" / "b.part1.txt.gz") == txt[e + 200 :]

    assert report == json.loads((out / REPORT_NAME).read_text())
    t = report["totals"]
    assert (t["documents"], t["documents_with_matches"], t["documents_cut"]) == (7, 3, 3)
    assert t["chars_removed"] == 2 * (len(PASSAGES[0]) + 400) + (e - s + 400)
    (lam,) = report["benchmarks"]
    assert (lam["bench"], lam["examples"], lam["documents"]) == ("lambada", 2, 3)
    words0 = len(PASSAGES[0].split())
    words1 = len(PASSAGES[1].split())
    assert lam["matched_distinct"] == (words0 - 12) + (words1 - 12)
    docs = [json.loads(x) for x in (out / DOCUMENTS_NAME).read_text().splitlines()]
    row = next(d for d in docs if d["file"] == "a.jsonl")
    assert (row["index"], row["matches"], row["kept_pieces"]) == (1, words0 - 12, 2)
    assert row["removed"] == [[start - 200, end + 200]] and row["benchmarks"] == {
        "lambada": words0 - 12}


def test_thresholds(tmp_path, bench):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    many = " ".join(filler(i, 80) + " " + " ".join(PASSAGES[0].split()[i : i + 13])
                    for i in range(11)) + " " + filler(99, 80)  # 11 cuts -> 12 pieces
    common = [{"text": filler(20 + i) + " " + PASSAGES[1] + " " + filler(40 + i)}
              for i in range(3)]
    (corpus / "x.jsonl").write_text("".join(json.dumps(r) + "\n"
                                            for r in [{"text": many}, *common]))
    opts = DecontamOptions(bench_path=str(bench), max_doc_freq=2)
    report = decontaminate(corpus, ["lambada"], tmp_path / "out", opts)
    docs = [json.loads(x) for x in (tmp_path / "out" / DOCUMENTS_NAME).read_text().splitlines()]
    assert docs[0]["action"] == "dropped: cut into 12 pieces (> 10)"
    assert all(d["action"].startswith("kept") and d["ignored_matches"] for d in docs[1:])
    out_lines = (tmp_path / "out" / "x.jsonl").read_text().splitlines()
    assert [json.loads(x) for x in out_lines] == common  # only the dropped document went
    assert report["totals"]["ignored_ngrams"] == len(PASSAGES[1].split()) - 12


def test_plan_cut_hand_checked():
    opts = DecontamOptions(window=50, min_piece=60, max_pieces=3)
    cut = plan_cut(1000, np.array([[100, 110]]), opts)
    assert (cut.removed, cut.keep, cut.pieces, cut.action) == ([(50, 160)], [(160, 1000)], 2,
                                                               "cut")
    cut = plan_cut(1000, np.array([[0, 10], [30, 40], [990, 1000]]), opts)
    assert cut.removed == [(0, 90), (940, 1000)] and cut.keep == [(90, 940)]
    cut = plan_cut(1000, np.array([[200, 210], [400, 410], [600, 610]]), opts)
    assert cut.pieces == 4 and cut.keep == [] and cut.action.startswith("dropped: cut into 4")
    cut = plan_cut(120, np.array([[50, 60]]), opts)
    assert cut.keep == [] and cut.action == "dropped: no piece of 60 characters left"


def test_ngram_set_is_exact():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2**63, size=(500, 2), dtype=np.uint64)
    b = np.concatenate([a[:100], rng.integers(0, 2**63, size=(200, 2), dtype=np.uint64)])
    b[150, 0] = a[7, 0]  # same first half as a member, different second half
    s = NgramSet([(a[:, 0], a[:, 1]), (b[:, 0], b[:, 1])])
    members = {tuple(x) for x in np.concatenate([a, b]).tolist()}
    assert len(s) == len(members)
    q = np.concatenate([a[::3], b[::2], rng.integers(0, 2**63, size=(300, 2), dtype=np.uint64),
                        [[a[7, 0], a[7, 1] + np.uint64(1)]]]).astype(np.uint64)
    idx = s.lookup(q[:, 0], q[:, 1])
    assert [(i >= 0) for i in idx] == [tuple(x) in members for x in q.tolist()]
    found = idx >= 0
    assert (s.h1[idx[found]] == q[found, 0]).all() and (s.h2[idx[found]] == q[found, 1]).all()
    assert s.owners[s.lookup(a[:1, 0], a[:1, 1])[0]] == 3  # in both sources
    assert s.owners[s.lookup(b[150:151, 0], b[150:151, 1])[0]] == 2


def test_bad_paths(tmp_path, bench):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("hello")
    opts = DecontamOptions(bench_path=str(bench))
    for out in (corpus, corpus / "clean", tmp_path):
        with pytest.raises(UserError):
            decontaminate(corpus, ["lambada"], out, opts)
    r = subprocess.run([sys.executable, "cli.py", "decontaminate", str(corpus), "--bench",
                        "lambada", "--bench-path", str(bench), "--out", str(corpus / "x")],
                       cwd=REPO_ROOT, capture_output=True, text=True)
    assert r.returncode == 2
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("error: ") and "outside the inputs" in line
