"""What a benchmark is made of: its files (local names, official URL, checksum) and readers.

Kept apart from the loaders so that the file resolution and download code reads only these
plain records and never imports a loader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contamkit.common.errors import UserError

# (key, text, fields): the key becomes the last part of Example.id.
Item = tuple[str, str, dict[str, Any]]
# A reader turns the resolved files of one split into items; the split matters for sets that
# cut one file into train/valid/test (text8, enwik8).
Reader = Callable[[Sequence[Path], str], Iterator[Item]]
# Finds the files of a split itself, for a benchmark whose files are not a fixed list (the
# generic ``hf`` loader): (``--bench-path`` or None, split) -> paths.
Locator = Callable[[str | None, str], list[Path]]

SPLITS = ("train", "valid", "test")
SPLIT_ALIASES = {"dev": "valid", "development": "valid", "validation": "valid"}


@dataclass(frozen=True)
class Remote:
    """Where the official release of a file lives."""

    url: str
    sha256: str | None  # of the bytes at ``url``; None: not known (said in README.md)
    member: str | None = None  # the file's path inside the zip/tar archive at ``url``


@dataclass(frozen=True)
class DataFile:
    """One file a split needs, and the names it goes by on disk."""

    name: str  # its name in the release, and in the cache directory
    subdir: str  # its folder under the shared data directory (our layout)
    remote: Remote
    aliases: tuple[str, ...] = ()  # other relative paths the same file is found under
    sha256: str | None = None  # of the file itself where known; checked after a download

    def relative_paths(self) -> list[str]:
        """Where to look under a directory: the file itself, then inside ``subdir``."""
        names = [self.name, *self.aliases]
        return names + [f"{self.subdir}/{n}" for n in names]


@dataclass(frozen=True)
class Variant:
    """One file format of a benchmark (e.g. LAMBADA's OpenAI jsonl vs the original text)."""

    name: str
    read: Reader
    files: Mapping[str, tuple[DataFile, ...]]  # split -> the files it needs


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    example: str  # what one Example is, for users (README.md has the long form)
    variant_specs: tuple[Variant, ...]  # the first is the default
    default_split: str = "test"
    # The evaluation it gets (contamkit.analysis): "lambada", "winograd", "coqa", "lm",
    # "multiple_choice" or "exact_match"; Example.fields follow that task's contract.
    task: str = "lm"
    locate: Locator | None = None  # None: the files named in variant_specs
    # Example.fields key holding the part of the text the model is scored on (it ends the
    # text: LAMBADA's target word, Winograd's continuation); None: the whole text is scored.
    scored_field: str | None = None

    @property
    def variants(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variant_specs)

    @property
    def splits(self) -> tuple[str, ...]:
        have = {s for v in self.variant_specs for s in v.files}
        return tuple(s for s in SPLITS if s in have)

    def variant(self, name: str | None) -> Variant:
        """The named variant (None: the default); a UserError lists the known ones."""
        if name is None:
            return self.variant_specs[0]
        for v in self.variant_specs:
            if v.name == name:
                return v
        raise UserError(
            f"{self.name}: unknown variant {name!r} (known: {', '.join(self.variants)})"
        )

    def files(self, variant: Variant, split: str | None) -> tuple[str, tuple[DataFile, ...]]:
        """The canonical split name and the files it needs in ``variant``."""
        split = canonical_split(split or self.default_split)
        if split not in variant.files:
            raise UserError(
                f"{self.name} ({variant.name}): no split {split!r} "
                f"(available: {', '.join(s for s in SPLITS if s in variant.files)})"
            )
        return split, variant.files[split]


def index_key(i: int) -> str:
    """The key of the i-th item of a split, zero-padded as in "lambada/test/00042"."""
    return f"{i:05d}"


def canonical_split(split: str) -> str:
    """``dev``/``development``/``validation`` all mean ``valid``, as releases disagree."""
    return SPLIT_ALIASES.get(split, split)
