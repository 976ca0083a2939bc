"""Where ``build-filter`` and ``overlap`` run: in this process (``overlap/``), or spilled,
sharded or on a Dask cluster (this package). The one place that chooses, so both commands
(and any library caller) choose alike; ``overlap/`` itself never imports this package.

>>> from overlap.options import BuildOptions
>>> BuildOptions(shards=4).scaled(), BuildOptions().scaled()
(True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from overlap import build

if TYPE_CHECKING:
    from overlap import measure

# The scaled paths and ``overlap.measure`` (matplotlib) are imported where they run: a plain
# build-filter then starts in a fraction of a second (bench/bench_startup.py).


def build_filter(corpus: str | Path, out: str | Path, opts: build.BuildOptions) -> dict:
    """Build the filter of ``corpus`` in one process, or with the spilled build when any
    scale-out option is set (``--scheduler``, ``--shards``, ``--max-memory``); returns the
    summary figures."""
    if opts.scaled():
        from contamkit.scale.dask_build import build_scaled

        return build_scaled(corpus, out, opts)
    return build.build_filter(corpus, out, opts)


def run_overlap(benches: Sequence[str], filter_path: str | Path, out: str | Path,
                opts: measure.OverlapOptions) -> list[dict]:
    """Measure benchmarks against the filter, on the Dask cluster ``opts.scheduler`` if given;
    returns the summaries written."""
    from overlap import measure

    if opts.scheduler is None:
        return measure.run_overlap(benches, filter_path, out, opts)
    from contamkit.scale.dask_overlap import distributed_measure

    with distributed_measure(opts.scheduler, filter_path, opts.gpt2_vocab,
                             opts.connect_timeout) as on_cluster:
        return measure.run_overlap(benches, filter_path, out, opts, on_cluster)
