"""The shifted-window arithmetic every feature uses, on wide arrays of series.

All data-derived features are computed on a wide array ``Y`` of shape
(n_periods, n_series) with rows in time order. The helpers here take a
``gap`` (>= 1): a feature for row ``t`` uses rows ``<= t - gap`` only, so
``gap=1`` is "data up to the previous period" (no leakage) and ``gap=k`` is
what a direct k-step-ahead forecaster may use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def shift(y: np.ndarray, k: int) -> np.ndarray:
    """``out[t] = y[t - k]`` along axis 0 (NaN where t - k < 0)."""
    out = np.full(y.shape, np.nan)
    if k < y.shape[0]:
        out[k:] = y[: y.shape[0] - k]
    return out


def rolling_mean(y: np.ndarray, window: int, gap: int = 1) -> np.ndarray:
    """Mean of rows ``t-gap-window+1 .. t-gap`` (NaN until the window is full).

    Computed from cumulative sums: O(n) for every series at once.
    """
    n = y.shape[0]
    c = np.vstack([np.zeros((1,) + y.shape[1:]), np.cumsum(y, axis=0)])
    out = np.full(y.shape, np.nan)
    # row t uses c[t-gap+1] - c[t-gap-window+1]
    t0 = gap + window - 1
    if t0 < n:
        hi = c[t0 - gap + 1 : n - gap + 1]
        lo = c[: n - t0]
        out[t0:] = (hi - lo) / window
    return out


def fourier_terms(periods: pd.DatetimeIndex, freq: str, order: int) -> np.ndarray:
    """Sine and cosine of the time of year, ``order`` pairs: shape (n_periods, 2*order).

    Time of year is the day of year / 365.25 (so weekly and monthly periods
    line up with the calendar even across 53-week years).
    """
    periods = pd.DatetimeIndex(periods)
    frac = (periods.day_of_year.to_numpy() - 1) / 365.25
    cols = []
    for k in range(1, order + 1):
        cols += [np.sin(2 * np.pi * k * frac), np.cos(2 * np.pi * k * frac)]
    return np.column_stack(cols) if cols else np.empty((len(periods), 0))


__all__ = ["fourier_terms", "rolling_mean", "shift"]
