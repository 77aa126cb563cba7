"""Comparison with untreated areas: ratio of ratios and difference in differences.

Both remove what the treated area shares with the comparison areas (a
city-wide change such as the first pandemic year, common trend and season).

* :func:`ratio_of_ratios`: ``(T_after / T_before) / (C_after / C_before)`` of
  period totals; the interval is from a quasi-Poisson GLM on the per-period
  counts of the two groups (``log mu = group + post + group:post``), so it is
  widened by the overdispersion; the Poisson (Woolf) interval is also given.
* :func:`difference_in_differences`: a Poisson pseudo-maximum-likelihood
  regression of the panel of area counts on area and period fixed effects and
  ``treated x post`` (the log ratio of ratios, adjusted for every period),
  with standard errors clustered by area (Silva & Tenreyro 2006; Bertrand,
  Duflo & Mullainathan 2004). With one treated area the clustered errors are
  optimistic (Conley & Taber 2011); the calibration benchmark reports their
  coverage.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from riskmodel.impact.results import EffectResult


def ratio_of_ratios(
    treated_before: np.ndarray,
    treated_after: np.ndarray,
    control_before: np.ndarray,
    control_after: np.ndarray,
    *,
    level: float = 0.95,
) -> EffectResult:
    """Ratio of the treated area's rate ratio to the comparison areas' one.

    Parameters
    ----------
    treated_before, treated_after : array of int, shape (n_b,), (n_a,)
        Treated area's counts per period in the baseline and comparison period.
    control_before, control_after : array, same shapes
        The comparison areas' summed counts per period.
    level : float
        Interval level.

    Returns
    -------
    EffectResult
        ``method='ratio_of_ratios'``; estimate = RoR - 1; ``coef``/``se`` =
        log RoR and its quasi-Poisson standard error.
    """
    import statsmodels.api as sm

    tb, ta = np.asarray(treated_before, float), np.asarray(treated_after, float)
    cb, ca = np.asarray(control_before, float), np.asarray(control_after, float)
    sums = [tb.sum(), ta.sum(), cb.sum(), ca.sum()]
    if min(sums) <= 0:
        return EffectResult.failed("ratio_of_ratios", "a group has no incidents in one of the periods")
    ror = (sums[1] / sums[0]) / (sums[3] / sums[2])
    z = stats.norm.ppf(0.5 + level / 2)
    se_pois = float(np.sqrt(sum(1 / s for s in sums)))
    coef, se, disp = float(np.log(ror)), se_pois, 1.0
    if len(tb) >= 2 and len(ta) >= 2:
        y = np.concatenate([tb, ta, cb, ca])
        g = np.r_[np.ones(len(tb) + len(ta)), np.zeros(len(cb) + len(ca))]
        post = np.r_[np.zeros(len(tb)), np.ones(len(ta)), np.zeros(len(cb)), np.ones(len(ca))]
        X = np.column_stack([np.ones_like(g), g, post, g * post])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.GLM(y, X, family=sm.families.Poisson()).fit(scale="X2")
        coef, se, disp = float(fit.params[3]), float(fit.bse[3]), float(fit.scale)
    res = EffectResult(
        method="ratio_of_ratios",
        estimate=float(np.expm1(coef)),
        lo=float(np.expm1(coef - z * se)),
        hi=float(np.expm1(coef + z * se)),
        level=level,
        coef=coef,
        se=se,
        p_value=float(2 * stats.norm.sf(abs(coef / se))),
        scale="log ratio of rate ratios",
        note=f"quasi-Poisson interval (dispersion {disp:.2f})" if disp != 1.0 else "Poisson interval",
    )
    res.tables["intervals"] = pd.DataFrame(
        [
            {"interval": "poisson", "ratio": ror, "lo": np.exp(np.log(ror) - z * se_pois),
             "hi": np.exp(np.log(ror) + z * se_pois)},
            {"interval": "quasi_poisson", "ratio": np.exp(coef), "lo": np.exp(coef - z * se),
             "hi": np.exp(coef + z * se)},
        ]
    )
    res.diagnostics.update(
        {"treated_before": sums[0], "treated_after": sums[1], "control_before": sums[2],
         "control_after": sums[3], "dispersion": disp}
    )
    return res


def difference_in_differences(
    counts: pd.DataFrame,
    treated: str | list[str],
    start: pd.Timestamp | str,
    *,
    end: pd.Timestamp | str | None = None,
    exposure: str | None = None,
    level: float = 0.95,
) -> EffectResult:
    """Poisson difference in differences with area and period fixed effects.

    Parameters
    ----------
    counts : DataFrame
        Long: ``area_id``, ``period``, ``count`` [, exposure column]; the
        treated area(s) and the comparison areas, every area observed in
        every period.
    treated : str or list of str
        Treated area id(s).
    start : date
        First post-intervention period.
    end : date, optional
        Last post period included (later periods are dropped).
    exposure : str, optional
        Column of exposure (population); its log is the offset.
    level : float
        Interval level.

    Returns
    -------
    EffectResult
        ``method='did'``; estimate = ``exp(coef) - 1`` where ``coef`` is the
        ``treated x post`` coefficient; ``se`` clustered by area.
    """
    import statsmodels.api as sm

    d = counts.copy()
    d["period"] = pd.to_datetime(d["period"])
    if end is not None:
        d = d[d["period"] <= pd.Timestamp(end)]
    treated = [treated] if isinstance(treated, str) else list(treated)
    d["_treated"] = d["area_id"].isin(treated).astype(float)
    d["_post"] = (d["period"] >= pd.Timestamp(start)).astype(float)
    n_areas = d["area_id"].nunique()
    if d["_treated"].sum() == 0:
        return EffectResult.failed("did", "the treated area has no rows")
    if n_areas - len(treated) < 2:
        return EffectResult.failed("did", "fewer than two comparison areas")
    if d["_post"].sum() == 0 or (1 - d["_post"]).sum() == 0:
        return EffectResult.failed("did", "no periods before or after the intervention")
    # drop areas with no incidents at all (their fixed effect is -inf)
    tot = d.groupby("area_id")["count"].transform("sum")
    d = d[tot > 0]
    areas = pd.Categorical(d["area_id"])
    periods = pd.Categorical(d["period"])
    A = pd.get_dummies(areas, drop_first=True).to_numpy(float)
    P = pd.get_dummies(periods, drop_first=True).to_numpy(float)
    x = (d["_treated"] * d["_post"]).to_numpy(float)[:, None]
    X = np.column_stack([np.ones(len(d)), A, P, x])
    offset = np.log(d[exposure].to_numpy(float)) if exposure else None
    groups = areas.codes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(d["count"].to_numpy(float), X, family=sm.families.Poisson(), offset=offset).fit(
            cov_type="cluster", cov_kwds={"groups": groups}
        )
    coef, se = float(fit.params[-1]), float(fit.bse[-1])
    # clustered errors: t reference with G-1 degrees of freedom
    g = len(np.unique(groups))
    q = stats.t.ppf(0.5 + level / 2, g - 1)
    res = EffectResult(
        method="did",
        estimate=float(np.expm1(coef)),
        lo=float(np.expm1(coef - q * se)),
        hi=float(np.expm1(coef + q * se)),
        level=level,
        coef=coef,
        se=se,
        p_value=float(2 * stats.t.sf(abs(coef / se), g - 1)),
        scale="log ratio (treated x post), errors clustered by area",
        note=f"{g} clusters" + ("; one treated cluster: errors may be optimistic" if len(treated) == 1 else ""),
    )
    res.diagnostics.update({"clusters": g, "rows": len(d)})
    return res
