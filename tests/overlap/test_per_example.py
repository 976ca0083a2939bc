"""Per-example overlap: counts against a set-based reference, spans, too-short examples, CLI."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contamkit.common.paths import REPO_ROOT
from model.tokenizer import load_gpt2
from overlap.bloom import BloomFilter, FilterParams
from overlap.ngrams import ngram_hashes
from overlap.normalize import NORMALIZER_VERSION, normalize, words
from overlap.per_example import ExampleOverlap, measure_texts, summarize
from overlap.spans import SpanCoder, aligned_word_spans, merge_spans


def filter_of(texts, n, coder):
    """An in-memory filter of the n-grams of ``texts`` (each text its own document)."""
    params = FilterParams.sized(10_000, 1e-8, n=n, unit=coder.unit, normalizer=NORMALIZER_VERSION,
                                tokenizer=coder.tokenizer, seed=0)
    bloom = BloomFilter(params)
    for t in texts:
        bloom.add(*ngram_hashes(coder.codes([t])[0], n, 0))
    return bloom


def cli(*args):
    return subprocess.run([sys.executable, "cli.py", *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True)


def test_hand_checked_example():
    coder = SpanCoder("words")
    bloom = filter_of(["the quick brown fox jumps over the lazy dog"], 4, coder)
    text = "Well, THE quick-brown fox; jumps over... the cat. A quick brown fox!"
    (r,) = measure_texts(["e"], [text], bloom, coder)
    # words: well the quick brown fox jumps over the cat a quick brown fox (13) -> 10 4-grams;
    # found: the-quick-brown-fox, quick-brown-fox-jumps, brown-fox-jumps-over, fox-jumps-over-the
    assert (r.units, r.ngrams, r.found) == (13, 10, 4)
    assert r.spans == [[6, 44]] and r.matches == ["THE quick-brown fox; jumps over... the"]
    assert normalize(r.matches[0]) == "the quick brown fox jumps over the"
    assert r.status == "overlap" and r.overlap_pct == 40.0


VOCAB = ["alpha", "beta", "gamma", "delta", "eps"]
SEPARATORS = [" ", ", ", "\n", " -- ", "'", " (", ") "]


@st.composite
def texts(draw):
    ws = draw(st.lists(st.sampled_from(VOCAB), min_size=0, max_size=40))
    seps = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(ws), max_size=len(ws)))
    cased = [w.upper() if draw(st.booleans()) else w for w in ws]
    return "".join(s + w for s, w in zip(seps, cased, strict=True))


@settings(max_examples=150, deadline=None)
@given(st.lists(texts(), min_size=1, max_size=4), texts(), st.integers(2, 5))
def test_counts_and_spans_match_a_set_reference(train, text, n):
    coder = SpanCoder("words")
    bloom = filter_of(train, n, coder)
    (r,) = measure_texts(["x"], [text], bloom, coder)
    ref_words = re.findall(r"[a-z0-9]+", text.lower())  # independent of overlap.normalize
    grams = {tuple(ws[i : i + n]) for t in train
             for ws in [re.findall(r"[a-z0-9]+", t.lower())] for i in range(len(ws) - n + 1)}
    windows = [tuple(ref_words[i : i + n]) for i in range(len(ref_words) - n + 1)]
    hit = [w in grams for w in windows]
    assert r.ngrams == len(windows) and r.found == sum(hit)
    assert r.too_short == (len(ref_words) < n)
    # each merged span holds the words of a chain of found windows that share words
    groups: list[list[int]] = []
    for i in (i for i, h in enumerate(hit) if h):
        if groups and i <= groups[-1][1]:
            groups[-1][1] = i + n - 1
        else:
            groups.append([i, i + n - 1])
    runs = [" ".join(ref_words[a : b + 1]) for a, b in groups]
    assert [normalize(text[s:e]) for s, e in r.spans] == runs


def test_gpt2_spans_cover_the_matched_tokens(gpt2_vocab):
    coder = SpanCoder("gpt2", gpt2_vocab)
    train = "we saw the pterodactyl quetzalcoatlus northropi flying over zyxomma wetlands today"
    bloom = filter_of([train], 8, coder)
    text = "Look: PTERODACTYL Quetzalcoatlus northropi, flying over Zyxomma wetlands!"
    (r,) = measure_texts(["g"], [text], bloom, coder)
    # 22 tokens ("look", " p" "ter" "od" "act" "yl", ...): every window but the first is found
    assert (r.units, r.ngrams, r.found) == (22, 15, 14)
    assert r.matches == ["PTERODACTYL Quetzalcoatlus northropi, flying over Zyxomma wetlands"]
    (codes,) = coder.codes([text])
    spans = coder.spans(text, codes)
    tok = load_gpt2(gpt2_vocab)
    for i in range(r.ngrams):
        piece = tok.decode(codes[i : i + 8].tolist()).strip()
        assert piece in normalize(text[spans[i, 0] : spans[i + 7, 1]])


def test_too_short_examples_are_not_clean():
    coder = SpanCoder("words")
    bloom = filter_of(["a b c d e f g h i j"], 8, coder)
    results = measure_texts(["short", "long", "empty"],
                            ["a b c d e f g", "a b c d e f g h i j k l", "!!"], bloom, coder)
    short, long_, empty = results
    for r in (short, empty):
        assert r.too_short and r.status == "too short to test" and r.overlap_pct is None
    assert long_.status == "overlap" and (long_.found, long_.ngrams) == (3, 5)
    s = summarize(results)
    assert (s["examples"], s["too_short"], s["tested"]) == (3, 2, 1)
    assert s["buckets"][0]["examples"] == 0  # the short ones are not in the 0 % bucket
    assert s["overlap_pct"] == 60.0 and s["mean_example_overlap_pct"] == 60.0


def test_summary_buckets_hand_computed():
    rows = [ExampleOverlap(str(i), 20, ng, f) for i, (ng, f) in
            enumerate([(10, 0), (10, 0), (10, 1), (20, 3), (5, 1), (0, 0)])]
    s = summarize(rows, edges=(0, 15))
    # per-example: 0, 0, 10, 15, 20 %; one too short
    assert [(b["bucket"], b["examples"]) for b in s["buckets"]] == [
        ("0 %", 2), ("(0, 15 %]", 2), ("> 15 %", 1)]
    assert s["ngrams"] == 55 and s["ngrams_found"] == 5
    assert s["overlap_pct"] == pytest.approx(100 * 5 / 55)
    assert s["mean_example_overlap_pct"] == pytest.approx(9.0)
    assert s["examples_with_any_overlap"] == 3
    assert [b["examples"] for b in summarize(rows, edges=(5, 12))["buckets"]] == [2, 0, 1, 2]


def test_unicode_word_boundaries_keep_spans_aligned():
    text = "a ½ b"  # NFKC: "1⁄2" -> two words from one run
    assert words(text) == ["a", "1", "2", "b"]
    assert aligned_word_spans(text, words(text)).tolist() == [[0, 1], [2, 3], [2, 3], [4, 5]]
    text = "x™y z"  # NFKC: "xtmy" joins two runs into one word
    spans = aligned_word_spans(text, words(text))
    assert words(text) == ["xtmy", "z"] and spans.tolist()[1] == [4, 5]
    assert spans[0, 0] == 0 and spans[0, 1] >= 3


def test_merge_spans():
    spans = np.array([[5, 9], [0, 3], [3, 4], [8, 12], [20, 21]])
    assert merge_spans(spans).tolist() == [[0, 4], [5, 12], [20, 21]]


def test_lambada_against_its_own_filter(shared_data, tmp_path):
    """Every LAMBADA passage is in a filter built from LAMBADA: 100 % for each example."""
    f = tmp_path / "lambada.bloom"
    r = cli("build-filter", shared_data / "lambada" / "lambada_test.jsonl", "-o", f,
            "--workers", "1")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    r = cli("overlap", "--bench", "lambada,winograd", "--filter", f, "--bench-path",
            shared_data, "--out", out)
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "lambada" / "summary.json").read_text())
    assert (s["examples"], s["too_short"], s["overlap_pct"]) == (5153, 0, 100.0)
    assert s["examples_with_any_overlap"] == 5153 and s["buckets"][-1]["examples"] == 5153
    for key in ("bench", "split", "n", "unit", "ngrams", "ngrams_found",
                "mean_example_overlap_pct", "filter"):
        assert key in s
    assert s["filter"]["params"]["n"] == 8 and s["filter"]["path"] == str(f)
    rows = [json.loads(x) for x in (out / "lambada" / "examples.jsonl").read_text().splitlines()]
    assert len(rows) == 5153 and all(r["overlap_pct"] == 100.0 for r in rows)
    # one run over the whole passage; the scored part is the target word's units at the end
    from contamkit.benchmarks import load_benchmark

    targets = [e.fields["target"] for e in load_benchmark("lambada", "test", shared_data)]
    assert all(r["runs"] == [[0, r["units"]]] for r in rows)
    assert [r["units"] - r["scored_from"] for r in rows] == [len(words(t)) for t in targets]
    csv_lines = (out / "lambada" / "examples.csv").read_text().splitlines()
    assert csv_lines[0].startswith("id,units,ngrams") and len(csv_lines) == 5154
    for png in ("overlap_buckets.png", "overlap_spread.png"):
        assert (out / "winograd" / png).read_bytes()[:4] == b"\x89PNG"
    assert (out / "report.html").is_file()


def test_filter_mismatch_fails_clearly(shared_data, tmp_path, capsys):
    from contamkit.cli import main

    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"text": "one two three four five six seven eight nine"}) + "\n")
    f = tmp_path / "c.bloom"
    assert main(["build-filter", str(corpus), "-o", str(f), "--workers", "1"]) == 0
    capsys.readouterr()
    for extra, why in ((["--n", "13"], "n=13 (filter has 8)"),
                       (["--unit", "gpt2", "--gpt2-vocab", str(shared_data / "gpt2_tokenizer")],
                        "unit='gpt2' (filter has 'words')")):
        code = main(["overlap", "--bench", "winograd", "--filter", str(f), "--bench-path",
                     str(shared_data), "--out", str(tmp_path / "o"), *extra])
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and line.startswith(f"error: {f}: filter does not match") and why in line
    assert main(["overlap", "--bench", "nosuch", "--filter", str(f)]) == 2
    assert "unknown benchmark 'nosuch'" in capsys.readouterr().err
    assert main(["overlap", "--bench", "winograd", "--filter", str(f), "--buckets", "x"]) == 2
    assert "--buckets" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_webtext_filter_end_to_end(shared_data, tmp_path):
    """LAMBADA, Winograd and PTB against the WebText sample: found counts equal exact sets."""
    from contamkit.benchmarks import load_benchmark

    f = tmp_path / "webtext.bloom"
    webtext = shared_data / "webtext" / "webtext.train.jsonl"
    assert cli("build-filter", webtext, "-o", f, "--workers", "1").returncode == 0
    out = tmp_path / "out"
    r = cli("overlap", "--bench", "winograd,ptb,lambada", "--filter", f, "--bench-path",
            shared_data, "--out", out)
    assert r.returncode == 0, r.stderr
    run = json.loads((out / "summary.json").read_text())
    assert run["benches"] == [r["bench"] for r in run["benchmarks"]] == ["winograd", "ptb",
                                                                          "lambada"]
    html = (out / "report.html").read_text()  # sections in --bench order, not alphabetical
    assert html.index("winograd (test)") < html.index("ptb (test)") < html.index("lambada (test)")
    train = set()
    for line in webtext.read_text(encoding="utf-8").splitlines():
        try:
            ws = words(json.loads(line)["text"])
        except json.JSONDecodeError:  # the sample's truncated last line
            continue
        train.update(tuple(ws[i : i + 8]) for i in range(len(ws) - 7))
    for name in ("lambada", "winograd", "ptb"):
        s = json.loads((out / name / "summary.json").read_text())
        rows = [json.loads(x) for x in (out / name / "examples.jsonl").read_text().splitlines()]
        examples = load_benchmark(name, path=shared_data)
        grams = [[tuple(ws[i : i + 8]) for i in range(len(ws) - 7)]
                 for ws in (words(e.text) for e in examples)]
        assert [r["found"] for r in rows] == [sum(g in train for g in gs) for gs in grams]
        assert s["too_short"] == sum(not gs for gs in grams)
        assert s["ngrams"] == sum(map(len, grams))
        row = next(r for r in run["benchmarks"] if r["bench"] == name)
        assert row["examples_with_any_overlap"] == sum(r["found"] > 0 for r in rows)
        assert row["expected_false_positive_ngrams"] == pytest.approx(
            s["ngrams"] * run["filter"]["estimated_fpr"])
