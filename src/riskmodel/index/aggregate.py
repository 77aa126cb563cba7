"""Aggregation of children's scores into their parents', level by level, vectorised.

Every function takes child scores ``C`` of shape ``(..., n_units, n_children)``
(a leading batch axis holds Monte Carlo replications), child weights ``w`` of
shape ``(..., n_children)`` and the 0/1 membership matrix ``M`` of shape
``(n_children, n_parents)``; it returns parent scores ``(..., n_units,
n_parents)``. Weights are normalised within each parent over the children
that are not missing (COINr's rule: missing values are dropped).

Methods
-------
``arithmetic``  weighted arithmetic mean.
``geometric``   weighted geometric mean ``exp(sum w log x / sum w)``; a zero child
                (with positive weight) gives exactly 0, with no warning; a negative
                child makes the score undefined (NaN).
``harmonic``    weighted harmonic mean ``sum w / sum (w / x)``; zero -> 0, negative -> NaN.
``power``       generalised (power) mean ``(sum w x^p / sum w)^(1/p)`` with parameter
                ``p`` (p = 1 arithmetic, 0 geometric, -1 harmonic); zeros as above.
``copeland``    Copeland's outranking score: unit a beats unit b within a parent when
                the weight of the children where a is higher exceeds that where b is
                higher (ties count half); score = wins - losses. Not vectorised
                across pairs beyond (n, n, m) arrays; fine up to a few thousand units.

Each method is one function ``fn(C, w, M, **options)``, registered in
:data:`riskmodel.index.registry.AGGREGATORS` by :mod:`riskmodel.index.catalogue`;
:func:`aggregate_level` calls one by name.
"""

from __future__ import annotations

import numpy as np

from riskmodel.index.registry import AGGREGATORS


def _wb(C: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weights broadcast against C: (..., 1, m)."""
    w = np.asarray(w, float)
    return w[..., None, :]


def _mean_of_transformed(T: np.ndarray, valid: np.ndarray, w: np.ndarray, M: np.ndarray) -> np.ndarray:
    wb = _wb(T, w)
    num = np.where(valid, T, 0.0) * wb @ M
    den = (valid * wb) @ M
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _signs(C: np.ndarray, w: np.ndarray, M: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(valid, neg, zero, pos)``: children present; parents with a negative or a zero child
    of positive weight; children present and positive."""
    valid = ~np.isnan(C)
    wpos = (np.asarray(w, float) > 0)[..., None, :]
    neg = ((np.where(valid, C, 0.0) < 0) & wpos) @ M > 0
    zero = ((C == 0) & wpos) @ M > 0
    pos = valid & (C > 0)
    return valid, neg, zero, pos


def arithmetic(C: np.ndarray, w: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Weighted arithmetic mean per parent (missing children dropped, weights renormalised)."""
    C = np.asarray(C, float)
    return _mean_of_transformed(C, ~np.isnan(C), w, M)


def geometric(C: np.ndarray, w: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Weighted geometric mean ``exp(sum w log x / sum w)``; a zero child gives 0, a negative one NaN."""
    C = np.asarray(C, float)
    valid, neg, zero, pos = _signs(C, w, M)
    m = _mean_of_transformed(np.log(np.where(pos, C, 1.0)), valid, w, M)
    out = np.exp(m)
    out = np.where(zero, 0.0, out)
    return np.where(neg, np.nan, out)


def harmonic(C: np.ndarray, w: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Weighted harmonic mean ``sum w / sum (w / x)``; a zero child gives 0, a negative one NaN."""
    C = np.asarray(C, float)
    valid, neg, zero, pos = _signs(C, w, M)
    m = _mean_of_transformed(1.0 / np.where(pos, C, 1.0), valid, w, M)
    with np.errstate(divide="ignore"):
        out = np.where(zero, 0.0, 1.0 / m)
    return np.where(neg, np.nan, out)


def power(C: np.ndarray, w: np.ndarray, M: np.ndarray, p: float = 1.0) -> np.ndarray:
    """Weighted power mean ``(sum w x^p / sum w)^(1/p)``: p = 1, 0, -1 are the arithmetic,
    geometric and harmonic means (computed as such); zeros and negatives as there."""
    if p == 1:
        return arithmetic(C, w, M)
    if p == 0:
        return geometric(C, w, M)
    if p == -1:
        return harmonic(C, w, M)
    C = np.asarray(C, float)
    valid, neg, zero, pos = _signs(C, w, M)
    m = _mean_of_transformed(np.where(pos, C, 0.0) ** p, valid, w, M)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = m ** (1.0 / p)
    if p < 0:
        out = np.where(zero, 0.0, out)
    return np.where(neg, np.nan, out)


def aggregate_level(C: np.ndarray, w: np.ndarray, M: np.ndarray, method: str = "arithmetic", p: float = 1.0,
                    **options: object) -> np.ndarray:
    """Aggregate one level with the registered method ``method`` (see the module notes for shapes).

    ``p`` and ``options`` are method options; each method gets the ones it declares.
    """
    spec = AGGREGATORS.get(method)
    given = {"p": p, **options}
    return spec.target(C, w, M, **{o.name: given.get(o.name, o.default) for o in spec.options})


def copeland(C: np.ndarray, w: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Copeland scores (wins - losses) per parent; batch axes handled by a loop."""
    C = np.asarray(C, float)
    w = np.asarray(w, float)
    if C.ndim > 2 or w.ndim > 1:
        lead = np.broadcast_shapes(C.shape[:-2], w.shape[:-1])
        Cb = np.broadcast_to(C, (*lead, *C.shape[-2:]))
        wb = np.broadcast_to(w, (*lead, w.shape[-1]))
        out = np.empty((*lead, C.shape[-2], M.shape[1]))
        for idx in np.ndindex(*lead):
            out[idx] = copeland(Cb[idx], wb[idx], M)
        return out
    n = C.shape[0]
    out = np.empty((n, M.shape[1]))
    for q in range(M.shape[1]):
        kids = np.flatnonzero(M[:, q] > 0)
        X = C[:, kids]
        wk = w[kids]
        a = X[:, None, :]
        b = X[None, :, :]
        ok = ~(np.isnan(a) | np.isnan(b))
        s = np.sum(np.where(ok & (a > b), wk, 0.0) + np.where(ok & (a == b), 0.5 * wk, 0.0), axis=2)
        wins = s > s.T
        out[:, q] = wins.sum(axis=1) - wins.sum(axis=0)
    return out


def aggregate_tree(
    X: np.ndarray,
    weights: list[np.ndarray],
    memberships: list[np.ndarray],
    method: str | list[str] = "arithmetic",
    p: float = 1.0,
) -> list[np.ndarray]:
    """Aggregate normalised indicators up every level of a tree.

    Parameters
    ----------
    X : array (..., n_units, n_indicators)
        Normalised indicators.
    weights : list of arrays
        ``weights[L]`` has shape ``(..., n_nodes at level L+1)``: the weights of
        level L+1's nodes (level 1 = indicators) within their parents.
    memberships : list of arrays
        ``memberships[L]``: (n_nodes at level L+1, n_nodes at level L+2).
    method : str or list of str
        One method for all levels or one per aggregation step.

    Returns
    -------
    list of arrays
        Scores at level 1 (X itself), 2, ..., top; each ``(..., n_units, n_nodes)``.
    """
    methods = [method] * len(memberships) if isinstance(method, str) else list(method)
    out = [np.asarray(X, float)]
    for w, M, m in zip(weights, memberships, methods, strict=True):
        out.append(aggregate_level(out[-1], w, M, m, p))
    return out


__all__ = ["aggregate_level", "aggregate_tree", "arithmetic", "copeland", "geometric", "harmonic", "power"]
