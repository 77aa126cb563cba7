"""Hierarchical reconciliation: coherent forecasts from grid cell to street to
district to city.

Base forecasts are made for every area at every level (one category at a
time: categories are not summed into each other). The reconciled means are
``S G yhat`` with S the summing matrix of the area hierarchy
(:meth:`AreaHierarchy.summing_matrix`) and

* bottom-up: ``G = [0 | I]`` (the bottom-level forecasts, summed up);
* MinT with shrinkage (Wickramasuriya, Athanasopoulos & Hyndman 2019):
  ``G = (S' W^-1 S)^-1 S' W^-1`` with W the in-sample one-step residual
  covariance shrunk towards its diagonal by the Schafer-Strimmer (2005)
  intensity, as in R's ``hts``/``fable``.

Non-negativity: when a reconciled bottom mean is negative (possible with
MinT), the bottom means are clipped at 0 and every level re-summed, so that
the forecasts stay coherent and non-negative.

Intervals: the base predictive variance of each node at each horizon is read
from its quantiles (the 95% interval width / 3.92, or the 80% width / 2.563),
combined with the shrunk residual correlation into a covariance V, and the
reconciled variance is ``diag(S G V G' S')``; the quantiles are those of the
negative binomial with the reconciled mean and variance. Means are coherent
exactly; quantiles of sums are not sums of quantiles, so intervals are
"coherent" in that they come from one joint (Gaussian-copula) model.
"""

from __future__ import annotations

import numpy as np

from riskmodel.data.areas import AreaHierarchy
from riskmodel.errors import InputError, Problem
from riskmodel.forecast.distributions import nb_quantiles
from riskmodel.forecast.result import Forecast

METHODS = ("none", "bottom_up", "mint_shrink")


def shrink_covariance(resid: np.ndarray) -> tuple[np.ndarray, float]:
    """Schafer-Strimmer shrinkage of a residual covariance towards its diagonal.

    Parameters
    ----------
    resid : ndarray (n_obs, p)
        In-sample residuals (not centred, as in ``hts::shrink.estim``).

    Returns
    -------
    W : ndarray (p, p)
    lambda : float, the shrinkage intensity in [0, 1]
    """
    n, p = resid.shape
    covm = resid.T @ resid / n
    sd = np.sqrt(np.diag(covm))
    sd_safe = np.where(sd > 0, sd, 1.0)
    xs = resid / sd_safe
    corm = covm / np.outer(sd_safe, sd_safe)
    if n < 2:
        return np.diag(np.diag(covm)), 1.0
    v = (xs**2).T @ (xs**2) - (xs.T @ xs) ** 2 / n
    v *= 1.0 / (n * (n - 1))
    np.fill_diagonal(v, 0.0)
    d = corm**2
    np.fill_diagonal(d, 0.0)
    lam = float(np.clip(v.sum() / d.sum(), 0.0, 1.0)) if d.sum() > 0 else 1.0
    W = lam * np.diag(np.diag(covm)) + (1 - lam) * covm
    return W, lam


def _base_sd(fc: Forecast) -> np.ndarray:
    """Predictive standard deviation of each node (h, n) from its quantiles."""
    for lv, z in ((95, 1.959964), (80, 1.281552)):
        try:
            lo, hi = fc.interval(lv)
            return (hi - lo) / (2 * z)
        except KeyError:
            continue
    return np.sqrt(np.maximum(fc.mean, 0.0))


def reconcile(
    fc: Forecast,
    hierarchy: AreaHierarchy,
    method: str,
    y: np.ndarray | None = None,
    fitted: np.ndarray | None = None,
) -> Forecast:
    """Reconcile base forecasts of all levels, one category at a time.

    Parameters
    ----------
    fc : Forecast
        Base forecasts; its series must include every ancestor of the bottom
        areas (for each category).
    hierarchy : AreaHierarchy
    method : {'none', 'bottom_up', 'mint_shrink'}
    y, fitted : ndarray (T, n), optional
        Training data and in-sample one-step fitted values of the same series
        (for the residual covariance; needed by ``mint_shrink``, used for the
        interval correlation by both).

    Returns
    -------
    Forecast with the same series; ``model`` gets ``+<method>``.
    """
    if method not in METHODS:
        raise InputError(Problem(f"unknown value {method!r} for --reconcile; valid: {', '.join(METHODS)}"))
    if method == "none":
        return fc
    col = {s: j for j, s in enumerate(fc.series)}
    mean = fc.mean.copy()
    h, n = mean.shape
    sd_base = _base_sd(fc)
    var = np.zeros((h, n))
    for cat in sorted({s[1] for s in fc.series}):
        areas = [s[0] for s in fc.series if s[1] == cat]
        aset = set(areas)
        kids = {a for a in areas if any(hierarchy.parent.get(b) == a for b in areas)}
        bottom = sorted(aset - kids)
        S, ids = hierarchy.summing_matrix(bottom)
        missing = [a for a in ids if a not in aset]
        if missing:
            raise InputError(
                Problem(f"reconciliation of {cat!r} needs base forecasts for area(s) {', '.join(missing[:10])}")
            )
        cols = np.array([col[(a, cat)] for a in ids])
        nb = len(bottom)
        resid = None
        if y is not None and fitted is not None:
            e = y[:, cols] - fitted[:, cols]
            ok = np.isfinite(e).all(axis=1)
            if ok.sum() >= 3:
                resid = e[ok]
        if method == "bottom_up":
            G = np.hstack([np.zeros((nb, len(ids) - nb)), np.eye(nb)])
        else:
            if resid is None:
                raise InputError(Problem("mint_shrink needs in-sample residuals (at least 3 periods)"))
            W, _ = shrink_covariance(resid)
            W = W + np.eye(len(ids)) * (1e-9 * max(np.trace(W) / len(ids), 1e-12))
            Wi = np.linalg.pinv(W)
            G = np.linalg.solve(S.T @ Wi @ S, S.T @ Wi)
        SG = S @ G
        base = mean[:, cols]
        bot = base @ G.T  # (h, nb)
        bot = np.maximum(bot, 0.0)
        rec = bot @ S.T
        mean[:, cols] = rec
        if resid is not None:
            Wc, _ = shrink_covariance(resid)
            d = np.sqrt(np.diag(Wc))
            d = np.where(d > 0, d, 1.0)
            R = Wc / np.outer(d, d)
        else:
            R = np.eye(len(ids))
        sdb = sd_base[:, cols]
        for k in range(h):
            V = R * np.outer(sdb[k], sdb[k])
            var[k, cols] = np.maximum(np.einsum("ij,jk,ik->i", SG, V, SG), 0.0)
    q = nb_quantiles(mean, np.maximum(var, mean), fc.probs)
    model = np.array([f"{m}+{method}" for m in fc.model], dtype=object)
    return Forecast(mean, q, fc.probs, fc.periods, fc.series, model)
