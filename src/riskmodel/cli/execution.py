"""The execution options of ``riskmodel forecast``, ``backtest`` and ``detect``.

``--backend local|dask``, ``--workers N``, ``--scheduler ADDRESS`` and
``--chunk-size N``; :func:`check_execution` refuses bad combinations before
anything is started or read, :func:`open_backend` starts (or joins) what they
describe.
"""

from __future__ import annotations

import importlib.util
from typing import Annotated

import typer

from riskmodel.errors import InputError, Problem
from riskmodel.execution.backends import (
    BACKENDS,
    DASK_EXTRA,
    DaskBackend,
    LocalBackend,
    check_workers,
    make_backend,
)
from riskmodel.execution.chunks import DEFAULT_CHUNK_SIZE, check_chunk_size

BackendOpt = Annotated[str, typer.Option(
    "--backend", help="Where the per-series fits run: local (processes on this machine) or dask.")]
WorkersOpt = Annotated[int | None, typer.Option(
    "--workers", help="Worker processes (local: default the CPU count, 1 = this process; dask: start a LocalCluster of N).")]
SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", help="dask: join a running cluster by its scheduler's address, e.g. tcp://HOST:8786 (see docs/dask.md).")]
ChunkSizeOpt = Annotated[int, typer.Option(
    "--chunk-size", help="Series fitted together per task. Results depend on it (pooling models pool within a chunk), never on the backend.")]

SCHEDULER_TIMEOUT = 10.0
"""Seconds the command line waits for a ``--scheduler`` (and its first worker)."""


def check_execution(backend: str, workers: int | None, scheduler: str | None,
                    chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
    """Refuse bad execution options (InputError listing the valid values),
    without starting anything."""
    if backend not in BACKENDS:
        raise InputError(Problem(f"unknown value {backend!r} for --backend; valid: {', '.join(BACKENDS)}",
                                 column="--backend"))
    check_workers(workers)
    check_chunk_size(chunk_size)
    if scheduler and backend != "dask":
        raise InputError(Problem("--scheduler needs --backend dask", column="--scheduler"))
    if backend == "dask":
        if scheduler and workers is not None:
            raise InputError(Problem(
                "give either --workers (start a local Dask cluster) or --scheduler (join a running one), not both",
                column="--scheduler"))
        if importlib.util.find_spec("distributed") is None:
            raise InputError(Problem(
                f"--backend dask needs dask.distributed, which is not installed: {DASK_EXTRA}", column="--backend"))


def open_backend(backend: str, workers: int | None, scheduler: str | None) -> LocalBackend | DaskBackend:
    """The backend the options describe (a context manager: use it in ``with``)."""
    return make_backend(backend, workers, scheduler, timeout=SCHEDULER_TIMEOUT)


def describe(ex: LocalBackend | DaskBackend, chunk_size: int) -> dict[str, str]:
    """Execution settings for a run's params and tags."""
    return {f"execution.{k}": v for k, v in {**ex.describe(), "chunk_size": str(chunk_size)}.items()}
