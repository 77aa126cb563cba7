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

:func:`placebo_interval_scaled` generalises it to any per-unit noise scale
known only up to a factor (a synthetic control's pre-period RMSPE, a
difference in differences' quasi-Poisson standard error): the placebo errors'
variance is ``A + B * s_j**2``, with ``A`` (the error every area has, e.g. its
own drift) and ``B`` estimated from the placebos by restricted maximum
likelihood. This is the heteroskedasticity correction of Ferman & Pinto
(2019) for placebo (Conley-Taber) inference with units of different sizes,
with the variance modelled by the unit's own pre-period noise instead of its
number of observations. Without it, the 25 streets of the sample city --
three island towns of 1,500 to 3,000 residents among streets of 100,000 --
make the plain placebo interval two to three times as wide as it should be
for a large street (the calibration benchmark: 100% coverage, mean widths
0.5-0.6 for synthetic control).

References
----------
Conley, T. G. & Taber, C. R. (2011). Inference with "difference in
differences" with a small number of policy changes. *Review of Economics and
Statistics* 93(1), 113-125.
DerSimonian, R. & Laird, N. (1986). Meta-analysis in clinical trials.
*Controlled Clinical Trials* 7(3), 177-188.
Ferman, B. & Pinto, C. (2019). Inference in differences-in-differences with
few treated groups and heteroskedasticity. *Review of Economics and
Statistics* 101(3), 452-467.
Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods
for comparative case studies. *Journal of the American Statistical
Association* 105(490), 493-505 (the pre-period RMSPE as a unit's noise scale).
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


def placebo_interval_scaled(
    log_effect: float,
    scale: float,
    placebo_log: np.ndarray,
    placebo_scale: np.ndarray,
    level: float = 0.95,
) -> tuple[float, float, float, float, float, float]:
    """Interval of a relative effect from placebo errors whose variance grows with a noise scale.

    Placebo log effects ``r_j`` (truth 0) with noise scales ``s_j`` are read
    as ``r_j ~ N(m, A + B * s_j**2)``: ``A`` is the error every unit shares
    whatever its size (its own drift, the comparison's misfit), ``B * s_j**2``
    the part that grows with the unit's noise (a small area's counts). Written
    ``A + B s**2 = sigma2 * (lam + (1 - lam) * s**2 / median(s_j**2))``,
    the restricted (REML) likelihood is profiled over ``sigma2`` in closed
    form and evaluated over ``lam`` in [0, 1] on a grid. The reference scale
    is the typical placebo's (the median), so that ``lam = 1/2`` means a
    common error as large as a typical area's noise whatever a few outlying
    areas are: with the mean, three tiny towns would set it, and the flat
    prior below would then favour a common error far larger than a street's
    noise. The interval of the
    treated unit (scale ``s``) is the prediction interval
    ``log_effect - m -/+ t_{J-2} * sqrt(V)`` (``J`` placebos; one degree of
    freedom for the mean and one for ``lam``), where ``m`` and
    ``V = A + B * s**2 + var(m)`` are averaged over ``lam`` with weights
    proportional to its profile likelihood (a flat prior on ``lam``), not
    taken at its maximum: with twenty-odd placebos ``lam`` is poorly
    determined, often at a boundary, and plugging in its estimate understates
    the predictive variance of a unit whose scale is far from the placebos'
    typical one (the structural models integrate over their variance
    parameters for the same reason).

    ``lam = 1`` is the plain placebo interval (:func:`placebo_interval`: every
    error alike), ``lam = 0`` the studentised one (errors proportional to the
    scale, as in Abadie et al.'s post/pre RMSPE ratio), and ``B = 1`` with
    model standard errors as scales is the random-effects model of
    :func:`placebo_interval_se`.

    Parameters
    ----------
    log_effect, scale : float
        The treated unit's log effect and its noise scale (> 0).
    placebo_log, placebo_scale : array, shape (J,)
        The same for each placebo unit; non-finite pairs and scales <= 0 are dropped.
    level : float
        Interval level.

    Returns
    -------
    (lo, hi, p_value, sd, noise_share, mean_error)
        Interval of the relative effect (``exp - 1`` of the log bounds); the
        two-sided p-value of no effect; ``sd``, the treated unit's predictive
        error sd on the log scale; ``noise_share``, the part of its error
        variance that scales with its noise (``B s**2``, averaged over
        ``lam``, over ``V``); and ``m``. NaNs when fewer than 4 placebos are usable or the treated
        unit's scale is not positive.
    """
    r, s = np.asarray(placebo_log, dtype=float), np.asarray(placebo_scale, dtype=float)
    ok = np.isfinite(r) & np.isfinite(s) & (s > 0)
    r, s = r[ok], s[ok]
    n = len(r)
    if n < 4 or not (np.isfinite(log_effect) and np.isfinite(scale) and scale > 0):
        return (np.nan,) * 6
    ref = float(np.median(s**2))
    s2 = s**2 / ref

    grid = np.linspace(0.0, 1.0, 201)[:, None]
    W = 1 / (grid + (1 - grid) * s2[None, :])  # weights 1 / h_j, one row per lam
    M = (W @ r) / W.sum(axis=1)
    Q = np.sum(W * (r[None, :] - M[:, None]) ** 2, axis=1)
    # -2 REML log-likelihood with sigma2 = Q / (n - 1) profiled out (constants dropped)
    crit = (n - 1) * np.log(np.maximum(Q, 1e-300) / (n - 1)) - np.log(W).sum(axis=1) + np.log(W.sum(axis=1))
    post = np.exp(-(crit - crit.min()) / 2)
    post /= post.sum()
    lam = grid[:, 0]
    noise = (1 - lam) * scale**2 / ref  # the treated unit's h, less lam
    sigma2 = Q / (n - 1)
    var = float(post @ (sigma2 * (lam + noise + 1 / W.sum(axis=1))))
    m = float(post @ M)
    sd = float(np.sqrt(var))
    t = stats.t.ppf(0.5 + level / 2, n - 2)
    centre = log_effect - m
    p = float(2 * stats.t.sf(abs(centre) / sd, n - 2)) if sd > 0 else float(centre == 0)
    share = float(post @ (sigma2 * noise)) / var if var > 0 else np.nan
    return float(np.expm1(centre - t * sd)), float(np.expm1(centre + t * sd)), p, sd, share, m
