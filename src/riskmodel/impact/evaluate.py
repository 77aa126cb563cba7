"""Evaluate one reported change: every method, the checks and the verdict.

:func:`evaluate` takes a panel, the treated area and category, the
intervention date and the claim's periods, and runs the methods asked for on
the monthly (by default) series. Each method that cannot run for this claim
returns a row saying why; the others still run.

Timing conventions (periods at the analysis frequency):

* pre-period: every period before the one containing the intervention;
* evaluation window: the claim's comparison period (from the intervention
  on, if it starts earlier);
* periods between the intervention and the comparison period (a ramp-up, such
  as a programme started mid-2019 and judged on 2020) are forecast by the
  structural model but left out of the fits of the other methods;
* periods after the comparison period are not used.

The effect every method estimates is the relative change of the expected
count over the evaluation window against the counterfactual without the
programme ("programme effect").
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskmodel.data.panel import IncidentPanel
from riskmodel.errors import InputError, Problem
from riskmodel.impact.chart import observed_vs_counterfactual
from riskmodel.impact.checks import placebo_in_time, regression_to_mean
from riskmodel.impact.claims import Claim, ObservedChange, observed_change
from riskmodel.impact.comparison import difference_in_differences, ratio_of_ratios
from riskmodel.impact.inference import placebo_interval_se
from riskmodel.impact.its import InterruptedTimeSeries
from riskmodel.impact.rate_ratio import rate_ratio
from riskmodel.impact.results import EffectResult, effects_table
from riskmodel.impact.series import StudySeries, study_series
from riskmodel.impact.structural import StructuralCounterfactual, StructuralIntervention
from riskmodel.impact.synthetic import SyntheticControl
from riskmodel.impact.verdict import Verdict, make_verdict

#: Every method name that can appear in effects.csv, in the order written.
METHODS = (
    "observed", "rate_ratio", "its", "structural", "structural_full", "ratio_of_ratios", "did",
    "synthetic", "placebo_in_time", "regression_to_mean",
)
#: Choices of ``--method`` and the methods each runs.
METHOD_CHOICES = {
    "all": METHODS,
    "rate-ratio": ("observed", "rate_ratio"),
    "its": ("observed", "its"),
    "structural": ("observed", "structural", "structural_full"),
    "synthetic": ("observed", "synthetic"),
    "did": ("observed", "ratio_of_ratios", "did"),
}
#: Choices of ``EvaluationOptions.its_inference``.
ITS_INFERENCE = ("auto", "placebo", "model")
#: The programme effect of the verdict: the first of these that ran.
PRIMARY_ORDER = ("structural", "synthetic", "did", "its", "structural_full", "ratio_of_ratios")


@dataclass
class EvaluationOptions:
    """How the methods are run (defaults are those of ``riskmodel claim``).

    Parameters
    ----------
    freq : {'M', 'W', 'D'}
        Analysis frequency (daily data are summed to it).
    log : bool
        Structural models on log counts (multiplicative effects).
    seasonal : {'auto', 'trig', 'dummy', 'none'}
        Seasonal component of the structural models. 'auto': none when the
        comparison areas' series is a regressor (it carries the season, as in
        CausalImpact's default; a seasonal of its own competes with the
        regressor and biased the effect by -4 points in the calibration
        benchmark), trigonometric otherwise.
    harmonics : int
        Harmonic pairs (ITS and the trigonometric seasonal).
    trend : {'auto', 'level', 'trend', 'smooth'}
        Trend component of the structural models. 'auto': a local level when
        the comparison areas' series is a regressor (it carries the trend), a
        local linear trend otherwise (on the sample city's city-wide claims
        the local level took the steady decline for an effect; the linear
        trend's intervals cover the true 0 in four of five).
    full_sample : bool
        Also run the full-sample structural model with an intervention term.
    family : {'quasipoisson', 'negbin', 'poisson'}
        ITS likelihood.
    slope_change : bool
        ITS with a change of slope.
    autocorr : {'check', 'hac', 'auto'}
        ITS autocorrelation handling.
    its_inference : {'auto', 'placebo', 'model'}
        ITS interval: from the regression ('model', the classical segmented
        regression) or from placebo areas (each comparison area refitted as if
        treated; :func:`riskmodel.impact.inference.placebo_interval_se`), which
        also covers an area's own drift and the noise of the comparison
        series. 'auto': placebo areas when there are at least 8 comparison
        areas (the calibration benchmark: 92-95% coverage against 73-87% for
        the regression's interval).
    n_sims : int
        Simulated paths of the structural counterfactual.
    param_draws : int
        Proposals of the structural models' variance parameters (their
        posterior is integrated over; 0 plugs in the ML estimates).
    synthetic_v : {'equal', 'optimize'}
        Predictor weighting of the synthetic control (predictors: the
        pre-period outcomes by season, i.e. yearly means of each month).
    min_pre : int
        Minimum pre-period length (periods) below which the evaluation is refused.
    level : float
        Interval level.
    seed : int
        Seed of every random step.
    """

    freq: str = "M"
    log: bool = True
    seasonal: str = "auto"
    harmonics: int = 2
    trend: str = "auto"
    full_sample: bool = False
    family: str = "quasipoisson"
    slope_change: bool = False
    autocorr: str = "auto"
    its_inference: str = "auto"
    n_sims: int = 1000
    param_draws: int = 400
    synthetic_v: str = "equal"
    min_pre: int = 24
    level: float = 0.95
    seed: int = 0


@dataclass
class Evaluation:
    """The evaluation of one reported change."""

    area_id: str
    category: str
    intervention: pd.Timestamp
    baseline: tuple[pd.Timestamp, pd.Timestamp]
    comparison: tuple[pd.Timestamp, pd.Timestamp]
    reported: float | None
    observed: ObservedChange
    results: list[EffectResult]
    primary: str | None
    verdict: Verdict
    series: StudySeries
    claim_id: str = ""
    notes: list[str] = field(default_factory=list)
    area_names: tuple[str, str] = ("", "")  # (Chinese, English)

    def effects(self) -> pd.DataFrame:
        """``effects.csv``: one row per method (method, estimate, lo95, hi95, coef, se, p_value, note)."""
        return effects_table(self.results)

    def result(self, method: str) -> EffectResult | None:
        for r in self.results:
            if r.method == method:
                return r
        return None

    def summary(self) -> pd.DataFrame:
        """One row: reported vs observed vs the primary effect, with the verdict facts."""
        p = self.result(self.primary) if self.primary else None
        return pd.DataFrame([{
            "claim_id": self.claim_id, "area_id": self.area_id, "category": self.category,
            "intervention": self.intervention.date().isoformat(),
            "reported_change": self.reported, "observed_change": self.observed.observed_change,
            "reproduced": self.observed.reproduced,
            "method": self.primary, "effect": p.estimate if p else np.nan,
            "effect_lo95": p.lo if p else np.nan, "effect_hi95": p.hi if p else np.nan,
            "consistent": self.verdict.consistent,
            "verdict_en": self.verdict.en, "verdict_zh": self.verdict.zh,
        }])

    def chart(self, lang: str = "en"):  # noqa: ANN201 - matplotlib figure
        """Observed against counterfactual (primary method), intervention and comparison period marked."""
        return observed_vs_counterfactual(self, lang=lang)


def _window(periods: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp) -> tuple[int, int]:
    """Positions [i0, i1) of the periods containing ``start`` .. ``end``."""
    i0 = max(int(periods.searchsorted(start, side="right")) - 1, 0)
    i1 = int(periods.searchsorted(end, side="right"))
    return i0, i1


def evaluate(
    panel: IncidentPanel,
    area_id: str,
    category: str,
    *,
    intervention: str | pd.Timestamp,
    comparison: tuple[str | pd.Timestamp, str | pd.Timestamp] | None = None,
    baseline: tuple[str | pd.Timestamp, str | pd.Timestamp] | None = None,
    reported: float | None = None,
    measure: str = "relative_change",
    methods: tuple[str, ...] | list[str] = METHODS,
    options: EvaluationOptions | None = None,
    exog: pd.DataFrame | None = None,
    claim: Claim | None = None,
) -> Evaluation:
    """Evaluate a reported change with every method asked for.

    Parameters
    ----------
    panel : IncidentPanel
        Counts (daily, weekly or monthly) with areas and population if known.
    area_id, category : str
        The treated area (or district / city: the sum of its areas) and category.
    intervention : date
        When the programme started.
    comparison : (start, end), optional
        The comparison period, inclusive (default: from the intervention to
        the end of the data).
    baseline : (start, end), optional
        The baseline period of the observed change (default: the comparison
        period one year earlier, "year on year").
    reported : float, optional
        The reported relative change (-0.354 for "fell 35.4%").
    measure : {'relative_change', 'daily_mean'}
        How the observed change is computed (see :mod:`riskmodel.impact.claims`).
    methods : sequence of str
        Names from :data:`METHODS`.
    options : EvaluationOptions, optional
    exog : DataFrame, optional
        Extra regressors for ITS and the structural models: period starts as
        index (at the analysis frequency), one column per regressor, used as
        given (already logged if they should be).
    claim : Claim, optional
        The claim row being evaluated (its id and reported figures are used).

    Raises
    ------
    InputError
        Unknown area or category; intervention outside the data or with too
        short a pre-period; a comparison period with no data.
    """
    opt = options or EvaluationOptions()
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InputError(Problem(f"unknown method(s) {', '.join(unknown)}; valid: {', '.join(METHODS)}"))
    if opt.its_inference not in ITS_INFERENCE:
        raise InputError(Problem(f"its_inference must be one of {', '.join(ITS_INFERENCE)}, not {opt.its_inference!r}"))
    ss = study_series(panel, area_id, category, freq=opt.freq)
    P = ss.periods
    t_int = pd.Timestamp(intervention)
    first, last = P[0], ss.days.index[-1] + pd.Timedelta(days=float(ss.days.iloc[-1]) - 1)
    if not (first < t_int <= last):
        raise InputError(Problem(
            f"intervention date {t_int.date()} (option --intervention) is outside the data "
            f"({first.date()} to {last.date()})"
        ))
    s = int(P.searchsorted(t_int, side="right")) - 1
    if s < opt.min_pre:
        raise InputError(Problem(
            f"intervention date {t_int.date()} (option --intervention) leaves a pre-period of {s} "
            f"{_unit(opt.freq)}; at least {opt.min_pre} are needed"
        ))
    cs, ce = (t_int, last) if comparison is None else (pd.Timestamp(comparison[0]), pd.Timestamp(comparison[1]))
    if ce < cs:
        raise InputError(Problem(f"the comparison period ends ({ce.date()}) before it starts ({cs.date()})"))
    if cs > last or ce < first:
        raise InputError(Problem(
            f"the comparison period {cs.date()}..{ce.date()} has no data (data: {first.date()} to {last.date()})"
        ))
    if ce > last:
        raise InputError(Problem(
            f"the comparison period {cs.date()}..{ce.date()} runs past the end of the data ({last.date()})"
        ))
    if ce < t_int:
        raise InputError(Problem(
            f"the comparison period {cs.date()}..{ce.date()} ends before the intervention ({t_int.date()})"
        ))
    if baseline is None:  # year on year, as officials report
        bs, be = cs - pd.DateOffset(years=1), ce - pd.DateOffset(years=1)
    else:
        bs, be = pd.Timestamp(baseline[0]), pd.Timestamp(baseline[1])
    if bs < first:
        raise InputError(Problem(f"the baseline period {bs.date()}..{be.date()} starts before the data ({first.date()})"))
    e0, end = _window(P, cs, ce)
    notes = []
    if e0 < s:
        notes.append("the comparison period starts before the intervention; effects are over the part after it")
        e0 = s
    if claim is None:
        claim = Claim(
            claim_id="", area_id=area_id, category=category, measure=measure,
            baseline_start=bs, baseline_end=be, comparison_start=cs, comparison_end=ce,
            reported_change=reported, reported_text=_text(reported),
        )
    obs = observed_change(panel, claim)

    y = ss.counts.to_numpy(float)[:end]
    idx = P[:end]
    ctrl = ss.controls.iloc[:end]
    has_ctrl = ctrl.shape[1] > 0
    season = ss.season
    ctrl_total = ctrl.sum(axis=1).to_numpy(float) if has_ctrl else None
    ex_user = None
    if exog is not None:
        ex_user = exog.reindex(idx)
        if ex_user.isna().any().any():
            missing = ex_user.index[ex_user.isna().any(axis=1)]
            raise InputError(Problem(
                f"exogenous regressors (option --exog) have no value for {len(missing)} period(s), "
                f"e.g. {missing[0].date()}"
            ))
        ex_user = ex_user.to_numpy(float)

    def stack(*cols: np.ndarray | None) -> np.ndarray | None:
        parts = [c.reshape(len(y), -1) for c in cols if c is not None]
        return np.column_stack(parts) if parts else None

    results: list[EffectResult] = []
    level = opt.level

    def run(name: str, fn) -> None:  # noqa: ANN001
        if name not in methods:
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = fn()
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - one method failing must not stop the others
            r = EffectResult.failed(name, f"could not be estimated: {type(exc).__name__}: {exc}")
        r.method = name
        results.append(r)

    def _observed() -> EffectResult:
        b0, b1 = _window(P, bs, be)
        c0, c1 = _window(P, cs, ce)
        days_b, days_c = ss.days.to_numpy()[b0:b1], ss.days.to_numpy()[c0:c1]
        eb = days_b if claim.measure == "daily_mean" else np.ones(b1 - b0)
        ec = days_c if claim.measure == "daily_mean" else np.ones(c1 - c0)
        full = ss.counts.to_numpy(float)
        r = rate_ratio(full[b0:b1], full[c0:c1], eb, ec, level=level)
        if r.ok and np.isfinite(obs.observed_change):
            f = (1 + obs.observed_change) / (1 + r.estimate)
            r.estimate, r.lo, r.hi = obs.observed_change, (1 + r.lo) * f - 1, (1 + r.hi) * f - 1
        r.note = f"observed {claim.measure} {bs.date()}..{be.date()} -> {cs.date()}..{ce.date()}; " + r.note
        return r

    def _rate_ratio() -> EffectResult:
        b0, b1 = _window(P, bs, be)
        c0, c1 = _window(P, cs, ce)
        full = ss.counts.to_numpy(float)
        ex = ss.exposure.to_numpy(float)
        r = rate_ratio(full[b0:b1], full[c0:c1], ex[b0:b1], ex[c0:c1], level=level)
        r.note = ("per resident-day; " if ss.has_population else "per day; ") + r.note
        return r

    def _its() -> EffectResult:
        ex = None
        if has_ctrl:
            ce_ = ss.control_exposure.iloc[:end].sum(axis=1).to_numpy(float)
            ex = np.log(np.maximum(ctrl_total, 0.5) / ce_)
            ex = ex - ex[:s].mean()
        m = InterruptedTimeSeries(family=opt.family, season=season, harmonics=opt.harmonics,
                                  slope_change=opt.slope_change, autocorr=opt.autocorr, level=level)
        r = m.fit(y, s, exposure=ss.exposure.to_numpy(float)[:end], exog=stack(ex, ex_user),
                  index=idx, end=end, eval_start=e0)
        if has_ctrl and r.ok:
            r.note = "comparison areas' rate as a covariate; " + r.note
        n_ctrl = ctrl.shape[1]
        if r.ok and (opt.its_inference == "placebo" or (opt.its_inference == "auto" and n_ctrl >= 8)):
            _its_placebo_interval(m, r, ctrl.to_numpy(float), ss.control_exposure.iloc[:end].to_numpy(float),
                                  s, end, e0, ex_user, level)
        return r

    ctrl_x = None
    if has_ctrl:
        ctrl_x = np.log(np.maximum(ctrl_total, 0.5)) if opt.log else ctrl_total
    seasonal = opt.seasonal
    if seasonal == "auto":
        seasonal = "none" if ctrl_x is not None else "trig"
    s_season = int(round(season)) if seasonal != "none" else 1
    trend = opt.trend
    if trend == "auto":
        trend = "level" if ctrl_x is not None else "trend"

    def _structural() -> EffectResult:
        m = StructuralCounterfactual(trend=trend, seasonal=seasonal, season=s_season,
                                     harmonics=opt.harmonics, log=opt.log, n_sims=opt.n_sims,
                                     level=level, seed=opt.seed, param_draws=opt.param_draws)
        return m.fit(y, s, exog=stack(ctrl_x, ex_user), index=idx, end=end, eval_start=e0)

    def _structural_full() -> EffectResult:
        yy = y.copy()
        yy[s:e0] = np.nan  # ramp-up left out
        m = StructuralIntervention(trend=trend, seasonal=seasonal, season=s_season,
                                   harmonics=opt.harmonics, log=opt.log, level=level,
                                   param_draws=opt.param_draws, seed=opt.seed)
        return m.fit(yy, e0 if e0 > s else s, exog=stack(ctrl_x, ex_user), index=idx, end=end)

    def _ror() -> EffectResult:
        if not has_ctrl:
            return EffectResult.failed("ratio_of_ratios", "no comparison areas at the same level")
        k = 1
        while ce - pd.DateOffset(years=k) >= t_int:
            k += 1
        b0, b1 = _window(P, cs - pd.DateOffset(years=k), ce - pd.DateOffset(years=k))
        if (cs - pd.DateOffset(years=k)) < first:
            return EffectResult.failed("ratio_of_ratios", "no pre-intervention window of the comparison period's length")
        full = ss.counts.to_numpy(float)
        ct = ss.controls.to_numpy(float)  # per area: placebo-area interval with 8 or more
        r = ratio_of_ratios(full[b0:b1], full[e0:end], ct[b0:b1], ct[e0:end], level=level,
                            matched_periods=(b1 - b0) == (end - e0))
        r.note = f"against {P[b0].date()}..{(cs - pd.DateOffset(years=k) + (ce - cs)).date()}; " + r.note
        return r

    def _did() -> EffectResult:
        if not has_ctrl:
            return EffectResult.failed("did", "no comparison areas at the same level")
        long = ss.long()
        long = long[long["period"] < (P[end] if end < len(P) else P[-1] + pd.Timedelta(days=1))]
        keep = (long["period"] < P[s]) | (long["period"] >= P[e0])
        return difference_in_differences(long[keep], area_id, P[e0], exposure="exposure", level=level)

    def _synthetic() -> EffectResult:
        if not has_ctrl:
            return EffectResult.failed("synthetic", "no comparison areas at the same level")
        w = pd.concat([ss.counts.rename(area_id), ss.controls], axis=1).iloc[:end].astype(float)
        w = w.drop(index=P[s:e0])
        preds = None
        if opt.synthetic_v == "optimize" and s >= 2 * s_season:
            # predictors: the mean of each season position over the pre-period (indexed scale)
            pre = w.iloc[:s] / w.iloc[:s].mean().where(w.iloc[:s].mean() > 0, 1.0)
            pos = np.arange(s) % max(s_season, 1)
            preds = pre.groupby(pos).mean()
            preds.index = [f"season_{i + 1}" for i in preds.index]
        m = SyntheticControl(v=opt.synthetic_v if preds is not None else "equal", scale="index",
                             level=level, seed=opt.seed)
        return m.fit(w, area_id, P[e0], predictors=preds)

    def _placebo_time() -> EffectResult:
        L = end - e0
        if "structural" in methods or "its" not in methods:
            m = StructuralCounterfactual(trend=trend, seasonal=seasonal, season=s_season,
                                         harmonics=opt.harmonics, log=opt.log, n_sims=opt.n_sims,
                                         level=level, seed=opt.seed, param_draws=opt.param_draws)
            return placebo_in_time(m, y, s, L, exog=stack(ctrl_x, ex_user), index=idx, season=season)
        m2 = InterruptedTimeSeries(family=opt.family, season=season, harmonics=opt.harmonics, level=level)
        return placebo_in_time(m2, y, s, L, index=idx, season=season)

    def _rtm() -> EffectResult:
        if not has_ctrl:
            return EffectResult.failed("regression_to_mean", "no comparison areas at the same level")
        allw = pd.concat([ss.counts.rename(area_id), ss.controls], axis=1).astype(float)
        rows = {}
        k = 1
        while True:
            ws, we = cs - pd.DateOffset(years=k), ce - pd.DateOffset(years=k)
            if ws < first:
                break
            if we < t_int:
                a0, a1 = _window(P, ws, we)
                rows[ws] = allw.iloc[a0:a1].sum()
            k += 1
        if not rows:
            return EffectResult.failed("regression_to_mean", "no earlier windows")
        W = pd.DataFrame(rows).T.sort_index()
        b0, b1 = _window(P, bs, be)
        return regression_to_mean(W, allw.iloc[b0:b1].sum(), area_id, level=level)

    for name, fn in (("observed", _observed), ("rate_ratio", _rate_ratio), ("its", _its),
                     ("structural", _structural), ("structural_full", _structural_full),
                     ("ratio_of_ratios", _ror), ("did", _did), ("synthetic", _synthetic),
                     ("placebo_in_time", _placebo_time), ("regression_to_mean", _rtm)):
        if name == "structural_full" and not opt.full_sample:
            continue
        run(name, fn)

    by = {r.method: r for r in results}
    primary = next((m for m in PRIMARY_ORDER if m in by and by[m].ok), None)
    obs_r = by.get("observed")
    o_lo, o_hi = (obs_r.lo, obs_r.hi) if obs_r is not None and obs_r.ok else (np.nan, np.nan)
    if obs_r is None or not obs_r.ok:
        tmp = _observed()
        o_lo, o_hi = tmp.lo, tmp.hi
    checks_en, checks_zh = [], []
    pt = by.get("placebo_in_time")
    if pt is not None and pt.ok and not pt.covers(0.0):
        checks_en.append(f"Caution: with a fake earlier start date the model finds {pt.estimate:+.1%}, "
                         "so its intervals may be too narrow.")
        checks_zh.append(f"注意：用较早的虚拟开始日期，模型也得出{pt.estimate:+.1%}的变化，其区间可能偏窄。")
    rtm = by.get("regression_to_mean")
    if rtm is not None and rtm.ok and rtm.hi < 0:
        checks_en.append(f"The baseline was unusually high: regression to the mean alone predicts {rtm.estimate:+.1%}.")
        checks_zh.append(f"基期数值异常偏高：仅均值回归就会带来{rtm.estimate:+.1%}的变化。")
    names = panel.areas.set_index("area_id") if "area_id" in panel.areas.columns else None
    a_zh = str(names.at[area_id, "name"]) if names is not None and "name" in names.columns and area_id in names.index and pd.notna(names.at[area_id, "name"]) else area_id
    a_en = str(names.at[area_id, "name_en"]) if names is not None and "name_en" in names.columns and area_id in names.index and pd.notna(names.at[area_id, "name_en"]) else area_id
    rep = claim.reported_change if claim.reported_change is not None else reported
    verdict = make_verdict(
        area_zh=a_zh, area_en=a_en, category=category,
        period_zh=f"{cs.date()}至{ce.date()}对比{bs.date()}至{be.date()}",
        period_en=f"{cs.date()} to {ce.date()} against {bs.date()} to {be.date()}",
        observed=obs.observed_change, observed_lo=o_lo, observed_hi=o_hi,
        reported=rep, reproduced=obs.reproduced,
        effect=(by[primary].estimate, by[primary].lo, by[primary].hi) if primary else None,
        method=primary, with_controls=has_ctrl and primary in ("structural", "synthetic", "did", "its", "structural_full", "ratio_of_ratios"),
        checks=checks_en, checks_zh=checks_zh,
    )
    return Evaluation(
        area_id=area_id, category=category, intervention=t_int, baseline=(bs, be), comparison=(cs, ce),
        reported=rep, observed=obs, results=results, primary=primary, verdict=verdict, series=ss,
        claim_id=claim.claim_id, notes=notes, area_names=(a_zh, a_en),
    )


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


def _unit(freq: str) -> str:
    return {"M": "months", "W": "weeks", "D": "days"}[freq]


def _text(x: float | None) -> str:
    if x is None:
        return ""
    return repr(float(x))
