"""Deterministic sensitivity of a built index: remove one, swap two, local slopes.

* :func:`remove_one` -- rank changes when one indicator (or one pillar, any
  level) is left out and its siblings' weights are renormalised. Removing a
  node is the same as giving it weight 0 (aggregation renormalises within the
  parent), so all removals are evaluated in one vectorised batch.
* :func:`swap_weights` -- "what would it take": the smallest change of the
  weights at one level (Euclidean norm of the change of the within-parent
  weights, each parent's weights still summing to 1 and staying >= 0) that
  makes two areas' index scores equal, i.e. swaps their order. Solved with
  scipy's SLSQP.
* :func:`local_sensitivity` -- d(index score of each area) / d(weight of each
  node at a level), weights normalised within their parents, by central
  differences in one batch (works for every aggregation method).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem
from riskmodel.index.build import IndexResult, aggregators, level_weights, memberships
from riskmodel.index.ranks import rank_desc


def _top_scores(res: IndexResult, W: list[np.ndarray], _cache: dict | None = None) -> np.ndarray:
    """Top-level scores for a batch of per-level weights (B, m_L); single period only."""
    agg = res.config.steps.aggregate
    if _cache is None:
        _cache = {}
    if "Ms" not in _cache:
        _cache["Ms"] = memberships(res.spec)
        _cache["C"] = res.levels[0][_rows(res)]
    Ms = _cache["Ms"]
    if "steps" not in _cache:
        _cache["steps"] = aggregators(agg, len(Ms))
    C = _cache["C"]
    with np.errstate(all="ignore"):
        for w, M, (fn, opts) in zip(W, Ms, _cache["steps"], strict=True):
            C = fn(C, w, M, **opts)
    return C[..., 0]


def _rows(res: IndexResult) -> np.ndarray:
    """Rows of the latest period (all rows for a cross-section)."""
    per = res.units["period"]
    if per.isna().all():
        return np.arange(len(per))
    return np.flatnonzero((per == per.max()).to_numpy())


def _normalised_weights(res: IndexResult) -> list[np.ndarray]:
    """Nominal weights per level, normalised to sum 1 within each parent."""
    out = []
    for w, M in zip(level_weights(res.spec), memberships(res.spec), strict=True):
        sums = (w @ M)[np.argmax(M, axis=1)]
        out.append(np.where(sums > 0, w / np.where(sums > 0, sums, 1), 0.0))
    return out


def remove_one(res: IndexResult, level: int = 1) -> pd.DataFrame:
    """Rank changes of the index when each node at ``level`` is removed in turn.

    Returns
    -------
    DataFrame
        Long: ``removed, area_id, nominal_rank, rank, rank_change`` (positive =
        the area moves up without the node) plus per removal the mean absolute
        rank shift in ``mean_abs_shift``.
    """
    spec = res.spec
    if not 1 <= level < spec.n_levels:
        raise InputError(Problem(f"remove_one: level must be 1..{spec.n_levels - 1}, got {level}"))
    codes = spec.codes_at(level)
    base = level_weights(spec)
    k = len(codes)
    W = [np.broadcast_to(w, (k, w.size)).copy() for w in base]
    W[level - 1][np.arange(k), np.arange(k)] = 0.0
    S = _top_scores(res, W)
    nom = _top_scores(res, [w[None] for w in base])[0]
    nom_r = rank_desc(nom)
    R = rank_desc(S, axis=1)
    ids = res.units["area_id"].to_numpy()[_rows(res)]
    df = pd.DataFrame({
        "removed": np.repeat(codes, len(ids)),
        "level": level,
        "area_id": np.tile(ids, k),
        "nominal_rank": np.tile(nom_r, k),
        "rank": R.ravel(),
    })
    df["rank_change"] = df["nominal_rank"] - df["rank"]
    df["mean_abs_shift"] = df.groupby("removed")["rank_change"].transform(lambda s: s.abs().mean())
    return df


@dataclass
class SwapResult:
    """The smallest weight change at one level that ties two areas."""

    area_a: str
    area_b: str
    level: int
    feasible: bool
    weights: pd.DataFrame  # code, parent, nominal, new, change
    l2: float
    max_abs: float
    message: str

    def summary(self) -> str:
        if not self.feasible:
            return self.message
        t = self.weights.reindex(self.weights["change"].abs().sort_values(ascending=False).index).head(5)
        lines = [self.message] + [f"  {r.code:<20s} {r.nominal:.4f} -> {r.new:.4f} ({r.change:+.4f})" for r in t.itertuples()]
        return "\n".join(lines)


def swap_weights(res: IndexResult, area_a: str, area_b: str, level: int = 2) -> SwapResult:
    """Smallest change of the level-``level`` weights that makes ``a`` and ``b`` tie.

    The weights within each parent are normalised to sum 1 first; the change
    keeps each parent's sum at 1 and every weight in [0, 1]. "Smallest" is the
    Euclidean norm of the change. Beyond the tie, any further move in the same
    direction swaps the two areas.
    """
    spec = res.spec
    if not 1 <= level < spec.n_levels:
        raise InputError(Problem(f"swap: level must be 1..{spec.n_levels - 1}, got {level}"))
    ids = list(res.units["area_id"].to_numpy()[_rows(res)])
    miss = [a for a in (area_a, area_b) if a not in ids]
    if miss:
        raise InputError(Problem(f"swap: unknown area(s) {', '.join(miss)}; areas: {', '.join(ids[:10])}{' ...' if len(ids) > 10 else ''}"))
    ia, ib = ids.index(area_a), ids.index(area_b)
    W0 = _normalised_weights(res)
    M = memberships(spec)[level - 1]
    w0 = W0[level - 1]

    cache: dict = {}

    def diff(w: np.ndarray) -> float:
        W = [x[None].copy() for x in W0]
        W[level - 1] = w[None]
        s = _top_scores(res, W, cache)[0]
        return float(s[ia] - s[ib])

    # scipy here, not at import: `riskmodel index --help` and the start of every index command stay fast
    from scipy.optimize import minimize

    d0 = diff(w0)
    cons = [{"type": "eq", "fun": diff}]
    for q in range(M.shape[1]):
        kids = np.flatnonzero(M[:, q] > 0)
        cons.append({"type": "eq", "fun": lambda w, k=kids: float(w[k].sum() - 1.0)})
    opt = minimize(lambda w: float(np.sum((w - w0) ** 2)), w0, jac=lambda w: 2 * (w - w0), method="SLSQP",
                   bounds=[(0.0, 1.0)] * len(w0), constraints=cons, options={"maxiter": 500, "ftol": 1e-12})
    w = np.clip(opt.x, 0, 1)
    ok = bool(opt.success and abs(diff(w)) < 1e-6 * max(1.0, abs(d0)))
    codes = spec.codes_at(level)
    par = spec.table.set_index("code").loc[codes, "parent"].to_numpy()
    table = pd.DataFrame({"code": codes, "parent": par, "nominal": w0, "new": w, "change": w - w0})
    l2 = float(np.sqrt(np.sum((w - w0) ** 2)))
    if ok:
        msg = (f"{area_a} and {area_b} (score gap {d0:+.4f}) tie when the level-{level} weights move by "
               f"{l2:.4f} (Euclidean), at most {np.max(np.abs(w - w0)):.4f} for one weight")
    else:
        # is a tie reachable at all? the range of the gap over all admissible weights
        ext = []
        for sign in (1.0, -1.0):
            o = minimize(lambda w, sg=sign: sg * diff(w), w0, method="SLSQP", bounds=[(0.0, 1.0)] * len(w0),
                         constraints=cons[1:], options={"maxiter": 500, "ftol": 1e-12})
            ext.append(sign * o.fun)
        lo, hi = ext
        if lo > 0 or hi < 0:
            msg = (f"no change of the level-{level} weights (within [0, 1], each parent summing to 1) makes {area_a} "
                   f"and {area_b} tie: the score gap stays within [{lo:+.4f}, {hi:+.4f}]")
        else:
            msg = (f"a tie of {area_a} and {area_b} is reachable (gap range [{lo:+.4f}, {hi:+.4f}]) but the optimiser "
                   f"did not converge: {opt.message}")
    return SwapResult(area_a, area_b, level, ok, table, l2, float(np.max(np.abs(w - w0))), msg)


def local_sensitivity(res: IndexResult, level: int = 2, h: float = 1e-5) -> pd.DataFrame:
    """d(index score)/d(weight) for each area and each node at ``level``.

    Weights are first normalised within their parents; the derivative is with
    respect to one raw weight with the others fixed (so its siblings' shares
    shrink as it grows), by central differences of step ``h``.

    Returns
    -------
    DataFrame
        Long: ``area_id, code, dscore_dweight``.
    """
    spec = res.spec
    if not 1 <= level < spec.n_levels:
        raise InputError(Problem(f"local sensitivity: level must be 1..{spec.n_levels - 1}, got {level}"))
    W0 = _normalised_weights(res)
    k = W0[level - 1].size
    W = [np.broadcast_to(w, (2 * k, w.size)).copy() for w in W0]
    W[level - 1][np.arange(k), np.arange(k)] += h
    W[level - 1][k + np.arange(k), np.arange(k)] -= h
    S = _top_scores(res, W)
    g = (S[:k] - S[k:]) / (2 * h)  # (k, n)
    ids = res.units["area_id"].to_numpy()[_rows(res)]
    return pd.DataFrame({
        "area_id": np.tile(ids, k),
        "code": np.repeat(spec.codes_at(level), len(ids)),
        "dscore_dweight": g.ravel(),
    })
