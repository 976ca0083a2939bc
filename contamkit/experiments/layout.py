"""An experiment directory: where each stage writes (``ExperimentLayout``), the model variants
trained, and the record of each planted example. Shared by the runner, which writes these
files, and the report, which reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

VARIANTS = ("injected", "reference")


@dataclass
class Example:
    """One benchmark example of the experiment and where its copies went."""

    id: str
    text: str
    copies: int
    positions: list[int]  # document indices of its copies in data/injected.jsonl


@dataclass
class ExperimentLayout:
    """Where everything of one experiment directory lives."""

    out: Path

    @property
    def injection(self) -> Path:
        return self.out / "data" / "injection.json"

    def corpus(self, variant: str) -> Path:
        return self.out / "data" / ("injected.jsonl" if variant == "injected" else "clean.jsonl")

    @property
    def tokenizer(self) -> Path:
        return self.out / "tokenizer"

    def prepared(self, variant: str) -> Path:
        return self.out / "prepared" / variant

    def model(self, name: str, variant: str) -> Path:
        return self.out / "models" / name / variant

    @property
    def filter(self) -> Path:
        return self.out / "overlap" / "filter.bloom"

    @property
    def overlap(self) -> Path:
        return self.out / "overlap" / "run"

    def eval(self, name: str, variant: str) -> Path:
        return self.out / "eval" / f"{name}-{variant}"

    def scores(self, name: str, variant: str) -> Path:
        return self.out / "scores" / f"{name}-{variant}.jsonl"

    def extraction(self, name: str) -> Path:
        return self.out / "extraction" / f"{name}.jsonl"
