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
