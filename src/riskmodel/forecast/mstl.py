"""MSTL (``mstl``): multiple seasonal decomposition, seasonal naive seasons and a forecast of the rest.

As statsforecast 2.1's ``MSTL`` (Bandara, Hyndman and Bergmeir 2021), series
by series:

1. the series is decomposed by statsmodels' ``STL`` iterated over the
   seasonal periods, shortest first (twice when there are several),
   with seasonal windows 11, 15, ... (R's ``forecast::mstl``) and
   ``seasonal_deg=0``; a period is used when the series spans more than two
   of its cycles (daily data: 7 and 365 days; weekly: 52 weeks; monthly: 12
   months);
2. each seasonal component is forecast by repeating its last cycle
   (seasonal naive);
3. the rest (trend + remainder) is forecast by ``trend``: ``theta`` (the
   standard Theta method of :mod:`riskmodel.forecast.theta`, vectorised
   over series; the default), ``drift`` (random walk with drift, as
   statsforecast's ``RandomWalkWithDrift``) or ``ets`` (statsmodels' ETS
   with additive errors and a damped additive trend, series by series);
4. the point forecast is the sum.

The tests check the point forecasts against statsforecast's MSTL with the
same trend forecaster on simulated daily counts with weekly and yearly
seasons (benchmarks/forecast/auto_mstl_reference.py): to 1e-9 with
``drift``, within the Theta fit's tolerance with ``theta``.

Predictive distribution: the negative binomial (Poisson when not
over-dispersed) around the point forecast clipped at 0, with the variance of
the trend forecaster's in-sample one-step errors on the adjusted series
grown with the horizon as that forecaster's does (``theta``:
``s^2 (1 + (k - 1) a^2)``; ``drift``: ``k s^2``; ``ets``: statsmodels'
forecast variance); the seasonal components are treated as known.

STL is fitted series by series (about 10-50 ms per daily series), so
``mstl`` is not a default candidate of ``auto``; name it in ``candidates``.
"""

from __future__ import annotations

import warnings

import numpy as np

from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError, Problem
from riskmodel.forecast.base import CountForecaster
from riskmodel.forecast.distributions import nb_quantiles
from riskmodel.forecast.theta import BURN_IN, fit_stm, forecast_stm

DEFAULT_PERIODS = {"D": (7, 365), "W": (52,), "M": (12,), "Y": ()}
"""Seasonal periods by frequency."""

TRENDS = ("theta", "drift", "ets")
"""The forecasters of the seasonally adjusted series."""


def mstl_decompose(y: np.ndarray, periods: tuple[int, ...]) -> tuple[list[int], np.ndarray, np.ndarray]:
    """statsforecast's ``mstl``: the periods used, the seasonal components (len(periods), n) and trend + remainder.

    Periods with fewer than two full cycles (and over 1) in the series are left out.
    """
    from statsmodels.tsa.seasonal import STL

    x = np.asarray(y, dtype=float)
    n = len(x)
    msts = sorted(p for p in periods if 1 < p and 2 * p < n)
    if not msts:
        return [], np.zeros((0, n)), x.copy()
    windows = 7 + 4 * np.arange(1, len(msts) + 1)
    iterate = 1 if len(msts) == 1 else 2
    seas = np.zeros((len(msts), n))
    deseas = x.copy()
    for _ in range(iterate):
        for i, p in enumerate(msts):
            deseas = deseas + seas[i]
            fit = STL(deseas, period=p, seasonal=int(windows[i]), seasonal_deg=0).fit()
            seas[i] = fit.seasonal
            deseas = deseas - seas[i]
    return msts, seas, deseas


def seasonal_forecast(msts: list[int], seas: np.ndarray, h: int) -> np.ndarray:
    """The sum of the seasonal components' seasonal-naive forecasts (h,): each repeats its last cycle."""
    out = np.zeros(h)
    for p, s in zip(msts, seas, strict=True):
        out += np.resize(s[-p:], h)
    return out


class MSTL(CountForecaster):
    """Multiple seasonal decomposition (STL) + seasonal naive seasons + a trend forecaster (see module notes).

    Parameters
    ----------
    periods : tuple of int, optional
        Seasonal periods in periods of the data (default by frequency:
        :data:`DEFAULT_PERIODS`).
    trend : {'theta', 'drift', 'ets'}
        The forecaster of the seasonally adjusted series.
    """

    name = "mstl"

    def __init__(self, periods: tuple[int, ...] | None = None, trend: str = "theta"):
        self.periods = periods
        self.trend = trend

    def min_periods(self, wp: WidePanel) -> int:
        return 6

    def _fit(self, wp: WidePanel) -> None:
        if self.trend not in TRENDS:
            raise InputError(Problem(f"unknown mstl trend {self.trend!r}; valid: {', '.join(TRENDS)}", column="trend"))
        periods = tuple(int(p) for p in (self.periods if self.periods is not None else DEFAULT_PERIODS.get(wp.freq, ())))
        assert wp.n_obs is not None
        n_series = len(wp.series)
        self.seasonal_: dict[int, tuple[list[int], np.ndarray]] = {}
        self.sigma2_ = np.zeros(n_series)
        self.alpha_ = np.zeros(n_series)
        self._adj: dict[int, np.ndarray] = {}
        self._trend: dict = {}
        todo = [j for j in range(n_series) if j not in self.fallback_]
        for j in todo:
            n = int(wp.n_obs[j])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                msts, seas, adj = mstl_decompose(wp.y[-n:, j], periods)
            self.seasonal_[j] = (msts, seas)
            self._adj[j] = adj
        fitted_adj: dict[int, np.ndarray] = {}
        if self.trend == "theta":
            self._groups = []
            for n in sorted({len(self._adj[j]) for j in todo}):
                cols = [j for j in todo if len(self._adj[j]) == n]
                fit = fit_stm(np.column_stack([self._adj[j] for j in cols]))
                self._groups.append((cols, n, fit))
                for i, j in enumerate(cols):
                    fitted_adj[j] = fit["fitted"][:, i]
                    self.alpha_[j] = fit["alpha"][i]
        elif self.trend == "drift":
            for j in todo:
                x = self._adj[j]
                slope = (x[-1] - x[0]) / (len(x) - 1)
                self._trend[j] = slope
                f = np.full(len(x), np.nan)
                f[1:] = x[:-1] + slope
                fitted_adj[j] = f
        else:
            from statsmodels.tsa.exponential_smoothing.ets import ETSModel

            for j in todo:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        res = ETSModel(self._adj[j], error="add", trend="add", damped_trend=True).fit(disp=False)
                    if not np.isfinite(res.params).all():
                        raise FloatingPointError("non-finite parameters")
                except Exception as exc:  # noqa: BLE001 - any statsmodels failure becomes a recorded fallback
                    self.fallback_[j] = f"{self.fallback} (fallback: mstl trend fit failed: {type(exc).__name__})"
                    continue
                self._trend[j] = res
                fitted_adj[j] = np.asarray(res.fittedvalues, dtype=float)
        burn = BURN_IN if self.trend == "theta" else 1
        for j, f in fitted_adj.items():
            n = len(f)
            msts, seas = self.seasonal_[j]
            self.fitted_[-n:, j] = f + seas.sum(axis=0)
            err = (self._adj[j] - f)[burn:]
            err = err[np.isfinite(err)]
            self.sigma2_[j] = float(err.var(ddof=1)) if len(err) > 1 else 0.0

    def point_forecast(self, h: int) -> np.ndarray:
        """The statsforecast-equivalent point forecasts (h, n), not clipped (NaN for fallback series)."""
        wp = self.wide_
        out = np.full((h, len(wp.series)), np.nan)
        self._var = np.zeros((h, len(wp.series)))
        steps = np.arange(1, h + 1, dtype=float)
        if self.trend == "theta":
            for cols, n, fit in self._groups:
                f = forecast_stm(fit, n, h)
                for i, j in enumerate(cols):
                    out[:, j] = f[:, i]
                    self._var[:, j] = self.sigma2_[j] * (1 + (steps - 1) * self.alpha_[j] ** 2)
        elif self.trend == "drift":
            for j, slope in self._trend.items():
                out[:, j] = self._adj[j][-1] + slope * steps
                self._var[:, j] = self.sigma2_[j] * steps
        else:
            for j, res in self._trend.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    nobs = res.model.nobs
                    pred = res.get_prediction(start=nobs, end=nobs + h - 1)
                out[:, j] = np.asarray(pred.predicted_mean, dtype=float)
                self._var[:, j] = np.asarray(pred.forecast_variance, dtype=float)
        for j, (msts, seas) in self.seasonal_.items():
            if np.isfinite(out[:, j]).all():
                out[:, j] += seasonal_forecast(msts, seas, h)
        return out

    def _predict(self, h: int, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pf = self.point_forecast(h)
        bad = [j for j in self.seasonal_ if j not in self.fallback_ and not np.isfinite(pf[:, j]).all()]
        for j in bad:
            self.fallback_[j] = f"{self.fallback} (fallback: mstl forecast not finite)"
        mean = np.nan_to_num(np.maximum(pf, 0.0), nan=0.0)
        var = np.nan_to_num(np.maximum(self._var, 0.0), nan=0.0)
        return mean, nb_quantiles(mean, var, probs)
