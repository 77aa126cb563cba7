"""The Dask worker plugin of :class:`riskmodel.execution.backends.DaskBackend`.

A module of its own because it imports ``distributed`` (the optional
``riskmodel[dask]`` extra) at import time; the plugin is pickled by the
client and unpickled on every worker, which must have riskmodel installed.
"""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from riskmodel.execution.threads import single_threaded_worker


class SingleThreaded(WorkerPlugin):
    """Every worker process: BLAS and OpenMP limited to one thread, for good."""

    name = "riskmodel-single-threaded"

    def setup(self, worker: Any) -> None:  # noqa: ARG002 - the WorkerPlugin signature
        single_threaded_worker()
