"""The probabilistic forecast object every model returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem
from riskmodel.results import level_fraction

PROBS = np.round(np.arange(1, 40) * 0.025, 3)
"""Default quantile grid: 0.025, 0.05, ..., 0.975 (39 levels). Contains the ends
of the 80% and 95% central intervals and the median; CRPS is computed from it."""

OUTPUT_QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
"""The quantiles every forecast table carries beside the mean, as columns ``q-5``,
``q-10``, ``q-25``, ``q-50``, ``q-75``, ``q-90``, ``q-95`` (Nixtla's naming,
``{model}-q-{percent}``, without the model prefix since ``model`` is a column) and
``median`` (= ``q-50``). The mean is the point forecast for totals and expected
counts (squared error); the median for absolute error (MASE, MAE): see
docs/forecasting.md."""


def quantile_column(p: float) -> str:
    """The column name of quantile ``p`` (0-1): ``q-5`` for 0.05, Nixtla's convention."""
    return f"q-{round(100 * float(p), 6):g}"


def probs_for(levels: Sequence[float] = (80, 95), grid: bool = False) -> np.ndarray:
    """The median and the ends of each central interval (levels in percent), plus
    the 39-level grid :data:`PROBS` when ``grid`` (needed for CRPS; quantiles of
    count distributions cost ~3 microseconds each, so the grid is asked for only
    where it is used)."""
    extra = list(OUTPUT_QUANTILES)
    for lv in levels:
        a = (100.0 - float(lv)) / 200.0
        extra += [round(a, 6), round(1 - a, 6)]
    base = PROBS if grid else np.empty(0)
    return np.unique(np.round(np.concatenate([base, extra]), 6))


@dataclass
class Forecast:
    """Forecasts of ``h`` periods for ``n`` series.

    Attributes
    ----------
    mean : ndarray (h, n)
        Expected count per period (incidents per period, >= 0).
    quantiles : ndarray (h, n, q)
        Quantiles of the predictive distribution at ``probs`` (non-decreasing
        along the last axis, >= 0).
    probs : ndarray (q,)
    periods : DatetimeIndex (h,)
        Start dates of the forecast periods.
    series : list of (area_id, category), length n
    model : ndarray (n,) of str
        The model that made each series' forecast; a fallback says so
        (for example ``"zero (all-zero history)"``).
    """

    mean: np.ndarray
    quantiles: np.ndarray
    probs: np.ndarray
    periods: pd.DatetimeIndex
    series: list[tuple[str, str]]
    model: np.ndarray

    def __post_init__(self) -> None:
        self.mean = np.maximum(np.asarray(self.mean, dtype=float), 0.0)
        q = np.maximum(np.asarray(self.quantiles, dtype=float), 0.0)
        self.quantiles = np.sort(q, axis=-1)
        if not np.isfinite(self.mean).all() or not np.isfinite(self.quantiles).all():
            bad = np.flatnonzero(~np.isfinite(self.mean).all(axis=0) | ~np.isfinite(self.quantiles).all(axis=(0, 2)))
            names = ", ".join("/".join(self.series[j]) for j in bad[:5])
            raise FloatingPointError(f"non-finite forecast for {len(bad)} series ({names}); this is a bug")

    @property
    def h(self) -> int:
        return self.mean.shape[0]

    def quantile(self, p: float) -> np.ndarray:
        """Quantile ``p`` (must be on the grid), shape (h, n)."""
        idx = np.flatnonzero(np.isclose(self.probs, p))
        if not len(idx):
            raise KeyError(f"quantile {p} not computed; grid: {self.probs.tolist()}")
        return self.quantiles[:, :, idx[0]]

    def interval(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """Central interval at ``level`` percent: (lo, hi), each (h, n)."""
        a = (100.0 - level) / 200.0
        return self.quantile(round(a, 6)), self.quantile(round(1 - a, 6))

    def to_frame(self, levels: Sequence[float] = (80, 95)) -> pd.DataFrame:
        """Long table ``area_id, category, period, model, mean, median, lo_80, hi_80, lo_95, hi_95,
        q-5, q-10, q-25, q-50, q-75, q-90, q-95`` (counts per period).

        ``median`` and the ``q-*`` columns are the quantiles of
        :data:`OUTPUT_QUANTILES` that are on the forecast's grid (all of them
        for a forecast made by riskmodel's models, whose grid
        :func:`probs_for` always includes them).
        """
        h, n = self.mean.shape
        out = pd.DataFrame(
            {
                "area_id": np.repeat([s[0] for s in self.series], h),
                "category": np.repeat([s[1] for s in self.series], h),
                "period": np.tile(self.periods.to_numpy(), n),
                "model": np.repeat(self.model, h),
                "mean": self.mean.T.ravel(),
            }
        )
        on_grid = [p for p in OUTPUT_QUANTILES if np.isclose(self.probs, p).any()]
        if 0.5 in on_grid:
            out["median"] = self.quantile(0.5).T.ravel()
        for lv in levels:
            lo, hi = self.interval(lv)
            tag = f"{lv:g}"
            out[f"lo_{tag}"] = lo.T.ravel()
            out[f"hi_{tag}"] = hi.T.ravel()
        for p in on_grid:
            out[quantile_column(p)] = self.quantile(p).T.ravel()
        return out

    def conf_int(self, level: float = 95) -> pd.DataFrame:
        """The central predictive interval at ``level`` (percent, or a fraction below 1), long.

        Columns ``area_id, category, period, level, lo, hi``: one row per
        series and period (series, then period, as :meth:`to_frame`), the
        bounds in counts per period and ``level`` in percent. The interval's
        ends must be on the quantile grid (``probs``); otherwise an
        InputError lists the levels that are.
        """
        lv = round(level_fraction(level) * 100.0, 6)
        try:
            lo, hi = self.interval(lv)
        except KeyError:
            have = sorted({round(200 * (0.5 - p), 6) for p in self.probs if p < 0.5 and np.isclose(self.probs, 1 - p).any()})
            raise InputError(Problem(
                f"no {lv:g}% interval: its ends are not on the quantile grid; levels: {', '.join(f'{x:g}' for x in have)}"
            )) from None
        h, n = self.mean.shape
        return pd.DataFrame(
            {
                "area_id": np.repeat([s[0] for s in self.series], h),
                "category": np.repeat([s[1] for s in self.series], h),
                "period": np.tile(self.periods.to_numpy(), n),
                "level": lv,
                "lo": lo.T.ravel(),
                "hi": hi.T.ravel(),
            }
        )

    def summary(self) -> str:
        """A text summary: series, horizon, quantile grid, the models used per series."""
        h, n = self.mean.shape
        first, last = self.periods[0].date().isoformat(), self.periods[-1].date().isoformat()
        vc = pd.Series(self.model, dtype=object).value_counts(sort=False).sort_index(kind="stable")
        vc = vc.sort_values(ascending=False, kind="stable")
        lines = [f"Forecast of {n} series x {h} period(s) ({first} to {last})",
                 f"quantiles: {len(self.probs)} ({', '.join(f'{p:g}' for p in self.probs[:7])}"
                 f"{', ...' if len(self.probs) > 7 else ''})",
                 f"mean per series and period: {float(self.mean.mean()) if self.mean.size else 0.0:.3g}",
                 "models used per series:"]
        lines += [f"  {m}  {int(k)}" for m, k in vc.head(10).items()]
        if len(vc) > 10:
            lines.append(f"  ... {len(vc) - 10} more ({int(vc.iloc[10:].sum())} series)")
        return "\n".join(lines) + "\n"

    def subset(self, cols: np.ndarray | Sequence[int]) -> Forecast:
        cols = np.asarray(cols)
        return Forecast(self.mean[:, cols], self.quantiles[:, cols], self.probs, self.periods,
                        [self.series[j] for j in cols], self.model[cols])


def combine(forecasts: Sequence[Forecast], weights: np.ndarray) -> np.ndarray:
    """Weighted average of means and of quantiles (Vincentization), per series.

    ``weights`` has shape (n_models, n_series) and sums to 1 over models.
    Returns (mean, quantiles).
    """
    w = np.asarray(weights, dtype=float)
    mean = sum(w[i][None, :] * f.mean for i, f in enumerate(forecasts))
    q = sum(w[i][None, :, None] * f.quantiles for i, f in enumerate(forecasts))
    return mean, q
