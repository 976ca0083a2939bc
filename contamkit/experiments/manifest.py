"""An experiment directory's manifest: the config, every seed, and a checksum of every input
and output file, updated after each stage so an interrupted run says how far it got.

A directory belongs to one config: resuming it with a config whose results would differ
(``ExperimentConfig.digest``) is refused, since finished stages would be silently reused.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

from contamkit.common.atomic import write_json
from contamkit.common.errors import UserError
from contamkit.common.files import file_sha256
from contamkit.experiments.config import ExperimentConfig

MANIFEST = "manifest.json"
FORMAT = "contamkit-experiment"
VERSION = 1


def tree_checksums(path: Path, root: Path) -> dict[str, str]:
    """sha256 of a file, or of every file under a directory, keyed by path relative to root
    (absolute for files outside it)."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    out = {}
    for p in files:
        key = p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p.resolve())
        out[key] = file_sha256(p)
    return out


class Manifest:
    """The manifest of one experiment directory, written atomically after every change."""

    def __init__(self, out: Path, cfg: ExperimentConfig):
        self.out = out
        self.path = out / MANIFEST
        digest = cfg.digest()
        if self.path.is_file():
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
            if self.data.get("format") != FORMAT or self.data.get("version") != VERSION:
                raise UserError(f"{self.path}: not a {FORMAT} v{VERSION} manifest")
            if self.data["config_digest"] != digest:
                raise UserError(f"{self.path}: this directory holds a run of another config "
                                f"(digest {self.data['config_digest'][:12]}, now {digest[:12]}); "
                                f"use a new --out")
        else:
            self.data = {"format": FORMAT, "version": VERSION, "name": cfg.name,
                         "config_digest": digest, "config": asdict(cfg), "seeds": {},
                         "inputs": {}, "outputs": {}, "stages": {}}
        self.data["environment"] = {"python": sys.version.split()[0],
                                    "platform": platform.platform(), **_versions()}
        if not self.path.is_file():  # before any stage: a run killed in the first one leaves a
            write_json(self.path, self.data)  # directory that says it is an experiment's

    def done(self, stage: str) -> bool:
        return stage in self.data["stages"]

    def record(self, stage: str, seconds: float, seeds: dict | None = None,
               inputs: list[Path] = (), outputs: list[Path] = ()) -> None:
        """Mark ``stage`` finished, with the seeds it used and checksums of its files."""
        for p in inputs:
            self.data["inputs"].update(tree_checksums(p, self.out))
        for p in outputs:
            self.data["outputs"].update(tree_checksums(p, self.out))
        self.data["seeds"].update(seeds or {})
        self.data["stages"][stage] = {"seconds": round(seconds, 1),
                                      "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
        write_json(self.path, self.data)


def _versions() -> dict[str, str]:
    import numpy
    import torch

    return {"torch": torch.__version__, "numpy": numpy.__version__}
