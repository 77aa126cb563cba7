"""Interval calibration per level of the area hierarchy, after reconciliation.

Why (issue 14.8), and what was measured. The pipeline's backtest of the
sample city (``auto`` + MinT, 3 origins one month apart, h = 3) covered
97.5% of the city's months with its 80% intervals (88.4% overall). The
cause, measured on those windows: ``auto`` combines its candidates'
quantiles with the weights that minimise their loss (Vincentization); where
the candidates' errors cancel -- at district and city sums more than at a
street -- the combined point forecast beats every candidate, but the
combined quantiles stay as far apart as the candidates' own (base city 80%
interval 3,187 wide against a root-mean-square error of 1,009); MinT then
widened it by a further 11% (3,530). But the 97.5% rests on 81 points from
3 overlapping windows: over 8 origins three months apart (216 city points)
the same intervals covered 84.3% (80%) and 89.4% (95%), districts 83.1% and
93.3%, streets 80.0% and 91.1%: the middles are about right, the tails
short, at every level.

The calibration below (off by default in
:class:`~riskmodel.forecast.Forecaster`, ``calibrate=True`` turns it on)
learns one factor per area level from ``auto``'s own internal windows. It
made things worse on the sample city: those two windows, one month apart,
were calmer than what followed, and the factors shrank the aggregate
intervals (8 origins: city 80% coverage 84.3% -> 67.6%, 95% 89.4% -> 78.7%;
districts 83.1% -> 71.5%; streets unchanged, 79.9%). Two internal windows
are too few to calibrate on; it is kept, tested, for models or data with
more of them, and the backtest reports the coverage per level
(:func:`coverage_table`) so that a user sees what the intervals do.

The rule. A model that backtests itself on the training data (``auto``:
its internal rolling-origin windows, :class:`ValidationWindow`) leaves each
window's combined forecast at the quantiles 0.025, 0.1, 0.5, 0.9, 0.975.
Each window's forecast is reconciled with the method of the final forecast
(in-sample residuals up to that window's origin), and per area level
(``street``, ``district``, ``city``...) and per central interval (80%, 95%)
one factor ``s`` is chosen on a grid (0.3 to 2.5 in steps of 0.05) that
minimises the pinball loss of the two interval ends ``median + s (q -
median)`` over every series, window and horizon of that level (a proper
score: it rewards coverage and penalises width, so it does not chase the
nominal coverage on a few points). The final forecast's quantiles are then
moved the same way: ``median + s (q - median)`` with the factor of their
central level (interpolated between 80% and 95%, held beyond), the lower
ends rounded down and the upper ends up (counts are whole numbers), at
least 0. A level with fewer than :data:`MIN_POINTS` finite points keeps
factor 1.

Discrete counts. For a series with a mean of 0.3 a month the 80% interval of
its count distribution is [0, 1], which holds 96% of the probability:
intervals of small counts cannot be made to cover exactly 80% and the
rounding keeps them whole numbers; their calibration is judged by the
interval score (Gneiting & Raftery 2007), which
:func:`coverage_table` reports beside the coverage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.data.areas import AreaHierarchy
from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError
from riskmodel.forecast.metrics import PINBALL_PROBS
from riskmodel.forecast.registry import RECONCILERS, needs_hierarchy
from riskmodel.forecast.result import Forecast

GRID = np.round(np.arange(0.3, 2.5001, 0.05), 3)
"""The factors tried (spread of the quantiles around the median)."""

MIN_POINTS = 20
"""Fewest finite (series, window, horizon) points of a level for its own factors."""

NOMINALS = (80.0, 95.0)
"""The central intervals calibrated (their ends are in :data:`PINBALL_PROBS`)."""


@dataclass
class ValidationWindow:
    """A model's forecast of its own training data from an earlier origin.

    Attributes
    ----------
    cutoff : int
        Training periods of the window (its forecast starts at this row).
    mean : ndarray (h, n)
    quantiles : ndarray (h, n, 5)
        At :data:`~riskmodel.forecast.metrics.PINBALL_PROBS`.
    """

    cutoff: int
    mean: np.ndarray
    quantiles: np.ndarray


def _pinball(y: np.ndarray, q: np.ndarray, p: float) -> np.ndarray:
    d = y - q
    return np.maximum(p * d, (p - 1) * d)


def _moved(med: np.ndarray, q: np.ndarray, s: float, lower: bool) -> np.ndarray:
    v = med + s * (q - med)
    return np.maximum(np.floor(v + 1e-9) if lower else np.ceil(v - 1e-9), 0.0)


def best_factor(y: np.ndarray, med: np.ndarray, lo: np.ndarray, hi: np.ndarray, a: float) -> float:
    """The factor of :data:`GRID` minimising the pinball loss of the ends ``a`` and ``1 - a`` (arrays alike)."""
    ok = np.isfinite(y) & np.isfinite(med) & np.isfinite(lo) & np.isfinite(hi)
    y, med, lo, hi = y[ok], med[ok], lo[ok], hi[ok]
    loss = [float(_pinball(y, _moved(med, lo, s, True), a).sum() + _pinball(y, _moved(med, hi, s, False), 1 - a).sum())
            for s in GRID]
    i = int(np.argmin(loss))
    one = int(np.argmin(np.abs(GRID - 1.0)))
    return float(GRID[one]) if loss[one] <= loss[i] * (1 + 1e-9) else float(GRID[i])  # ties keep 1


def series_levels(series: Sequence[tuple[str, str]], level_of: Mapping[str, str]) -> np.ndarray:
    """Each series' area level (``area`` for an area the hierarchy does not name)."""
    return np.array([level_of.get(a, "area") for a, _ in series], dtype=object)


def level_factors(
    windows: Sequence[ValidationWindow],
    wp: WidePanel,
    level_of: Mapping[str, str],
    hierarchy: AreaHierarchy | None = None,
    method: str = "none",
    fitted: np.ndarray | None = None,
) -> pd.DataFrame:
    """The calibration factors per area level and central interval.

    Parameters
    ----------
    windows : sequence of ValidationWindow
        The model's internal windows (all series of ``wp``).
    wp : WidePanel
        The training data the model was fitted on.
    level_of : mapping
        Area id -> hierarchy level.
    hierarchy, method, fitted
        The reconciliation of the final forecast (each window is reconciled
        the same way; ``fitted``: in-sample one-step fits (T, n)).

    Returns
    -------
    DataFrame
        ``level, nominal, factor, n`` (``n``: finite points the factor was
        chosen on; factor 1 below :data:`MIN_POINTS`).
    """
    lv = series_levels(wp.series, level_of)
    ys, meds, qs = [], [], []
    for w in windows:
        h = w.mean.shape[0]
        y = wp.y[w.cutoff: w.cutoff + h]
        if y.shape[0] < h:
            continue
        fc = Forecast(w.mean, w.quantiles, np.asarray(PINBALL_PROBS, dtype=float), wp.future(h), wp.series,
                      np.array(["validation"] * len(wp.series), dtype=object))
        if method != "none":
            try:
                fc = RECONCILERS.get(method).target(fc, hierarchy, y=wp.y[: w.cutoff],
                                                    fitted=None if fitted is None else fitted[: w.cutoff])
            except InputError:
                continue  # too little history before this window for the reconciliation: left out
        ys.append(y)
        meds.append(fc.quantile(0.5))
        qs.append(fc)
    rows = []
    for level in sorted(set(lv)):
        m = lv == level
        for nominal in NOMINALS:
            a = round((100.0 - nominal) / 200.0, 6)
            if ys:
                y = np.concatenate([v[:, m].ravel() for v in ys])
                med = np.concatenate([v[:, m].ravel() for v in meds])
                lo = np.concatenate([f.quantile(a)[:, m].ravel() for f in qs])
                hi = np.concatenate([f.quantile(round(1 - a, 6))[:, m].ravel() for f in qs])
                n = int(np.isfinite(y).sum())
            else:
                n = 0
            s = best_factor(y, med, lo, hi, a) if n >= MIN_POINTS else 1.0
            rows.append({"level": level, "nominal": nominal, "factor": s, "n": n})
    return pd.DataFrame(rows, columns=["level", "nominal", "factor", "n"])


def apply_factors(fc: Forecast, factors: pd.DataFrame, level_of: Mapping[str, str]) -> Forecast:
    """``fc`` with each series' quantiles moved by its level's factors (see the module notes)."""
    if factors is None or not len(factors) or np.allclose(factors["factor"], 1.0):
        return fc
    lv = series_levels(fc.series, level_of)
    med_idx = np.flatnonzero(np.isclose(fc.probs, 0.5))
    if not len(med_idx):
        return fc
    med = fc.quantiles[:, :, med_idx[0]]
    q = fc.quantiles.copy()
    for level, g in factors.groupby("level", sort=False):
        m = lv == level
        if not m.any():
            continue
        g = g.sort_values("nominal")
        for k, p in enumerate(fc.probs):
            if np.isclose(p, 0.5):
                continue
            central = abs(1.0 - 2.0 * float(p)) * 100.0
            s = float(np.interp(central, g["nominal"].to_numpy(float), g["factor"].to_numpy(float)))
            q[:, m, k] = _moved(med[:, m], fc.quantiles[:, m, k], s, lower=p < 0.5)
    return Forecast(fc.mean, q, fc.probs, fc.periods, fc.series, fc.model)


def calibrate(
    fc: Forecast,
    windows: Sequence[ValidationWindow] | None,
    wp: WidePanel,
    level_of: Mapping[str, str],
    hierarchy: AreaHierarchy | None = None,
    method: str = "none",
    fitted: np.ndarray | None = None,
) -> tuple[Forecast, pd.DataFrame | None]:
    """The calibrated forecast and its factors (``None``: the model has no internal windows; ``fc`` as is)."""
    if not windows:
        return fc, None
    if not needs_hierarchy(method):
        hierarchy = None
    f = level_factors(windows, wp, level_of, hierarchy, method, fitted)
    return apply_factors(fc, f, level_of), f


def coverage_table(forecasts: Sequence[tuple[str, int, Forecast]], wp: WidePanel, level_of: Mapping[str, str],
                   levels: Sequence[float]) -> pd.DataFrame:
    """Coverage of the central intervals per model, area level and nominal level.

    Parameters
    ----------
    forecasts : sequence of (model, cutoff, Forecast)
        Backtest windows (each Forecast of all series of ``wp``, from row ``cutoff``).
    wp : WidePanel
    level_of : mapping
        Area id -> level.
    levels : sequence of float
        Nominal levels (percent).

    Returns
    -------
    DataFrame
        ``model, level, nominal, coverage, n, mean_width, interval_score``,
        then ``level = "overall"`` per model and nominal. ``interval_score``
        is Gneiting & Raftery's (2007) ``(hi - lo) + 2/a (lo - y)+ + 2/a (y -
        hi)+`` with ``a = 1 - nominal``: lower is better, and unlike coverage
        it is proper for the whole-number intervals of small counts.
    """
    lv = series_levels(wp.series, level_of)
    acc: dict[tuple[str, str, float], list[np.ndarray]] = {}
    for model, cut, fc in forecasts:
        y = wp.y[cut: cut + fc.h]
        k = y.shape[0]
        for nominal in levels:
            lo, hi = fc.interval(nominal)
            lo, hi = lo[:k], hi[:k]
            a = 1.0 - nominal / 100.0
            inside = (y >= lo) & (y <= hi)
            score = (hi - lo) + 2.0 / a * np.maximum(lo - y, 0.0) + 2.0 / a * np.maximum(y - hi, 0.0)
            for level in [*sorted(set(lv)), "overall"]:
                m = np.ones(len(lv), bool) if level == "overall" else lv == level
                acc.setdefault((model, level, float(nominal)), []).append(
                    np.stack([inside[:, m].ravel(), (hi - lo)[:, m].ravel(), score[:, m].ravel()]))
    rows = []
    for (model, level, nominal), parts in acc.items():
        v = np.concatenate(parts, axis=1)
        rows.append({"model": model, "level": level, "nominal": nominal, "coverage": float(v[0].mean()),
                     "n": int(v.shape[1]), "mean_width": float(v[1].mean()), "interval_score": float(v[2].mean())})
    out = pd.DataFrame(rows, columns=["model", "level", "nominal", "coverage", "n", "mean_width", "interval_score"])
    order = {m: i for i, m in enumerate(dict.fromkeys(m for m, _, _ in forecasts))}
    out["_m"] = out["model"].map(order)
    out["_l"] = (out["level"] == "overall").astype(int)
    return out.sort_values(["_m", "_l", "level", "nominal"], kind="stable").drop(columns=["_m", "_l"]).reset_index(drop=True)


__all__ = ["GRID", "MIN_POINTS", "NOMINALS", "ValidationWindow", "apply_factors", "best_factor", "calibrate",
           "coverage_table", "level_factors", "series_levels"]
