"""Negative-binomial GLR and CUSUM detectors (as R's ``surveillance::glrnb``).

Höhle and Paul (2008): counts ``y_t ~ NB(mu0_t, alpha)`` in control
(variance ``mu + alpha mu^2``), out of control ``mu1_t = mu0_t exp(kappa)``
from an unknown change point. The log-likelihood ratio of periods ``k..n`` is

    l_{n,k}(kappa) = sum_{i=k}^{n} kappa y_i + (y_i + 1/alpha) log((1 + alpha mu0_i) / (1 + alpha mu0_i e^kappa))

(Poisson when alpha = 0: ``kappa y_i + (1 - e^kappa) mu0_i``). The GLR
statistic at ``n`` maximises over ``kappa >= 0`` and over change points ``k`` in
a window of the last ``M`` periods since the last alarm (R's ``glr_nb_window``);
with a known ``kappa`` (R's ``theta``) it is the CUSUM
``S_n = max(0, S_{n-1} + l_{n,n}(kappa))`` (R's ``lr_cusum_nb``). An alarm
sounds when the statistic reaches ``c_arl``; the chart then restarts after the
alarm, as R's does.

The in-control means come from a baseline model: by default a log-linear
Poisson GLM with one pair of harmonics (and optionally a trend) fitted to each
series' training periods (R's ``estimateGLRNbHook``, which fits ``glm.nb``),
with alpha by the method of moments (R: the ``glm.nb`` maximum likelihood).

Everything is vectorised across series; the GLR maximisation over ``kappa``
is Newton's method on all (series, change point) pairs at once.
:func:`glr_nb` is the chart on arrays; :func:`detect_glrnb` the registered
detector (baseline model + chart, :mod:`riskmodel.alerts.base`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from riskmodel.alerts.base import (
    DAYS_PER_YEAR,
    DEFAULT_FLOOR,
    HARMONIC_PERIOD,
    DetectorOutput,
    DetectTask,
    bound_not_below_expected,
    check_floor,
    expected_floor,
    mark_late,
    monitor_rows,
    score_on_count_scale,
)
from riskmodel.data.frequency import Frequency
from riskmodel.errors import InputError, Problem

DEFAULT_WINDOW = {"D": 28, "W": 13, "M": 6}
"""Default ``M`` of :func:`detect_glrnb`: change points at most 4 weeks / one quarter / half a year back."""
DEFAULT_C_ARL = 5.0


def harmonic_design(t: np.ndarray, period: float, harmonics: int = 1, trend: bool = False) -> np.ndarray:
    """Columns 1, [t], cos(2 pi s t / period), sin(...) for s = 1..harmonics."""
    cols = [np.ones_like(t, dtype=float)]
    if trend:
        cols.append((t - t.mean()) / period)
    for s in range(1, harmonics + 1):
        cols += [np.cos(2 * np.pi * s * t / period), np.sin(2 * np.pi * s * t / period)]
    return np.column_stack(cols)


def fit_poisson_design(
    y: np.ndarray, X: np.ndarray, prior: np.ndarray | None = None, iters: int = 25, tol: float = 1e-9
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson log-linear GLM with a shared design, for S series at once.

    Parameters
    ----------
    y : ndarray (S, n)
    X : ndarray (n, p)
    prior : ndarray (S, n), optional
        Weights (0 drops an observation).

    Returns
    -------
    beta : ndarray (S, p)
    cov_unscaled : ndarray (S, p, p)
        Inverse Fisher information at the estimate (Poisson scale).
    """
    S, n = y.shape
    p = X.shape[1]
    w0 = np.ones_like(y, dtype=float) if prior is None else np.asarray(prior, dtype=float)
    y = np.where(w0 > 0, y, 0.0)
    mu = y + 0.1
    eta = np.log(mu)
    beta = np.zeros((S, p))
    ridge = 1e-10 * np.eye(p)
    for _ in range(iters):
        W = w0 * mu
        zz = eta + (y - mu) / mu
        XtWX = np.einsum("ni,sn,nj->sij", X, W, X) + ridge
        XtWz = np.einsum("ni,sn->si", X, W * zz)
        new = np.linalg.solve(XtWX, XtWz[..., None])[..., 0]
        eta = np.clip(new @ X.T, -30, 30)
        mu = np.exp(eta)
        if np.max(np.abs(new - beta)) < tol:
            beta = new
            break
        beta = new
    W = w0 * mu
    cov = np.linalg.inv(np.einsum("ni,sn,nj->sij", X, W, X) + ridge)
    return beta, cov


def moment_alpha(y: np.ndarray, mu: np.ndarray, prior: np.ndarray | None = None) -> np.ndarray:
    """NB2 dispersion by moments: max(0, sum((y-mu)^2 - mu) / sum(mu^2)) per series."""
    w = np.ones_like(y, dtype=float) if prior is None else prior
    num = (w * ((y - mu) ** 2 - mu)).sum(axis=1)
    den = (w * mu**2).sum(axis=1)
    return np.maximum(0.0, num / np.where(den > 0, den, 1.0))


def _llr(kappa: np.ndarray, y: np.ndarray, mu: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Per-period log-likelihood ratio l(kappa) (broadcasting; alpha 0 -> Poisson)."""
    ek = np.exp(kappa)
    nb = alpha > 0
    a = np.where(nb, alpha, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        l_nb = kappa * y + (y + 1.0 / a) * (np.log1p(a * mu) - np.log1p(a * mu * ek))
    l_po = kappa * y + (1.0 - ek) * mu
    return np.where(nb, l_nb, l_po)


def _glr_at(
    Y: np.ndarray, MU: np.ndarray, alpha: np.ndarray, valid: np.ndarray, newton: int = 30
) -> np.ndarray:
    """GLR statistic at the last column of each row: max over change points and kappa >= 0.

    Y, MU, alpha : (S, W) the window ending at n; valid : (S, W) change points allowed.
    """
    S, W = Y.shape
    # segment sums for change point k (column j): periods j..W-1
    seg = np.triu(np.ones((W, W), dtype=bool))  # seg[j, i] = i >= j
    a = alpha[:, None, :]
    Yk = np.where(seg[None], Y[:, None, :], 0.0)  # (S, W(k), W(i))
    Mk = np.where(seg[None], MU[:, None, :], 0.0)
    sx = Yk.sum(axis=2)
    sm = Mk.sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.log(np.where(sx > 0, sx, 1.0) / sm)  # Poisson MLE: a good start
    kappa = np.clip(np.where(sx > 0, kappa, 0.0), 0.0, 20.0)
    if (alpha > 0).any():
        # Newton on the NB score (R's nbScore / nbFisher); for alpha = 0 the start is exact
        for _ in range(newton):
            ek = np.exp(kappa)[..., None]
            den = 1.0 + a * ek * Mk
            score = np.where(seg[None], (Yk - ek * Mk) / den, 0.0).sum(axis=2)
            fisher = (ek[..., 0]) * np.where(seg[None], Mk * (a * Yk + 1.0) / den**2, 0.0).sum(axis=2)
            step = np.where(fisher > 0, score / fisher, 0.0)
            new = np.clip(kappa + step, 0.0, 20.0)
            if np.max(np.abs(new - kappa)) < 1e-10:
                kappa = new
                break
            kappa = new
    lnk = np.where(seg[None], _llr(kappa[..., None], Yk, Mk, a), 0.0).sum(axis=2)
    lnk = np.where(valid, lnk, -np.inf)
    return lnk.max(axis=1)


def glr_nb(
    y: np.ndarray,
    mu0: np.ndarray,
    alpha: np.ndarray | float,
    monitor: np.ndarray,
    *,
    c_arl: float = 5.0,
    M: int = 26,
    theta: float | None = None,
    cases: bool = True,
    max_cases: int = 100_000,
) -> dict[str, np.ndarray]:
    """Run the NB GLR (or, with ``theta``, the NB CUSUM) chart over the monitored rows.

    Parameters
    ----------
    y, mu0 : ndarray (T, S)
        Counts and in-control means.
    alpha : float or ndarray (S,) or (T, S)
        NB dispersion (variance mu + alpha mu^2), per series or per period; 0 for Poisson.
    monitor : array of int
        0-based rows monitored, contiguous and increasing.
    c_arl : float
        Threshold of the statistic (R's ``c.ARL``).
    M : int
        Window: change points at most ``M`` periods back (R's ``M``; -1: all since
        the last alarm).
    theta : float, optional
        Known log rate ratio (R's ``theta``, here ``kappa``) -> CUSUM.
    cases : bool
        Also return the upper bound: the smallest count at each period that
        would have raised an alarm (R's ``ret = "cases"``).

    Returns
    -------
    dict of ndarray (K, S)
        ``statistic``, ``alarm``, ``upperbound`` (cases needed; NaN if not
        computed), ``score`` (statistic / c_arl).
    """
    if c_arl <= 0:
        raise InputError(Problem(f"glrnb c_arl must be > 0 (got {c_arl})"))
    if theta is not None and theta <= 0:
        raise InputError(Problem(f"glrnb theta (log rate ratio to detect) must be > 0 (got {theta})"))
    y = np.asarray(y, dtype=float)
    mu0 = np.asarray(mu0, dtype=float)
    T, S = y.shape
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), (T, S)).copy()
    monitor = np.asarray(monitor, dtype=int)
    K = len(monitor)
    stat = np.zeros((K, S))
    alarm = np.zeros((K, S), dtype=bool)
    upper = np.full((K, S), np.nan)
    start = np.full(S, monitor[0] if K else 0)  # first change point allowed (restart after alarm)
    prev = np.zeros(S)  # CUSUM value
    Wmax = (monitor[-1] - monitor[0] + 1) if M < 0 else M + 1
    for ki, n in enumerate(monitor):
        yn = np.nan_to_num(y[n])
        if theta is not None:
            z = _llr(np.float64(theta), yn, mu0[n], alpha[n])
            s = np.maximum(0.0, prev + z)
            if cases:
                # smallest y with prev + l(y) > c (l linear in y): R's back-calculation
                ek = np.exp(theta)
                nb = alpha[n] > 0
                a = np.where(nb, alpha[n], 1.0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    lg = np.where(nb, np.log1p(a * mu0[n]) - np.log1p(a * mu0[n] * ek), 0.0)
                    slope = theta + lg
                    const = np.where(nb, lg / a, (1 - ek) * mu0[n])
                    need = (c_arl - prev - const) / slope
                upper[ki] = np.maximum(0.0, np.floor(need) + 1)
            stat[ki] = s
            fired = s > c_arl  # R's lr_cusum_nb: ">"
            prev = np.where(fired, 0.0, s)
        else:
            W = int(min(Wmax, n - monitor[0] + 1))
            rows = np.arange(n - W + 1, n + 1)
            Y = np.nan_to_num(y[rows].T)
            MU = mu0[rows].T
            valid = rows[None, :] >= start[:, None]
            AL = alpha[rows].T
            s = _glr_at(Y, MU, AL, valid)
            stat[ki] = s
            fired = s >= c_arl  # R's glr_nb_window: ">="
            if cases:
                upper[ki] = _cases_needed(Y, MU, AL, valid, c_arl, max_cases)
            prev = s
        alarm[ki] = fired
        start = np.where(fired, n + 1, start)
    return {"statistic": stat, "alarm": alarm, "upperbound": upper, "score": stat / c_arl}


def _cases_needed(
    Y: np.ndarray, MU: np.ndarray, alpha: np.ndarray, valid: np.ndarray, c: float, max_cases: int
) -> np.ndarray:
    """Smallest count in the last period that makes the GLR reach ``c`` (bisection)."""
    S = Y.shape[0]
    lo = np.full(S, -1.0)  # stat(lo) < c
    hi = np.maximum(np.ceil(MU[:, -1] * 2 + 10), 1.0)
    # grow hi until stat(hi) >= c
    for _ in range(20):
        Yh = Y.copy()
        Yh[:, -1] = hi
        below = _glr_at(Yh, MU, alpha, valid) < c
        if not below.any() or hi.max() >= max_cases:
            break
        hi = np.where(below, np.minimum(hi * 4, max_cases), hi)
    while np.any(hi - lo > 1):
        mid = np.floor((lo + hi) / 2)
        mid = np.where(hi - lo > 1, mid, hi)
        Ym = Y.copy()
        Ym[:, -1] = np.maximum(mid, 0)
        reach = _glr_at(Ym, MU, alpha, valid) >= c
        hi = np.where((hi - lo > 1) & reach, mid, hi)
        lo = np.where((hi - lo > 1) & ~reach, mid, lo)
    return hi


# ---------------------------------------------------------------- the registered detector
def baseline_means(y: np.ndarray, periods: pd.DatetimeIndex, freq: str, train: np.ndarray,
                   harmonics: int, trend: bool) -> tuple[np.ndarray, np.ndarray]:
    """In-control means from a log-linear Poisson GLM on the training rows; NB alpha by moments.

    Parameters
    ----------
    y : ndarray (T, S)
        Counts (NaN: no data, left out of the fit).
    periods : DatetimeIndex (T,)
    freq : {'D', 'W', 'M'}
        Sets the harmonic period (:data:`~riskmodel.alerts.base.HARMONIC_PERIOD`)
        and, for daily data, adds weekday effects.
    train : array of int
        Rows the GLM is fitted on.
    harmonics : int
        Pairs of yearly harmonics.
    trend : bool
        Add a linear trend (centred on the whole range).

    Returns
    -------
    mu : ndarray (T, S)
        Expected counts at every row.
    alpha : ndarray (S,)
        NB2 dispersion by moments on the training rows (0: Poisson).
    """
    period = HARMONIC_PERIOD[freq]
    days = (periods - periods[0]).days.to_numpy(dtype=float)
    tt = days / (DAYS_PER_YEAR / period)  # time in periods of ``period`` per year
    X = harmonic_design(tt, period, harmonics, trend)
    if freq == "D":
        dow = periods.dayofweek.to_numpy()
        X = np.column_stack([X] + [(dow == d).astype(float) for d in range(1, 7)])
    Xtr = X[train]
    Ytr = y[train].T
    prior = (~np.isnan(Ytr)).astype(float)
    beta, _ = fit_poisson_design(np.nan_to_num(Ytr), Xtr, prior)
    mu = np.exp(np.clip(X @ beta.T, -30, 30))  # (T, S)
    alpha = moment_alpha(np.nan_to_num(Ytr), mu[train].T, prior)
    return mu, alpha


def detect_glrnb(task: DetectTask) -> DetectorOutput:
    """NB GLR (or, with ``theta``, CUSUM) on a harmonic baseline fitted before the monitored range.

    Options: ``c_arl`` (5), ``M`` (28 days, 13 weeks, 6 months), ``theta``
    (None: GLR), ``alpha_nb`` (None: by moments), ``harmonics`` (1),
    ``trend`` (False), ``floor`` (1: expected counts are never below the
    series' long-run rate over the training periods,
    :func:`~riskmodel.alerts.base.expected_floor`; 0: no floor). The
    baseline is fitted on every period before the first monitored one (at
    least a year); by default monitoring starts after two years.

    ``upperbound`` is the smallest count that would raise an alarm
    (``bound="at"``) and ``score`` is on the count scale,
    ``(count - expected) / (upperbound - expected)``, so that an alarm is
    exactly ``score >= 1`` (the chart's own statistic over ``c_arl`` is
    not in the table).
    """
    y, periods, freq, options = task.y, task.periods, task.freq, task.options
    year = Frequency.of(freq).year_lag
    mon = monitor_rows(periods, task.start, task.end, year * 2)
    if mon[0] < year:
        raise InputError(Problem(
            f"glrnb needs at least one year ({year} periods) of history before --start; "
            f"the data start {periods[0].date()}", column="--start"))
    c_arl = float(options.get("c_arl", DEFAULT_C_ARL))
    M = int(options.get("M", DEFAULT_WINDOW[freq]))
    harmonics = int(options.get("harmonics", 1))
    trend = bool(options.get("trend", False))
    floor = check_floor(options.get("floor", DEFAULT_FLOOR))
    train = np.arange(0, mon[0])
    mu, alpha = baseline_means(y, periods, freq, train, harmonics, trend)
    # the harmonic fit puts near-zero means (1e-13) where a sparse series had no count
    mu = np.maximum(mu, expected_floor(y[train], floor)[None, :])
    if options.get("alpha_nb") is not None:
        alpha = np.full(y.shape[1], float(options["alpha_nb"]))
    theta = options.get("theta")
    r = glr_nb(np.nan_to_num(y), mu, alpha, mon, c_arl=c_arl, M=M, theta=theta)
    K, S = r["alarm"].shape
    yk = y[mon]
    mk = mu[mon]
    a = alpha[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        pv = np.where(a > 0, stats.nbinom.sf(yk - 1, 1 / np.where(a > 0, a, 1), 1 / (1 + a * mk)), stats.poisson.sf(yk - 1, mk))
    upper = bound_not_below_expected(mk, r["upperbound"])
    res = {
        "expected": mk, "upperbound": upper, "alarm": r["alarm"],
        "score": score_on_count_scale(yk, mk, upper),
        "pvalue": pv, "reason": np.full((K, S), "", dtype=object),
    }
    used: dict[str, Any] = {
        "c_arl": c_arl, "M": M, "theta": theta, "harmonics": harmonics, "trend": trend,
        "alpha_nb": "moments" if options.get("alpha_nb") is None else float(options["alpha_nb"]),
        "floor": floor,
    }
    mark_late(res, mon, task.first, year, "the baseline model needs one year of history")
    return DetectorOutput.from_arrays(res, used, mon)
