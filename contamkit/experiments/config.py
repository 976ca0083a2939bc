"""An experiment's config: one JSON (or TOML) file naming the corpus, the benchmark, what to
inject how often, the models to train and how to score them.

Sections are checked key by key: a typo is an error naming the key (and the closest known
one), never a silently ignored setting. Paths that start with ``$DATA/`` are under the shared
data directory (``common.paths.shared_data_dir()``); other relative paths are relative to the
working directory. The ``train`` section holds ``training.config.TrainConfig`` keys shared by
every model; each entry of ``models`` adds its own (sizes, usually).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import types
import typing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from contamkit.common.errors import UserError
from contamkit.common.files import read_settings
from contamkit.common.paths import shared_data_dir
from training.config import RUN_CONTROL_KEYS, TrainConfig

DATA_PREFIX = "$DATA/"
# Set by the runner for every model; a config that sets them would be overridden silently.
RUNNER_TRAIN_KEYS = ("data_dir", "out_dir", "tokenizer")


@dataclass
class CorpusSection:
    path: str = ""  # the clean training corpus (file or directory, any contamkit.corpus format)
    text_field: str = "text"
    limit: int | None = None  # first documents only (small configs)


@dataclass
class BenchmarkSection:
    name: str = "lambada"
    split: str | None = None
    variant: str | None = None
    path: str | None = None  # --bench-path
    limit: int = 400  # the experiment's examples are the first ``limit`` of the split


@dataclass
class InjectionSection:
    counts: list[int] = field(default_factory=lambda: [1, 4, 16])  # copies, one group each
    per_count: int = 40  # examples injected at each count; the other examples are held out
    seed: int = 0


@dataclass
class OverlapSection:
    n: int = 8
    unit: str = "words"


@dataclass
class MeasuresSection:
    min_k: float = 0.2  # Min-K% Prob's k
    batch_size: int = 16


@dataclass
class ExtractionSection:
    prefix_tokens: int = 32
    suffix_tokens: int = 50
    heldout: int = 40  # held-out examples also checked, as a control (0: none)


@dataclass
class AnalysisSection:
    n_boot: int = 1000
    n_perm: int = 1000
    seed: int = 0


@dataclass
class ExperimentConfig:
    name: str = "experiment"
    out_dir: str = ""  # default out/experiments/<name>
    corpus: CorpusSection = field(default_factory=CorpusSection)
    benchmark: BenchmarkSection = field(default_factory=BenchmarkSection)
    injection: InjectionSection = field(default_factory=InjectionSection)
    tokenizer: str = "bpe:2048"  # "bpe:N" (trained on the clean corpus), "gpt2" or a directory
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig keys for every model
    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> TrainConfig keys
    reference: bool = True  # also train every model on the clean corpus (reference ratio)
    overlap: OverlapSection = field(default_factory=OverlapSection)
    measures: MeasuresSection = field(default_factory=MeasuresSection)
    extraction: ExtractionSection = field(default_factory=ExtractionSection)
    analysis: AnalysisSection = field(default_factory=AnalysisSection)
    device: str = "auto"

    def digest(self) -> str:
        """sha256 of everything that decides the results: not ``out_dir``, ``device`` or the
        trainer's run-control keys (threads, logging and checkpoint intervals...)."""
        values = asdict(self)
        values.pop("out_dir")
        values.pop("device")
        values["train"] = _decisive(values["train"])
        values["models"] = {m: _decisive(v) for m, v in values["models"].items()}
        return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()

    def train_config(self, model: str, data_dir: Path, out_dir: Path, tokenizer: str,
                     where: str | None = None) -> TrainConfig:
        """The bundled trainer's config for one model on one prepared corpus (``where``
        names the config in messages)."""
        from training.config import from_dict

        values = {**self.train, **self.models[model], "data_dir": str(data_dir),
                  "out_dir": str(out_dir), "tokenizer": tokenizer}
        if self.device != "auto":
            values["device"] = self.device
        return from_dict(values, f"{where or 'experiment ' + self.name}: model {model}")


def _decisive(train: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in train.items() if k not in RUN_CONTROL_KEYS}


def resolve_path(path: str) -> Path:
    """``$DATA/x`` -> the shared data directory's x; anything else as given."""
    if path.startswith(DATA_PREFIX):
        return shared_data_dir() / path[len(DATA_PREFIX):]
    return Path(path).expanduser()


def load_experiment(path: str | Path, overrides: dict[str, Any] | None = None
                    ) -> ExperimentConfig:
    """Read, check and return the config; ``overrides`` replace top-level keys (tests, CLI)."""
    path = Path(path)
    values = {**read_settings(path, "experiment config"), **(overrides or {})}
    cfg = _build(ExperimentConfig, values, str(path))
    _validate(cfg, str(path))
    return cfg


def _build(cls: type, values: Any, where: str) -> Any:
    """A dataclass from a mapping, recursing into section dataclasses, checking every type."""
    if not isinstance(values, dict):
        raise UserError(f"{where}: expected a table, got {values!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    out = {}
    for key, value in values.items():
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UserError(f"{where}: unknown key '{key}'{hint}")
        kind = hints[key]
        if isinstance(kind, type) and hasattr(kind, "__dataclass_fields__"):
            out[key] = _build(kind, value, f"{where}: {key}")
        else:
            out[key] = _check_type(value, kind, f"{where}: {key}")
    return cls(**out)


def _check_type(value: Any, hint: Any, where: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _check_type(value, next(a for a in args if a is not type(None)), where)
    if origin is list:
        if not isinstance(value, list):
            raise UserError(f"{where} must be a list, got {value!r}")
        return [_check_type(v, args[0], where) for v in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise UserError(f"{where} must be a table, got {value!r}")
        return {k: _check_type(v, args[1], f"{where}.{k}") for k, v in value.items()}
    if hint is Any:
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise UserError(f"{where} must be {hint.__name__}, got {value!r}")
    return value


def _plain_name(name: str) -> bool:
    """A name that stays one folder inside the output directory: no separator, no '..'."""
    return bool(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*", name)) and ".." not in name


def _validate(cfg: ExperimentConfig, where: str) -> None:
    if not cfg.corpus.path:
        raise UserError(f"{where}: corpus.path is required")
    if not cfg.models:
        raise UserError(f"{where}: 'models' must name at least one model")
    for model in cfg.models:  # each names folders under the output directory
        if not _plain_name(model):
            raise UserError(f"{where}: model name {model!r} must be a plain name (letters, "
                            "digits, '.', '_', '-'), not a path")
    if not _plain_name(cfg.name):
        raise UserError(f"{where}: name {cfg.name!r} must be a plain name, not a path")
    inj = cfg.injection
    if not inj.counts or any(k < 1 for k in inj.counts) or len(set(inj.counts)) != len(inj.counts):
        raise UserError(f"{where}: injection.counts must be distinct positive copy counts, got "
                        f"{inj.counts}")
    if inj.per_count < 1:
        raise UserError(f"{where}: injection.per_count must be positive")
    if cfg.benchmark.limit <= inj.per_count * len(inj.counts):
        raise UserError(f"{where}: benchmark.limit {cfg.benchmark.limit} leaves no held-out "
                        f"examples after injecting {inj.per_count} x {len(inj.counts)}")
    if not 0 < cfg.measures.min_k <= 1:
        raise UserError(f"{where}: measures.min_k must be in (0, 1]")
    ex = cfg.extraction
    if ex.prefix_tokens < 1 or ex.suffix_tokens < 1 or ex.heldout < 0:
        raise UserError(f"{where}: extraction needs prefix_tokens, suffix_tokens >= 1, "
                        f"heldout >= 0")
    for key in (*cfg.train, *(k for m in cfg.models.values() for k in m)):
        if key in RUNNER_TRAIN_KEYS:
            raise UserError(f"{where}: '{key}' is set by the experiment, not the config")
        if key not in {f.name for f in fields(TrainConfig)}:
            close = difflib.get_close_matches(key, [f.name for f in fields(TrainConfig)], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UserError(f"{where}: unknown training key '{key}'{hint}")
    for model in cfg.models:  # type-check every model's trainer config now, not mid-run
        cfg.train_config(model, Path("."), Path("."), "gpt2", where)
