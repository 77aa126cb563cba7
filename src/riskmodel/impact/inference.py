"""Intervals from placebo estimates (one treated unit, many untreated ones).

With a single treated area, the error of a comparison estimator (synthetic
control, difference in differences) cannot be learnt from the treated area;
Conley & Taber (2011) learn it from the same estimator applied to each
untreated area as if it had been treated. With ``n`` placebos the empirical
2.5% and 97.5% quantiles sit inside the sample's range and cover less than
95% (with 24 placebos even the full range covers only 23/25 = 92%), so the
interval here is the normal-theory *prediction* interval of one more error
from the placebo errors' mean and standard deviation on the log scale:
``log(1 + est) - mean -/+ t_{n-1} * sd * sqrt(1 + 1/n)``. The calibration
benchmark (benchmarks/impact/results.md) compares it with the nominal level.

:func:`placebo_interval_se` is the version for a model-based estimator whose
own standard error differs from area to area (interrupted time series: the
Poisson noise of a small street is larger than a big one's): each error is
its sampling error (the model's standard error) plus an area-level error of
variance ``tau2`` that the model does not see (the area's own drift, the
comparison series' noise), estimated from the placebos as a random-effects
meta-analysis estimates a between-study variance (DerSimonian & Laird 1986).
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def placebo_interval(estimate: float, placebo: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Interval of a relative effect from placebo relative effects.

    Parameters
    ----------
    estimate : float
        The treated unit's relative effect (> -1).
    placebo : array, shape (n,)
        The placebo units' relative effects (> -1); non-finite values are dropped.
    level : float
        Interval level.

    Returns
    -------
    (lo, hi, sd)
        Interval of the relative effect and the placebo errors' standard
        deviation on the log scale (NaN when fewer than 3 placebos).
    """
    p = np.asarray(placebo, dtype=float)
    p = p[np.isfinite(p) & (p > -1)]
    if len(p) < 3 or not np.isfinite(estimate) or estimate <= -1:
        return np.nan, np.nan, np.nan
    le = np.log1p(p)
    n = len(le)
    m, sd = float(le.mean()), float(le.std(ddof=1))
    half = stats.t.ppf(0.5 + level / 2, n - 1) * sd * np.sqrt(1 + 1 / n)
    centre = np.log1p(estimate) - m
    return float(np.expm1(centre - half)), float(np.expm1(centre + half)), sd


def placebo_interval_se(
    log_effect: float,
    se: float,
    placebo_log: np.ndarray,
    placebo_se: np.ndarray,
    level: float = 0.95,
) -> tuple[float, float, float, float, float]:
    """Interval of a relative effect from placebo errors and the model's standard errors.

    Placebo log effects ``r_j`` (truth 0) with model standard errors ``s_j``
    (``J`` placebos) are read as ``r_j = m + e_j + sampling error``, ``e_j``
    of variance ``tau2``: the DerSimonian-Laird moment estimate of ``tau2``
    (weights ``1 / s_j**2``, so that a tiny area's very noisy placebo counts
    little), the random-effects mean ``m`` (weights ``1 / (s_j**2 + tau2)``)
    and its variance ``v_m``; the interval is
    ``log_effect - m -/+ t_{J-1} * sqrt(se**2 + tau2 + v_m)``.

    Parameters
    ----------
    log_effect, se : float
        The treated area's log rate ratio and its model standard error.
    placebo_log, placebo_se : array, shape (J,)
        The same for each placebo area; non-finite pairs are dropped.
    level : float
        Interval level.

    Returns
    -------
    (lo, hi, p_value, tau, mean_error)
        Interval of the relative effect (``exp - 1`` of the log bounds), the
        two-sided p-value of no effect, ``sqrt(tau2)`` and ``m`` (log scale);
        NaNs when fewer than 3 placebos are usable.
    """
    r, s = np.asarray(placebo_log, dtype=float), np.asarray(placebo_se, dtype=float)
    ok = np.isfinite(r) & np.isfinite(s) & (s > 0)
    r, s = r[ok], s[ok]
    if len(r) < 3 or not (np.isfinite(log_effect) and np.isfinite(se)):
        return np.nan, np.nan, np.nan, np.nan, np.nan
    n = len(r)
    w = 1 / s**2
    q = float(w @ (r - (w @ r) / w.sum()) ** 2)
    tau2 = max(0.0, (q - (n - 1)) / float(w.sum() - (w @ w) / w.sum()))
    w_re = 1 / (s**2 + tau2)
    m = float(w_re @ r / w_re.sum())
    sd = float(np.sqrt(se**2 + tau2 + 1 / w_re.sum()))
    t = stats.t.ppf(0.5 + level / 2, n - 1)
    centre = log_effect - m
    p = float(2 * stats.t.sf(abs(centre) / sd, n - 1))
    return float(np.expm1(centre - t * sd)), float(np.expm1(centre + t * sd)), p, float(np.sqrt(tau2)), m
