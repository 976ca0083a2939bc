"""The options of overlap's commands, declared once: each field carries its command-line flag
(``contamkit.common.options``), so the CLI builds its parsers from these dataclasses and the
library takes the same objects. Kept free of heavy imports so that ``--help`` stays quick.
"""

from __future__ import annotations

from dataclasses import dataclass

from contamkit.common.errors import UserError
from contamkit.common.options import option
from contamkit.common.parse import (
    count,
    non_negative_int,
    parse_percent_edges,
    parse_size,
    positive_float,
    positive_int,
    probability,
)
from overlap.layouts import DEFAULT_LAYOUT, LAYOUTS
from overlap.units import find_unit, parse_unit, unit_names

DEFAULT_EDGES = (0.0, 15.0)  # buckets 0 %, (0, 15 %], > 15 % (the paper's LAMBADA split)
GPT2_VOCAB_HELP = "directory with GPT-2's encoder.json and vocab.bpe"


@dataclass
class BuildOptions:
    """``build-filter``."""

    n: int = option(8, "n-gram length", parse=positive_int)
    unit: str = option("words", "n-gram unit", parse=parse_unit, choices=unit_names)
    fpr: float = option(1e-8, "target false-positive rate", parse=probability)
    capacity: int | None = option(None, "distinct n-grams to size for", parse=count,
                                  shown_default="count")
    layout: str = option(DEFAULT_LAYOUT, "where an n-gram's probes land: " + "; ".join(
        f"{name}, {layout.help}" for name, layout in LAYOUTS.items()), choices=tuple(LAYOUTS))
    workers: int = option(0, "cores to use (1 runs on one thread, 2 on threads of one process, "
                          "more add hashing processes)", parse=positive_int, shown_default="all")
    seed: int = option(0, "hash seed (a filter parameter)", parse=non_negative_int)
    force: bool = option(False, "replace an existing output even if it is not a filter")
    text_field: str = option("text", "JSON field / parquet column of text")
    gpt2_vocab: str | None = option(None, GPT2_VOCAB_HELP)
    # scale-out (contamkit/scale/README.md): read by contamkit.scale.route, which runs the
    # spilled build (contamkit.scale.dask_build) when any of them is set
    scheduler: str | None = option(None, "Dask scheduler address, or local:N for a local "
                                   "cluster of N workers")
    shards: int = option(1, "shard files, a power of two (0: as few as --max-memory allows)",
                         parse=non_negative_int)
    max_memory: int | None = option(None, "memory one worker may hold for a shard or a spill "
                                    "run, e.g. 2GiB", parse=parse_size)
    spill_dir: str | None = option(None, "spilled hashes", shown_default="beside the output")
    connect_timeout: float = option(10.0, "seconds to reach the scheduler and a worker",
                                    parse=positive_float)

    def scaled(self) -> bool:
        """Whether the spilled build must run (``contamkit.scale.route``; ``overlap.build``
        refuses these options)."""
        return bool(self.scheduler or self.shards != 1 or self.max_memory)


@dataclass
class OverlapOptions:
    """``overlap``."""

    split: str | None = option(None, "benchmark split",
                               shown_default="each benchmark's default, e.g. test; valid for "
                               "hellaswag")
    bench_path: str | None = option(None, "benchmark file or folder; for --bench hf: the "
                                    "dataset's folder or comma-separated files",
                                    shown_default="cache, shared data")
    text_template: str | None = option(None, '--bench hf: the text checked, from fields, e.g. '
                                       '"{question} {answer}"')
    id_field: str | None = option(None, "--bench hf: the field holding each row's id")
    n: int | None = option(None, "n-gram length (must match the filter's)", parse=positive_int,
                           shown_default="the filter's")
    unit: str | None = option(None, "n-gram unit (must match the filter's)", parse=parse_unit,
                              choices=unit_names, shown_default="the filter's")
    gpt2_vocab: str | None = option(None, GPT2_VOCAB_HELP)
    # scale-out: read by contamkit.scale.route, which measures on this Dask cluster if given
    scheduler: str | None = option(None, "Dask scheduler address, or local:N, to spread examples")
    connect_timeout: float = option(10.0, "seconds to wait for the scheduler and a first worker",
                                    parse=positive_float)
    edges: tuple[float, ...] = option(DEFAULT_EDGES, "overlap % bucket edges (0, (0,15], >15 for "
                                      "the default)", flag="--buckets", parse=parse_percent_edges)
    force: bool = option(False, "replace an existing --out even if it is not an overlap run "
                         "folder")
    resume: bool = option(False, "keep the benchmarks an interrupted run with the same inputs "
                          "finished")


@dataclass
class DecontamOptions:
    """``decontaminate``."""

    n: int = option(13, "n-gram length (13 as GPT-3)", parse=positive_int)
    unit: str = option("words", "n-gram unit", parse=parse_unit, choices=unit_names)
    window: int = option(200, "characters also cut on each side of a match",
                         parse=non_negative_int)
    min_piece: int = option(200, "pieces shorter than this many characters are dropped",
                            parse=non_negative_int)
    max_pieces: int = option(10, "documents cut into more pieces are dropped", parse=positive_int)
    max_doc_freq: int = option(10, "n-grams in more corpus documents are ignored",
                               parse=positive_int)
    split: str = option("test", "benchmark split")
    bench_path: str | None = option(None, "benchmark file or folder",
                                    shown_default="cache, shared data")
    text_field: str = option("text", "JSON field / parquet column of text")
    gpt2_vocab: str | None = option(None, GPT2_VOCAB_HELP)
    allow_unreadable: bool = option(False, "write the output even if part of the corpus could "
                                    "not be read (that part is copied unsearched)")
    force: bool = option(False, "replace an existing output even if it is not a decontaminated "
                         "corpus")
    resume: bool = option(False, "continue an interrupted run with the same corpus and options "
                          "(the files it wrote are kept)")
    seed: int = 0


GRANULARITIES = ("stream", "example")
UNK_CHOICES = ("keep", "drop", "break")
MEASURES = ("positions", "distinct")


@dataclass(frozen=True)
class Convention:
    """``table6``: how the paper's n-gram overlap is counted (``overlap.table6``)."""

    n: int = option(8, "n-gram length", parse=positive_int)
    unit: str = option("gpt2", "n-gram unit (gpt2 is closest to the paper)", parse=parse_unit,
                       choices=unit_names)
    granularity: str = option("stream", "a split as one stream, or n-grams inside each example",
                              choices=GRANULARITIES)
    unk: str = option("keep", "<unk>: a word, removed, or a boundary n-grams do not cross",
                      choices=UNK_CHOICES)
    measure: str = option("positions", "share of test n-gram positions or of distinct n-grams",
                          choices=MEASURES)

    def check(self) -> None:
        find_unit(self.unit)
        choices = {"granularity": GRANULARITIES, "unk": UNK_CHOICES, "measure": MEASURES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise UserError(f"table6: {name} must be one of {', '.join(allowed)}, "
                                f"got {getattr(self, name)!r}")
        if self.n < 1:
            raise UserError(f"table6: n must be at least 1, got {self.n}")
