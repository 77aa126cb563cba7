"""Checks that guard an evaluation: placebo-in-time and regression to the mean.

* :func:`placebo_in_time`: re-run a counterfactual method with a fake
  intervention before the real one, on data that end before the real one. A
  method that finds a clear "effect" where there was none is not to be
  trusted for the real date (its interval should cover 0).
* :func:`regression_to_mean`: areas chosen for action because their counts
  were high tend to fall back whatever is done. From the comparison areas'
  history (share of the city's count in aligned windows, e.g. calendar years)
  the pooled regression of the next window's change in share on the current
  deviation from the area's usual share gives the fall expected from
  regression to the mean alone for the treated area's baseline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from riskmodel.impact.results import EffectResult


def placebo_in_time(
    model: object,
    y: np.ndarray,
    start: int,
    length: int,
    *,
    shift: int | None = None,
    exog: np.ndarray | None = None,
    index: pd.Index | None = None,
    season: float = 12,
) -> EffectResult:
    """Fit ``model`` with a fake intervention ``shift`` periods before ``start``.

    Parameters
    ----------
    model : StructuralCounterfactual or InterruptedTimeSeries
        Any object with ``fit(y, start, exog=..., index=..., end=...)``.
    y : array, shape (n,)
        The series (only ``y[:start]`` is used).
    start : int
        The real intervention's position.
    length : int
        Length of the evaluation window (periods).
    shift : int, optional
        How far back the fake date is (default: ``length`` rounded up to whole
        seasons, so the fake window has the real one's season).
    exog : array, shape (n, k), optional
        Regressors, cut like ``y``.
    season : float
        Season length in periods.

    Returns
    -------
    EffectResult
        ``method='placebo_in_time'``; its interval should cover 0.
    """
    if shift is None:
        s = max(1, int(round(season)))
        shift = int(np.ceil(length / s) * s)
    fake = start - shift
    end = min(fake + length, start)
    if fake < 2 * season:
        return EffectResult.failed("placebo_in_time", f"too little data before the fake date ({fake} periods)")
    ex = None if exog is None else np.asarray(exog)[:end]
    idx = None if index is None else index[:end]
    res = model.fit(np.asarray(y)[:end], fake, exog=ex, index=idx, end=end)  # type: ignore[attr-defined]
    res.method = "placebo_in_time"
    if res.ok:
        when = index[fake] if index is not None else fake
        when = when.date() if hasattr(when, "date") else when
        res.note = (f"fake intervention at {when}: " + ("interval covers 0 (good)" if res.covers(0.0)
                    else "interval excludes 0: the method finds effects where there are none"))
        res.diagnostics["fake_start"] = str(when)
    return res


def regression_to_mean(
    windows: pd.DataFrame,
    baseline: pd.Series,
    treated: str,
    *,
    level: float = 0.95,
) -> EffectResult:
    """Expected relative change of the treated area from regression to the mean alone.

    Parameters
    ----------
    windows : DataFrame, shape (W, N)
        Totals per aligned pre-intervention window (rows, in time order, e.g.
        calendar years) and area (columns: the treated area and its
        comparison areas).
    baseline : Series, length N
        Totals per area in the claim's baseline window.
    treated : str
        The treated area's column.
    level : float
        Interval level.

    Returns
    -------
    EffectResult
        ``method='regression_to_mean'``; estimate = the change (relative to the
        city) expected from the baseline's deviation alone; ``coef`` = the
        pooled slope (``-1`` full regression, ``0`` none), ``se`` its error.
    """
    W = windows.astype(float)
    W = W.loc[:, (W > 0).all(axis=0)]
    if treated not in W.columns or W.shape[1] < 4 or W.shape[0] < 3:
        return EffectResult.failed(
            "regression_to_mean", "needs at least 3 earlier windows and 3 comparison areas with counts"
        )
    share = np.log(W).sub(np.log(W.sum(axis=1)), axis=0)
    usual = share.mean(axis=0)
    dev = share - usual
    x = dev.iloc[:-1].to_numpy().ravel()
    yv = (share.iloc[1:].to_numpy() - share.iloc[:-1].to_numpy()).ravel()
    b = float(x @ yv / (x @ x))
    resid = yv - b * x
    # robust (HC1) standard error of the no-intercept slope
    n = len(x)
    se = float(np.sqrt(n / (n - 1) * np.sum((x * resid) ** 2)) / (x @ x))
    base = baseline.reindex(W.columns).astype(float)
    if not (base > 0).all():
        return EffectResult.failed("regression_to_mean", "an area has no incidents in the baseline window")
    base_share = np.log(base) - np.log(base.sum())
    d = float(base_share[treated] - usual[treated])
    z = stats.norm.ppf(0.5 + level / 2)
    est = b * d
    lo, hi = sorted((est - z * se * abs(d), est + z * se * abs(d)))
    res = EffectResult(
        method="regression_to_mean",
        estimate=float(np.expm1(est)), lo=float(np.expm1(lo)), hi=float(np.expm1(hi)), level=level,
        coef=b, se=se, p_value=float(2 * stats.norm.sf(abs(b / se))) if se > 0 else np.nan,
        scale="slope of next-window change in share on deviation from usual share",
        note=(f"baseline share {np.expm1(d):+.1%} against the area's usual; "
              f"regression to the mean alone predicts {np.expm1(est):+.1%} relative to the city"),
    )
    res.diagnostics.update({"baseline_deviation": d, "slope": b, "pairs": n,
                            "baseline_rank": int((base > base[treated]).sum() + 1), "areas": len(base)})
    return res
