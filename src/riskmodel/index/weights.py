"""Weighting methods: data-driven (entropy, CRITIC, PCA) and static (meta, equal, expert, AHP).

Each method is one function registered in
:data:`riskmodel.index.registry.WEIGHTS` by :mod:`riskmodel.index.catalogue`
(the two signatures are given there).

The data-driven functions take the children's values of one parent, shape
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

from typing import Any

import numpy as np
import pandas as pd

from riskmodel.data.readers import read_table
from riskmodel.errors import InputError, Problem
from riskmodel.index.ahp import AHPResult, ahp
from riskmodel.index.config import AHPMatrixCfg, IndexConfig
from riskmodel.index.normalise import constant_columns
from riskmodel.index.spec import IndexSpec


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


# --------------------------------------------------------------------------- static weights
StaticWeights = tuple[IndexSpec, list[AHPResult]]


def with_values(cfg: IndexConfig, spec: IndexSpec) -> IndexSpec:
    """The spec with ``weights.values`` (code -> weight) applied, when given."""
    return spec.with_weights(cfg.weights.values) if cfg.weights.values else spec


def meta_weights(cfg: IndexConfig, spec: IndexSpec) -> StaticWeights:
    """The weights declared in the spec (iMeta / spec ``weight`` column), with ``weights.values`` over them."""
    return with_values(cfg, spec), []


def equal_node_weights(cfg: IndexConfig, spec: IndexSpec) -> StaticWeights:
    """Every node weighs 1 within its parent (``weights.values`` over that)."""
    return with_values(cfg, spec.with_weights({c: 1.0 for c in spec.node_codes()})), []


def expert_weights(cfg: IndexConfig, spec: IndexSpec) -> StaticWeights:
    """The experts' weights in ``weights.values`` (required)."""
    if not cfg.weights.values:
        raise InputError(Problem("key 'weights.values': method 'expert' needs the weights, e.g. values = { code = 0.3, ... }"))
    return with_values(cfg, spec), []


def ahp_weights(cfg: IndexConfig, spec: IndexSpec) -> StaticWeights:
    """AHP priorities of the children of every parent with pairwise matrices (``weights.ahp`` / ``ahp_file``).

    ``weights.values`` are applied first; the AHP weights replace them for the
    children the matrices cover.
    """
    spec = with_values(cfg, spec)
    wc = cfg.weights
    if not wc.ahp and not wc.ahp_file:
        raise InputError(Problem("key 'weights.ahp': method 'ahp' needs pairwise matrices ([[weights.ahp]] tables "
                                 "or ahp_file = \"judgements.csv\" with expert, parent, row, col, value)"))
    w, results = _ahp_weights(cfg, spec)
    return spec.with_weights(w), results


def read_ahp_file(path: str) -> list[AHPMatrixCfg]:
    """Pairwise judgements from a long table ``expert, parent, row, col, value``.

    Give the upper triangle (the rest follows by reciprocity) or the full
    matrix; an optional ``expert_weight`` column weights the experts.
    """
    df, _ = read_table(path, what="AHP judgements")
    need = ["expert", "parent", "row", "col", "value"]
    miss = [c for c in need if c not in df.columns]
    if miss:
        raise InputError(Problem(f"required columns are missing: {', '.join(miss)} (expected {', '.join(need)})",
                                 source=str(path)))
    val = pd.to_numeric(df["value"], errors="coerce")
    if val.isna().any():
        bad = val.isna()
        raise InputError(Problem("not a number", source=str(path), column="value",
                                 rows=(np.flatnonzero(bad) + 2).tolist(), values=df.loc[bad, "value"].tolist()))
    df = df.assign(value=val)
    out = []
    for (expert, parent), g in df.groupby(["expert", "parent"], sort=False):
        codes = list(dict.fromkeys([*g["row"].astype(str), *g["col"].astype(str)]))
        k = len(codes)
        A = np.full((k, k), np.nan)
        np.fill_diagonal(A, 1.0)
        for r in g.itertuples():
            i, j = codes.index(str(r.row)), codes.index(str(r.col))
            A[i, j] = r.value
        miss_ij = np.isnan(A) & ~np.isnan(A.T)
        with np.errstate(divide="ignore"):
            A[miss_ij] = 1.0 / A.T[miss_ij]
        if np.isnan(A).any():
            i, j = np.argwhere(np.isnan(A))[0]
            raise InputError(Problem(f"expert '{expert}', parent '{parent}': no judgement for ({codes[i]}, {codes[j]})",
                                     source=str(path)))
        ew = float(pd.to_numeric(g["expert_weight"], errors="coerce").iloc[0]) if "expert_weight" in g.columns else 1.0
        out.append(AHPMatrixCfg(parent=str(parent), codes=codes, matrix=A.tolist(), expert=str(expert), weight=ew))
    return out


def _ahp_weights(cfg: IndexConfig, spec: IndexSpec) -> tuple[dict[str, float], list[AHPResult]]:
    wc = cfg.weights
    by_parent: dict[str, list[Any]] = {}
    mats = list(wc.ahp) + (read_ahp_file(str(cfg.path(wc.ahp_file))) if wc.ahp_file else [])
    for m in mats:
        by_parent.setdefault(m.parent, []).append(m)
    out: dict[str, float] = {}
    results = []
    codes_all = set(spec.table["code"])
    for parent, ms in by_parent.items():
        if parent not in codes_all:
            raise InputError(Problem(f"key 'weights.ahp': parent '{parent}' is not in the spec"))
        kids = spec.children(parent)
        for m in ms:
            if sorted(m.codes) != sorted(kids):
                raise InputError(Problem(
                    f"key 'weights.ahp' ({m.expert}, parent '{parent}'): codes {', '.join(m.codes)} must be exactly "
                    f"the children of '{parent}': {', '.join(kids)}"))
        order = ms[0].codes
        mats = []
        for m in ms:
            A = np.asarray(m.matrix, float) if all(len(r) == len(m.codes) for r in m.matrix) else None
            if A is None or A.shape != (len(m.codes), len(m.codes)):
                raise InputError(Problem(f"key 'weights.ahp' ({m.expert}, parent '{parent}'): matrix must be "
                                         f"{len(m.codes)} x {len(m.codes)}"))
            pos = [m.codes.index(c) for c in order]
            mats.append(A[np.ix_(pos, pos)])
        res = ahp(mats, order, parent, wc.ahp_method, wc.ahp_group, [m.expert for m in ms], [m.weight for m in ms])
        results.append(res)
        out.update(dict(zip(order, res.weights, strict=True)))
    return out, results


__all__ = [
    "ahp_weights",
    "critic_weights",
    "entropy_weights",
    "equal_node_weights",
    "equal_weights",
    "expert_weights",
    "meta_weights",
    "pca_weights",
    "read_ahp_file",
    "with_values",
]
