"""Exponential smoothing (ETS) per series with statsmodels' ``ETSModel``.

Additive errors, additive damped trend, additive seasonality when the series
spans two full seasons (and the season is at most 52). The mean is
statsmodels' forecast clipped at 0; the quantiles are those of the negative
binomial with that mean and statsmodels' forecast variance (Poisson when the
variance is below the mean), so the intervals are counts.

ETS is fitted series by series (0.05-0.2 s each); it is not in the default
candidates of ``auto`` for that reason (see :mod:`riskmodel.forecast.auto`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from riskmodel.data.wide import WidePanel
from riskmodel.forecast.base import CountForecaster
from riskmodel.forecast.distributions import nb_quantiles


class ETS(CountForecaster):
    """statsmodels ETS(A, Ad, A) or ETS(A, Ad, N) per series.

    Parameters
    ----------
    trend : {'add', None}
    damped : bool
    seasonal : {'auto', 'add', None}
        ``'auto'``: additive seasonality when the series has two full seasons.
    maxiter : int
        Optimiser iterations per series.
    """

    name = "ets"

    def __init__(self, trend: str | None = "add", damped: bool = True, seasonal: str | None = "auto", maxiter: int = 200):
        self.trend = trend
        self.damped = damped
        self.seasonal = seasonal
        self.maxiter = maxiter

    def min_periods(self, wp: WidePanel) -> int:
        return 10

    def _spec(self, n: int, m: int) -> dict:
        seas = self.seasonal
        if seas == "auto":
            seas = "add" if (n >= 2 * m and m <= 52) else None
        return dict(
            error="add",
            trend=self.trend,
            damped_trend=bool(self.damped and self.trend),
            seasonal=seas,
            seasonal_periods=m if seas else None,
        )

    def _fit(self, wp: WidePanel) -> None:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            self._fit_inner(wp)

    def _fit_inner(self, wp: WidePanel) -> None:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        self.results_: dict[int, object] = {}
        self.specs_: dict[int, dict] = {}
        assert wp.n_obs is not None
        pfreq = {"D": "D", "W": "W-MON", "M": "MS"}[wp.freq]
        for j in range(len(wp.series)):
            if j in self.fallback_:
                continue
            n = int(wp.n_obs[j])
            y = pd.Series(wp.y[-n:, j], index=pd.DatetimeIndex(wp.periods[-n:], freq=pfreq))
            spec = self._spec(n, wp.season)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = ETSModel(y, **spec).fit(disp=False, maxiter=self.maxiter)
                if not np.isfinite(res.params).all():
                    raise FloatingPointError("non-finite parameters")
            except Exception as exc:  # noqa: BLE001 - any statsmodels failure becomes a recorded fallback
                self.fallback_[j] = f"{self.fallback} (fallback: ets fit failed: {type(exc).__name__})"
                continue
            self.results_[j] = res
            self.specs_[j] = spec
            self.fitted_[-n:, j] = np.asarray(res.fittedvalues)

    def _predict(self, h: int, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.wide_.series)
        mean = np.zeros((h, n))
        var = np.zeros((h, n))
        for j, res in self.results_.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                nobs = res.model.nobs
                pred = res.get_prediction(start=nobs, end=nobs + h - 1)
            mu = np.asarray(pred.predicted_mean, dtype=float)
            v = np.asarray(pred.forecast_variance, dtype=float)
            if not (np.isfinite(mu).all() and np.isfinite(v).all()):
                self.fallback_[j] = f"{self.fallback} (fallback: ets forecast not finite)"
                continue
            mean[:, j] = np.maximum(mu, 0.0)
            var[:, j] = np.maximum(v, 0.0)
        return mean, nb_quantiles(mean, var, probs)
