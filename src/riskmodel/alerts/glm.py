"""Batched (quasi-)Poisson GLM fits for the Farrington family, one per series at once.

The Farrington model for one monitored period is a log-linear Poisson GLM on a
few hundred reference periods with a factor (the seasonal blocks), an optional
linear time trend and an optional log-population offset. For a panel of series
that share one calendar, the design matrix is the same for every series; only
the responses, weights and offsets differ. This module fits that model for all
series at once.

Why not statsmodels
-------------------
statsmodels fits one series at a time (about 2 ms per fit, four fits per
area-week in Farrington's procedure: too slow for thousands of areas), and the
parity target is R's ``glm.fit``, whose stopping rule and final-iteration
quantities (working weights, hat values) we reproduce here. The design is
"cell means + trend": with one indicator column per factor level instead of an
intercept and treatment contrasts. It spans the same column space as R's
``response ~ 1 + wtime + seasgroups``, so the IRLS iterates (which depend on
the column space only) and therefore the fitted means, hat values and
predictions are the same; but the normal equations then have an arrow shape and
are solved in closed form (a Schur complement on the trend), with no matrix
factorisation, in O(n) per series and iteration.

The IRLS follows R's ``glm.fit`` exactly: start ``mu = y + 0.1``, working
response ``z = eta + (y - mu)/mu``, working weights ``prior * mu``, deviance
convergence ``|dev - devold| / (|dev| + 0.1) < 1e-8``, at most 25 iterations.
As in R, the working weights stored with the fit (and used for the hat values,
the dispersion and the coefficient covariance) are those of the last iteration,
computed from the mean *before* the last update.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPSILON = 1e-8  # glm.control()$epsilon
MAXIT = 25  # glm.control()$maxit


@dataclass
class CellTrendFit:
    """Result of :func:`fit_cells_trend` for S series.

    Attributes
    ----------
    beta : ndarray (S, L)
        Log mean of each factor level at ``t = 0`` (cell-means parametrisation).
    gamma : ndarray (S,)
        Trend per unit of ``t`` (0 when fitted without trend).
    mu : ndarray (S, n)
        Fitted means (0 where an observation is not used).
    weights_last : ndarray (S, n)
        Working weights ``prior * mu`` of the last IRLS iteration.
    converged : ndarray (S,) bool
    n_iter : ndarray (S,) int
    dispersion : ndarray (S,)
        Pearson estimate ``sum(w r^2) / df_resid`` as in ``summary.glm``
        (not bounded below by 1).
    df_resid : ndarray (S,)
    level_sum : ndarray (S, L)
        Sum of working weights per level (``A``).
    level_tbar : ndarray (S, L)
        Working-weighted mean of ``t`` per level.
    stt : ndarray (S,)
        Working-weighted within-level sum of squares of ``t`` (inf without trend).
    trend : ndarray (S,) of bool
        Whether each series' model has the trend term.
    """

    beta: np.ndarray
    gamma: np.ndarray
    mu: np.ndarray
    weights_last: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    dispersion: np.ndarray
    df_resid: np.ndarray
    level_sum: np.ndarray
    level_tbar: np.ndarray
    stt: np.ndarray
    trend: np.ndarray

    def hat(self, level: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Diagonal of the hat matrix of the last IRLS iteration, (S, n)."""
        a = self.level_sum[:, level]
        with np.errstate(divide="ignore", invalid="ignore"):
            h = self.weights_last / a
            dt = t[None, :] - self.level_tbar[:, level]
            # stt is inf for series without trend, so the term vanishes there
            h = h + self.weights_last * dt**2 / self.stt[:, None]
        return np.where(self.weights_last > 0, h, 0.0)

    def var_link(self, level: int, t0: float) -> np.ndarray:
        """Unscaled variance of the linear predictor at (level, t0), (S,).

        Multiply by the dispersion for the variance that ``predict.glm`` uses.
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            v = 1.0 / self.level_sum[:, level]
            v = v + (t0 - self.level_tbar[:, level]) ** 2 / self.stt
        return v

    def eta(self, level: int, t0: float) -> np.ndarray:
        """Linear predictor (without offset) at (level, t0), (S,)."""
        return self.beta[:, level] + self.gamma * t0


def _poisson_dev(y: np.ndarray, mu: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """R's poisson()$dev.resids summed per series: 2 wt (y log(y/mu) - (y - mu))."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
    r = 2.0 * prior * (ylogy - (y - mu))
    return np.where(prior > 0, r, 0.0).sum(axis=1)


def fit_cells_trend(
    y: np.ndarray,
    prior: np.ndarray,
    level: np.ndarray,
    n_levels: int,
    t: np.ndarray,
    offset: np.ndarray | None = None,
    *,
    trend: bool | np.ndarray = True,
    maxit: int = MAXIT,
    epsilon: float = EPSILON,
) -> CellTrendFit:
    """Fit ``log mu = beta[level] + gamma * t + offset`` by IRLS for S series at once.

    Parameters
    ----------
    y : ndarray (S, n)
        Counts; any value where ``prior == 0`` is ignored.
    prior : ndarray (S, n)
        Prior weights (0 excludes an observation, e.g. a missing count).
    level : ndarray (n,) of int
        Factor level of each observation, in ``0..n_levels-1`` (shared by all series).
    n_levels : int
    t : ndarray (n,)
        Time covariate (shared); centre and scale it for conditioning.
    offset : ndarray (S, n), optional
        Known log-offset (log population).
    trend : bool or ndarray (S,) of bool
        Include ``gamma * t`` (for all series, or per series).

    Returns
    -------
    CellTrendFit
    """
    y = np.asarray(y, dtype=float)
    prior = np.asarray(prior, dtype=float)
    good = prior > 0
    y = np.where(good, y, 0.0)
    S, n = y.shape
    off = np.zeros_like(y) if offset is None else np.where(good, offset, 0.0)
    onehot = np.zeros((n, n_levels))
    onehot[np.arange(n), level] = 1.0
    t = np.asarray(t, dtype=float)
    has_trend = np.broadcast_to(np.asarray(trend, dtype=bool), (S,)).copy()
    any_trend = bool(has_trend.any())

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _irls(y, prior, good, off, onehot, level, t, has_trend, any_trend, maxit, epsilon, n_levels)


def _irls(y, prior, good, off, onehot, level, t, has_trend, any_trend, maxit, epsilon, n_levels):  # noqa: ANN001, ANN202
    """The IRLS loop of :func:`fit_cells_trend` (R's glm.fit)."""
    S, n = y.shape
    # R: poisson()$initialize -> mustart <- y + 0.1 ; eta <- log(mustart)
    mu = y + 0.1
    eta = np.log(mu)
    devold = _poisson_dev(y, mu, prior)
    active = np.ones(S, dtype=bool)
    converged = np.zeros(S, dtype=bool)
    n_iter = np.zeros(S, dtype=int)
    beta = np.zeros((S, n_levels))
    gamma = np.zeros(S)
    w_last = np.zeros_like(y)
    A = np.zeros((S, n_levels))
    tbar = np.zeros((S, n_levels))
    stt = np.full(S, np.inf)
    for it in range(1, maxit + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        mu_a, eta_a, y_a, pr_a, off_a = mu[idx], eta[idx], y[idx], prior[idx], off[idx]
        W = np.where(pr_a > 0, pr_a * mu_a, 0.0)
        z = (eta_a - off_a) + (y_a - mu_a) / mu_a
        a = W @ onehot
        with np.errstate(divide="ignore", invalid="ignore"):
            zbar = np.where(a > 0, ((W * z) @ onehot) / a, 0.0)
            if any_trend:
                ht = has_trend[idx]
                tb = np.where(a > 0, (W * t) @ onehot / a, 0.0)
                dt = t[None, :] - tb[:, level]
                s_tt = (W * dt * dt).sum(axis=1)
                s_tz = (W * dt * (z - zbar[:, level])).sum(axis=1)
                g = np.where(ht, s_tz / s_tt, 0.0)
                s_tt = np.where(ht, s_tt, np.inf)
                tb = np.where(ht[:, None], tb, 0.0)
                b = zbar - g[:, None] * tb
            else:
                tb = np.zeros_like(zbar)
                s_tt = np.full(idx.size, np.inf)
                g = np.zeros(idx.size)
                b = zbar
        eta_new = b[:, level] + g[:, None] * t[None, :] + off_a
        mu_new = np.exp(eta_new)
        dev = _poisson_dev(y_a, mu_new, pr_a)
        conv = np.abs(dev - devold[idx]) / (np.abs(dev) + 0.1) < epsilon
        # store this iteration's state for the series still iterating
        mu[idx], eta[idx], devold[idx] = mu_new, eta_new, dev
        beta[idx], gamma[idx], w_last[idx] = b, g, W
        A[idx], tbar[idx], stt[idx] = a, tb, s_tt
        n_iter[idx] = it
        converged[idx[conv]] = True
        active[idx[conv]] = False
    rank = (A > 0).sum(axis=1) + has_trend.astype(int)
    n_good = good.sum(axis=1)
    df = (n_good - rank).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        resid = np.where(good, (y - mu) / mu, 0.0)
        pearson = np.where(w_last > 0, w_last * resid**2, 0.0).sum(axis=1)
        disp = np.where(df > 0, pearson / df, np.nan)
    return CellTrendFit(
        beta=beta,
        gamma=gamma,
        mu=np.where(good, mu, 0.0),
        weights_last=w_last,
        converged=converged,
        n_iter=n_iter,
        dispersion=disp,
        df_resid=df,
        level_sum=A,
        level_tbar=tbar,
        stt=stt,
        trend=has_trend,
    )
