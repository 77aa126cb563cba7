"""The study design every impact method receives, and the options they share.

:func:`build_design` checks a claim's dates against the data and builds,
once per evaluation, a :class:`StudyDesign`: the treated and comparison
series at the analysis frequency, the positions of the pre-period, the
evaluation window, the baseline and comparison windows, the resolved trend
and seasonal components of the structural models, the comparison areas'
regressor and the user's regressors. Every registered impact method is a
function ``method(design, options) -> EffectResult``
(:mod:`riskmodel.impact.methods`); the design holds everything they share,
so a method reads what it needs and nothing is computed twice.

Timing conventions (positions are periods at the analysis frequency, counted
from the first period of the data):

* pre-period: ``0 .. start - 1``, every period before the one containing the
  intervention;
* evaluation window: ``eval_start .. end - 1``, the claim's comparison period
  (from the intervention on, if it starts earlier);
* periods ``start .. eval_start - 1`` (a ramp-up, such as a programme started
  mid-2019 and judged on 2020) are forecast by the structural model but left
  out of the fits of the other methods;
* periods from ``end`` on are not used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskmodel.data.panel import IncidentPanel
from riskmodel.errors import InputError, Problem
from riskmodel.impact.claims import Claim, ObservedChange, observed_change
from riskmodel.impact.series import StudySeries, study_series

#: Choices of ``EvaluationOptions.its_inference``.
ITS_INFERENCE = ("auto", "placebo", "model")


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
        Interval level (a fraction, 0.95).
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

    def check(self) -> None:
        """Refuse option values no method could use.

        Raises
        ------
        InputError
            An unknown ``its_inference``.
        """
        if self.its_inference not in ITS_INFERENCE:
            raise InputError(Problem(
                f"its_inference must be one of {', '.join(ITS_INFERENCE)}, not {self.its_inference!r}"))


@dataclass(frozen=True)
class StudyDesign:
    """What every impact method of one evaluation shares (built once by :func:`build_design`).

    Positions are indices into :attr:`series` (periods at the analysis
    frequency); dates are inclusive day bounds.

    Attributes
    ----------
    series : StudySeries
        Treated and comparison areas' counts and exposures over the whole data.
    start : int
        Position of the period containing the intervention: the pre-period is
        ``[0, start)``.
    eval_start, end : int
        The evaluation window ``[eval_start, end)`` (``eval_start >= start``;
        periods after ``end`` are not used).
    intervention : Timestamp
        The programme start.
    baseline, comparison : (Timestamp, Timestamp)
        The claim's baseline and comparison periods (inclusive days).
    data_span : (Timestamp, Timestamp)
        First and last day of the data.
    claim : Claim
        The claim being evaluated (its ``measure`` defines the observed change).
    observed : ObservedChange
        The change as the claim defines it, on the panel's own frequency
        (exact dates for daily data).
    trend, seasonal : str
        The structural models' trend and seasonal components, ``auto``
        resolved (see :class:`EvaluationOptions`).
    season_length : int
        The structural seasonal's period (1 without a seasonal).
    control_regressor : array, shape (end,), optional
        The comparison areas' total count per period (logged when
        ``options.log``), the structural models' regressor; None without
        comparison areas.
    exog : array, shape (end, k), optional
        The user's regressors, aligned to ``series`` periods ``[0, end)``.
    methods : tuple of str
        The methods asked for (a method may adapt to the others: the
        placebo-in-time check uses the structural model when it is asked for).
    notes : tuple of str
        Remarks on the design (e.g. a comparison period starting before the
        intervention).
    """

    series: StudySeries
    start: int
    eval_start: int
    end: int
    intervention: pd.Timestamp
    baseline: tuple[pd.Timestamp, pd.Timestamp]
    comparison: tuple[pd.Timestamp, pd.Timestamp]
    data_span: tuple[pd.Timestamp, pd.Timestamp]
    claim: Claim
    observed: ObservedChange
    trend: str
    seasonal: str
    season_length: int
    control_regressor: np.ndarray | None
    exog: np.ndarray | None
    methods: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())

    # ------------------------------------------------------------ the series, cut to [0, end)
    @property
    def area_id(self) -> str:
        return self.series.area_id

    @property
    def category(self) -> str:
        return self.series.category

    @property
    def periods(self) -> pd.DatetimeIndex:
        """Every period start of the data (length ``len(series.counts)``)."""
        return self.series.periods

    @property
    def index(self) -> pd.DatetimeIndex:
        """Period starts ``[0, end)``."""
        return self.periods[: self.end]

    @property
    def y(self) -> np.ndarray:
        """The treated area's counts ``[0, end)`` as floats, shape (end,)."""
        return self.series.counts.to_numpy(float)[: self.end]

    @property
    def season(self) -> float:
        """Periods per year (12 monthly, 365.25 / 7 weekly)."""
        return self.series.season

    @property
    def has_controls(self) -> bool:
        """Whether there are comparison areas at the treated area's level."""
        return self.series.controls.shape[1] > 0

    @property
    def controls(self) -> pd.DataFrame:
        """Comparison areas' counts ``[0, end)``: periods x areas."""
        return self.series.controls.iloc[: self.end]

    @property
    def control_total(self) -> np.ndarray | None:
        """The comparison areas' summed count per period ``[0, end)``; None without comparison areas."""
        return self.controls.sum(axis=1).to_numpy(float) if self.has_controls else None

    def regressors(self, *cols: np.ndarray | None) -> np.ndarray | None:
        """Columns side by side, shape (end, k); ``None`` entries left out; None when nothing is left."""
        parts = [c.reshape(self.end, -1) for c in cols if c is not None]
        return np.column_stack(parts) if parts else None

    def window(self, start: pd.Timestamp, end: pd.Timestamp) -> tuple[int, int]:
        """Positions ``[i0, i1)`` of the periods containing the days ``start .. end``."""
        return period_window(self.periods, start, end)


def period_window(periods: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp) -> tuple[int, int]:
    """Positions [i0, i1) of the periods containing ``start`` .. ``end``."""
    i0 = max(int(periods.searchsorted(start, side="right")) - 1, 0)
    i1 = int(periods.searchsorted(end, side="right"))
    return i0, i1


def build_design(
    panel: IncidentPanel,
    area_id: str,
    category: str,
    *,
    intervention: str | pd.Timestamp,
    comparison: tuple[str | pd.Timestamp, str | pd.Timestamp] | None = None,
    baseline: tuple[str | pd.Timestamp, str | pd.Timestamp] | None = None,
    reported: float | None = None,
    measure: str = "relative_change",
    methods: tuple[str, ...] = (),
    options: EvaluationOptions | None = None,
    exog: pd.DataFrame | None = None,
    claim: Claim | None = None,
) -> StudyDesign:
    """Check a claim's dates against the data and build its :class:`StudyDesign`.

    Parameters are those of :func:`riskmodel.impact.evaluate` (``methods``
    already checked names).

    Raises
    ------
    InputError
        Unknown area or category; intervention outside the data or with too
        short a pre-period; a comparison or baseline period outside the data;
        regressors missing a period.
    """
    opt = options or EvaluationOptions()
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
    e0, end = period_window(P, cs, ce)
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

    idx = P[:end]
    ex_user = None
    if exog is not None:
        ex = exog.reindex(idx)
        if ex.isna().any().any():
            missing = ex.index[ex.isna().any(axis=1)]
            raise InputError(Problem(
                f"exogenous regressors (option --exog) have no value for {len(missing)} period(s), "
                f"e.g. {missing[0].date()}"
            ))
        ex_user = ex.to_numpy(float)

    ctrl = ss.controls.iloc[:end]
    ctrl_x = None
    if ctrl.shape[1] > 0:
        ctrl_total = ctrl.sum(axis=1).to_numpy(float)
        ctrl_x = np.log(np.maximum(ctrl_total, 0.5)) if opt.log else ctrl_total
    seasonal = opt.seasonal
    if seasonal == "auto":
        seasonal = "none" if ctrl_x is not None else "trig"
    s_season = int(round(ss.season)) if seasonal != "none" else 1
    trend = opt.trend
    if trend == "auto":
        trend = "level" if ctrl_x is not None else "trend"
    return StudyDesign(
        series=ss, start=s, eval_start=e0, end=end, intervention=t_int, baseline=(bs, be), comparison=(cs, ce),
        data_span=(first, last), claim=claim, observed=obs, trend=trend, seasonal=seasonal, season_length=s_season,
        control_regressor=ctrl_x, exog=ex_user, methods=tuple(methods), notes=tuple(notes),
    )


def _unit(freq: str) -> str:
    return {"M": "months", "W": "weeks", "D": "days"}[freq]


def _text(x: float | None) -> str:
    if x is None:
        return ""
    return repr(float(x))


__all__ = ["ITS_INFERENCE", "EvaluationOptions", "StudyDesign", "build_design", "period_window"]
