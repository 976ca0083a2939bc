"""``underfit`` (GPT-2 Figure 4): train and held-out perplexity of several models by size.

A model that memorized its training data would show a train perplexity well below held-out;
the paper's models keep the two close as they grow, i.e. they underfit WebText. Data is either
a prepared data directory (``cli.py prepare``: its ``train`` split for the train side, ``val``
for the held-out side) or a corpus file/folder read like ``build-filter`` reads one, tokenized
with each model's tokenizer, documents separated by <|endoftext|>. Each side is the first
``max_tokens`` tokens, scored as one stream through a sliding window.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from contamkit.analysis.evaluate import model_tokenizer, resolve_device
from contamkit.analysis.plots import pyplot, save_png
from contamkit.common.atomic import write_json, write_text
from contamkit.common.errors import UserError
from contamkit.common.outputs import check_output, staged_dir
from contamkit.common.progress import log
from model.checkpoint import load_checkpoint
from model.scoring import token_logprobs
from model.tokenizer import Tokenizer

SIDES = (("train", "train"), ("heldout", "val"))  # (name, split of a prepared directory)
SUMMARY = "underfit.json"  # a folder holding it is one ``underfit`` wrote (it may replace it)


def data_tokens(source: str | Path, split: str, tok: Tokenizer, max_tokens: int,
                text_field: str = "text") -> np.ndarray:
    """The first ``max_tokens`` tokens of a prepared split or of a tokenized corpus."""
    source = Path(source)
    if (source / "manifest.json").is_file():
        from training.dataset import open_prepared

        data = open_prepared(source)
        if data.tokenizer_name != tok.name:
            raise UserError(f"{source / 'manifest.json'}: data is tokenized with "
                            f"{data.tokenizer_name}, the model uses {tok.name}")
        tokens = np.asarray(getattr(data, split)[:max_tokens], dtype=np.int64)
    else:
        from contamkit.corpus.formats import iter_documents

        pieces, count = [], 0
        for doc in iter_documents(source, text_field):
            ids = [tok.eot_id, *tok.encode(doc.text)]
            pieces.append(np.asarray(ids, dtype=np.int64))
            count += len(ids)
            if count >= max_tokens:
                break
        tokens = np.concatenate(pieces)[:max_tokens] if pieces else np.zeros(0, np.int64)
    if len(tokens) < 2:
        raise UserError(f"{source}: no {split} tokens to score")
    return tokens


def underfit(models: list[str], train_data: str | Path, heldout_data: str | Path,
             out_dir: str | Path, max_tokens: int = 200_000, batch_size: int = 16,
             device: str = "auto", stride: int | None = None, force: bool = False) -> dict:
    """Perplexity of each model on both sides; writes underfit.json, .csv and .png into
    ``out_dir``, replaced whole once all three are written (never an input; a folder
    ``underfit`` did not write only with ``force``)."""
    if not models:
        raise UserError("--models: name at least one checkpoint directory")
    check_output(out_dir, [*models, train_data, heldout_data], kind="underfit folder",
                 directory=True, own=lambda d: (d / SUMMARY).is_file(), force=force)
    device = resolve_device(device)
    rows = []
    for model_dir in models:
        model, meta = load_checkpoint(model_dir, device)
        tok = model_tokenizer(model_dir, meta, model)
        row = {"model": str(model_dir), "num_params": model.num_params(),
               "n_layer": model.config.n_layer, "n_embd": model.config.n_embd}
        for side, split in SIDES:
            source = train_data if side == "train" else heldout_data
            tokens = data_tokens(source, split, tok, max_tokens)
            lp = token_logprobs(model, [tokens.tolist()], batch_size, stride=stride)[0]
            row[f"{side}_tokens"] = len(lp)
            row[f"{side}_perplexity"] = math.exp(-float(lp.mean(dtype=np.float64)))
        row["gap"] = row["heldout_perplexity"] - row["train_perplexity"]
        log.info(f"{model_dir}: {row['num_params']:,} parameters, train perplexity "
                 f"{row['train_perplexity']:.4g}, held-out {row['heldout_perplexity']:.4g}")
        rows.append(row)
        del model
    rows.sort(key=lambda r: r["num_params"])
    out = Path(out_dir)
    summary = {"train_data": str(train_data), "heldout_data": str(heldout_data),
               "max_tokens": max_tokens, "stride": stride, "models": rows}
    with staged_dir(out) as tmp:
        write_json(tmp / SUMMARY, summary)
        write_text(tmp / "underfit.csv", _csv(rows))
        plot_underfit(rows, tmp / "underfit.png")
    gaps = ", ".join(f"{r['gap']:+.3g}" for r in rows)
    log.info(f"underfit: {len(rows)} models, held-out - train perplexity {gaps} -> {out}")
    return summary


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def plot_underfit(rows: list[dict], path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.2))
    params = [r["num_params"] for r in rows]
    for side, style in (("train", "o-"), ("heldout", "s--")):
        ax.plot(params, [r[f"{side}_perplexity"] for r in rows], style,
                label="train" if side == "train" else "held-out")
    ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel("perplexity (per token)")
    ax.set_title("Train vs held-out perplexity by model size")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    save_png(fig, path)
