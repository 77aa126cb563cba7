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

Computation (why it is written out here rather than taken from a library:
no maintained Python package does MinT on count forecasts with these
intervals, and the textbook form does not scale to grid cells). Both methods
are the projection ``S G = I - K C`` with ``C = [I | -A]`` the constraint
matrix (``A`` the upper rows of S: each area above the bottom minus the sum
of its bottom areas) and ``K = [I; 0]`` for bottom-up or
``K = W C' (C W C')^-1`` for MinT (Wickramasuriya et al. 2019, Theorem 1;
equal to ``S (S' W^-1 S)^-1 S' W^-1`` for invertible W). Only the areas
*above* the bottom get a row of C, and the shrunk covariance is a diagonal
plus the rank-T residual cross-product, so nothing of size (areas x areas)
is formed: 10,000 grid cells under a few hundred streets reconcile in
seconds, where the dense form needs (10,000)^3 operations per horizon
(benchmarks/scale). ``tests/forecast/test_forecast_reconcile.py`` checks
the result against the dense formulas.
"""

from __future__ import annotations

import numpy as np

from riskmodel.data.areas import AreaHierarchy
from riskmodel.errors import InputError, Problem
from riskmodel.forecast.distributions import nb_quantiles
from riskmodel.forecast.registry import RECONCILERS
from riskmodel.forecast.result import Forecast


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
        areas (for each category) when the method needs the hierarchy.
    hierarchy : AreaHierarchy
    method : str
        A name of :data:`riskmodel.forecast.registry.RECONCILERS` (``none``,
        ``bottom_up``, ``mint_shrink``); an unknown name is an InputError
        listing the valid ones.
    y, fitted : ndarray (T, n), optional
        Training data and in-sample one-step fitted values of the same series
        (for the residual covariance; needed by ``mint_shrink``, used for the
        interval correlation by both).

    Returns
    -------
    Forecast with the same series; ``model`` gets ``+<method>`` (unchanged for ``none``).
    """
    return RECONCILERS.get(method).target(fc, hierarchy, y, fitted)


def no_reconciliation(fc: Forecast, hierarchy: AreaHierarchy, y: np.ndarray | None = None,  # noqa: ARG001
                      fitted: np.ndarray | None = None) -> Forecast:  # noqa: ARG001
    """``none``: the base forecasts as they are."""
    return fc


def bottom_up(fc: Forecast, hierarchy: AreaHierarchy, y: np.ndarray | None = None,
              fitted: np.ndarray | None = None) -> Forecast:
    """``bottom_up``: the bottom areas' forecasts summed up every level (see the module notes)."""
    return project(fc, hierarchy, "bottom_up", y, fitted)


def mint_shrink(fc: Forecast, hierarchy: AreaHierarchy, y: np.ndarray | None = None,
                fitted: np.ndarray | None = None) -> Forecast:
    """``mint_shrink``: MinT with the shrunk residual covariance (needs ``y`` and ``fitted``)."""
    return project(fc, hierarchy, "mint_shrink", y, fitted)


def project(
    fc: Forecast,
    hierarchy: AreaHierarchy,
    method: str,
    y: np.ndarray | None = None,
    fitted: np.ndarray | None = None,
) -> Forecast:
    """The projection ``S G`` of ``bottom_up`` or ``mint_shrink`` (``method``), one category at a time."""
    col = {s: j for j, s in enumerate(fc.series)}
    mean = fc.mean.copy()
    h, n = mean.shape
    sd_base = _base_sd(fc)
    var = np.zeros((h, n))
    parent = hierarchy.parent
    for cat in sorted({s[1] for s in fc.series}):
        areas = [s[0] for s in fc.series if s[1] == cat]
        aset = set(areas)
        kids = aset & {parent.get(b) for b in areas}
        bottom = sorted(aset - kids)
        A, uppers = hierarchy.summing_matrix(bottom, upper_only=True)
        missing = [a for a in uppers if a not in aset]
        if missing:
            raise InputError(
                Problem(f"reconciliation of {cat!r} needs base forecasts for area(s) {', '.join(missing[:10])}")
            )
        ids = uppers + bottom
        cols = np.array([col[(a, cat)] for a in ids])
        if not (fc.quantiles[:, cols] > 0).any() and not (mean[:, cols] > 0).any():
            continue  # every forecast 0 (a category with no incident yet): coherent as it is, whatever the method
        resid = None
        if y is not None and fitted is not None:
            e = y[:, cols] - fitted[:, cols]
            ok = np.isfinite(e).all(axis=1)
            if ok.sum() >= 3:
                resid = e[ok]
        if method == "mint_shrink" and resid is None:
            raise InputError(Problem("mint_shrink needs in-sample residuals (at least 3 periods)"))
        m_cat, v_cat = _reconcile_block(mean[:, cols], sd_base[:, cols], A, resid, method)
        mean[:, cols] = m_cat
        var[:, cols] = v_cat
    q = nb_quantiles(mean, np.maximum(var, mean), fc.probs)
    model = np.array([f"{m}+{method}" for m in fc.model], dtype=object)
    return Forecast(mean, q, fc.probs, fc.periods, fc.series, model)


def _shrink_lowrank(resid: np.ndarray) -> tuple[float, np.ndarray]:
    """The Schafer-Strimmer intensity of :func:`shrink_covariance` and the
    diagonal of the residual covariance, without forming any (p, p) matrix.

    The sums over the off-diagonal entries are written with (n, n) Gram
    matrices of the standardised residuals (n = periods), so the cost is
    O(n^2 p) instead of O(n p^2) and the memory O(n p).
    """
    n, p = resid.shape
    diag = np.einsum("ij,ij->j", resid, resid) / n
    if n < 2 or p < 2:
        return 1.0, diag
    sd = np.sqrt(diag)
    xs = resid / np.where(sd > 0, sd, 1.0)
    gram = xs @ xs.T  # (n, n): ||xs' xs||_F = ||xs xs'||_F
    cross_diag = np.einsum("ij,ij->j", xs, xs)  # diag of xs' xs
    frob2 = float(np.sum(gram * gram))
    sum_d = (frob2 - float(np.sum(cross_diag**2))) / n**2  # off-diagonal sum of corm**2
    q = xs * xs
    qsum = q.sum(axis=1)
    sum_v = (float(qsum @ qsum) - float(np.sum(q * q)) - (frob2 - float(np.sum(cross_diag**2))) / n) / (n * (n - 1))
    lam = float(np.clip(sum_v / sum_d, 0.0, 1.0)) if sum_d > 1e-12 * max(frob2, 1e-300) / n**2 else 1.0
    return lam, diag


def _reconcile_block(base: np.ndarray, sd: np.ndarray, A: np.ndarray, resid: np.ndarray | None,
                     method: str) -> tuple[np.ndarray, np.ndarray]:
    """Reconciled means and variances of one category's areas.

    Parameters
    ----------
    base, sd : ndarray (h, m)
        Base means and predictive standard deviations, columns ordered as
        the areas above the bottom (the rows of ``A``) then the bottom areas.
    A : ndarray (u, b)
        Aggregation matrix: ``A[i, j] = 1`` when bottom area j is under upper area i.
    resid : ndarray (T, m) or None
        In-sample one-step residuals, same columns.
    method : {'bottom_up', 'mint_shrink'}

    Returns
    -------
    mean, var : ndarray (h, m)
    """
    u, b = A.shape
    m = u + b
    h = base.shape[0]
    # K (m, u) of the projection I - K C, with C x = x_upper - A x_bottom
    if resid is not None:
        T = resid.shape[0]
        lam, diag = _shrink_lowrank(resid)
        X = resid  # W = lam diag(covm) + (1 - lam) X'X / T  (+ jitter for MinT)
        XC = X[:, :u] - X[:, u:] @ A.T  # (T, u) = X C'
    if method == "bottom_up":
        K = np.zeros((m, u))
        K[:u] = np.eye(u)
    else:
        dW = lam * diag + 1e-9 * max(float(diag.sum()) / m, 1e-12)  # the diagonal part, with the jitter
        WCt = np.empty((m, u))  # W C'
        WCt[:u] = np.diag(dW[:u])
        WCt[u:] = -dW[u:, None] * A.T
        WCt += (1.0 - lam) / T * (X.T @ XC)
        CWCt = WCt[:u] - A @ WCt[u:]
        K = np.linalg.solve(CWCt.T, WCt.T).T  # W C' (C W C')^-1
    # means: the projection, then the bottom clipped at 0 and summed up again
    viol = base[:, :u] - base[:, u:] @ A.T  # (h, u) = C yhat
    rec = base - viol @ K.T
    bot = np.maximum(rec[:, u:], 0.0)
    mean = np.hstack([bot @ A.T, bot])
    # variances: diag(P V P') with P = I - K C and V = D R D (D = diag(sd)),
    # R = lam I + (1 - lam) corr (shrunk residual correlation) or I
    KC_diag = np.concatenate([np.diag(K[:u]), -np.einsum("iu,ui->i", K[u:], A)])
    var = np.empty((h, m))
    if resid is not None:  # the residual scale, the same at every horizon
        s_res = np.sqrt(diag)
        has = s_res > 0
    for k in range(h):
        d = sd[k]
        if resid is not None:
            v0 = lam * d**2 * has
            B = np.sqrt((1.0 - lam) / T) * X * np.where(has, d / np.where(has, s_res, 1.0), 0.0)  # (T, m)
        else:
            v0 = d**2
            B = None
        M = np.diag(v0[:u]) + (A * v0[u:]) @ A.T  # C diag(v0) C'
        vk = v0 - 2.0 * KC_diag * v0 + np.einsum("iu,iu->i", K @ M, K)
        if B is not None:
            PB = B.T - K @ (B[:, :u] - B[:, u:] @ A.T).T  # P B', (m, T)
            vk = vk + np.einsum("it,it->i", PB, PB)
        var[k] = np.maximum(vk, 0.0)
    return mean, var
