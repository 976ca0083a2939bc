"""How often a trained model saw each training document: manifest + run config -> counts.

A run trains on sequence numbers 0..steps*batch_size-1, each a window of the train split
(``training.sequences``); the manifest maps token spans to documents. So the exposure of every
document is computable after the fact, e.g. to compare memorization of documents seen 0, 1 or
k times.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from contamkit.common.errors import UserError
from model.checkpoint import CONFIG
from training.dataset import PreparedData, open_prepared
from training.sequences import WindowOrder, window_counts
from training.state import latest_checkpoint, read_state


def document_exposures(data: PreparedData, block_size: int, seed: int,
                       sequences: int) -> np.ndarray:
    """Per train document (manifest order): how many times every one of its tokens (and its
    <|endoftext|>) was a prediction target in the first ``sequences`` training sequences."""
    order = WindowOrder(len(data.train), block_size, seed)
    counts = window_counts(order, sequences)
    per_token = np.zeros(len(data.train), dtype=np.int64)
    covered = order.num_windows * block_size
    per_token[1:covered + 1] = np.repeat(counts, block_size)  # window w predicts wT+1..wT+T
    per_token[0] = counts[0]  # the split's first token is only context, in window 0
    offsets = np.asarray(data.manifest["splits"]["train"]["doc_offset"], dtype=np.int64)
    if len(offsets) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.minimum.reduceat(per_token, offsets)


def run_exposures(run_dir: str | Path, data_dir: str | Path | None = None) -> np.ndarray:
    """Document exposures of a run's latest checkpoint (data from its config unless given)."""
    run_dir = Path(run_dir)
    checkpoint = latest_checkpoint(run_dir)
    if checkpoint is None:
        raise UserError(f"{run_dir}: no training checkpoint")
    state = read_state(checkpoint)
    block_size = json.loads((checkpoint / CONFIG).read_text())["config"]["block_size"]
    data = open_prepared(data_dir or state["config"]["data_dir"], verify=False)
    if data.identity() != state["data"]:
        raise UserError(f"{data.directory}: not the data {checkpoint} was trained on")
    return document_exposures(data, block_size, state["config"]["seed"],
                              state["sequences_seen"])
