"""One renderer for every report: a list of blocks, written as Markdown and as HTML.

Blocks are ("h", level, text), ("p", text), ("table", header, rows) and ("img", file, alt),
with ``file`` relative to the report's directory, so the two formats always say the same
thing. Markdown links the PNGs beside it; HTML embeds them (base64) when given the report's
directory, so the page stands alone.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from contamkit.common.atomic import write_text

Block = tuple

_STYLE = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
          "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
          "padding:.3em .6em;vertical-align:top}th{background:#f3f3f3}img{max-width:100%}")


def _md_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: list[Block]) -> str:
    out = []
    for b in blocks:
        if b[0] == "h":
            out.append(f"{'#' * b[1]} {b[2]}")
        elif b[0] == "p":
            out.append(b[1])
        elif b[0] == "img":
            out.append(f"![{b[2]}]({Path(b[1]).as_posix()})")
        else:
            header, rows = b[1], b[2]
            lines = [header, ["---"] * len(header), *rows]
            out.append("\n".join("| " + " | ".join(map(_md_cell, line)) + " |"
                                 for line in lines))
    return "\n\n".join(out) + "\n"


def to_html(blocks: list[Block], title: str, base: Path | None = None) -> str:
    """The page; with ``base`` (the report's directory) images are embedded, else linked."""
    e = html.escape
    body = []
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
            body.append(f'<p><img src="{src}" alt="{e(b[2])}"></p>')
        else:
            head = "".join(f"<th>{e(str(c))}</th>" for c in b[1])
            rows = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>"
                           for r in b[2])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{e(title)}</title>"
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_report(blocks: list[Block], out_dir: Path, title: str,
                 names: tuple[str, str] = ("report.md", "report.html")) -> tuple[Path, Path]:
    """report.md and a self-contained report.html in ``out_dir``."""
    md, page = out_dir / names[0], out_dir / names[1]
    write_text(md, to_markdown(blocks))
    write_text(page, to_html(blocks, title, out_dir))
    return md, page
