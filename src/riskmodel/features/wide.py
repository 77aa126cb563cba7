"""Wide arrays of series and the shifted-window arithmetic every feature uses.

All data-derived features are computed on a wide array ``Y`` of shape
(n_periods, n_series) with rows in time order. The helpers here take a
``gap`` (>= 1): a feature for row ``t`` uses rows ``<= t - gap`` only, so
``gap=1`` is "data up to the previous period" (no leakage) and ``gap=k`` is
what a direct k-step-ahead forecaster may use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.data.panel import IncidentPanel
from riskmodel.errors import InputError, Problem

SEASON = {"D": 7, "W": 52, "M": 12}
"""The main seasonal period at each frequency (weekday, week of year, month of year)."""

PERIODS_PER_YEAR = {"D": 365.25, "W": 365.25 / 7, "M": 12.0}


@dataclass
class WidePanel:
    """A panel as an array: ``y[t, j]`` is the count of series ``series[j]`` in ``periods[t]``.

    Attributes
    ----------
    y : ndarray, shape (n_periods, n_series), float
    periods : DatetimeIndex, length n_periods, consecutive at ``freq``
    series : list of (area_id, category)
    freq : {'D', 'W', 'M'}
    n_obs : ndarray (n_series,) of int, optional
        Periods from each series' first row in the counts to the end (a
        series that starts late has zeros before; models treat only the
        last ``n_obs`` periods as its history when checking its length).
    """

    y: np.ndarray
    periods: pd.DatetimeIndex
    series: list[tuple[str, str]]
    freq: str
    n_obs: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.n_obs is None:
            self.n_obs = np.full(self.y.shape[1], self.y.shape[0], dtype=int)

    @classmethod
    def from_panel(cls, panel: IncidentPanel, gaps: str = "zero") -> WidePanel:
        """Wide array of a panel.

        Parameters
        ----------
        gaps : {'zero', 'error'}
            A period with no row inside the panel's span: ``'zero'`` counts it
            as zero incidents (right for counts made from an event log, see
            :mod:`riskmodel.data.panel`); ``'error'`` raises an InputError
            naming the series and the missing periods.
        """
        if gaps not in ("zero", "error"):
            raise InputError(Problem(f"unknown value {gaps!r} for gaps; valid: zero, error"))
        w = panel.to_wide(fill=None)
        if gaps == "error" and w.isna().any().any():
            miss = w.isna()
            bad = [c for c in w.columns if miss[c].any()]
            first = bad[0]
            per = w.index[miss[first]][:5]
            raise InputError(
                Problem(
                    f"{len(bad)} series have missing periods, e.g. {first[0]}/{first[1]} at "
                    + ", ".join(str(p.date()) for p in per)
                    + " (use gaps='zero' to count them as zero incidents)",
                    column="period",
                )
            )
        seen = w.notna().to_numpy()
        first = np.where(seen.any(axis=0), seen.argmax(axis=0), len(w))
        y = w.fillna(0).to_numpy(dtype=float)
        return cls(
            y=y,
            periods=pd.DatetimeIndex(w.index),
            series=[tuple(map(str, c)) for c in w.columns],
            freq=panel.freq,
            n_obs=len(w) - first,
        )

    @property
    def season(self) -> int:
        return SEASON[self.freq]

    def head(self, n: int) -> WidePanel:
        """The first ``n`` periods (a training cut)."""
        assert self.n_obs is not None
        n_obs = np.clip(self.n_obs - (len(self.periods) - n), 0, None)
        return WidePanel(self.y[:n], self.periods[:n], self.series, self.freq, n_obs)

    def subset(self, cols: np.ndarray) -> WidePanel:
        """Some of the series (columns)."""
        assert self.n_obs is not None
        cols = np.asarray(cols)
        return WidePanel(self.y[:, cols], self.periods, [self.series[j] for j in cols], self.freq, self.n_obs[cols])

    def future(self, h: int) -> pd.DatetimeIndex:
        """The ``h`` period start dates after the last one."""
        from riskmodel.data.panel import period_range

        off = pd.tseries.frequencies.to_offset({"D": "D", "W": "W-MON", "M": "MS"}[self.freq])
        start = self.periods[-1] + off
        return period_range(start, start + (h - 1) * off, self.freq)

    def to_long(self, values: np.ndarray, name: str = "value") -> pd.DataFrame:
        """Long ``area_id, category, period, <name>`` from an array shaped like ``y``."""
        n_t, n_s = values.shape
        return pd.DataFrame(
            {
                "area_id": np.repeat([s[0] for s in self.series], n_t),
                "category": np.repeat([s[1] for s in self.series], n_t),
                "period": np.tile(self.periods.to_numpy(), n_s),
                name: values.T.ravel(),
            }
        )


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
