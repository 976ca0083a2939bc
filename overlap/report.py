"""``report``: one self-contained page (markdown + HTML) of overlap runs and Table 6 results.

For each ``overlap`` run: the filter and the corpus it was built from, a table across the
benchmarks (in the order they were given) with the matches expected from false positives alone
beside the matches found, the cross-benchmark chart; then per benchmark its buckets, plots and
a sortable, searchable table of the most-overlapping examples whose rows open to the example's
text with the matched spans highlighted. The page is built once as blocks
(``contamkit.common.render``) and rendered twice: markdown links the PNGs beside it, HTML embeds
them, so the file stands alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from contamkit.common.errors import UserError
from contamkit.common.render import Block, marked
from contamkit.common.render import write_report as render
from overlap.provenance import describe
from overlap.runs import EXAMPLES, SUMMARY, bench_dirs, is_run, read_summary

TOP_EXAMPLES = 200  # rows of each benchmark's example table
MATCH_CHARS = 160  # characters of the matched text shown in a table cell
REPORT_NAMES = ("report.md", "report.html")


def write_report(out_dir: str | Path, name: str | None = None) -> tuple[Path, Path]:
    """Render every overlap run and table6.json under ``out_dir`` into report.md and .html;
    ``name`` titles it (default: the folder's name; ``overlap`` writes into a temporary one)."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise UserError(f"{out_dir}: no such directory")
    name = name or out_dir.resolve().name or str(out_dir)
    blocks: list[Block] = [("h", 1, f"Overlap report: {name}")]
    runs = sorted(p.parent for p in out_dir.rglob(SUMMARY) if is_run(read_summary(p)))
    for run in runs:
        blocks += run_blocks(run, out_dir)
    benches = bench_dirs(out_dir)
    for bench in benches:
        blocks += bench_blocks(bench, out_dir)
    tables6 = sorted(out_dir.rglob("table6.json"))
    for t in tables6:
        blocks += table6_blocks(t, out_dir)
    if not benches and not tables6:
        raise UserError(f"{out_dir}: no overlap run (summary.json) or table6.json found")
    return render(blocks, out_dir, f"Overlap report: {name}", REPORT_NAMES)


def _pct(x: float | None, digits: int = 3) -> tuple[str, float | None]:
    return ("n/a" if x is None else f"{x:.{digits}f} %"), x


def _num(x: float, digits: int = 2) -> tuple[str, float]:
    return f"{x:.{digits}g}", x


def filter_text(f: dict) -> str:
    p = f["params"]
    tokenizer = f" ({p['tokenizer']})" if p["tokenizer"] else ""
    return (f"Filter {f['path']}: {p['n']}-grams of {p['unit']}{tokenizer}, normalizer "
            f"{p['normalizer']}, m = {p['m']:,} bits, k = {p['k']}, target FPR "
            f"{p['target_fpr']:g}, estimated FPR {f['estimated_fpr']:.2g}.")


def provenance_text(f: dict) -> list[Block]:
    prov = f.get("provenance")
    blocks: list[Block] = [("p", f"Corpus: {describe(prov)}.")]
    if prov:
        blocks.append(("p", f"Built by: {' '.join(prov['command'])} (in {prov['cwd']}); "
                            f"normalizer {prov['normalizer']}."))
    return blocks


def run_blocks(run: Path, base: Path) -> list[Block]:
    """The run's header: filter, corpus, the table across benchmarks and the chart."""
    s = read_summary(run / SUMMARY)
    title = "Overlap run" + (f" {run.relative_to(base)}" if run != base else "")
    rows = []
    for b in s["benchmarks"]:
        share = 100 * b["examples_with_any_overlap"] / b["tested"] if b["tested"] else None
        rows.append((b["bench_label"], b["split"], b["examples"], b["tested"], b["too_short"],
                     (f"{b['examples_with_any_overlap']:,} ({_pct(share, 2)[0]})",
                      b["examples_with_any_overlap"]),
                     b["ngrams"], b["ngrams_found"], _pct(b["overlap_pct"]),
                     _num(b["expected_false_positive_ngrams"]),
                     _num(b["expected_false_positive_examples"])))
    blocks: list[Block] = [
        ("h", 2, title), ("p", filter_text(s["filter"])), *provenance_text(s["filter"]),
        ("table", ("benchmark", "split", "examples", "tested", "too short", "with any overlap",
                   "n-grams", "n-grams found", "n-gram overlap", "false-positive n-grams expected",
                   "examples with a false positive expected"), rows),
        ("p", "False positives expected: n-grams × the filter's estimated FPR, and the sum over "
              "examples of 1 − (1 − FPR)^n-grams: what a filter of an unrelated corpus would "
              "find."),
    ]
    blocks += [("img", (run / name).relative_to(base), name) for name in s.get("plots", [])
               if (run / name).is_file()]
    return blocks


def bench_blocks(bench: Path, base: Path) -> list[Block]:
    """One benchmark: figures, buckets, plots, and its most-overlapping examples."""
    s = read_summary(bench / SUMMARY)
    label = s.get("bench_label", s["bench"])
    blocks: list[Block] = [
        ("h", 2, f"{label} ({s['split']})"),
        ("table", ("measure", "value"), [
            ("examples", s["examples"]),
            ("too short to test (< n units)", s["too_short"]),
            ("n-grams", s["ngrams"]),
            ("n-grams found", s["ngrams_found"]),
            ("expected false-positive n-grams (n-grams × FPR)",
             _num(s.get("expected_false_positive_ngrams", float("nan")))),
            ("overlap (found / all n-gram positions)", _pct(s["overlap_pct"])),
            ("mean per-example overlap", _pct(s["mean_example_overlap_pct"])),
            ("examples with any overlap", s["examples_with_any_overlap"]),
        ]),
        ("table", ("bucket", "examples", "share of tested"),
         [("none (0 %)" if b["high"] == 0 else b["bucket"], b["examples"],
           _pct(b["share_pct"], 2)) for b in s["buckets"]]),
    ]
    blocks += [("img", (bench / name).relative_to(base), name) for name in s.get("plots", [])
               if (bench / name).is_file()]
    rows, details = example_table(bench / EXAMPLES)
    if rows:
        blocks.append(("p", f"The {len(rows)} examples with the most overlap:"))
        blocks.append(("explore", ("example", "overlap", "n-grams found", "n-grams",
                                   "matched text"), rows, details, f"{label} examples"))
    else:
        blocks.append(("p", "No example has any overlap."))
    return blocks


def most_overlapping(path: Path, limit: int = TOP_EXAMPLES) -> list[dict]:
    """The rows of examples.jsonl with any overlap, most overlapping first."""
    if not path.is_file():
        return []
    with open(path, encoding="utf-8") as f:
        rows = [r for r in map(json.loads, f) if r["found"]]
    rows.sort(key=lambda r: (-r["overlap_pct"], -r["found"], r["id"]))
    return rows[:limit]


def _matched(row: dict) -> str:
    return " … ".join(_clip(" ".join(m.split())) for m in row.get("matches", []))


def top_examples(path: Path, limit: int = 10) -> list[tuple[str, str, str, str]]:
    """(id, overlap, found / n-grams, matched text) of the most overlapping examples, for a
    notebook or a terminal."""
    return [(r["id"], f"{r['overlap_pct']:.1f} %", f"{r['found']} / {r['ngrams']}", _matched(r))
            for r in most_overlapping(path, limit)]


def example_table(path: Path, limit: int = TOP_EXAMPLES) -> tuple[list[tuple], list[str]]:
    """Table rows of the most overlapping examples, and each one's highlighted text."""
    table, details = [], []
    for r in most_overlapping(path, limit):
        table.append((r["id"], _pct(r["overlap_pct"], 1), r["found"], r["ngrams"], _matched(r)))
        if "text" in r:
            details.append(marked(r["text"], r["spans"]))
        else:  # a run written before examples kept their text
            details.append(" … ".join(marked(m, [(0, len(m))]) for m in r.get("matches", [])))
    return table, details


def _clip(text: str) -> str:
    return text if len(text) <= MATCH_CHARS else text[: MATCH_CHARS - 1] + "…"


def table6_blocks(path: Path, base: Path) -> list[Block]:
    t = json.loads(path.read_text(encoding="utf-8"))
    c = t["convention"]
    rows = []
    for d in t["datasets"]:
        rows.append((d["dataset"], _pct(d["measured_pct"]), _pct(d["paper_pct"], 2),
                     _pct((d.get("corpus") or {}).get("measured_pct")),
                     _pct(d["paper_webtext_pct"], 2), d.get("note", "")))
    return [
        ("h", 2, "Table 6: test-set 8-grams found in training sets"),
        ("p", f"{path.relative_to(base)}: {c['n']}-grams of {c['unit']}, each split as "
                   f"{c['granularity']}, <unk> {c['unk']}, measure {c['measure']}."),
        ("table", ("dataset", "own train (measured)", "own train (paper)",
                   "corpus train (measured)", "WebText train (paper)", "note"), rows),
    ]
