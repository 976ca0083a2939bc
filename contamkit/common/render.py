"""One renderer for every report: a list of blocks, written as Markdown and as HTML.

Blocks:

* ("h", level, text) and ("p", text);
* ("table", header, rows): every HTML table sorts by a column when its header is clicked;
* ("explore", header, rows, details, label): a table with a search box whose rows expand, on a
  click, to ``details[i]`` (HTML made with ``marked``, e.g. a passage with its matches
  highlighted; Markdown leaves the details out);
* ("img", file, alt), with ``file`` relative to the report's directory.

A cell is a string or number, or a (text, sort key) pair when the text is formatted ("12.5 %")
and sorting must use the number. Markdown links the PNGs beside it; HTML embeds them (base64)
when given the report's directory, and its script is inline, so the page stands alone: it
loads nothing from anywhere.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

from contamkit.common.atomic import write_text

Block = tuple

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:72em;margin:2em auto;padding:0 1em;
 line-height:1.45;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}
td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top}
th{background:#f3f3f3;cursor:pointer;user-select:none;max-width:11em;font-weight:600}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.row{cursor:pointer}tr.row:hover{background:#f6f9ff}
tr.row td:first-child::before{content:"\\25B8 ";color:#888}
tr.row[aria-expanded=true] td:first-child::before{content:"\\25BE "}
tr.detail td{background:#fcfcf7}
.passage{white-space:pre-wrap;font-family:Georgia,serif;max-width:60em}
mark{background:#ffd54f;padding:0 .1em}
.search{margin:.5em 0;padding:.3em .5em;width:24em;font-size:1em}
.count{color:#666;margin-left:1em;font-size:.9em}
img{max-width:100%}.note{color:#555;font-size:.92em}
.figs{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
.figs img{max-width:calc(50% - .5em)}
"""

# Sorting (any table), search and expanding rows (explore tables). A detail row follows its
# main row and moves with it; search matches a row's text and its detail's.
_SCRIPT = """
(function(){
function key(td){var v=td.dataset.sort!==undefined?td.dataset.sort:td.textContent.trim();
 var x=Number(v);return v!==""&&!isNaN(x)?[0,x]:[1,v.toLowerCase()];}
function cmp(a,b){return a[0]-b[0]||(a[1]<b[1]?-1:a[1]>b[1]?1:0);}
function detailOf(tr){var d=tr.nextElementSibling;return d&&d.classList.contains("detail")?d:null;}
document.querySelectorAll("table").forEach(function(t){
 var body=t.tBodies[0];if(!body)return;
 t.querySelectorAll("thead th").forEach(function(th,i){th.addEventListener("click",function(){
  var asc=th.getAttribute("aria-sort")!=="ascending";
  t.querySelectorAll("thead th").forEach(function(h){h.removeAttribute("aria-sort");});
  th.setAttribute("aria-sort",asc?"ascending":"descending");
  var rows=Array.prototype.filter.call(body.rows,function(r){
   return !r.classList.contains("detail");});
  var pairs=rows.map(function(r){return [r,detailOf(r)];});
  pairs.sort(function(a,b){return cmp(key(a[0].cells[i]),key(b[0].cells[i]))*(asc?1:-1);});
  pairs.forEach(function(p){body.appendChild(p[0]);if(p[1])body.appendChild(p[1]);});});});
 body.querySelectorAll("tr.row").forEach(function(r){r.addEventListener("click",function(){
  var d=detailOf(r);if(!d)return;d.hidden=!d.hidden;
  r.setAttribute("aria-expanded",d.hidden?"false":"true");});});});
document.querySelectorAll("input.search").forEach(function(box){
 var t=document.getElementById(box.dataset.table),out=box.nextElementSibling;
 box.addEventListener("input",function(){var q=box.value.toLowerCase(),shown=0,all=0;
  t.querySelectorAll("tr.row").forEach(function(r){var d=detailOf(r);all++;
   var text=(r.textContent+" "+(d?d.textContent:"")).toLowerCase();
   var hit=text.indexOf(q)>=0;r.hidden=!hit;if(hit)shown++;
   if(d&&!hit)d.hidden=true;if(!hit)r.setAttribute("aria-expanded","false");});
  out.textContent=shown+" of "+all+" rows";});});
})();
"""


def marked(text: str, spans: Sequence[Sequence[int]], limit: int = 4000,
           context: int = 300) -> str:
    """HTML of ``text`` with each [start, end) span in a <mark>; a text longer than ``limit``
    characters shows only ``context`` characters around each span, with "…" between."""
    spans = sorted((max(0, s), min(len(text), e)) for s, e in spans)
    if len(text) <= limit:
        windows = [(0, len(text))]
    else:
        windows = []
        for s, e in spans:
            lo, hi = max(0, s - context), min(len(text), e + context)
            if windows and lo <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
            else:
                windows.append((lo, hi))
        windows = windows or [(0, min(len(text), limit))]
    pieces = []
    for lo, hi in windows:
        parts, pos = [], lo
        for s, e in spans:
            s, e = max(s, pos), min(e, hi)
            if s < e:
                parts += [html.escape(text[pos:s]), f"<mark>{html.escape(text[s:e])}</mark>"]
                pos = e
        pieces.append("".join(parts) + html.escape(text[pos:hi]))
    return (("…" if windows[0][0] > 0 else "") + " … ".join(pieces)
            + ("…" if windows[-1][1] < len(text) else ""))


def _text(cell: object) -> str:
    return str(cell[0]) if isinstance(cell, tuple) else str(cell)


def _md_cell(value: object) -> str:
    return _text(value).replace("|", "\\|").replace("\n", " ")


def _md_table(header: Sequence, rows: Sequence) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(map(_md_cell, line)) + " |" for line in lines)


def to_markdown(blocks: list[Block]) -> str:
    out = []
    for b in blocks:
        if b[0] == "h":
            out.append(f"{'#' * b[1]} {b[2]}")
        elif b[0] == "p":
            out.append(b[1])
        elif b[0] == "img":
            out.append(f"![{b[2]}]({Path(b[1]).as_posix()})")
        else:  # table, explore
            out.append(_md_table(b[1], b[2]))
    return "\n\n".join(out) + "\n"


def _td(cell: object) -> str:
    e = html.escape
    if isinstance(cell, tuple):
        text, sort = cell
        key = "" if sort is None else f' data-sort="{e(str(sort))}"'
        num = ' class="num"' if isinstance(sort, int | float) else ""
        return f"<td{num}{key}>{e(str(text))}</td>"
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return f'<td class="num">{e(str(cell))}</td>'
    return f"<td>{e(str(cell))}</td>"


def _html_table(header: Sequence, rows: Sequence, details: Sequence[str | None] | None = None,
                table_id: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in header)
    body = []
    for i, row in enumerate(rows):
        cells = "".join(_td(c) for c in row)
        detail = details[i] if details else None
        if detail is None:
            body.append(f"<tr>{cells}</tr>")
        else:
            body.append(f'<tr class="row" aria-expanded="false">{cells}</tr>'
                        f'<tr class="detail" hidden><td colspan="{len(row)}">'
                        f'<div class="passage">{detail}</div></td></tr>')
    ident = f' id="{table_id}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def to_html(blocks: list[Block], title: str, base: Path | None = None) -> str:
    """The page; with ``base`` (the report's directory) images are embedded, else linked."""
    e = html.escape
    body = []
    explore = 0
    for b in blocks:
        if b[0] == "h":
            body.append(f"<h{b[1]}>{e(b[2])}</h{b[1]}>")
        elif b[0] == "p":
            text = e(b[1])
            if text.startswith("**Warning:**"):
                text = "<strong>Warning:</strong>" + text[len("**Warning:**"):]
            body.append(f"<p>{text}</p>")
        elif b[0] == "img":
            src = e(str(b[1]))
            if base is not None:
                data = base64.b64encode((base / b[1]).read_bytes()).decode("ascii")
                src = f"data:image/png;base64,{data}"
            img = f'<img src="{src}" alt="{e(b[2])}">'
            if body and body[-1].startswith('<div class="figs">'):  # figures side by side
                body[-1] = body[-1][: -len("</div>")] + img + "</div>"
            else:
                body.append(f'<div class="figs">{img}</div>')
        elif b[0] == "explore":
            explore += 1
            ident = f"explore-{explore}"
            body.append(f'<p><input class="search" type="search" data-table="{ident}" '
                        f'placeholder="search {e(b[4])}" aria-label="search {e(b[4])}">'
                        f'<span class="count">{len(b[2])} rows</span></p>'
                        f'<p class="note">Click a column to sort, a row to see the example '
                        f'with its matched n-grams highlighted.</p>'
                        + _html_table(b[1], b[2], b[3], ident))
        else:
            body.append(_html_table(b[1], b[2]))
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(body) + f"\n<script>{_SCRIPT}</script>\n</body></html>\n")


def write_report(blocks: list[Block], out_dir: Path, title: str,
                 names: tuple[str, str] = ("report.md", "report.html")) -> tuple[Path, Path]:
    """report.md and a self-contained report.html in ``out_dir``."""
    md, page = out_dir / names[0], out_dir / names[1]
    write_text(md, to_markdown(blocks))
    write_text(page, to_html(blocks, title, out_dir))
    return md, page


def format_mapping(mapping: dict, indent: str = "") -> str:
    """Aligned ``key: value`` lines (nested mappings indented) for terminal output."""
    lines = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            lines += [f"{indent}{key}:", format_mapping(value, indent + "  ")]
        else:
            text = f"{value:.6g}" if isinstance(value, float) else str(value)
            lines.append(f"{indent}{key + ':':<20} {text}")
    return "\n".join(lines)
