"""Baselines: naive, seasonal naive, historical mean (vectorised over series).

Intervals are distribution-free: the point forecast plus the empirical
quantiles of the method's own in-sample errors at each horizon k (for the
naive method ``y[t+k] - y[t]``), clipped at zero. These are the skill
references of every backtest.
"""

from __future__ import annotations

import numpy as np

from riskmodel.data.wide import WidePanel
from riskmodel.forecast.base import CountForecaster
from riskmodel.forecast.distributions import empirical_quantiles


def _k_step_errors(y: np.ndarray, lag: int) -> np.ndarray:
    """``y[t] - y[t - lag]`` for every t >= lag: shape (T - lag, n)."""
    return y[lag:] - y[:-lag] if lag < y.shape[0] else np.empty((0, y.shape[1]))


class Naive(CountForecaster):
    """Last value carried forward."""

    name = "naive"

    def _fit(self, wp: WidePanel) -> None:
        self.fitted_[1:] = wp.y[:-1]

    def _predict(self, h: int, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y = self.wide_.y
        mean = np.repeat(y[-1:], h, axis=0)
        errs = []
        for k in range(1, h + 1):
            e = _k_step_errors(y, k)
            if e.shape[0] < 3:  # too few k-step errors: random-walk scaling of 1-step errors
                e = _k_step_errors(y, 1) * np.sqrt(k)
            errs.append(e)
        return mean, empirical_quantiles(mean, errs, probs)


class SeasonalNaive(CountForecaster):
    """The value of the same season one cycle earlier (12 months, 52 weeks, 7 days).

    Needs two full seasons; a shorter series falls back to naive.
    """

    name = "snaive"
    fallback = "naive"

    def __init__(self, season: int | None = None):
        self.season = season

    def min_periods(self, wp: WidePanel) -> int:
        return 2 * (self.season or wp.season)

    def _fit(self, wp: WidePanel) -> None:
        m = self.season or wp.season
        self.m_ = m
        if m < wp.y.shape[0]:
            self.fitted_[m:] = wp.y[:-m]

    def _predict(self, h: int, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y, m = self.wide_.y, self.m_
        T = y.shape[0]
        if T < m:
            mean = np.repeat(y[-1:], h, axis=0)
        else:
            mean = np.stack([y[T - m + ((k - 1) % m)] for k in range(1, h + 1)])
        errs = []
        for k in range(1, h + 1):
            lag = m * int(np.ceil(k / m))
            e = _k_step_errors(y, lag)
            if e.shape[0] < 3:
                e = _k_step_errors(y, 1) * np.sqrt(k)
            errs.append(e)
        return mean, empirical_quantiles(mean, errs, probs)


class HistoricalMean(CountForecaster):
    """Mean of the last ``window`` periods (all of each series' history by default).

    Intervals: the empirical quantiles of ``y - mean`` over that window.
    """

    name = "hmean"

    def __init__(self, window: int | None = None):
        self.window = window

    def _fit(self, wp: WidePanel) -> None:
        y = wp.y
        T = y.shape[0]
        assert wp.n_obs is not None
        start = np.maximum(T - np.maximum(wp.n_obs, 1), 0)
        if self.window:
            start = np.maximum(start, T - self.window)
        mask = np.arange(T)[:, None] >= start[None, :]
        self.mask_ = mask
        self.level_ = np.where(mask, y, 0).sum(0) / mask.sum(0)
        self.fitted_[:] = self.level_[None, :]

    def _predict(self, h: int, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y = self.wide_.y
        mean = np.repeat(self.level_[None, :], h, axis=0)
        e = np.where(self.mask_, y - self.level_[None, :], np.nan)
        return mean, empirical_quantiles(mean, [e] * h, probs)
