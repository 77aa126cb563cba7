"""Comparison with untreated areas: ratio of ratios and difference in differences.

Both remove what the treated area shares with the comparison areas (a
city-wide change such as the first pandemic year, common trend and season).

* :func:`ratio_of_ratios`: ``(T_after / T_before) / (C_after / C_before)`` of
  period totals. Given each comparison area's counts (8 or more areas), the
  interval is from placebo areas: each comparison area's own ratio of ratios
  against the others is an error draw (truth 1), of variance ``A + B *
  s_j**2`` with ``s_j`` its quasi-binomial standard error (the treated
  share of each period's total, so every period's city-wide level cancels,
  overdispersion estimated from the within-window spread of the shares);
  ``A`` is the area's own change between the two windows (an area's drift
  relative to the city over the years between them), which no within-window
  spread can show (the calibration benchmark: 82% coverage with drifting
  streets before). Otherwise a quasi-Poisson GLM on the per-period counts of
  the two groups (``log mu = group + post + group:post``), widened by the
  overdispersion; the Poisson (Woolf) interval is always given.
* :func:`difference_in_differences`: a Poisson pseudo-maximum-likelihood
  regression of the panel of area counts on area and period fixed effects and
  ``treated x post`` (the log ratio of ratios, adjusted for every period),
  with standard errors clustered by area (Silva & Tenreyro 2006; Bertrand,
  Duflo & Mullainathan 2004). With one treated area the clustered errors are
  far too small (Conley & Taber 2011): the interval is then taken from the
  placebo distribution instead -- the same regression with each comparison
  area in turn as the "treated" one (fitted by iterative proportional
  fitting, which solves two-way fixed-effect Poisson likelihoods exactly and
  fast) -- and the clustered standard error is still reported. The
  calibration benchmark measures both.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from riskmodel.impact.inference import placebo_interval, placebo_interval_scaled
from riskmodel.impact.results import EffectResult


def ratio_of_ratios(
    treated_before: np.ndarray,
    treated_after: np.ndarray,
    control_before: np.ndarray,
    control_after: np.ndarray,
    *,
    level: float = 0.95,
    matched_periods: bool = False,
    min_placebo: int = 8,
) -> EffectResult:
    """Ratio of the treated area's rate ratio to the comparison areas' one.

    Parameters
    ----------
    treated_before, treated_after : array of int, shape (n_b,), (n_a,)
        Treated area's counts per period in the baseline and comparison period.
    control_before, control_after : array, shape (n_b,), (n_a,) or (n_b, J), (n_a, J)
        The comparison areas' summed counts per period, or each area's
        counts (columns) -- then, with at least ``min_placebo`` areas and two
        periods per window, the interval is from placebo areas.
    level : float
        Interval level.
    matched_periods : bool
        The i-th period of the baseline and of the comparison window are the
        same season (windows a whole number of years apart): a common effect
        per period position is added, so that seasonal variation is not
        counted as overdispersion (the GLM interval only).
    min_placebo : int
        Fewest comparison areas for the placebo interval.

    Returns
    -------
    EffectResult
        ``method='ratio_of_ratios'``; estimate = RoR - 1; ``coef`` = log RoR;
        ``se`` = its quasi-Poisson standard error, or with placebo areas the
        predictive error sd (sampling and the area's own change).

    Notes
    -----
    The placebo interval: the treated share of period ``t``'s total,
    ``y_Tt ~ quasi-Binomial(n_t, p_w)`` with ``logit p_w`` constant within
    each window, gives the log RoR (``logit p_after - logit p_before``,
    exactly the ratio of the totals' ratios) and its sampling standard error
    ``s = sqrt(phi * (1/T_b + 1/T_a + 1/C_b + 1/C_a))``, ``phi`` the Pearson
    dispersion of the shares (at least 1). The same for each comparison area
    against the other comparison areas gives placebo errors ``r_j`` (truth 0)
    and ``s_j``, and :func:`riskmodel.impact.inference.placebo_interval_scaled`
    the interval (``r_j ~ N(m, A + B s_j**2)``, REML; Conley & Taber 2011,
    Ferman & Pinto 2019).
    """
    import statsmodels.api as sm

    tb, ta = np.asarray(treated_before, float), np.asarray(treated_after, float)
    cb_areas, ca_areas = np.asarray(control_before, float), np.asarray(control_after, float)
    per_area = cb_areas.ndim == 2 and ca_areas.ndim == 2
    cb = cb_areas.sum(axis=1) if cb_areas.ndim == 2 else cb_areas
    ca = ca_areas.sum(axis=1) if ca_areas.ndim == 2 else ca_areas
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
        if matched_periods and len(tb) == len(ta) == len(cb) == len(ca) and len(tb) > 2:
            pos = np.tile(np.arange(len(tb)), 4)
            S = (pos[:, None] == np.arange(1, len(tb))[None, :]).astype(float)
            # a common effect per season position. (Position x window effects as
            # well gave 87% / 77% coverage in the calibration benchmark: the
            # treated area's own year-to-year change is then left out.)
            if len(y) - X.shape[1] - S.shape[1] >= 4:
                X = np.column_stack([X, S])
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
    if per_area and cb_areas.shape[1] >= min_placebo and len(tb) >= 2 and len(ta) >= 2:
        _ror_placebo_interval(res, tb, ta, cb_areas, ca_areas, level)
    return res


def _share_log_ror(tb: np.ndarray, ta: np.ndarray, cb: np.ndarray, ca: np.ndarray) -> tuple[float, float]:
    """Log ratio of ratios and its quasi-binomial standard error (treated share of each period's total)."""
    T = np.array([tb.sum(), ta.sum(), cb.sum(), ca.sum()])
    if T.min() <= 0:
        return float("nan"), float("nan")
    x2, k = 0.0, 0
    for y1, y0 in ((tb, cb), (ta, ca)):
        n = y1 + y0
        p = y1.sum() / n.sum()
        ok = n > 0
        x2 += float(np.sum((y1[ok] - n[ok] * p) ** 2 / (n[ok] * p * (1 - p))))
        k += int(ok.sum())
    phi = max(x2 / (k - 2), 1.0) if k > 2 else 1.0
    return float(np.log(T[1] / T[0] / (T[3] / T[2]))), float(np.sqrt(phi * np.sum(1 / T)))


def _ror_placebo_interval(
    res: EffectResult, tb: np.ndarray, ta: np.ndarray, cb: np.ndarray, ca: np.ndarray, level: float,
) -> None:
    """Replace the ratio of ratios' interval by the placebo-area one (in place) when it can be computed."""
    coef, s_t = _share_log_ror(tb, ta, cb.sum(axis=1), ca.sum(axis=1))
    pl, pl_s = [], []
    for j in range(cb.shape[1]):
        rest = np.ones(cb.shape[1], bool)
        rest[j] = False
        r, sj = _share_log_ror(cb[:, j], ca[:, j], cb[:, rest].sum(axis=1), ca[:, rest].sum(axis=1))
        pl.append(r)
        pl_s.append(sj)
    lo, hi, p, sd, share, m = placebo_interval_scaled(coef, s_t, np.array(pl), np.array(pl_s), level)
    if not np.isfinite(lo):
        return
    n = int(np.sum(np.isfinite(pl) & np.isfinite(pl_s)))
    glm = (res.lo, res.hi)
    res.lo, res.hi, res.p_value, res.se = lo, hi, p, sd
    res.note = (f"interval from {n} placebo areas (error sd {sd:.3f} on the log scale, {share:.0%} of its "
                f"variance from the area's own counts); the quasi-Poisson GLM alone gives "
                f"[{glm[0]:+.1%}, {glm[1]:+.1%}]")
    res.diagnostics.update({"placebo_areas": n, "placebo_noise_share": share, "placebo_mean_error": m,
                            "share_se": s_t, "glm_lo": glm[0], "glm_hi": glm[1]})
    res.tables["intervals"] = pd.concat([res.tables["intervals"], pd.DataFrame(
        [{"interval": "placebo_areas", "ratio": np.exp(coef), "lo": 1 + lo, "hi": 1 + hi}])], ignore_index=True)


def difference_in_differences(
    counts: pd.DataFrame,
    treated: str | list[str],
    start: pd.Timestamp | str,
    *,
    end: pd.Timestamp | str | None = None,
    exposure: str | None = None,
    level: float = 0.95,
    inference: str = "auto",
    placebo_interval_kind: str = "scaled",
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
    inference : {'auto', 'cluster', 'placebo'}
        Interval from the clustered errors (t with G-1 degrees of freedom) or
        from the placebo distribution (Conley-Taber); 'auto' takes the
        placebos when there is one treated area and at least 8 comparison areas.
        With a single comparison series (a control category, ``--controls``)
        neither is possible: the treated share of each period's total is
        modelled instead (:func:`_did_one_control`).
    placebo_interval_kind : {'scaled', 'plain'}
        Placebo interval: errors of variance ``A + B * s_j**2``, ``s_j`` each
        area's quasi-Poisson standard error (the treated area's interval as
        wide as its own counts warrant;
        :func:`riskmodel.impact.inference.placebo_interval_scaled`), or every
        placebo error alike (:func:`riskmodel.impact.inference.placebo_interval`).
        'scaled' needs one treated area and 4 usable placebos, else 'plain'.

    Returns
    -------
    EffectResult
        ``method='did'``; estimate = ``exp(coef) - 1`` where ``coef`` is the
        ``treated x post`` coefficient; ``se`` clustered by area;
        ``diagnostics``: the clustered interval, the placebo coefficients.
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
    if n_areas - len(treated) < 1:
        return EffectResult.failed("did", "no comparison areas or series")
    if n_areas - len(treated) == 1:
        if len(treated) != 1:
            return EffectResult.failed("did", "several treated areas need at least two comparison areas")
        return _did_one_control(d, treated[0], start, exposure, level)
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
        note=f"interval from errors clustered by area ({g} clusters)",
    )
    res.diagnostics.update({"clusters": g, "rows": len(d), "cluster_lo": res.lo, "cluster_hi": res.hi})
    if inference not in ("auto", "cluster", "placebo"):
        raise ValueError("inference must be auto, cluster or placebo")
    if placebo_interval_kind not in ("scaled", "plain"):
        raise ValueError("placebo_interval_kind must be scaled or plain")
    n_ctrl = g - len(treated)
    if inference == "placebo" or (inference == "auto" and len(treated) == 1 and n_ctrl >= 8):
        Y = d.pivot_table(index="area_id", columns="period", values="count", aggfunc="sum")
        E = (d.pivot_table(index="area_id", columns="period", values=exposure, aggfunc="sum")
             if exposure else pd.DataFrame(1.0, index=Y.index, columns=Y.columns))
        post_cols = Y.columns >= pd.Timestamp(start)
        ctrl = [a for a in Y.index if a not in treated]
        Yc, Ec = Y.loc[ctrl].to_numpy(float), E.loc[ctrl].to_numpy(float)
        placebo, placebo_se = [], []
        for i in range(len(ctrl)):
            D = np.zeros_like(Yc, dtype=bool)
            D[i, post_cols] = True
            delta, mu = _twoway_poisson_fit(Yc, Ec, D)
            placebo.append(delta)
            placebo_se.append(_area_quasi_poisson_se(Yc, mu, i, post_cols) if mu is not None else np.nan)
        pl, pl_se = np.asarray(placebo), np.asarray(placebo_se)
        keep = np.isfinite(pl)
        pl, pl_se = pl[keep], pl_se[keep]
        t_se = np.nan
        if len(treated) == 1:
            Ya, Ea = Y.to_numpy(float), E.to_numpy(float)
            ti = list(Y.index).index(treated[0])
            Dt = np.zeros_like(Ya, dtype=bool)
            Dt[ti, post_cols] = True
            _, mu_t = _twoway_poisson_fit(Ya, Ea, Dt)
            t_se = _area_quasi_poisson_se(Ya, mu_t, ti, post_cols) if mu_t is not None else np.nan
        lo = hi = np.nan
        if placebo_interval_kind == "scaled":
            lo, hi, p_sc, sd, share, m = placebo_interval_scaled(coef, t_se, pl, pl_se, level)
            if np.isfinite(lo):
                kind = (f"Conley-Taber with errors scaled by each area's quasi-Poisson se: error sd {sd:.3f} "
                        f"on the log scale, {share:.0%} of its variance from the area's own counts")
                res.diagnostics.update({"placebo_sd": sd, "placebo_noise_share": share, "placebo_mean_error": m,
                                        "placebo_se": pl_se.tolist(), "treated_noise_se": t_se})
                res.p_value = p_sc
        if not np.isfinite(lo) and len(pl) >= 3:
            lo, hi, _ = placebo_interval(float(np.expm1(coef)), np.expm1(pl), level)
            kind = "Conley-Taber"
            res.p_value = float((np.sum(np.abs(pl) >= abs(coef)) + 1) / (len(pl) + 1))
        if np.isfinite(lo):
            res.lo, res.hi = lo, hi
            res.note = (f"interval from {len(pl)} placebo areas ({kind}); clustered se "
                        f"{se:.3f} would give [{np.expm1(coef - q * se):+.1%}, {np.expm1(coef + q * se):+.1%}]")
            res.diagnostics["placebo_coefs"] = pl.tolist()
    return res


def _did_one_control(d: pd.DataFrame, treated: str, start: pd.Timestamp | str, exposure: str | None,
                     level: float) -> EffectResult:
    """DiD against a single comparison series: the treated share of each period's total.

    Conditional on the period's total ``n_t = y_t + c_t``, the Poisson
    two-way model gives ``y_t ~ Binomial(n_t, p_t)`` with
    ``logit p_t = log(E_y,t / E_c,t) + a + delta * post_t`` (the period
    effects cancel): the same ``delta`` as the GLM with series and period
    effects. Clustering needs several comparison series; here the interval is
    from Newey-West (HAC) errors over time, which allow for overdispersion
    and serial correlation (lags ``floor(4 (T/100)^(2/9))``), with a t
    reference on ``T - 2`` degrees of freedom.
    """
    import statsmodels.api as sm

    w = d.pivot_table(index="period", columns="area_id", values="count", aggfunc="sum").sort_index()
    ctrl = [c for c in w.columns if c != treated][0]
    y, c = w[treated].to_numpy(float), w[ctrl].to_numpy(float)
    n = y + c
    keep = n > 0
    post = np.asarray(w.index >= pd.Timestamp(start), dtype=float)
    if exposure:
        e = d.pivot_table(index="period", columns="area_id", values=exposure, aggfunc="sum").sort_index()
        off = np.log(e[treated].to_numpy(float) / e[ctrl].to_numpy(float))
    else:
        off = np.zeros(len(w))
    y, n, post, off = y[keep], n[keep], post[keep], off[keep]
    T = len(y)
    if T < 4 or post.sum() == 0 or post.sum() == T:
        return EffectResult.failed("did", "too few periods with counts before and after the intervention")
    lags = max(1, int(np.floor(4 * (T / 100) ** (2 / 9))))
    X = np.column_stack([np.ones(T), post])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(np.column_stack([y, n - y]), X, family=sm.families.Binomial(), offset=off).fit(
            cov_type="HAC", cov_kwds={"maxlags": lags})
    coef, se = float(fit.params[-1]), float(fit.bse[-1])
    q = stats.t.ppf(0.5 + level / 2, T - 2)
    res = EffectResult(
        method="did", estimate=float(np.expm1(coef)), lo=float(np.expm1(coef - q * se)),
        hi=float(np.expm1(coef + q * se)), level=level, coef=coef, se=se,
        p_value=float(2 * stats.t.sf(abs(coef / se), T - 2)),
        scale="log ratio (treated x post), treated share of each period's total",
        note=(f"one comparison series ({ctrl}): the treated share of each period's total (binomial), "
              f"Newey-West errors with {lags} lags over {T} periods"),
    )
    res.diagnostics.update({"periods": T, "hac_lags": lags, "comparison_series": str(ctrl)})
    return res


def twoway_poisson_effect(
    Y: np.ndarray, E: np.ndarray, D: np.ndarray, *, tol: float = 1e-10, max_iter: int = 2000
) -> float:
    """Poisson ML of ``delta`` in ``E_it * a_i * b_t * exp(delta * D_it)``.

    Iterative proportional fitting: each update sets one set of fitted
    margins equal to the observed ones, which are the likelihood equations of
    the two-way fixed-effect Poisson model with one binary regressor, so the
    fixed point is the exact MLE (the same coefficient as a GLM with area and
    period dummies).

    Parameters
    ----------
    Y, E : array, shape (N, T)
        Counts and exposures (units x periods).
    D : bool array, shape (N, T)
        Treated cells.

    Returns
    -------
    float
        ``delta`` (NaN when the treated cells have no incidents).
    """
    return _twoway_poisson_fit(Y, E, D, tol=tol, max_iter=max_iter)[0]


def _twoway_poisson_fit(
    Y: np.ndarray, E: np.ndarray, D: np.ndarray, *, tol: float = 1e-10, max_iter: int = 2000
) -> tuple[float, np.ndarray | None]:
    """:func:`twoway_poisson_effect` and the fitted means (None when ``delta`` is NaN)."""
    if Y[D].sum() <= 0:
        return float("nan"), None
    a = np.ones(Y.shape[0])
    b = Y.sum(axis=0) / np.maximum(E.sum(axis=0), 1e-300)
    g = 1.0
    rs, cs, ds = Y.sum(axis=1), Y.sum(axis=0), Y[D].sum()
    for _ in range(max_iter):
        G = np.where(D, g, 1.0)
        a = rs / np.maximum((E * G * b).sum(axis=1), 1e-300)
        b = cs / np.maximum((E * G * a[:, None]).sum(axis=0), 1e-300)
        g_new = ds / (E * a[:, None] * b)[D].sum()
        if abs(np.log(g_new) - np.log(g)) < tol:
            g = g_new
            break
        g = g_new
    return float(np.log(g)), E * a[:, None] * b[None, :] * np.where(D, g, 1.0)


def _area_quasi_poisson_se(Y: np.ndarray, mu: np.ndarray, i: int, post: np.ndarray) -> float:
    """Standard error of area ``i``'s post/pre log ratio from its own counts (the noise scale).

    ``sqrt(phi_i * (1 / Y_pre + 1 / Y_post))`` with ``phi_i`` the area's
    Pearson dispersion over its pre-period cells (at least 1: fewer than
    Poisson's variance is read as chance); the Poisson variance of the log of
    each total, inflated by the area's own overdispersion.
    """
    y, m = Y[i, ~post], mu[i, ~post]
    yb, ya = float(y.sum()), float(Y[i, post].sum())
    if yb <= 0 or ya <= 0 or len(y) < 3:
        return float("nan")
    phi = max(float(np.sum((y - m) ** 2 / np.maximum(m, 1e-12)) / (len(y) - 1)), 1.0)
    return float(np.sqrt(phi * (1 / yb + 1 / ya)))
