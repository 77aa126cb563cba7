"""The impact methods as registered: ``method(design, options) -> EffectResult``.

Each adapter reads what its method needs from the
:class:`~riskmodel.impact.design.StudyDesign` (the treated and comparison
series, the pre-period end, the evaluation window, the claim's windows, the
resolved structural components, the regressors) and the shared
:class:`~riskmodel.impact.design.EvaluationOptions`, and calls the method's
own API (:func:`~riskmodel.impact.rate_ratio.rate_ratio`,
:class:`~riskmodel.impact.its.InterruptedTimeSeries`, ...), which stays
usable on its own. :mod:`riskmodel.impact.methods` registers them.

An adapter may raise :class:`~riskmodel.errors.InputError` (the user's
input is wrong: the evaluation stops); any other exception becomes a row
"could not be estimated: ..." while the other methods still run. A method
declared with ``Needs(comparison=True)`` is only called when there are
comparison areas (:func:`riskmodel.impact.evaluate` says so otherwise).

With chosen comparison series (``--controls``), the methods that compare
start their note with "compared with ...". On annual data (one period a
year) there is no season: ITS has no harmonics, and the placebo-in-time
check uses ITS (the structural models do not take annual data).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.impact.checks import placebo_in_time, regression_to_mean
from riskmodel.impact.comparison import difference_in_differences, ratio_of_ratios
from riskmodel.impact.design import EvaluationOptions, StudyDesign
from riskmodel.impact.inference import placebo_interval_se
from riskmodel.impact.its import InterruptedTimeSeries
from riskmodel.impact.rate_ratio import rate_ratio
from riskmodel.impact.registry import METHODS
from riskmodel.impact.results import EffectResult
from riskmodel.impact.structural import StructuralCounterfactual, StructuralIntervention
from riskmodel.impact.synthetic import SyntheticControl


def observed(d: StudyDesign, opt: EvaluationOptions) -> EffectResult:
    """The observed change as the claim defines it, with a rate-ratio interval around it."""
    ss, claim = d.series, d.claim
    (bs, be), (cs, ce) = d.baseline, d.comparison
    b0, b1 = d.window(bs, be)
    c0, c1 = d.window(cs, ce)
    days_b, days_c = ss.days.to_numpy()[b0:b1], ss.days.to_numpy()[c0:c1]
    eb = days_b if claim.measure == "daily_mean" else np.ones(b1 - b0)
    ec = days_c if claim.measure == "daily_mean" else np.ones(c1 - c0)
    full = ss.counts.to_numpy(float)
    r = rate_ratio(full[b0:b1], full[c0:c1], eb, ec, level=opt.level)
    change = d.observed.observed_change
    if r.ok and np.isfinite(change):
        f = (1 + change) / (1 + r.estimate)
        r.estimate, r.lo, r.hi = change, (1 + r.lo) * f - 1, (1 + r.hi) * f - 1
    r.note = f"observed {claim.measure} {bs.date()}..{be.date()} -> {cs.date()}..{ce.date()}; " + r.note
    return r


def rate_ratio_effect(d: StudyDesign, opt: EvaluationOptions) -> EffectResult:
    """Comparison period against baseline period, per resident-day (per day without population)."""
    ss = d.series
    b0, b1 = d.window(*d.baseline)
    c0, c1 = d.window(*d.comparison)
    full = ss.counts.to_numpy(float)
    ex = ss.exposure.to_numpy(float)
    r = rate_ratio(full[b0:b1], full[c0:c1], ex[b0:b1], ex[c0:c1], level=opt.level)
    r.note = ("per resident-day; " if ss.has_population else "per day; ") + r.note
    return r


def _compared(d: StudyDesign, r: EffectResult) -> EffectResult:
    """Name the chosen comparison series at the start of the note (nothing when they are the default areas)."""
    if d.series.comparison_en and d.has_controls:
        r.note = "; ".join(x for x in (f"compared with {d.series.comparison_en}", r.note) if x)
    return r


def _harmonics(d: StudyDesign, opt: EvaluationOptions) -> int:
    """Harmonic pairs of ITS: none when a year is one period (annual data have no season)."""
    return opt.harmonics if d.season >= 2 else 0


def its(d: StudyDesign, opt: EvaluationOptions) -> EffectResult:
    """Segmented regression; the comparison areas' rate as a covariate, placebo-area interval with 8 or more."""
    ss, s, end, e0 = d.series, d.start, d.end, d.eval_start
    ex = None
    if d.has_controls:
        ce_ = ss.control_exposure.iloc[:end].sum(axis=1).to_numpy(float)
        ex = np.log(np.maximum(d.control_total, 0.5) / ce_)
        ex = ex - ex[:s].mean()
    m = InterruptedTimeSeries(family=opt.family, season=d.season, harmonics=_harmonics(d, opt),
                              slope_change=opt.slope_change, autocorr=opt.autocorr, level=opt.level)
    r = m.fit(d.y, s, exposure=ss.exposure.to_numpy(float)[:end], exog=d.regressors(ex, d.exog),
              index=d.index, end=end, eval_start=e0)
    if d.has_controls and r.ok:
        r.note = "comparison areas' rate as a covariate; " + r.note
    n_ctrl = d.controls.shape[1]
    if r.ok and (opt.its_inference == "placebo" or (opt.its_inference == "auto" and n_ctrl >= 8)):
        _its_placebo_interval(m, r, d.controls.to_numpy(float), ss.control_exposure.iloc[:end].to_numpy(float),
                              s, end, e0, d.exog, opt.level)
    return _compared(d, r)


def _structural_model(d: StudyDesign, opt: EvaluationOptions) -> StructuralCounterfactual:
    return StructuralCounterfactual(trend=d.trend, seasonal=d.seasonal, season=d.season_length,
                                    harmonics=opt.harmonics, log=opt.log, n_sims=opt.n_sims,
                                    level=opt.level, seed=opt.seed, param_draws=opt.param_draws)


def structural(d: StudyDesign, opt: EvaluationOptions) -> EffectResult:
    """Counterfactual forecast from the pre-period (CausalImpact design)."""
    m = _structural_model(d, opt)
    return _compared(d, m.fit(d.y, d.start, exog=d.regressors(d.control_regressor, d.exog), index=d.index,
                              end=d.end, eval_start=d.eval_start))


def structural_full(d: StudyDesign, opt: EvaluationOptions) -> EffectResult:
    """Full-sample structural model with a level-shift term (ramp-up periods left out)."""
    s, e0 = d.start, d.eval_start
    yy = d.y.copy()
    yy[s:e0] = np.nan  # ramp-up left out
    # STAMP's conventions (structural.py): a local level unless a slope is asked for; Harvey's full
    # trigonometric seasonal on monthly and quarterly data (weekly: --harmonics pairs; 51 states are too many)
    m = StructuralIntervention(trend="level" if opt.trend == "auto" else d.trend, seasonal=d.seasonal,
                               season=d.season_length,
                               harmonics=None if d.season_length <= 12 else opt.harmonics, log=opt.log,
                               level=opt.level, param_draws=opt.param_draws, seed=opt.seed)
    return _compared(d, m.fit(yy, e0 if e0 > s else s, exog=d.regressors(d.control_regressor, d.exog),
                              index=d.index, end=d.end))


def ratio_of_ratios_effect(d: StudyDesign, opt: EvaluationOptions) -> EffectResult:
    """The treated area's rate ratio over the comparison areas', against a whole number of years earlier."""
    ss, P, e0, end = d.series, d.periods, d.eval_start, d.end
    cs, ce = d.comparison
    k = 1
    while ce - pd.DateOffset(years=k) >= d.intervention:
        k += 1
    b0, b1 = d.window(cs - pd.DateOffset(years=k), ce - pd.DateOffset(years=k))
    if (cs - pd.DateOffset(years=k)) < d.data_span[0]:
        return EffectResult.failed("ratio_of_ratios", "no pre-intervention window of the comparison period's length")
    full = ss.counts.to_numpy(float)
    ct = ss.controls.to_numpy(float)  # per area: placebo-area interval with 8 or more
    r = ratio_of_ratios(full[b0:b1], full[e0:end], ct[b0:b1], ct[e0:end], level=opt.level,
                        matched_periods=(b1 - b0) == (end - e0))
    r.note = f"against {P[b0].date()}..{(cs - pd.DateOffset(years=k) + (ce - cs)).date()}; " + r.note
    return _compared(d, r)


def did(d: StudyDesign, opt: EvaluationOptions) -> EffectResult:
    """Poisson difference in differences with area and period effects (ramp-up periods left out)."""
    P, s, e0, end = d.periods, d.start, d.eval_start, d.end
    long = d.series.long()
    long = long[long["period"] < (P[end] if end < len(P) else P[-1] + pd.Timedelta(days=1))]
    keep = (long["period"] < P[s]) | (long["period"] >= P[e0])
    return _compared(d, difference_in_differences(long[keep], d.area_id, P[e0], exposure="exposure",
                                                  level=opt.level))


def synthetic(d: StudyDesign, opt: EvaluationOptions) -> EffectResult:
    """Synthetic control on indexed counts (ramp-up periods left out)."""
    ss, P, s, e0 = d.series, d.periods, d.start, d.eval_start
    s_season = d.season_length
    w = pd.concat([ss.counts.rename(d.area_id), d.donors], axis=1).iloc[:d.end].astype(float)
    w = w.drop(index=P[s:e0])
    preds = None
    if opt.synthetic_v == "optimize" and s >= 2 * s_season:
        # predictors: the mean of each season position over the pre-period (indexed scale)
        pre = w.iloc[:s] / w.iloc[:s].mean().where(w.iloc[:s].mean() > 0, 1.0)
        pos = np.arange(s) % max(s_season, 1)
        preds = pre.groupby(pos).mean()
        preds.index = [f"season_{i + 1}" for i in preds.index]
    m = SyntheticControl(v=opt.synthetic_v if preds is not None else "equal", scale="index",
                         level=opt.level, seed=opt.seed)
    r = m.fit(w, d.area_id, P[e0], predictors=preds)
    if ss.donors is not None:
        r.note = "; ".join(x for x in (f"donors {', '.join(ss.donors.columns)}", r.note) if x)
        return r
    return _compared(d, r)


def placebo_in_time_check(d: StudyDesign, opt: EvaluationOptions) -> EffectResult:
    """The structural model (ITS when only ITS is asked for) with a fake earlier start date."""
    L = d.end - d.eval_start
    structural_ok = opt.freq in METHODS["structural"].needs.freqs if "structural" in METHODS else True
    if structural_ok and ("structural" in d.methods or "its" not in d.methods):
        m = _structural_model(d, opt)
        return placebo_in_time(m, d.y, d.start, L, exog=d.regressors(d.control_regressor, d.exog),
                               index=d.index, season=d.season)
    m2 = InterruptedTimeSeries(family=opt.family, season=d.season, harmonics=_harmonics(d, opt), level=opt.level)
    return placebo_in_time(m2, d.y, d.start, L, index=d.index, season=d.season)


def regression_to_mean_check(d: StudyDesign, opt: EvaluationOptions) -> EffectResult:
    """The change regression to the mean alone predicts for the treated area's baseline."""
    ss = d.series
    first = d.data_span[0]
    (bs, be), (cs, ce) = d.baseline, d.comparison
    allw = pd.concat([ss.counts.rename(d.area_id), ss.controls], axis=1).astype(float)
    rows = {}
    k = 1
    while True:
        ws, we = cs - pd.DateOffset(years=k), ce - pd.DateOffset(years=k)
        if ws < first:
            break
        if we < d.intervention:
            a0, a1 = d.window(ws, we)
            rows[ws] = allw.iloc[a0:a1].sum()
        k += 1
    if not rows:
        return EffectResult.failed("regression_to_mean", "no earlier windows")
    W = pd.DataFrame(rows).T.sort_index()
    b0, b1 = d.window(bs, be)
    return _compared(d, regression_to_mean(W, allw.iloc[b0:b1].sum(), d.area_id, level=opt.level))


def placebo_caution(r: EffectResult) -> tuple[str, str] | None:
    """The verdict's warning when the fake start date finds an effect (English, Chinese)."""
    if r.covers(0.0):
        return None
    return (f"Caution: with a fake earlier start date the model finds {r.estimate:+.1%}, "
            "so its intervals may be too narrow.",
            f"注意：用较早的虚拟开始日期，模型也得出{r.estimate:+.1%}的变化，其区间可能偏窄。")


def regression_to_mean_caution(r: EffectResult) -> tuple[str, str] | None:
    """The verdict's warning when the baseline was unusually high (English, Chinese)."""
    if not r.hi < 0:
        return None
    return (f"The baseline was unusually high: regression to the mean alone predicts {r.estimate:+.1%}.",
            f"基期数值异常偏高：仅均值回归就会带来{r.estimate:+.1%}的变化。")


def _its_placebo_interval(
    model: InterruptedTimeSeries, r: EffectResult, counts: np.ndarray, exposure: np.ndarray,
    start: int, end: int, eval_start: int, exog: np.ndarray | None, level: float,
) -> None:
    """Replace the ITS result's interval by the placebo-area one (in place), keeping the model's."""
    pl, pl_se = model.placebo_effects(counts, exposure, start, end=end, eval_start=eval_start, exog=exog)
    lo, hi, p, tau, m = placebo_interval_se(r.diagnostics["log_effect"], r.diagnostics["log_effect_se"],
                                            pl, pl_se, level)
    n = int(np.sum(np.isfinite(pl) & np.isfinite(pl_se)))
    r.note = r.note.rstrip("; ")
    if not np.isfinite(lo):
        r.note = "; ".join(x for x in (r.note, f"only {n} placebo areas could be fitted: the model's interval") if x)
        return
    r.diagnostics.update({"model_lo": r.lo, "model_hi": r.hi, "model_p_value": r.p_value, "placebo_areas": n,
                          "placebo_tau": tau, "placebo_mean_error": m})
    r.note = "; ".join(x for x in (
        r.note,
        f"interval from {n} placebo areas (error sd beyond the model's {tau:.3f}, mean error {m:+.3f} on the "
        f"log scale); the regression alone gives [{r.lo:+.1%}, {r.hi:+.1%}]",
    ) if x)
    r.lo, r.hi, r.p_value = lo, hi, p


__all__ = [
    "did",
    "its",
    "observed",
    "placebo_caution",
    "placebo_in_time_check",
    "rate_ratio_effect",
    "ratio_of_ratios_effect",
    "regression_to_mean_caution",
    "regression_to_mean_check",
    "structural",
    "structural_full",
    "synthetic",
]
