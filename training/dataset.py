"""A prepared data directory, opened for training: manifest checked, token files memory-mapped."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contamkit.common.errors import UserError
from contamkit.common.files import read_versioned_json
from model.tokenizer import Tokenizer, load_tokenizer
from training.prepare import BPE_PREFIX, FORMAT, MANIFEST, SPLITS, VERSION
from training.tokenfile import open_tokens


@dataclass
class PreparedData:
    directory: Path
    manifest: dict
    train: np.ndarray
    val: np.ndarray

    @property
    def vocab_size(self) -> int:
        return self.manifest["tokenizer"]["vocab_size"]

    @property
    def tokenizer_name(self) -> str:
        return self.manifest["tokenizer"]["name"]

    def identity(self) -> dict:
        """What a checkpoint records to refuse resuming on other data."""
        return {"tokenizer": self.tokenizer_name,
                **{f"{s}_sha256": self.manifest["splits"][s]["sha256"] for s in SPLITS}}

    def tokenizer(self) -> Tokenizer:
        """The tokenizer the data was made with (a trained one is stored beside the data)."""
        meta = self.manifest["tokenizer"]
        return load_tokenizer(self.directory / meta["path"] if meta["path"] else meta["spec"])


def open_prepared(data_dir: str | Path, verify: bool = True) -> PreparedData:
    """Read ``manifest.json`` and map both splits; any disagreement between them is an error."""
    directory = Path(data_dir)
    manifest = read_versioned_json(
        directory / MANIFEST, FORMAT, VERSION,
        f"{directory}: no {MANIFEST} (not a prepared data directory; "
        f"run `cli.py prepare CORPUS -o {directory}`)")
    arrays = {}
    for split in SPLITS:
        meta = manifest["splits"][split]
        tokens = open_tokens(directory / meta["file"], meta["sha256"], verify)
        if len(tokens) != meta["tokens"]:
            raise UserError(f"{directory / meta['file']}: {len(tokens)} tokens, "
                            f"manifest says {meta['tokens']}")
        arrays[split] = tokens
    return PreparedData(directory, manifest, arrays["train"], arrays["val"])


def check_tokenizer(spec: str, data: PreparedData) -> None:
    """Refuse data made with another tokenizer than the config's ``spec``."""
    meta = data.manifest["tokenizer"]
    if spec.startswith(BPE_PREFIX):
        same = meta["spec"] == spec
    else:
        same = load_tokenizer(spec).name == meta["name"]
    if not same:
        raise UserError(f"{data.directory / MANIFEST}: data was tokenized with {meta['spec']} "
                        f"({meta['name']}), the config asks for tokenizer {spec!r}")
