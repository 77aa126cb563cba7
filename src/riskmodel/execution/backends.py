"""Execution backends: one function over a list of chunks, results in input order.

* :class:`LocalBackend` -- processes on this machine
  (``concurrent.futures.ProcessPoolExecutor``, started with ``spawn``:
  fresh interpreters that inherit no threads or locks from the driver);
  with one worker, or one item, it runs in the driver's process.
* :class:`DaskBackend` -- ``dask.distributed``: a ``LocalCluster`` of
  ``workers`` single-threaded worker processes, or an existing cluster
  joined through its scheduler's address.

Both call ``fn(item)`` for each item, with single-threaded numerics
(BLAS and OpenMP pools limited to one thread, by threadpoolctl), so that a
result never depends on how many threads a worker has; with the chunk plan
of :mod:`riskmodel.execution.chunks` (which depends only on the data), the
results of every backend are identical, bit for bit. ``fn`` must be a
module-level function and its items and results picklable; it must not log
to MLflow (only the driver does).

Use a backend as a context manager so that the processes and clusters it
started are closed::

    with make_backend("dask", workers=2) as backend:
        results = backend.map(fit_chunk, chunks)
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

from riskmodel import __version__
from riskmodel.errors import InputError, Problem
from riskmodel.execution.threads import THREAD_VARS, call_single_threaded, single_threaded_worker

BACKENDS = ("local", "dask")
"""Values of ``--backend``."""

DASK_EXTRA = "pip install 'riskmodel[dask]'"

T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[int, int], None]
"""A progress callback: ``progress(done, total)``, called as items complete (never changes results)."""


class Backend(Protocol):
    """What every backend offers."""

    name: str

    def map(self, fn: Callable[[T], R], items: Sequence[T], progress: Progress | None = None) -> list[R]: ...

    def close(self) -> None: ...

    def describe(self) -> dict[str, str]: ...

    def __enter__(self) -> Backend: ...

    def __exit__(self, *exc: object) -> None: ...


def check_workers(workers: object) -> int | None:
    """``workers`` as a positive int (None stays None), or InputError."""
    if workers is None:
        return None
    try:
        n = int(workers)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        n = 0
    if n < 1 or (isinstance(workers, float) and workers != n):
        raise InputError(Problem(f"--workers must be a whole number >= 1, got {workers!r}", column="--workers"))
    return n


class LocalBackend:
    """Processes on this machine.

    Parameters
    ----------
    workers : int, optional
        Worker processes (default: the machine's CPU count). ``1`` runs every
        item in the driver's process, one after the other.

    Notes
    -----
    The process pool is started on the first ``map`` with more than one item
    and kept until :meth:`close` (a forecast and its backtest share it).
    Starting a worker costs an interpreter and the imports of numpy, pandas
    and scikit-learn (about a second each on this project's test machine).
    """

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = check_workers(workers)
        self._pool: ProcessPoolExecutor | None = None
        self._pool_size = 0

    @property
    def n_workers(self) -> int:
        return self.workers or os.cpu_count() or 1

    def map(self, fn: Callable[[T], R], items: Sequence[T], progress: Progress | None = None) -> list[R]:
        """``[fn(x) for x in items]``, in parallel, results in input order.

        ``progress(done, total)`` is called each time an item completes (in
        the order they complete), if given.
        """
        items = list(items)
        n = min(self.n_workers, len(items))
        if n <= 1:
            out = []
            for k, it in enumerate(items, start=1):
                out.append(call_single_threaded(fn, it))
                if progress is not None:
                    progress(k, len(items))
            return out
        try:
            if self._pool is None or self._pool_size < n:
                self.close()
                import multiprocessing

                self._pool = ProcessPoolExecutor(
                    max_workers=n, mp_context=multiprocessing.get_context("spawn"), initializer=_local_worker
                )
                self._pool_size = n
            futures = self._submit_deaf(fn, items)
            if progress is not None:
                for k, _ in enumerate(as_completed(futures), start=1):
                    progress(k, len(items))
            return [f.result() for f in futures]  # input order; the first failure in input order raises
        except KeyboardInterrupt:
            # Ctrl-C reaches the whole process group; the workers ignore it (_local_worker) and the
            # driver stops them here instead of waiting for their chunks to finish
            self.terminate()
            raise
        except BrokenProcessPool:
            self.close()
            raise RuntimeError(
                "a local worker process died (killed for lack of memory?); try a smaller --chunk-size or "
                "fewer --workers (in a script of your own, start riskmodel under `if __name__ == '__main__':`, "
                "since local workers are spawned and import the script again)"
            ) from None

    def _submit_deaf(self, fn: Callable[[T], R], items: list[T]) -> list[Any]:
        """Submit every item with Ctrl-C held back while the pool spawns its workers.

        The pool starts its worker processes as items are submitted. A worker
        only became deaf to Ctrl-C when its initialiser ran, after Python had
        started and imported riskmodel, so a Ctrl-C reaching the process group
        while workers started was mishandled (seen: the interrupt lost and the
        command finishing with exit 0). SIGINT is blocked in this thread during
        the submission: a process spawned now inherits the blocked signal (it is
        deaf from its first instruction, and its initialiser then ignores it),
        and a Ctrl-C pressed meanwhile stays pending and is delivered to the
        driver as soon as the mask is restored (KeyboardInterrupt, exit 130).
        """
        assert self._pool is not None
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return [self._pool.submit(call_single_threaded, fn, it) for it in items]
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def describe(self) -> dict[str, str]:
        """Backend settings for a run's params."""
        return {"backend": "local", "workers": str(self.n_workers)}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool, self._pool_size = None, 0

    def terminate(self) -> None:
        """Stop the workers now, abandoning their chunks (after an interrupt)."""
        if self._pool is not None:
            # ProcessPoolExecutor has no public terminate: its worker processes are in _processes
            procs = list(getattr(self._pool, "_processes", {}).values())
            for proc in procs:
                proc.terminate()
            self._pool.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                proc.join(timeout=5)
        self._pool, self._pool_size = None, 0

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _local_worker() -> None:
    """Initialiser of a local worker: single-threaded, and deaf to Ctrl-C (the driver stops it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    single_threaded_worker()


def _riskmodel_version() -> str:
    """The riskmodel version of the process it runs in (a Dask worker's, when sent there)."""
    return str(__version__)


class DaskBackend:
    """``dask.distributed``: a LocalCluster, or an existing cluster.

    Parameters
    ----------
    workers : int, optional
        Start a ``LocalCluster`` of this many worker processes, one thread
        each (default, when ``scheduler`` is not given: the CPU count).
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); the cluster's
        workers must have the same riskmodel version installed.
    timeout : float
        Seconds to wait for the scheduler (and for at least one worker).

    Raises
    ------
    InputError
        dask.distributed is not installed (names the ``riskmodel[dask]``
        extra), both ``workers`` and ``scheduler`` are given, the scheduler
        cannot be reached in ``timeout`` seconds, it has no workers, or its
        workers lack riskmodel or run another version.
    """

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None, timeout: float = 10.0):
        self.workers = check_workers(workers)
        self.scheduler = scheduler
        self.timeout = float(timeout)
        if workers is not None and scheduler:
            raise InputError(Problem(
                "give either --workers (start a local Dask cluster) or --scheduler (join a running one), not both",
                column="--scheduler"))
        try:
            import distributed
        except ImportError:
            raise InputError(Problem(
                f"--backend dask needs dask.distributed, which is not installed: {DASK_EXTRA}",
                column="--backend")) from None
        self.cluster: Any = None
        if scheduler:
            try:
                self.client = distributed.Client(scheduler, timeout=self.timeout, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise InputError(Problem(
                    f"cannot reach the Dask scheduler at {scheduler} within {self.timeout:g} s ({exc}); "
                    "is `dask scheduler` running there and the port open?", column="--scheduler")) from None
            try:
                self._check_cluster()
            except BaseException:
                self.client.close()
                raise
        else:
            import logging

            import dask

            # Dask's statistical profiler samples the running task's stack every
            # 10 ms; on riskmodel's deep pure-Python fits that cost about a quarter
            # of the task's CPU time (benchmarks/scale), so the workers we start
            # run without it. The nannies pass this config to their workers.
            # Dask's nannies also set MALLOC_TRIM_THRESHOLD_=65536 in their workers,
            # so that glibc gives freed memory back at once; riskmodel's fits
            # allocate and free large temporary arrays all the time, and with that
            # setting a gradient-boosting fit took twice the CPU time it takes in a
            # plain process (300 series: 16.8 s against 8.8 s). Our workers keep
            # glibc's defaults (and Dask's one-thread BLAS and OpenMP settings).
            environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items()
                       if k != "MALLOC_TRIM_THRESHOLD_"}
            with dask.config.set({"distributed.worker.profile.enabled": False,
                                  "distributed.nanny.pre-spawn-environ": environ}):
                self.cluster = distributed.LocalCluster(
                    n_workers=self.workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                    dashboard_address=None, silence_logs=logging.ERROR,
                    env={v: "1" for v in THREAD_VARS},
                )
            self.client = distributed.Client(self.cluster, set_as_default=False)
        from riskmodel.execution.dask_plugin import SingleThreaded

        self.client.register_plugin(SingleThreaded())

    def _check_cluster(self) -> None:
        try:
            self.client.wait_for_workers(1, timeout=self.timeout)
        except (TimeoutError, OSError):
            raise InputError(Problem(
                f"the Dask scheduler at {self.scheduler} has no workers (waited {self.timeout:g} s); "
                f"start some with `dask worker {self.scheduler} --nthreads 1`", column="--scheduler")) from None
        mine = _riskmodel_version()
        try:
            theirs = self.client.run(_riskmodel_version)
        except Exception:  # noqa: BLE001 - whatever unpickling the function fails with on a worker
            raise InputError(Problem(
                f"the Dask workers of {self.scheduler} cannot import riskmodel: install riskmodel {mine} "
                "on every worker machine", column="--scheduler")) from None
        other = {a: v for a, v in theirs.items() if v != mine}
        if other:
            shown = ", ".join(f"{a} has {v}" for a, v in list(other.items())[:3])
            raise InputError(Problem(
                f"the Dask workers must run riskmodel {mine} like this machine: {shown}", column="--scheduler"))

    def map(self, fn: Callable[[T], R], items: Sequence[T], progress: Progress | None = None) -> list[R]:
        """``[fn(x) for x in items]`` on the cluster, results in input order.

        The items are sent to the workers first (``scatter``) so that large
        chunks do not travel inside the task graph. ``progress(done, total)``
        is called each time an item completes, if given.
        """
        items = list(items)
        if not items:
            return []
        data = self.client.scatter(items)
        futures = self.client.map(call_single_threaded, [fn] * len(items), data, pure=False)
        try:
            if progress is not None:
                import distributed

                # this client is not the default one: as_completed is given its loop
                for k, _ in enumerate(distributed.as_completed(futures, loop=self.client.loop,
                                                               raise_errors=False), start=1):
                    progress(k, len(items))
            return list(self.client.gather(futures))
        finally:
            self.client.cancel(futures + list(data))

    def describe(self) -> dict[str, str]:
        """Backend settings for a run's params."""
        if self.scheduler:
            return {"backend": "dask", "scheduler": str(self.scheduler),
                    "workers": str(len(self.client.scheduler_info().get("workers", {})))}
        return {"backend": "dask", "workers": str(self.workers or os.cpu_count() or 1)}

    def close(self) -> None:
        """Close the client, and the LocalCluster if this backend started it
        (never a cluster it joined)."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def __enter__(self) -> DaskBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_backend(
    backend: str = "local", workers: int | None = None, scheduler: str | None = None, timeout: float = 10.0
) -> LocalBackend | DaskBackend:
    """The backend named by ``--backend`` (see the module notes).

    ``scheduler`` is only for ``dask``; ``workers`` for both.
    """
    if backend not in BACKENDS:
        raise InputError(Problem(f"unknown value {backend!r} for --backend; valid: {', '.join(BACKENDS)}",
                                 column="--backend"))
    if backend == "local":
        if scheduler:
            raise InputError(Problem("--scheduler needs --backend dask", column="--scheduler"))
        return LocalBackend(workers)
    return DaskBackend(workers, scheduler, timeout)
