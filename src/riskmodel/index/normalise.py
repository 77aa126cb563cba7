"""Normalisation of indicators to a common scale, with directions.

Every method works column-wise on an array of shape ``(n_units, n_indicators)``
(NaN kept as missing) after the direction is applied: values are multiplied
by the indicator's direction (+1 good when high, -1 good when low) first, so
that a higher normalised value is always better (COINr's convention).

Methods
-------
``minmax``  ``lo + (x - min) / (max - min) * (hi - lo)``, default range [0, 100].
``zscore``  ``mean + sd * (x - mean(x)) / sd(x)`` (sample sd), default (0, 1).
``prank``   percentile rank in [0, 1] times ``scale`` (ties averaged): ``(r - 1) / (n - 1)``.
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
from scipy.stats import rankdata

from riskmodel.errors import InputError, Problem

NORMALISE_METHODS = ("minmax", "zscore", "prank", "rank", "target", "best", "ratio", "none")


def constant_columns(x: np.ndarray) -> np.ndarray:
    """Boolean per column: all non-missing values equal (min == max) or all missing."""
    with np.errstate(all="ignore"):
        lo = np.nanmin(np.where(np.isnan(x), np.inf, x), axis=0)
        hi = np.nanmax(np.where(np.isnan(x), -np.inf, x), axis=0)
    return ~(hi > lo)


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
) -> np.ndarray:
    """Normalise every column of ``x``.

    Parameters
    ----------
    x : array (n_units, n_indicators)
        Indicator values (NaN = missing).
    directions : array (n_indicators,)
        +1 or -1 per indicator.
    method : str
        One of :data:`NORMALISE_METHODS`.
    range, mean_sd, scale, targets, cap
        Method parameters (see the module notes).
    codes, where : for messages.

    Raises
    ------
    InputError
        A constant indicator (min = max) for minmax, zscore, target, best;
        non-positive values for ``ratio``; a missing target for ``target``.
    """
    x = np.asarray(x, float)
    k = x.shape[1]
    codes = codes or [f"column {j + 1}" for j in np.arange(k)]
    d = np.asarray(directions, float).reshape(1, -1)
    y = x * d
    if method == "none":
        return y
    if method in ("minmax", "zscore", "target", "best"):
        const = constant_columns(x)
        if const.any():
            bad = [codes[j] for j in np.flatnonzero(const)]
            raise InputError(
                Problem(
                    f"constant indicator (min = max){' ' + where if where else ''}: {', '.join(bad)}; "
                    f"'{method}' normalisation divides by its range. Drop it ([indicators] drop = [...]) or check the data",
                    column="indicator", values=bad,
                )
            )
    lo = np.nanmin(y, axis=0)
    hi = np.nanmax(y, axis=0)
    if method == "minmax" or method == "best":
        a, b = (range if method == "minmax" else (0.0, 1.0))
        return a + (y - lo) / (hi - lo) * (b - a)
    if method == "zscore":
        m, s = mean_sd
        mu = np.nanmean(y, axis=0)
        sd = np.nanstd(y, axis=0, ddof=1)
        return m + s * (y - mu) / sd
    if method in ("prank", "rank"):
        r = rankdata(np.where(np.isnan(y), np.nan, y), axis=0, method="average", nan_policy="omit")
        if method == "rank":
            return r
        n = np.sum(~np.isnan(y), axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (r - 1) / np.where(n > 1, n - 1, np.nan)
        return out * scale
    if method == "target":
        if targets is None or np.any(np.isnan(np.asarray(targets, float))):
            miss = codes if targets is None else [c for c, t in zip(codes, targets, strict=True) if np.isnan(t)]
            raise InputError(Problem(f"'target' normalisation needs a target for every indicator; missing for: {', '.join(miss)}",
                                     column="target"))
        tg = np.asarray(targets, float) * d.ravel()
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (y - lo) / (tg - lo)
        if cap:
            out = np.minimum(out, 1.0)
        return out * scale
    if method == "ratio":
        if np.nanmin(x) <= 0:
            raise InputError(Problem("'ratio' normalisation needs positive values (ratio-scale data)"))
        pos = d.ravel() > 0
        out = np.empty_like(x)
        out[:, pos] = x[:, pos] / np.nanmax(x[:, pos], axis=0)
        out[:, ~pos] = np.nanmin(x[:, ~pos], axis=0) / x[:, ~pos]
        return out * scale
    raise InputError(Problem(f"unknown normalisation method {method!r}; valid: {', '.join(NORMALISE_METHODS)}"))
