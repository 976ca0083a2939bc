"""Loaded by each worker of a local Dask cluster (``preload``): it dies with the build, and a
Ctrl-C reaches only the build (which closes the cluster), never a worker's own traceback.

Without it, a ``kill -9`` of the build would leave the cluster's worker processes running, and
a worker restarted by Dask would print a traceback on Ctrl-C.
"""

from __future__ import annotations

import signal
import threading

from contamkit.common.processes import die_with_parent


def dask_setup(worker) -> None:  # noqa: ARG001 - Dask's preload hook signature
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
