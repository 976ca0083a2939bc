"""``report``: one self-contained page (markdown + HTML) of overlap runs and Table 6 results.

The page is built once as a list of blocks (heading, paragraph, table, image) and rendered
twice: markdown links the PNGs beside it, HTML embeds them as base64 so the file stands alone.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from common.atomic import write_text
from common.errors import UserError

TOP_EXAMPLES = 10
MATCH_CHARS = 160  # characters of each matched span shown in the report
REPORT_NAMES = ("report.md", "report.html")


@dataclass
class Block:
    kind: str  # "h1" | "h2" | "p" | "table" | "img"
    text: str = ""
    headers: Sequence[str] = ()
    rows: Sequence[Sequence[object]] = ()
    path: Path | None = None  # images


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


def write_report(out_dir: str | Path) -> tuple[Path, Path]:
    """Render every run and table6.json under ``out_dir`` into report.md and report.html."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise UserError(f"{out_dir}: no such directory")
    blocks = [Block("h1", f"Overlap report: {out_dir.name or out_dir}")]
    runs = find_runs(out_dir)
    for run in runs:
        blocks += run_blocks(run)
    tables6 = sorted(out_dir.rglob("table6.json"))
    for t in tables6:
        blocks += table6_blocks(t)
    if not runs and not tables6:
        raise UserError(f"{out_dir}: no overlap run (summary.json) or table6.json found")
    md, page = out_dir / REPORT_NAMES[0], out_dir / REPORT_NAMES[1]
    write_text(md, to_markdown(blocks, out_dir))
    write_text(page, to_html(blocks, f"Overlap report: {out_dir.name}"))
    return md, page


def _pct(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f} %"


def run_blocks(run: Path) -> list[Block]:
    s = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    p = s["filter"]["params"]
    blocks = [
        Block("h2", f"{s['bench']} ({s['split']})"),
        Block("p", f"Filter {s['filter']['path']}: {p['n']}-grams of {p['unit']}"
                   f"{' (' + p['tokenizer'] + ')' if p['tokenizer'] else ''}, normalizer "
                   f"{p['normalizer']}, m = {p['m']} bits, k = {p['k']}, target FPR "
                   f"{p['target_fpr']:g}, estimated FPR {s['filter']['estimated_fpr']:.2g}."),
        Block("table", headers=("measure", "value"), rows=[
            ("examples", s["examples"]),
            ("too short to test (< n units)", s["too_short"]),
            ("n-grams", s["ngrams"]),
            ("n-grams found", s["ngrams_found"]),
            ("overlap (found / all n-gram positions)", _pct(s["overlap_pct"])),
            ("mean per-example overlap", _pct(s["mean_example_overlap_pct"])),
            ("examples with any overlap", s["examples_with_any_overlap"]),
        ]),
        Block("table", headers=("bucket", "examples", "share of tested"),
              rows=[(b["bucket"], b["examples"], _pct(b["share_pct"], 2)) for b in s["buckets"]]),
    ]
    blocks += [Block("img", text=name, path=run / name) for name in s.get("plots", [])
               if (run / name).is_file()]
    top = top_examples(run / "examples.jsonl")
    if top:
        blocks.append(Block("p", f"Examples with the most overlap (top {len(top)}):"))
        blocks.append(Block("table", headers=("example", "overlap", "found / n-grams",
                                               "matched text"), rows=top))
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
        Block("h2", "Table 6: test-set 8-grams found in training sets"),
        Block("p", f"{path}: {c['n']}-grams of {c['unit']}, each split as "
                   f"{c['granularity']}, <unk> {c['unk']}, measure {c['measure']}."),
        Block("table", headers=("dataset", "own train (measured)", "own train (paper)",
                                "corpus train (measured)", "WebText train (paper)", "note"),
              rows=rows),
    ]


# ----------------------------------------------------------------------------- renderers


def _md_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: Sequence[Block], base: Path) -> str:
    out = []
    for b in blocks:
        if b.kind == "h1":
            out.append(f"# {b.text}")
        elif b.kind == "h2":
            out.append(f"## {b.text}")
        elif b.kind == "p":
            out.append(b.text)
        elif b.kind == "img":
            out.append(f"![{b.text}]({b.path.relative_to(base).as_posix()})")
        elif b.kind == "table":
            lines = ["| " + " | ".join(map(_md_cell, b.headers)) + " |",
                     "|" + "---|" * len(b.headers)]
            lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in b.rows]
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


_STYLE = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
          "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
          "padding:.3em .6em;text-align:left;vertical-align:top}th{background:#f3f3f3}"
          "img{max-width:100%}")


def to_html(blocks: Sequence[Block], title: str) -> str:
    out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
           f"</title><style>{_STYLE}</style></head><body>"]
    for b in blocks:
        if b.kind in ("h1", "h2", "p"):
            out.append(f"<{b.kind}>{html.escape(b.text)}</{b.kind}>")
        elif b.kind == "img":
            data = base64.b64encode(b.path.read_bytes()).decode("ascii")
            out.append(f"<img alt='{html.escape(b.text)}' src='data:image/png;base64,{data}'>")
        elif b.kind == "table":
            head = "".join(f"<th>{html.escape(str(h))}</th>" for h in b.headers)
            body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row)
                           + "</tr>" for row in b.rows)
            out.append(f"<table><tr>{head}</tr>{body}</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
