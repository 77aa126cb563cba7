"""Normalisation of indicators to a common scale, with directions.

Every method works column-wise on an array of shape ``(n_units, n_indicators)``
(NaN kept as missing) after the direction is applied: values are multiplied
by the indicator's direction (+1 good when high, -1 good when low) first, so
that a higher normalised value is always better (COINr's convention).

Each method is one function ``fn(x, directions, **options)``, registered in
:data:`riskmodel.index.registry.NORMALISERS` by :mod:`riskmodel.index.catalogue`;
:func:`normalise` calls one by name.

Methods
-------
``minmax``  ``lo + (x - min) / (max - min) * (hi - lo)``, default range [0, 100].
``zscore``  ``mean + sd * (x - mean(x)) / sd(x)`` (sample sd), default (0, 1).
``prank``   percentile rank in [0, 1] times ``scale`` (ties averaged): ``(r - 1) / (n - 1)``.
``prank_min`` the same with tied values all taking the lowest rank of their group (COINr's
            ``n_prank``, ``rank(x, ties.method = "min", na.last = "keep")``); ``scale = 1``
            gives COINr's [0, 1] exactly.
``rank``    rank, 1 = worst, ties averaged.
``target``  distance to a target: ``(x - min) / (target - min)``, capped at 1 when
            ``cap``; target per indicator from the spec (in the indicator's units).
``best``    distance to the best (the leader): ``(x - min) / (best - min)`` where best is
            the best observed value; equal to minmax [0, 1] without a cap, kept as a
            named method (OECD's "distance to the group leader").
``ratio``   ratio to the leader ``x / max`` (direction +1) or ``min / x`` (direction -1),
            for positive ratio-scale data.
``none``    unchanged (directions still applied).
"""

from __future__ import annotations

import numpy as np

from riskmodel.errors import InputError, Problem
from riskmodel.index.registry import NORMALISERS, context_for


def constant_columns(x: np.ndarray) -> np.ndarray:
    """Boolean per column: all non-missing values equal (min == max) or all missing."""
    with np.errstate(all="ignore"):
        lo = np.nanmin(np.where(np.isnan(x), np.inf, x), axis=0)
        hi = np.nanmax(np.where(np.isnan(x), -np.inf, x), axis=0)
    return ~(hi > lo)


def _aligned(x: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x as float, directions as a row (1, k), x * directions)``."""
    x = np.asarray(x, float)
    d = np.asarray(directions, float).reshape(1, -1)
    return x, d, x * d


def refuse_constant(x: np.ndarray, method: str, codes: list[str] | None = None, where: str = "") -> None:
    """Raise :class:`InputError` naming the constant columns of ``x`` (a method that divides by the range)."""
    const = constant_columns(x)
    if const.any():
        names = codes or [f"column {j + 1}" for j in np.arange(x.shape[1])]
        bad = [names[j] for j in np.flatnonzero(const)]
        raise InputError(
            Problem(
                f"constant indicator (min = max){' ' + where if where else ''}: {', '.join(bad)}; "
                f"'{method}' normalisation divides by its range. Drop it ([indicators] drop = [...]) or check the data",
                column="indicator", values=bad,
            )
        )


def _rescale(y: np.ndarray, a: float, b: float) -> np.ndarray:
    lo = np.nanmin(y, axis=0)
    hi = np.nanmax(y, axis=0)
    return a + (y - lo) / (hi - lo) * (b - a)


def minmax(
    x: np.ndarray, directions: np.ndarray, *,
    range: tuple[float, float] = (0.0, 100.0),  # noqa: A002 - the config key's name
    codes: list[str] | None = None, where: str = "",
) -> np.ndarray:
    """Min-max to ``range`` per column (refuses a constant column)."""
    x, _, y = _aligned(x, directions)
    refuse_constant(x, "minmax", codes, where)
    a, b = range
    return _rescale(y, a, b)


def best(x: np.ndarray, directions: np.ndarray, *, codes: list[str] | None = None, where: str = "") -> np.ndarray:
    """Distance to the leader on [0, 1]: ``(x - min) / (best - min)`` (refuses a constant column)."""
    x, _, y = _aligned(x, directions)
    refuse_constant(x, "best", codes, where)
    return _rescale(y, 0.0, 1.0)


def zscore(
    x: np.ndarray, directions: np.ndarray, *, mean_sd: tuple[float, float] = (0.0, 1.0),
    codes: list[str] | None = None, where: str = "",
) -> np.ndarray:
    """``mean + sd * (x - mean(x)) / sd(x)`` per column, sample sd (refuses a constant column)."""
    x, _, y = _aligned(x, directions)
    refuse_constant(x, "zscore", codes, where)
    m, s = mean_sd
    mu = np.nanmean(y, axis=0)
    sd = np.nanstd(y, axis=0, ddof=1)
    return m + s * (y - mu) / sd


def _ranks(y: np.ndarray, ties: str = "average") -> np.ndarray:
    """Ranks per column, 1 = lowest, NaN kept; ``ties`` as :func:`scipy.stats.rankdata`'s ``method``."""
    # scipy here, not at import: `riskmodel index --help` and the start of every index command stay fast
    from scipy.stats import rankdata

    return rankdata(np.where(np.isnan(y), np.nan, y), axis=0, method=ties, nan_policy="omit")


def rank(x: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Ranks per column, 1 = worst, ties averaged, NaN kept."""
    _, _, y = _aligned(x, directions)
    return _ranks(y)


def _percentile_ranks(x: np.ndarray, directions: np.ndarray, ties: str, scale: float) -> np.ndarray:
    _, _, y = _aligned(x, directions)
    r = _ranks(y, ties)
    n = np.sum(~np.isnan(y), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (r - 1) / np.where(n > 1, n - 1, np.nan)
    return out * scale


def prank(x: np.ndarray, directions: np.ndarray, *, scale: float = 100.0) -> np.ndarray:
    """Percentile rank ``(r - 1) / (n - 1)`` times ``scale`` (ties averaged; NaN for a column with < 2 values)."""
    return _percentile_ranks(x, directions, "average", scale)


def prank_min(x: np.ndarray, directions: np.ndarray, *, scale: float = 100.0) -> np.ndarray:
    """Percentile rank as COINr's ``n_prank``: ``(r - 1) / (n - 1)`` times ``scale``, ties taking the lowest rank.

    Parameters
    ----------
    x : array (n_units, n_indicators)
        Indicator values, NaN = missing.
    directions : array (n_indicators,)
        +1 (good when high) or -1 (good when low); applied before ranking, as COINr.
    scale : float
        The result is multiplied by it: 100 (riskmodel's 0-100 scores) or 1 (COINr's [0, 1]).

    Returns
    -------
    array (n_units, n_indicators)
        ``r`` is the rank among the column's non-missing values (1 = worst) with every value of a
        tied group taking the group's lowest rank (R's ``rank(ties.method = "min")``), ``n`` the
        number of non-missing values. Missing stays missing and counts for nothing (COINr's
        ``na.last = "keep"`` and ``sum(!is.na(x))``); a column of tied values is 0 throughout; a
        column with fewer than 2 values is NaN (COINr's 0 / 0).
    """
    return _percentile_ranks(x, directions, "min", scale)


def target(
    x: np.ndarray, directions: np.ndarray, *, targets: np.ndarray | None = None, scale: float = 100.0,
    cap: bool = True, codes: list[str] | None = None, where: str = "",
) -> np.ndarray:
    """Distance to a target ``(x - min) / (target - min)`` (capped at 1 when ``cap``) times ``scale``."""
    x, d, y = _aligned(x, directions)
    refuse_constant(x, "target", codes, where)
    names = codes or [f"column {j + 1}" for j in np.arange(x.shape[1])]
    if targets is None or np.any(np.isnan(np.asarray(targets, float))):
        miss = names if targets is None else [c for c, t in zip(names, targets, strict=True) if np.isnan(t)]
        raise InputError(Problem(f"'target' normalisation needs a target for every indicator; missing for: {', '.join(miss)}",
                                 column="target"))
    lo = np.nanmin(y, axis=0)
    tg = np.asarray(targets, float) * d.ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (y - lo) / (tg - lo)
    if cap:
        out = np.minimum(out, 1.0)
    return out * scale


def ratio(x: np.ndarray, directions: np.ndarray, *, scale: float = 100.0) -> np.ndarray:
    """Ratio to the leader, ``x / max`` (direction +1) or ``min / x`` (-1), times ``scale``; positive data only."""
    x, d, _ = _aligned(x, directions)
    if np.nanmin(x) <= 0:
        raise InputError(Problem("'ratio' normalisation needs positive values (ratio-scale data)"))
    pos = d.ravel() > 0
    out = np.empty_like(x)
    out[:, pos] = x[:, pos] / np.nanmax(x[:, pos], axis=0)
    out[:, ~pos] = np.nanmin(x[:, ~pos], axis=0) / x[:, ~pos]
    return out * scale


def identity(x: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """No normalisation: the values times their directions."""
    return _aligned(x, directions)[2]


def normalise(
    x: np.ndarray,
    directions: np.ndarray,
    method: str = "minmax",
    *,
    range: tuple[float, float] = (0.0, 100.0),  # noqa: A002 - the config key's name
    mean_sd: tuple[float, float] = (0.0, 1.0),
    scale: float = 100.0,
    targets: np.ndarray | None = None,
    cap: bool = True,
    codes: list[str] | None = None,
    where: str = "",
    **options: object,
) -> np.ndarray:
    """Normalise every column of ``x`` with the registered method ``method``.

    Parameters
    ----------
    x : array (n_units, n_indicators)
        Indicator values (NaN = missing).
    directions : array (n_indicators,)
        +1 or -1 per indicator.
    method : str
        A name in :data:`~riskmodel.index.registry.NORMALISERS`.
    range, mean_sd, scale, cap, **options
        Method options (see the module notes); each method gets the ones it declares.
    targets, codes, where
        Context: the spec's targets (for ``target``); codes and where, for messages.

    Raises
    ------
    InputError
        An unknown method; a constant indicator (min = max) for minmax, zscore,
        target, best; non-positive values for ``ratio``; a missing target for ``target``.
    """
    spec = NORMALISERS.get(method)
    given = {"range": range, "mean_sd": mean_sd, "scale": scale, "cap": cap, **options}
    kw = {o.name: given.get(o.name, o.default) for o in spec.options}
    return spec.target(x, directions, **kw, **context_for(spec, codes=codes, where=where, targets=targets))


__all__ = ["best", "constant_columns", "identity", "minmax", "normalise", "prank", "prank_min", "rank", "ratio",
           "refuse_constant", "target", "zscore"]
