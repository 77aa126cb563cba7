"""Where per-series fits run: in this process, in local processes, or on Dask.

* :func:`plan_chunks` -- which series are fitted together (depends only on
  the data and ``chunk_size``, see :mod:`riskmodel.execution.chunks`);
* :func:`make_backend` -- ``local`` (processes on this machine) or ``dask``
  (a LocalCluster, or a running cluster by its scheduler's address), each
  with one ``map(fn, items)`` returning results in input order
  (:mod:`riskmodel.execution.backends`).

Forecasts, backtests and detections are identical, bit for bit, whichever
backend and however many workers run them (``tests/execution``); a user's
guide to clusters is ``docs/dask.md``.
"""

from riskmodel.execution.backends import BACKENDS, DaskBackend, LocalBackend, make_backend
from riskmodel.execution.chunks import DEFAULT_CHUNK_SIZE, check_chunk_size, plan_chunks

__all__ = [
    "BACKENDS",
    "DEFAULT_CHUNK_SIZE",
    "DaskBackend",
    "LocalBackend",
    "check_chunk_size",
    "make_backend",
    "plan_chunks",
]
