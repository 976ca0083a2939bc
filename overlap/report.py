"""``report``: one self-contained page (markdown + HTML) of overlap runs and Table 6 results.

The page is built once as a list of blocks (heading, paragraph, table, image) and rendered
twice: markdown links the PNGs beside it, HTML embeds them as base64 so the file stands alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from contamkit.common.errors import UserError
from contamkit.common.render import Block
from contamkit.common.render import write_report as render

TOP_EXAMPLES = 10
MATCH_CHARS = 160  # characters of each matched span shown in the report
REPORT_NAMES = ("report.md", "report.html")


def find_runs(out_dir: Path) -> list[Path]:
    """Directories under ``out_dir`` holding an overlap run's summary.json."""
    runs = []
    for p in sorted(out_dir.rglob("summary.json")):
        try:
            if "bench" in json.loads(p.read_text(encoding="utf-8")):
                runs.append(p.parent)
        except (OSError, json.JSONDecodeError):
            continue
    return runs


def write_report(out_dir: str | Path, name: str | None = None) -> tuple[Path, Path]:
    """Render every run and table6.json under ``out_dir`` into report.md and report.html;
    ``name`` titles it (default: the folder's name; ``overlap`` writes into a temporary one)."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise UserError(f"{out_dir}: no such directory")
    name = name or out_dir.name or str(out_dir)
    blocks: list[Block] = [("h", 1, f"Overlap report: {name}")]
    runs = find_runs(out_dir)
    for run in runs:
        blocks += run_blocks(run, out_dir)
    tables6 = sorted(out_dir.rglob("table6.json"))
    for t in tables6:
        blocks += table6_blocks(t)
    if not runs and not tables6:
        raise UserError(f"{out_dir}: no overlap run (summary.json) or table6.json found")
    return render(blocks, out_dir, f"Overlap report: {name}", REPORT_NAMES)


def _pct(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f} %"


def run_blocks(run: Path, base: Path) -> list[Block]:
    s = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    p = s["filter"]["params"]
    blocks = [
        ("h", 2, f"{s['bench']} ({s['split']})"),
        ("p", f"Filter {s['filter']['path']}: {p['n']}-grams of {p['unit']}"
                   f"{' (' + p['tokenizer'] + ')' if p['tokenizer'] else ''}, normalizer "
                   f"{p['normalizer']}, m = {p['m']} bits, k = {p['k']}, target FPR "
                   f"{p['target_fpr']:g}, estimated FPR {s['filter']['estimated_fpr']:.2g}."),
        ("table", ("measure", "value"), [
            ("examples", s["examples"]),
            ("too short to test (< n units)", s["too_short"]),
            ("n-grams", s["ngrams"]),
            ("n-grams found", s["ngrams_found"]),
            ("overlap (found / all n-gram positions)", _pct(s["overlap_pct"])),
            ("mean per-example overlap", _pct(s["mean_example_overlap_pct"])),
            ("examples with any overlap", s["examples_with_any_overlap"]),
        ]),
        ("table", ("bucket", "examples", "share of tested"),
         [(b["bucket"], b["examples"], _pct(b["share_pct"], 2)) for b in s["buckets"]]),
    ]
    blocks += [("img", (run / name).relative_to(base), name) for name in s.get("plots", [])
               if (run / name).is_file()]
    top = top_examples(run / "examples.jsonl")
    if top:
        blocks.append(("p", f"Examples with the most overlap (top {len(top)}):"))
        blocks.append(("table", ("example", "overlap", "found / n-grams", "matched text"), top))
    return blocks


def top_examples(path: Path, limit: int = TOP_EXAMPLES) -> list[tuple]:
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r["found"]]
    rows.sort(key=lambda r: (-r["overlap_pct"], -r["found"], r["id"]))
    return [(r["id"], _pct(r["overlap_pct"], 1), f"{r['found']} / {r['ngrams']}",
             " … ".join(_clip(" ".join(m.split())) for m in r.get("matches", [])))
            for r in rows[:limit]]


def _clip(text: str) -> str:
    return text if len(text) <= MATCH_CHARS else text[: MATCH_CHARS - 1] + "…"


def table6_blocks(path: Path) -> list[Block]:
    t = json.loads(path.read_text(encoding="utf-8"))
    c = t["convention"]
    rows = []
    for d in t["datasets"]:
        rows.append((d["dataset"], _pct(d["measured_pct"]), _pct(d["paper_pct"], 2),
                     _pct((d.get("corpus") or {}).get("measured_pct")),
                     _pct(d["paper_webtext_pct"], 2), d.get("note", "")))
    return [
        ("h", 2, "Table 6: test-set 8-grams found in training sets"),
        ("p", f"{path}: {c['n']}-grams of {c['unit']}, each split as "
                   f"{c['granularity']}, <unk> {c['unk']}, measure {c['measure']}."),
        ("table", ("dataset", "own train (measured)", "own train (paper)",
                   "corpus train (measured)", "WebText train (paper)", "note"), rows),
    ]
