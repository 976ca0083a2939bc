"""``decontaminate``: remove benchmark text from a training corpus, GPT-3 style (appendix C).

The reverse of ``overlap``: the exact n-gram set of the benchmarks (``NgramSet``, no false
positives) is matched against every corpus document, and each matching n-gram is cut out with
``window`` characters on each side. Thresholds (GPT-3's defaults, PAPER.md): n = 13; window
200; the pieces left are separate documents and pieces under ``min_piece`` (200) characters
are dropped; a document cut into more than ``max_pieces`` (10) pieces is dropped whole; an
n-gram found in more than ``max_doc_freq`` (10) corpus documents is ignored (it is common
text, not a leak: "the united states of america ..."), which needs a first pass over the
corpus to count documents before any cut.

The cleaned corpus is written in the input's format (``contamkit.corpus.formats.rewrite_file``;
untouched files and records byte for byte) into a new directory, never over the input. The report
goes beside it, in files the corpus readers skip (dot files): ``.decontamination.json`` (options,
totals, per benchmark) and ``.decontamination.documents.jsonl`` (one line per document with a
match). """

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from contamkit.benchmarks import get_benchmark, load_benchmark
from contamkit.common.atomic import write_json, write_jsonl
from contamkit.common.errors import UserError
from contamkit.common.outputs import check_output, staged_dir
from contamkit.common.progress import log, progress
from contamkit.corpus.formats import corpus_files, iter_documents, rewrite_file
from contamkit.corpus.read import CorpusStats, Document
from overlap.ngram_set import MAX_SOURCES, NgramSet
from overlap.ngrams import segment_hashes
from overlap.normalize import NORMALIZER_VERSION
from overlap.options import DecontamOptions
from overlap.spans import SpanCoder, merge_spans, window_spans

REPORT_NAME = ".decontamination.json"
DOCUMENTS_NAME = ".decontamination.documents.jsonl"
BATCH_CHARS = 4 << 20  # document text coded and hashed per batch


@dataclass
class DocMatches:
    """The benchmark n-grams found in one corpus document."""

    source: str
    index: int
    chars: int
    ids: np.ndarray  # index in the NgramSet of each match
    spans: np.ndarray  # (matches, 2) character span of each match


@dataclass
class Cut:
    keep: list[tuple[int, int]]  # pieces written, as [start, end) of the text
    removed: list[tuple[int, int]] = field(default_factory=list)  # n-grams and their windows
    pieces: int = 0  # pieces the cut left, before dropping short ones
    action: str = "cut"


# ------------------------------------------------------------------ the benchmarks' n-grams


def benchmark_ngrams(benches: Sequence[str], opts: DecontamOptions,
                     coder: SpanCoder) -> tuple[NgramSet, list[dict]]:
    """The exact n-gram set of the benchmarks' examples (n-grams stay inside an example)."""
    names = list(dict.fromkeys(get_benchmark(b).name for b in benches))
    if len(names) > MAX_SOURCES:
        raise UserError(f"at most {MAX_SOURCES} benchmarks at once, got {len(names)}")
    parts, info = [], []
    for name in names:
        examples = load_benchmark(name, opts.split, opts.bench_path)
        h1, h2, counts = segment_hashes(coder.codes([e.text for e in examples]), opts.n,
                                        opts.seed)
        parts.append((h1, h2))
        info.append({"bench": name, "split": opts.split, "examples": len(examples),
                     "too_short": int((counts == 0).sum()), "ngrams": len(h1)})
    ngram_set = NgramSet(parts)
    for bit, row in enumerate(info):
        row["distinct_ngrams"] = int(((ngram_set.owners >> np.uint64(bit)) & np.uint64(1)).sum())
    return ngram_set, info


# ------------------------------------------------------------------------ pass 1: matching


def scan(corpus: Path, ngram_set: NgramSet, coder: SpanCoder, opts: DecontamOptions,
         stats: CorpusStats) -> list[DocMatches]:
    """Every document with a benchmark n-gram, and where; documents are coded in batches."""
    found: list[DocMatches] = []
    batch: list[Document] = []
    size = 0
    with progress(desc="matching", unit="doc") as bar:
        for doc in iter_documents(corpus, opts.text_field, stats):
            batch.append(doc)
            size += len(doc.text)
            if size >= BATCH_CHARS:
                found += _match_batch(batch, ngram_set, coder, opts)
                bar.update(len(batch))
                batch, size = [], 0
        found += _match_batch(batch, ngram_set, coder, opts)
        bar.update(len(batch))
    return found


def _match_batch(batch: list[Document], ngram_set: NgramSet, coder: SpanCoder,
                 opts: DecontamOptions) -> list[DocMatches]:
    codes = coder.codes([d.text for d in batch])
    h1, h2, counts = segment_hashes(codes, opts.n, opts.seed)
    ids = ngram_set.lookup(h1, h2)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    owner = np.repeat(np.arange(len(batch)), counts)
    out = []
    for d in np.unique(owner[ids >= 0]):  # spans only for documents with a match
        doc = batch[d]
        local = ids[bounds[d] : bounds[d + 1]]
        hit = local >= 0
        spans = window_spans(coder.spans(doc.text, codes[d]), opts.n)[hit]
        out.append(DocMatches(doc.source, doc.index, len(doc.text), local[hit], spans))
    return out


def document_frequency(found: list[DocMatches], size: int) -> np.ndarray:
    """For each n-gram of the set, the number of corpus documents that contain it."""
    df = np.zeros(size, dtype=np.int64)
    for m in found:
        df[np.unique(m.ids)] += 1
    return df


# -------------------------------------------------------------------------- pass 2: cutting


def plan_cut(chars: int, spans: np.ndarray, opts: DecontamOptions) -> Cut:
    """What is left of a document of ``chars`` characters once ``spans`` are cut out."""
    removed = merge_spans(np.clip(spans + [-opts.window, opts.window], 0, chars))
    starts = np.concatenate([[0], removed[:, 1]])
    ends = np.concatenate([removed[:, 0], [chars]])
    pieces = [(int(s), int(e)) for s, e in zip(starts, ends, strict=True) if e > s]
    cut = Cut([], [tuple(r) for r in removed.tolist()], len(pieces))
    if len(pieces) > opts.max_pieces:
        cut.action = f"dropped: cut into {len(pieces)} pieces (> {opts.max_pieces})"
        return cut
    cut.keep = [(s, e) for s, e in pieces if e - s >= opts.min_piece]
    if not cut.keep:
        cut.action = f"dropped: no piece of {opts.min_piece} characters left"
    return cut


def document_row(m: DocMatches, root: Path, ignored: np.ndarray, ngram_set: NgramSet,
                 bench_info: list[dict], opts: DecontamOptions) -> tuple[dict, Cut | None]:
    """The report line of a document with matches, and its cut (None: left as it is)."""
    live = ~ignored[m.ids]
    row = {"file": str(Path(m.source).relative_to(root)), "index": m.index, "chars": m.chars,
           "matches": int(live.sum()), "ignored_matches": int((~live).sum()),
           "benchmarks": _per_bench(ngram_set.owners[m.ids[live]], bench_info)}
    if not live.any():
        row.update(removed=[], removed_chars=0, pieces=1, kept_pieces=1,
                   action="kept: only n-grams found in too many documents")
        return row, None
    cut = plan_cut(m.chars, m.spans[live], opts)
    row.update(removed=cut.removed, removed_chars=m.chars - sum(e - s for s, e in cut.keep),
               pieces=cut.pieces, kept_pieces=len(cut.keep), action=cut.action)
    return row, cut


def decontaminate(corpus: str | Path, benches: Sequence[str], out: str | Path,
                  opts: DecontamOptions | None = None) -> dict:
    """Write ``corpus`` without the benchmarks' n-grams into ``out``; returns the report."""
    opts = opts or DecontamOptions()
    corpus, out = Path(corpus), Path(out)
    _check_paths(corpus, out, opts)
    coder = SpanCoder(opts.unit, opts.gpt2_vocab)
    ngram_set, bench_info = benchmark_ngrams(benches, opts, coder)
    stats = CorpusStats()
    found = scan(corpus, ngram_set, coder, opts, stats)
    stats.report_new(0)
    _check_unread(corpus, stats, opts)
    ignored = document_frequency(found, len(ngram_set)) > opts.max_doc_freq

    root = corpus if corpus.is_dir() else corpus.parent
    edits: dict[str, dict[int, list[tuple[int, int]]]] = defaultdict(dict)
    doc_rows = []
    for m in found:
        row, cut = document_row(m, root, ignored, ngram_set, bench_info, opts)
        if cut is not None:
            edits[m.source][m.index] = cut.keep
        doc_rows.append(row)

    files = corpus_files(corpus)
    # the whole output appears at once, or not at all
    with staged_dir(out, _resume_key(corpus, files, benches, opts), opts.resume) as tmp:
        written = _write_files(files, root, tmp, edits, opts)
        report = _report(corpus, out, opts, stats, bench_info, ngram_set, found, ignored,
                         doc_rows, len(files), written, len(edits))
        write_jsonl(tmp / DOCUMENTS_NAME, doc_rows)
        write_json(tmp / REPORT_NAME, report)
    log.info(format_report(report))
    return report


WRITTEN_LOG = ".resume-written"  # in the staged output: the input files done (--resume)


def _write_files(files: list[Path], root: Path, tmp: Path, edits: dict,
                 opts: DecontamOptions) -> int:
    """Write every corpus file into ``tmp`` with its edits; files an interrupted run already
    wrote (``WRITTEN_LOG``) are kept. Returns the number of files written."""
    log_path = tmp / WRITTEN_LOG
    lines = log_path.read_text("utf-8").split("\n")[:-1] if log_path.is_file() else []
    done = dict(line.rsplit("\t", 1) for line in lines)  # only lines the newline finished
    written = sum(int(n) for n in done.values())
    log_path.write_text("".join(line + "\n" for line in lines), "utf-8")  # drop a cut line
    with open(log_path, "a", encoding="utf-8") as done_log:
        for path in progress(iterable=files, desc="writing", unit="file"):
            rel = path.relative_to(root)
            if rel.as_posix() in done:
                continue
            count = len(rewrite_file(path, tmp / rel, edits.get(str(path), {}), opts.text_field))
            done_log.write(f"{rel.as_posix()}\t{count}\n")
            done_log.flush()
            written += count
    return written  # the log goes with the other bookkeeping when the output is published


def _resume_key(corpus: Path, files: list[Path], benches: Sequence[str],
                opts: DecontamOptions) -> str:
    """What a resumed run must share with the interrupted one: inputs (names, sizes, times)
    and every option that changes the output."""
    options = {k: v for k, v in asdict(opts).items() if k not in ("resume", "force")}
    inputs = [(str(p), st.st_size, st.st_mtime_ns) for p in files for st in [p.stat()]]
    text = json.dumps([str(corpus.resolve()), inputs, list(benches), options], default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _check_unread(corpus: Path, stats: CorpusStats, opts: DecontamOptions) -> None:
    """Refuse to call a corpus clean when part of it could not be read: that part was not
    searched, and may hold benchmark text (it would be copied as it is)."""
    if stats.unread() and not opts.allow_unreadable:
        raise UserError(f"{corpus}: {stats.skipped_files - stats.unknown_files} file(s) and "
                        f"{stats.bad_records} record(s) could not be read (warnings above); "
                        "unread text may hold benchmark n-grams, so nothing was written. Fix "
                        "them, or pass --allow-unreadable to write the rest as it is")


def _check_paths(corpus: Path, out: Path, opts: DecontamOptions) -> None:
    if not corpus.exists():
        raise UserError(f"{corpus}: no such file or directory")
    check_output(out, [corpus], kind="decontaminated corpus", directory=True,
                 own=lambda d: (d / REPORT_NAME).is_file(), force=opts.force,
                 resume=opts.resume)
    if opts.n < 1:
        raise UserError(f"decontaminate: n must be at least 1, got {opts.n}")
    for name in ("window", "min_piece", "max_pieces", "max_doc_freq"):
        if getattr(opts, name) < 0:
            raise UserError(f"decontaminate: {name} must not be negative, got "
                            f"{getattr(opts, name)}")


def _per_bench(owners: np.ndarray, bench_info: list[dict]) -> dict[str, int]:
    counts = {}
    for bit, b in enumerate(bench_info):
        k = int(((owners >> np.uint64(bit)) & np.uint64(1)).sum())
        if k:
            counts[b["bench"]] = k
    return counts


def _report(corpus: Path, out: Path, opts: DecontamOptions, stats: CorpusStats,
            bench_info: list[dict], ngram_set: NgramSet, found: list[DocMatches],
            ignored: np.ndarray, doc_rows: list[dict], files: int, written: int,
            edited_files: int) -> dict:
    seen = np.zeros(len(ngram_set), dtype=bool)
    for m in found:
        seen[m.ids] = True
    for bit, b in enumerate(bench_info):
        mine = ((ngram_set.owners >> np.uint64(bit)) & np.uint64(1)).astype(bool)
        rows = [r for r in doc_rows if b["bench"] in r["benchmarks"]]
        b.update(
            matched_distinct=int((mine & seen & ~ignored).sum()),
            ignored_distinct=int((mine & seen & ignored).sum()),
            occurrences=sum(r["benchmarks"][b["bench"]] for r in rows),
            documents=len(rows),
            documents_dropped=sum(r["action"].startswith("dropped") for r in rows),
            removed_chars=sum(r["removed_chars"] for r in rows),  # whole documents' removals
        )
    cut_rows = [r for r in doc_rows if r["matches"]]
    return {
        "corpus": str(corpus),
        "output": str(out),
        "options": {**{k: v for k, v in asdict(opts).items() if k not in ("force", "resume")},
                    "normalizer": NORMALIZER_VERSION},
        "benchmark_ngrams": len(ngram_set),
        "totals": {
            "files": files,
            "files_rewritten": edited_files,
            "files_written": written,
            "documents": stats.documents,
            "bad_records_passed_through": stats.bad_records,
            "unreadable_files_copied": stats.skipped_files - stats.unknown_files,
            "documents_with_matches": len(cut_rows),
            "documents_cut": sum(r["action"] == "cut" for r in cut_rows),
            "documents_dropped": sum(r["action"].startswith("dropped") for r in cut_rows),
            "chars_removed": sum(r["removed_chars"] for r in cut_rows),
            "ignored_ngrams": int((ignored & seen).sum()),
        },
        "benchmarks": bench_info,
    }


def format_report(r: dict) -> str:
    t = r["totals"]
    return (f"decontaminated {r['corpus']} -> {r['output']}: {t['documents']} documents, "
            f"{t['documents_with_matches']} with benchmark {r['options']['n']}-grams "
            f"({t['documents_cut']} cut, {t['documents_dropped']} dropped), "
            f"{t['chars_removed']} characters removed, {t['ignored_ngrams']} n-grams ignored "
            f"(in > {r['options']['max_doc_freq']} documents); skipped "
            f"{t['unreadable_files_copied']} files, {t['bad_records_passed_through']} bad records; "
            f"report {REPORT_NAME}")
