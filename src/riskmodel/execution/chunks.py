"""Deterministic chunking of a panel's series.

A chunk is a set of series fitted together, by one worker, as one model. The
plan depends only on the series keys and ``chunk_size``, never on the
backend or the number of workers, so that every backend fits the same
chunks and returns the same numbers, bit for bit.

The rule (category-major packing):

1. The series are grouped by category (the unit that ``auto`` pools its
   backtest scores over, and that the global GBM distinguishes by a
   categorical feature), categories in sorted order.
2. A category with at most ``chunk_size`` series is kept whole. Whole
   categories are packed, in order, into a chunk until the next one would
   not fit.
3. A category with more than ``chunk_size`` series is split into
   ``ceil(size / chunk_size)`` parts of near-equal size (contiguous in area
   order), each its own chunk: 5,001 series with ``chunk_size = 5000`` make
   two chunks of 2,501 and 2,500, not one of 5,000 and one of 1.
4. Inside a chunk the series keep the panel's own order (area, category), so
   a panel of at most ``chunk_size`` series is one chunk fitted exactly as it
   would be without chunking.

Effect on results: models that pool across series (``auto``'s per-category
selection, the global GBM, ``auto``'s small-category pooling) pool within a
chunk only. With whole categories in a chunk, ``auto`` chooses its models per
category exactly over the series it would use unchunked; the GBM candidate
is trained on the chunk's series (up to its ``max_rows`` subsample, 400,000
rows, about 1,900 five-year weekly series, so a chunk of a few thousand series
loses it little). Models fitted series by series (seasonal naive, historical
mean, ETS) do not depend on the chunking; the vectorised per-series fits (the
GLMs, the detectors' baselines) iterate until every series of a chunk has
converged, so another chunking changes them in the last digits only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from riskmodel.errors import InputError, Problem

DEFAULT_CHUNK_SIZE = 5000
"""Series per chunk by default: every panel of the sample city (225 series) or
Portland (120) is one chunk, and 10,000 grid cells make two chunks, one per
core of a two-core machine (benchmarks/scale/results.md)."""


def check_chunk_size(chunk_size: object, option: str = "--chunk-size") -> int:
    """``chunk_size`` as a positive int, or InputError naming ``option``."""
    try:
        n = int(chunk_size)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InputError(Problem(f"{option} must be a whole number of series >= 1, got {chunk_size!r}")) from None
    if isinstance(chunk_size, float) and chunk_size != n or n < 1:
        raise InputError(Problem(f"{option} must be a whole number of series >= 1, got {chunk_size!r}"))
    return n


def plan_chunks(series: Sequence[tuple[str, str]], chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[np.ndarray]:
    """Split series into chunks (see the module notes).

    Parameters
    ----------
    series : sequence of (area_id, category)
        The panel's series in its own (column) order.
    chunk_size : int
        At most this many series per chunk (>= 1).

    Returns
    -------
    list of ndarray of int
        Column positions of each chunk, ascending inside a chunk; together
        they cover every position exactly once. Empty list for no series.
    """
    size = check_chunk_size(chunk_size, "chunk_size")
    n = len(series)
    if n == 0:
        return []
    if n <= size:
        return [np.arange(n)]
    cats = np.array([s[1] for s in series], dtype=object)
    chunks: list[np.ndarray] = []
    current: list[np.ndarray] = []
    filled = 0
    for cat in sorted(set(cats.tolist())):
        cols = np.flatnonzero(cats == cat)
        if len(cols) > size:
            if current:
                chunks.append(np.sort(np.concatenate(current)))
                current, filled = [], 0
            parts = -(-len(cols) // size)
            chunks.extend(np.array_split(cols, parts))
            continue
        if filled + len(cols) > size:
            chunks.append(np.sort(np.concatenate(current)))
            current, filled = [], 0
        current.append(cols)
        filled += len(cols)
    if current:
        chunks.append(np.sort(np.concatenate(current)))
    return chunks
