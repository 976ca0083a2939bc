"""Loading a benchmark split as Examples, and fetching its files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from contamkit.benchmarks import generic
from contamkit.benchmarks.example import Example
from contamkit.benchmarks.locate import resolve
from contamkit.benchmarks.registry import get_benchmark
from contamkit.benchmarks.spec import SPLITS, Benchmark, Variant
from contamkit.common.errors import UserError
from contamkit.common.progress import log

PathLike = str | os.PathLike


@dataclass(frozen=True)
class Source:
    """A resolved split: which benchmark, variant and split, read from which files."""

    benchmark: Benchmark
    variant: Variant
    split: str
    paths: list[Path]

    @property
    def label(self) -> str:
        return split_label(self.benchmark, self.split, self.variant)

    def examples(self) -> Iterator[Example]:
        """Examples one at a time, for splits too large for a list (1BW train)."""
        prefix = f"{self.benchmark.name}/{self.split}/"
        for key, text, fields in self.variant.read(self.paths, self.split):
            yield Example(prefix + key, text, fields)


def split_label(bench: Benchmark, split: str, variant: Variant) -> str:
    """How messages name a split, e.g. "lambada test (openai)"."""
    return f"{bench.name} {split} ({variant.name})"


def open_benchmark(
    name: str,
    split: str | None = None,
    path: PathLike | None = None,
    variant: str | None = None,
    download: bool = False,
    text_template: str | None = None,
    id_field: str | None = None,
) -> Source:
    """Resolve the files of a split (see locate.resolve for the search order).

    ``split`` None is the benchmark's default split; ``variant`` None is the variant whose
    file name ``path`` has, if it is a file, else the default variant. ``text_template`` and
    ``id_field`` configure the generic ``hf`` loader (benchmarks.generic).
    """
    bench = configured_benchmark(name, text_template, id_field)
    spec = bench.variant(variant if variant is not None else _variant_of_file(bench, path))
    split, files = bench.files(spec, split)
    if bench.locate is not None:
        paths = bench.locate(None if path is None else str(path), split)
    else:
        paths = resolve(bench.name, split_label(bench, split, spec), files, path, download)
    return Source(bench, spec, split, paths)


def configured_benchmark(name: str, text_template: str | None = None,
                         id_field: str | None = None) -> Benchmark:
    """The registered benchmark; for ``hf``, made with the given template and id field."""
    bench = get_benchmark(name)
    if text_template is None and id_field is None:
        return bench
    if bench.name != generic.NAME:
        raise UserError(f"{bench.name}: --text-template and --id-field apply to --bench "
                        f"{generic.NAME} only")
    return generic.generic_benchmark(text_template or generic.DEFAULT_TEMPLATE, id_field)


def load_benchmark(
    name: str,
    split: str | None = None,
    path: PathLike | None = None,
    variant: str | None = None,
    download: bool = False,
    text_template: str | None = None,
    id_field: str | None = None,
) -> list[Example]:
    """All examples of a split. ``path``: a file or folder (--bench-path); ``download``:
    allow fetching the official release into the cache when no local copy is found."""
    source = open_benchmark(name, split, path, variant, download, text_template, id_field)
    examples = list(source.examples())
    where = source.paths[0] if len(source.paths) == 1 else f"{len(source.paths)} files"
    log.info(f"{source.label}: {len(examples)} examples from {where}")
    return examples


def fetch_benchmark(
    name: str, split: str | None = None, variant: str | None = None, path: PathLike | None = None
) -> list[Path]:
    """Make a split available locally, downloading what is missing (into ``path`` if given,
    else the cache). ``split``/``variant`` "all" fetch every one."""
    bench = get_benchmark(name)
    variants = bench.variants if variant == "all" else (variant,)
    paths: list[Path] = []
    for v in variants:
        spec = bench.variant(v)
        splits = [s for s in SPLITS if s in spec.files] if split == "all" else [split]
        for s in splits:
            paths += open_benchmark(name, s, path, spec.name, download=True).paths
    return list(dict.fromkeys(paths))


def _variant_of_file(bench: Benchmark, path: PathLike | None) -> str | None:
    """A file named like one variant's file selects that variant (WSCollection.xml -> xml)."""
    if path is None or not Path(path).is_file():
        return None
    name = Path(path).name
    for spec in bench.variant_specs:
        for files in spec.files.values():
            if any(name in (f.name, *f.aliases) for f in files):
                return spec.name
    return None
