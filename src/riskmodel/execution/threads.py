"""One thread per worker for BLAS and OpenMP, so that a result never depends on thread counts."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS")
"""Environment variables that size the numeric libraries' thread pools."""


def _load_numeric_libraries() -> None:
    """Import the libraries that bring their own thread pools (numpy's and
    scipy's OpenBLAS, scikit-learn's OpenMP), so that threadpoolctl sees them."""
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401
    import sklearn.ensemble  # noqa: F401


def single_threaded_worker() -> None:
    """Set up a worker process for good: one thread for BLAS and OpenMP.

    Sets the usual environment variables (for libraries loaded later) and
    limits the pools already loaded; never undone (the process is a worker).
    """
    for var in THREAD_VARS:
        os.environ[var] = "1"
    _load_numeric_libraries()
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def call_single_threaded(fn: Callable[[T], R], item: T) -> R:
    """``fn(item)`` with BLAS and OpenMP limited to one thread (restored after)."""
    _load_numeric_libraries()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return fn(item)


__all__ = ["THREAD_VARS", "call_single_threaded", "single_threaded_worker"]
