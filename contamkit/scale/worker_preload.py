"""Loaded by each worker of a local Dask cluster (``preload``): it dies with the build.

Without it, a ``kill -9`` of the build would leave the cluster's worker processes running.
"""

from __future__ import annotations

from contamkit.common.processes import die_with_parent


def dask_setup(worker) -> None:  # noqa: ARG001 - Dask's preload hook signature
    die_with_parent()
