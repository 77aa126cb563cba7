"""The interface every forecaster shares, and the fallbacks for bad series.

``model.fit(data)`` takes an IncidentPanel or a WidePanel (all series at once;
series may start late, see ``WidePanel.n_obs``); ``model.predict(h, levels)``
returns a :class:`~riskmodel.forecast.result.Forecast` with means and
quantiles for every series.

Fallbacks (documented, recorded in the forecast's ``model`` column):

* a series whose history is all zeros gets the forecast 0 with all quantiles
  0, model ``"zero (all-zero history)"``;
* a series with fewer periods than the model needs (``min_periods``, for
  example two seasons for a seasonal model) gets the model's ``fallback``
  (seasonal naive -> naive; every other model -> historical mean), model
  ``"<fallback> (fallback: <n> periods < <k> needed by <model>)"``;
* a series on which the model's own fit fails numerically gets the fallback
  too, with the reason;
* a panel whose every series is all zeros is not fitted at all (a Poisson
  loss, for one, cannot be fitted on zeros): every series gets the zero
  forecast above (``all_zero_`` is True).

Too short a panel for even the fallback (fewer than 2 periods) is an
InputError naming the series.

Limits (InputErrors, exit 2 on the command line):

* a count above :data:`MAX_COUNT` (10^12 incidents in one series and period)
  is refused, naming the series and period: beyond it the models' numerics
  (log-link GLM fits, quantiles of count distributions in double precision)
  no longer keep the point forecast inside its own interval (counts of 10^15
  and more did; 10^18 crashed three models). The loader's plausibility
  limit (:mod:`riskmodel.data.limits`: 10^9, raised with
  ``RISKMODEL_MAX_COUNT``) is below it, so this one is met only when that
  is raised, or by data built in Python;
* a horizon above :func:`max_horizon` (:data:`MAX_H_YEARS` = 10 years of
  periods: 120 months, 522 weeks, 3,653 days, 10 years) is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pandas as pd

from riskmodel.data.frequency import Frequency
from riskmodel.data.panel import IncidentPanel
from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError, Problem
from riskmodel.estimator import EstimatorParams
from riskmodel.forecast.registry import make_model
from riskmodel.forecast.result import Forecast, probs_for

MAX_COUNT = 1e12
"""The largest count per series and period a model accepts (incidents): the models' numerical limit."""

MAX_H_YEARS = 10
"""The longest horizon a model forecasts, in years of periods (:func:`max_horizon`)."""


def max_horizon(freq: str | Frequency) -> int:
    """The largest ``h`` accepted at ``freq``: :data:`MAX_H_YEARS` years of periods, rounded up."""
    return int(np.ceil(MAX_H_YEARS * Frequency.of(freq).periods_per_year))


def check_horizon(h: int, freq: str | Frequency, option: str = "h") -> int:
    """``h`` as an int when ``1 <= h <= max_horizon(freq)``; an InputError naming ``option`` otherwise."""
    try:
        hh = int(h)
    except (TypeError, ValueError, OverflowError):
        raise InputError(Problem(f"{option} must be a whole number of periods, got {h!r}", column=option)) from None
    if hh < 1:
        raise InputError(Problem(f"{option} must be >= 1, got {h}", column=option))
    top = max_horizon(freq)
    if hh > top:
        f = Frequency.of(freq)
        raise InputError(Problem(
            f"{option}={hh} is too far ahead: at most {top} {f.unit}s ({MAX_H_YEARS} years) are forecast",
            column=option))
    return hh


def check_counts(wp: WidePanel) -> None:
    """An InputError when a count exceeds :data:`MAX_COUNT` (naming the series and period) or is not finite."""
    y = wp.y
    bad = ~np.isfinite(y) | (y > MAX_COUNT)
    if bad.any():
        t, j = np.argwhere(bad)[0]
        raise InputError(Problem(
            f"count {y[t, j]:.6g} for {'/'.join(wp.series[j])} at {wp.periods[t].date().isoformat()} is above "
            f"the largest count the forecast models handle ({MAX_COUNT:.0e} incidents per series and period) "
            f"or not finite; {int(bad.sum())} such count(s) in all",
            column="count"))


def as_wide(data: IncidentPanel | WidePanel) -> WidePanel:
    if isinstance(data, WidePanel):
        return data
    if isinstance(data, IncidentPanel):
        return WidePanel.from_panel(data)
    raise TypeError(f"expected an IncidentPanel or WidePanel, got {type(data).__name__}")


class CountForecaster(EstimatorParams):
    """Base class: subclasses implement ``_fit(wp)`` and ``_predict(h, probs)``.

    It has the scikit-learn estimator shape (:class:`~riskmodel.estimator.EstimatorParams`:
    ``get_params``, ``set_params``, :func:`sklearn.base.clone`).

    After ``fit``: ``wide_`` (the training data), ``fitted_`` (T, n) one-step
    in-sample fitted values (NaN where a model has none; used by MinT
    reconciliation), ``fallback_`` (dict series index -> reason).
    """

    name: ClassVar[str] = "base"
    fallback: ClassVar[str] = "hmean"

    def min_periods(self, wp: WidePanel) -> int:
        """Periods of history a series needs for this model."""
        return 2

    def fit(self, data: IncidentPanel | WidePanel) -> CountForecaster:
        wp = as_wide(data)
        if wp.y.shape[0] < 2:
            names = ", ".join("/".join(s) for s in wp.series[:5])
            raise InputError(
                Problem(f"{wp.y.shape[0]} period(s) of history; forecasting needs at least 2 (series: {names})")
            )
        check_counts(wp)
        self.wide_ = wp
        assert wp.n_obs is not None
        need = self.min_periods(wp)
        self.fallback_: dict[int, str] = {}
        zero = ~(wp.y > 0).any(axis=0)
        for j in np.flatnonzero(zero):
            self.fallback_[j] = "zero (all-zero history)"
        for j in np.flatnonzero(~zero & (wp.n_obs < need)):
            self.fallback_[j] = f"{self.fallback} (fallback: {wp.n_obs[j]} periods < {need} needed by {self.name})"
        self.fitted_ = np.full(wp.y.shape, np.nan)
        self.all_zero_ = bool(zero.all())
        if not self.all_zero_:
            self._fit(wp)
        return self

    # subclasses ---------------------------------------------------------
    def _fit(self, wp: WidePanel) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict(self, h: int, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    # public -------------------------------------------------------------
    def predict(self, h: int, levels: Sequence[float] = (80, 95), probs: np.ndarray | None = None) -> Forecast:
        """Forecast ``h`` periods after the training data.

        Returns a Forecast whose quantile grid contains the ends of each
        central interval in ``levels`` (percent).
        """
        if not hasattr(self, "wide_"):
            raise RuntimeError(f"{self.name}: call fit() before predict()")
        h = check_horizon(h, self.wide_.freq)
        probs = probs_for(levels) if probs is None else np.asarray(probs)
        wp = self.wide_
        if getattr(self, "all_zero_", False):  # nothing to fit: every series gets the zero fallback below
            mean, q = np.zeros((int(h), len(wp.series))), np.zeros((int(h), len(wp.series), len(probs)))
        else:
            mean, q = self._predict(int(h), probs)
        model = np.array([self.name] * len(wp.series), dtype=object)
        if self.fallback_:
            mean, q = mean.copy(), q.copy()
            idx = np.array(sorted(self.fallback_))
            reasons = [self.fallback_[j] for j in idx]
            zero = np.array([r.startswith("zero") for r in reasons])
            if zero.any():
                mean[:, idx[zero]] = 0.0
                q[:, idx[zero]] = 0.0
            rest = idx[~zero]
            if len(rest):
                fb = make_fallback(self.fallback).fit(wp.subset(rest))
                fm, fq = fb._predict(int(h), probs)
                mean[:, rest] = fm
                q[:, rest] = fq
            model[idx] = reasons
        return Forecast(mean, q, probs, wp.future(int(h)), wp.series, model)


def make_fallback(name: str) -> CountForecaster:
    """The fallback model by name (``naive`` or ``hmean``), from the model registry."""
    return make_model(name)


def period_index(periods: pd.DatetimeIndex) -> np.ndarray:
    return np.arange(len(periods))
