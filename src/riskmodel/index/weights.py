"""Data-driven weights: entropy, CRITIC, PCA; and equal weights.

All functions take the children's values of one parent, shape
``(n_units, n_children)``, and the children's directions; they return weights
summing to 1. Rows with missing values are ignored column by column (entropy)
or pairwise (CRITIC correlations); PCA uses complete rows only.

Why not a package: the Python packages commonly used for 熵权法 and CRITIC
(e.g. ``pyDecision``-style snippets) take ``log(0)`` on zero counts (NaN
weights) or add an arbitrary epsilon, and compute CRITIC's correlations on raw
values, ignoring that a "good when low" indicator must be flipped first. Here:

* values are first put on a direction-aware [0, 1] scale
  (``(x - min)/(max - min)`` for +1, ``(max - x)/(max - min)`` for -1);
* entropy uses the limit ``0 log 0 = 0`` exactly (no epsilon);
* CRITIC's contrast (sd) and conflict (1 - r) are computed on the
  direction-aligned values, so a negative indicator that moves with the
  others counts as redundant, not as conflicting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem
from riskmodel.index.normalise import constant_columns

WEIGHT_METHODS = ("meta", "equal", "expert", "ahp", "entropy", "critic", "pca")


def _aligned01(x: np.ndarray, directions: np.ndarray, codes: list[str] | None, what: str) -> np.ndarray:
    x = np.asarray(x, float)
    const = constant_columns(x)
    if const.any():
        names = codes or [f"column {j + 1}" for j in range(x.shape[1])]
        bad = [names[j] for j in np.flatnonzero(const)]
        raise InputError(Problem(f"{what} weights: constant indicator (min = max) carries no information and "
                                 f"has no defined weight: {', '.join(bad)}", column="indicator", values=bad))
    lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
    y = (x - lo) / (hi - lo)
    d = np.asarray(directions, float)
    return np.where(d > 0, y, 1.0 - y)


def entropy_weights(
    x: np.ndarray, directions: np.ndarray | None = None, basis: str = "minmax", codes: list[str] | None = None
) -> np.ndarray:
    """Entropy weights (熵权法).

    ``p_ij = y_ij / sum_i y_ij``, ``e_j = -sum_i p_ij ln p_ij / ln n_j`` with
    ``0 ln 0 = 0``, ``w_j = (1 - e_j) / sum_k (1 - e_k)``.

    Parameters
    ----------
    basis : {"minmax", "raw"}
        ``minmax``: y is the direction-aware [0, 1] rescaling (the usual
        practice; the worst unit gets 0, handled exactly). ``raw``: y = x,
        for non-negative ratio-scale data such as counts (direction does not
        change entropy on this basis).
    """
    x = np.asarray(x, float)
    d = np.ones(x.shape[1]) if directions is None else np.asarray(directions, float)
    if basis == "minmax":
        y = _aligned01(x, d, codes, "entropy")
    elif basis == "raw":
        if np.nanmin(x) < 0:
            raise InputError(Problem("entropy weights on the 'raw' basis need non-negative values; use basis = 'minmax'"))
        y = x
    else:
        raise InputError(Problem(f"unknown entropy basis {basis!r}; valid: minmax, raw"))
    valid = ~np.isnan(y)
    n = valid.sum(axis=0)
    tot = np.nansum(y, axis=0)
    if np.any(tot <= 0) or np.any(n < 2):
        bad = [(codes or [str(j) for j in range(x.shape[1])])[j] for j in np.flatnonzero((tot <= 0) | (n < 2))]
        raise InputError(Problem(f"entropy weights: indicator with all zeros or fewer than 2 values: {', '.join(bad)}"))
    p = np.where(valid, y, 0.0) / tot
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)  # 0 log 0 = 0 exactly
    e = -plogp.sum(axis=0) / np.log(n)
    dv = 1.0 - e
    if dv.sum() <= 0:
        return np.full(x.shape[1], 1.0 / x.shape[1])
    return dv / dv.sum()


def critic_weights(x: np.ndarray, directions: np.ndarray | None = None, codes: list[str] | None = None) -> np.ndarray:
    """CRITIC weights (Diakoulaki et al. 1995).

    ``C_j = sd_j * sum_k (1 - r_jk)`` on direction-aligned [0, 1] values
    (sample sd, pairwise-complete Pearson correlations), ``w = C / sum C``.
    """
    x = np.asarray(x, float)
    d = np.ones(x.shape[1]) if directions is None else np.asarray(directions, float)
    y = _aligned01(x, d, codes, "CRITIC")
    sd = np.nanstd(y, axis=0, ddof=1)
    r = pd.DataFrame(y).corr().to_numpy()
    r = np.where(np.isnan(r), 0.0, r)
    c = sd * np.sum(1.0 - r, axis=0)
    if c.sum() <= 0:
        return np.full(x.shape[1], 1.0 / x.shape[1])
    return c / c.sum()


def pca_weights(x: np.ndarray, directions: np.ndarray | None = None, codes: list[str] | None = None) -> np.ndarray:
    """PCA weights: squared loadings of the first principal component of the standardised values.

    The first component's loadings (unit length) squared sum to 1 and give
    each indicator's share in the component that explains most of the common
    variance (the weights that COINr's ``get_PCA`` reports, squared so they are
    non-negative). Complete rows only; scikit-learn's PCA.
    """
    from sklearn.decomposition import PCA

    x = np.asarray(x, float)
    d = np.ones(x.shape[1]) if directions is None else np.asarray(directions, float)
    y = _aligned01(x, d, codes, "PCA")
    y = y[~np.isnan(y).any(axis=1)]
    if y.shape[0] < 3:
        raise InputError(Problem("PCA weights need at least 3 units with complete data"))
    z = (y - y.mean(axis=0)) / y.std(axis=0, ddof=1)
    comp = PCA(n_components=1, svd_solver="full").fit(z).components_[0]
    w = comp**2
    return w / w.sum()


def equal_weights(k: int) -> np.ndarray:
    return np.full(k, 1.0 / k)
