"""Where ``build-filter`` and ``overlap`` run: in this process (``overlap/``), or spilled,
sharded or on a Dask cluster (this package). The one place that chooses, so both commands
(and any library caller) choose alike; ``overlap/`` itself never imports this package.

>>> from overlap.build import BuildOptions
>>> BuildOptions(shards=4).scaled(), BuildOptions().scaled()
(True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from contamkit.scale.dask_build import build_scaled
from contamkit.scale.dask_overlap import distributed_measure
from overlap import build, measure


def build_filter(corpus: str | Path, out: str | Path, opts: build.BuildOptions) -> dict:
    """Build the filter of ``corpus`` in one process, or with the spilled build when any
    scale-out option is set (``--scheduler``, ``--shards``, ``--max-memory``); returns the
    summary figures."""
    if opts.scaled():
        return build_scaled(corpus, out, opts)
    return build.build_filter(corpus, out, opts)


def run_overlap(benches: Sequence[str], filter_path: str | Path, out: str | Path,
                opts: measure.OverlapOptions) -> list[dict]:
    """Measure benchmarks against the filter, on the Dask cluster ``opts.scheduler`` if given;
    returns the summaries written."""
    if opts.scheduler is None:
        return measure.run_overlap(benches, filter_path, out, opts)
    with distributed_measure(opts.scheduler, filter_path, opts.gpt2_vocab,
                             opts.connect_timeout) as on_cluster:
        return measure.run_overlap(benches, filter_path, out, opts, on_cluster)
