"""Corpus -> token files + manifest: what a model trained on this directory can have seen.

Documents come from ``contamkit.corpus`` (the readers build-filter uses), are split into train and
val by a keyed hash of (file, document number) — deterministic, independent of order, worker
count and corpus size — and are tokenized in parallel threads (the BPE encoders release the
GIL). Each document is followed by <|endoftext|>. The manifest records the tokenizer's identity,
the source files with their sha256, the split rule and every document's token span.
"""

from __future__ import annotations

import collections
import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path

import numpy as np

from contamkit.common.atomic import write_json
from contamkit.common.errors import UserError
from contamkit.common.files import file_sha256
from contamkit.common.outputs import check_output, staged_dir
from contamkit.common.progress import log, progress
from contamkit.corpus.formats import corpus_files, iter_documents
from contamkit.corpus.read import CorpusStats, Document
from model.tokenizer import Tokenizer, load_tokenizer
from training.tokenfile import TokenWriter, dtype_for

MANIFEST = "manifest.json"
FORMAT = "contamkit-data"
VERSION = 1
SPLITS = ("train", "val")
TOKENIZER_DIR = "tokenizer"  # a BPE trained by prepare ("bpe:N") is saved here
BPE_PREFIX = "bpe:"
DOCS_PER_BATCH = 256
SPLIT_RULE = "blake2b-64(f'{seed}\\0{file}\\0{index}') / 2**64 < val_fraction"


def prepare_corpus(corpus: str | Path, out_dir: str | Path, tokenizer_spec: str = "gpt2",
                   val_fraction: float = 0.05, seed: int = 0, workers: int = 0,
                   text_field: str = "text", force: bool = False) -> dict:
    """Tokenize ``corpus`` into ``out_dir`` (train.bin, val.bin, manifest.json); the manifest.

    The directory is built beside ``out_dir`` and swapped in whole when complete, so a failure
    or kill leaves the previous data directory as it was; ``force`` allows replacing a
    directory that is not a data directory.
    """
    corpus, out_dir = Path(corpus), Path(out_dir)
    if not 0 <= val_fraction < 1:
        raise UserError(f"{corpus}: val_fraction must be in [0, 1), got {val_fraction}")
    check_output(out_dir, [corpus], kind="prepared data directory", directory=True,
                 own=is_data_dir, force=force)
    with staged_dir(out_dir) as tmp:
        manifest = _prepare(corpus, tmp, tokenizer_spec, val_fraction, seed, workers, text_field)
    t, v = manifest["splits"]["train"], manifest["splits"]["val"]
    log.info(f"prepared {out_dir}: train {t['tokens']:,} tokens ({t['documents']:,} documents), "
             f"val {v['tokens']:,} tokens ({v['documents']:,} documents), tokenizer "
             f"{manifest['tokenizer']['name']}")
    return manifest


def is_data_dir(path: Path) -> bool:
    """Whether ``path`` is a directory ``prepare`` wrote (it may replace it)."""
    manifest = path / MANIFEST
    if not manifest.is_file():
        return False
    with open(manifest, "rb") as f:  # the manifest may be large: its head names the format
        return f'"format": "{FORMAT}"'.encode() in f.read(256)


def _prepare(corpus: Path, out_dir: Path, tokenizer_spec: str, val_fraction: float, seed: int,
             workers: int, text_field: str) -> dict:
    """Write the data directory's files into ``out_dir`` (a new, empty directory)."""
    workers = workers or os.cpu_count() or 1
    root = corpus if corpus.is_dir() else corpus.parent
    files = corpus_files(corpus)
    sources = {str(p): p.relative_to(root).as_posix() for p in files}

    def is_val(doc: Document) -> bool:
        return split_of(seed, sources[doc.source], doc.index) < val_fraction

    tokenizer, tok_meta = _tokenizer(tokenizer_spec, corpus, text_field, is_val, out_dir)
    stats = CorpusStats()
    splits = _tokenize(iter_documents(corpus, text_field, stats), tokenizer, is_val, sources,
                       out_dir, workers)
    stats.report_new(0)
    if splits["train"]["tokens"] == 0:
        raise UserError(f"{corpus}: no training documents (corpus empty or all in val)")
    if val_fraction > 0 and splits["val"]["documents"] == 0:
        raise UserError(f"{corpus}: val_fraction={val_fraction} put none of "
                        f"{splits['train']['documents']} documents in val; raise it")
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "tokenizer": tok_meta,
        "corpus": {
            "path": str(corpus.resolve()),
            "text_field": text_field,
            "files": _file_table(files, root, workers),
            "stats": {k: getattr(stats, k) for k in ("files", "documents", "bytes",
                                                     "skipped_files", "bad_records")},
        },
        "split": {"val_fraction": val_fraction, "seed": seed, "rule": SPLIT_RULE},
        "separator": "<|endoftext|> after every document",
        "splits": splits,
    }
    write_json(out_dir / MANIFEST, manifest)
    return manifest


def split_of(seed: int, file: str, index: int) -> float:
    """A document's position in [0, 1): below val_fraction means val."""
    digest = hashlib.blake2b(f"{seed}\0{file}\0{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64


def _tokenizer(spec: str, corpus: Path, text_field: str, is_val, out_dir: Path
               ) -> tuple[Tokenizer, dict]:
    """The tokenizer named by ``spec``; "bpe:N" trains an N-token BPE on the train documents."""
    path = None
    if spec.startswith(BPE_PREFIX):
        from model.bpe_training import train_bpe

        try:
            vocab = int(spec[len(BPE_PREFIX):])
        except ValueError:
            raise UserError(f"{spec}: tokenizer 'bpe:N' needs an integer N") from None
        texts = (d.text for d in iter_documents(corpus, text_field) if not is_val(d))
        tokenizer = train_bpe(texts, vocab)
        tokenizer.save(out_dir / TOKENIZER_DIR)
        path = TOKENIZER_DIR
    else:
        tokenizer = load_tokenizer(spec)
    meta = {"spec": spec, "name": tokenizer.name, "vocab_size": tokenizer.vocab_size,
            "eot_id": tokenizer.eot_id, "path": path}
    return tokenizer, meta


def _batches(docs: Iterator[Document]) -> Iterator[list[Document]]:
    while batch := list(islice(docs, DOCS_PER_BATCH)):
        yield batch


def _tokenize(docs: Iterator[Document], tokenizer: Tokenizer, is_val, sources: dict[str, str],
              out_dir: Path, workers: int) -> dict[str, dict]:
    """Encode batches in a thread pool, in order; write each document to its split's file."""
    file_ids = {rel: i for i, rel in enumerate(sources.values())}
    writers = {s: TokenWriter(out_dir / f"{s}.bin", tokenizer.vocab_size) for s in SPLITS}
    spans = {s: {"doc_file": [], "doc_index": [], "doc_offset": [], "doc_tokens": []}
             for s in SPLITS}

    def write(batch: list[Document], encoded: list[list[int]]) -> None:
        pieces: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
        filled = {s: writers[s].count for s in SPLITS}
        for doc, ids in zip(batch, encoded, strict=True):
            split = "val" if is_val(doc) else "train"
            span = spans[split]
            span["doc_file"].append(file_ids[sources[doc.source]])
            span["doc_index"].append(doc.index)
            span["doc_offset"].append(filled[split])
            span["doc_tokens"].append(len(ids))
            filled[split] += len(ids) + 1
            pieces[split] += [np.asarray(ids, dtype=np.int64), eot]
        for split, arrays in pieces.items():
            if arrays:
                writers[split].write(np.concatenate(arrays))

    eot = np.array([tokenizer.eot_id], dtype=np.int64)
    pending: collections.deque = collections.deque()  # (batch, future), oldest first
    try:
        with ThreadPoolExecutor(workers) as pool, progress(desc="tokenizing", unit="doc") as bar:

            def flush(keep: int) -> None:
                while len(pending) > keep:
                    batch, future = pending.popleft()
                    write(batch, future.result())
                    bar.update(len(batch))

            for batch in _batches(docs):
                pending.append((batch, pool.submit(tokenizer.encode_batch,
                                                   [d.text for d in batch])))
                flush(2 * workers)
            flush(0)
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    dtype = dtype_for(tokenizer.vocab_size).name
    return {s: {"file": f"{s}.bin", "dtype": dtype, "tokens": writers[s].count,
                "documents": len(spans[s]["doc_file"]), "sha256": writers[s].close(), **spans[s]}
            for s in SPLITS}


def _file_table(files: list[Path], root: Path, workers: int) -> list[dict]:
    def describe(p: Path) -> dict:
        return {"path": p.relative_to(root).as_posix(), "bytes": p.stat().st_size,
                "sha256": file_sha256(p)}

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(describe, files))
