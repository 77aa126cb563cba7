"""Outcomes that are not counts: rates, per-capita figures, survey scores.

``riskmodel claim`` takes, in place of a counts table, a long table with a
``value`` column: ``area_id, category, period, value`` (one value per area,
category and period; ``category`` names the outcome, e.g. ``rate`` or
``satisfaction``). Such values are analysed as given, at the data's own
frequency (monthly, weekly or annual, ``--freq`` M, W or Y): they are never
summed (a district's rate is not the sum of its streets' rates: give the
district's own rows), never resampled and never zero-filled (a missing value
is not 0: the treated area needs every period; a comparison area with a gap
is left out, with a note).

Each registered method says whether it takes such outcomes (``values=True``
in its ``register`` call; :func:`supports_values`): the comparison methods
that model the outcome's level (synthetic DiD, synthetic control,
difference in differences as Poisson pseudo-likelihood, which needs values
>= 0, and the staggered estimator) do; the count models (ITS, rate ratios,
the structural models of log counts, ratio of ratios, the checks built on
them) refuse them, naming what to use instead (:func:`refuse_count_only`).

:func:`value_design` builds the :class:`~riskmodel.impact.design.StudyDesign`
the methods share (its ``outcome`` is ``"value"``); :func:`evaluate_values`
runs the methods and writes the verdict as :func:`riskmodel.impact.evaluate`
does for counts. The observed change of a value outcome is the change of
its mean per period between the baseline and comparison windows
(:func:`observed`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from statistics import NormalDist
from types import SimpleNamespace

import numpy as np
import pandas as pd

from riskmodel.data.frequency import Frequency
from riskmodel.data.schemas import parse_period
from riskmodel.errors import InputError, Problem
from riskmodel.impact.claims import Claim, ObservedChange
from riskmodel.impact.design import (
    EvaluationOptions,
    StudyDesign,
    check_windows,
    default_baseline,
    period_window,
)
from riskmodel.impact.evaluate import Evaluation, conclude, run_method
from riskmodel.impact.registry import METHODS, check_names, runs_with
from riskmodel.impact.results import EffectResult
from riskmodel.impact.series import ControlSpec, StudySeries
from riskmodel.registry import by_reference

#: Columns of a table of values (``value`` in place of a counts table's ``count``).
VALUE_COLUMNS = ("area_id", "category", "period", "value")

#: The measure of a value outcome's observed change: the mean per period in each window.
MEAN_VALUE = "mean_value"

_count_observed = by_reference("riskmodel.impact.adapters:observed")
"""The observed change of counts, imported on first use (the adapters import scipy and statsmodels)."""


def is_value_table(columns: Iterable[str]) -> bool:
    """Whether a table's columns are those of values (a ``value`` column and no ``count``)."""
    cols = {str(c).strip() for c in columns}
    return "value" in cols and "count" not in cols


@dataclass
class ValuePanel:
    """A validated table of values (not counts) at one frequency.

    Attributes
    ----------
    data : DataFrame
        ``area_id`` (str), ``category`` (str), ``period`` (datetime64, period
        starts), ``value`` (float), sorted.
    freq : {'W', 'M', 'Y'}
        The data's frequency.
    source : str
        The file, for messages.
    notes : list of str
        What was decided for the user.
    """

    data: pd.DataFrame
    freq: str
    source: str = "values"
    notes: list[str] = field(default_factory=list)

    @property
    def categories(self) -> list[str]:
        return sorted(self.data["category"].unique())

    @property
    def area_ids(self) -> list[str]:
        return sorted(self.data["area_id"].unique())


def read_values(table: pd.DataFrame, *, freq: str | None = None, source: str = "values") -> ValuePanel:
    """Check a table of values and type it; every bad row is named at once.

    Parameters
    ----------
    table : DataFrame
        ``area_id, category, period, value`` (other columns ignored; not modified).
    freq : {'W', 'M', 'Y'}, optional
        The frequency asked for (``--freq``); it must be the data's own
        (values are never summed or averaged into coarser periods).
    source : str
        The file, for messages.

    Raises
    ------
    InputError
        Missing columns; empty ids; dates that are not dates or not period
        starts of one frequency; values that are not finite numbers; two rows
        for one area, category and period; a ``freq`` other than the data's.
    """
    missing = [c for c in VALUE_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(Problem(f"missing column(s) {', '.join(missing)}; a table of values needs "
                                 f"{', '.join(VALUE_COLUMNS)}", source=source))
    df = table[list(VALUE_COLUMNS)].reset_index(drop=True)
    problems: list[Problem] = []
    for col in ("area_id", "category"):
        txt = df[col].astype("string").str.strip()
        bad = (txt.isna() | (txt == "")).to_numpy()
        if bad.any():
            problems.append(Problem.at_rows("is empty", index=np.flatnonzero(bad), source=source, column=col))
    per = parse_period(df["period"].astype(object).where(df["period"].notna(), None).astype("string")
                       if not pd.api.types.is_datetime64_any_dtype(df["period"]) else df["period"])
    bad = per.isna().to_numpy()
    if bad.any():
        problems.append(Problem.at_rows("is not a date (YYYY-MM-DD)", index=np.flatnonzero(bad), source=source,
                                        column="period", values=df["period"].to_numpy()[bad][:10]))
    val = pd.to_numeric(df["value"].astype("string").str.strip().str.replace(",", "", regex=False)
                        if not pd.api.types.is_numeric_dtype(df["value"]) else df["value"], errors="coerce")
    badv = (val.isna() | ~np.isfinite(val.astype(float))).to_numpy()
    if badv.any():
        problems.append(Problem.at_rows("is not a number", index=np.flatnonzero(badv), source=source,
                                        column="value", values=df["value"].to_numpy()[badv][:10]))
    if problems:
        raise InputError(problems)
    out = pd.DataFrame({"area_id": df["area_id"].astype(str).str.strip(),
                        "category": df["category"].astype(str).str.strip(),
                        "period": pd.to_datetime(per), "value": val.astype(float)})
    have = Frequency.infer(out["period"], source=source)
    if have.code == "D":
        raise InputError(Problem("daily values are not analysed: give weekly (Mondays), monthly (1st) or annual "
                                 "(1 January) values, each the period's own figure", source=source,
                                 column="period"))
    if freq is not None and Frequency.of(freq).code != have.code:
        raise InputError(Problem(
            f"--freq {freq} asked for {Frequency.of(freq).name} analysis of {have.name} values: values (rates, "
            "scores) are not summed or averaged into other periods by riskmodel; give --freq "
            f"{have.code} or values at the frequency wanted", source=source, column="period"))
    dup = out.duplicated(["area_id", "category", "period"], keep=False).to_numpy()
    if dup.any():
        raise InputError(Problem.at_rows("more than one value for the same area_id, category and period",
                                         index=np.flatnonzero(dup), source=source, column="period"))
    out = out.sort_values(["area_id", "category", "period"], kind="stable").reset_index(drop=True)
    return ValuePanel(data=out, freq=have.code, source=source)


# ------------------------------------------------------------------ what each method takes
def supports_values(name: str) -> bool:
    """Whether a registered method takes outcomes that are not counts (``values=True`` in its registration)."""
    return bool(METHODS[name].extra.get("values", False))


def value_methods() -> tuple[str, ...]:
    """The registered methods that take values, in registration order."""
    return tuple(n for n in METHODS.names() if supports_values(n))


def refuse_count_only(names: Iterable[str], *, option: str = "--method") -> None:
    """Refuse count-only methods asked for on a value outcome, naming each and what to use instead.

    Raises
    ------
    InputError
        One problem per method that does not take values.
    """
    bad = [n for n in names if not supports_values(n)]
    if not bad:
        return
    use = ", ".join(n for n in value_methods() if METHODS[n].extra.get("kind") == "effect")
    raise InputError([Problem(
        f"{n} ({METHODS.label(n)}) models counts and cannot take an outcome that is not a count (a 'value' "
        f"column: rates, per-capita figures, scores); use {use} instead, or give counts", column=option)
        for n in bad])


# ------------------------------------------------------------------ the design
def _wide(vp: ValuePanel, category: str, periods: pd.DatetimeIndex) -> pd.DataFrame:
    d = vp.data[vp.data["category"] == category]
    return d.pivot(index="period", columns="area_id", values="value").reindex(periods)


def value_series(vp: ValuePanel, area_id: str, category: str, *,
                 chosen: ControlSpec | None = None) -> tuple[StudySeries, list[str]]:
    """The treated area's values and its comparison areas' (every other area of the table, or the chosen ones).

    Raises
    ------
    InputError
        Unknown area or category; the treated area missing periods (named).
    """
    chosen = chosen or ControlSpec()
    problems = []
    areas = set(vp.area_ids)
    if area_id not in areas:
        problems.append(Problem(f"unknown area {area_id!r} (option --area); areas with values: "
                                + ", ".join(sorted(areas)[:8]) + (" ..." if len(areas) > 8 else "")
                                + " (values are not summed: a district needs its own rows)"))
    if category not in vp.categories:
        problems.append(Problem(f"unknown category {category!r} (option --category); valid: "
                                f"{', '.join(vp.categories)}"))
    for a in chosen.areas:
        if a not in areas or a == area_id:
            problems.append(Problem(f"area {a!r} (option --controls) is "
                                    + ("the treated area" if a == area_id else "not in the table of values")))
    for c in chosen.categories:
        if c not in vp.categories or c == category:
            problems.append(Problem(f"category {c!r} (option --controls) is "
                                    + ("the treated category" if c == category else "not in the table of values")))
    if problems:
        raise InputError(problems)
    fr = Frequency.of(vp.freq)
    periods = fr.range(vp.data["period"].min(), vp.data["period"].max())
    w = _wide(vp, category, periods)
    neg = vp.data[(vp.data["category"] == category) & (vp.data["value"] < 0)]
    if len(neg):
        shown = ", ".join(f"{r.area_id} {r.period.date()}" for r in neg.head(5).itertuples())
        raise InputError(Problem(
            f"{len(neg)} negative value(s) of {category} ({shown}{' ...' if len(neg) > 5 else ''}): the methods "
            "report relative effects, which need values of at least 0 (rates, counts per resident, scores on a "
            "positive scale). For a score on a signed scale add a constant that makes every value positive: "
            "the effects in the outcome's units (att) of sdid and staggered do not change with it",
            source=vp.source, column="value"))
    y = w[area_id]
    if y.isna().any():
        gaps = y.index[y.isna()]
        raise InputError(Problem(
            f"area {area_id!r} has no {category} value for {len(gaps)} period(s) "
            f"({', '.join(str(p.date()) for p in gaps[:5])}{' ...' if len(gaps) > 5 else ''}); a value outcome "
            "is not zero-filled: give every period's value", source=vp.source, column="value"))
    notes = []
    if chosen.empty:
        ctrl = w.drop(columns=[area_id])
    else:
        cols = {a: w[a] for a in chosen.areas}
        for c in chosen.categories:
            cols[f"{area_id}/{c}"] = _wide(vp, c, periods).get(area_id, pd.Series(np.nan, index=periods))
        ctrl = pd.DataFrame(cols, index=periods)
    gappy = [str(c) for c in ctrl.columns if ctrl[c].isna().any()]
    if gappy:
        notes.append(f"comparison series with missing periods left out: {', '.join(gappy[:8])}"
                     f"{' ...' if len(gappy) > 8 else ''}")
        ctrl = ctrl.drop(columns=gappy)
    days = pd.Series([float((fr.last_day(p) - p).days + 1) for p in periods], index=periods)
    ss = StudySeries(area_id=area_id, category=category, freq=vp.freq, counts=y.astype(float),
                     exposure=days.copy(), controls=ctrl.astype(float),
                     control_exposure=pd.DataFrame({c: days for c in ctrl.columns}, index=periods),
                     days=days, has_population=False, chosen=chosen)
    return ss, notes


def value_design(
    vp: ValuePanel, area_id: str, category: str, *,
    intervention: str | pd.Timestamp,
    comparison: tuple[str | pd.Timestamp, str | pd.Timestamp] | None = None,
    baseline: tuple[str | pd.Timestamp, str | pd.Timestamp] | None = None,
    reported: float | None = None,
    methods: tuple[str, ...] = (),
    options: EvaluationOptions | None = None,
    controls: ControlSpec | None = None,
) -> StudyDesign:
    """The :class:`StudyDesign` of a claim on a value outcome (``outcome="value"``).

    The timing conventions are those of :func:`riskmodel.impact.design.build_design`
    (pre-period, evaluation window, baseline and comparison windows that
    must not overlap or touch, minimum pre-period per frequency).

    Raises
    ------
    InputError
        As :func:`build_design`, and as :func:`value_series`.
    """
    opt = options or EvaluationOptions(freq=vp.freq)
    ss, notes = value_series(vp, area_id, category, chosen=controls)
    P = ss.periods
    fr = Frequency.of(vp.freq)
    first, last = P[0], fr.last_day(P[-1])
    t_int = pd.Timestamp(intervention)
    if not (first < t_int <= last):
        raise InputError(Problem(f"intervention date {t_int.date()} (option --intervention) is outside the data "
                                 f"({first.date()} to {last.date()})"))
    s = int(P.searchsorted(t_int, side="right")) - 1
    if s < opt.min_pre_periods:
        raise InputError(Problem(f"intervention date {t_int.date()} (option --intervention) leaves a pre-period of "
                                 f"{s} {fr.unit}s; at least {opt.min_pre_periods} are needed"))
    cs, ce = (t_int, last) if comparison is None else (pd.Timestamp(comparison[0]), pd.Timestamp(comparison[1]))
    if ce < cs or cs > last or ce > last or ce < t_int:
        raise InputError(Problem(f"the comparison period {cs.date()}..{ce.date()} must lie inside the data "
                                 f"({first.date()} to {last.date()}) and end after the intervention "
                                 f"({t_int.date()})"))
    bs, be = default_baseline(cs, ce, freqs=(vp.freq,)) if baseline is None else (
        pd.Timestamp(baseline[0]), pd.Timestamp(baseline[1]))
    if be < bs:
        raise InputError(Problem(f"the baseline period ends ({be.date()}) before it starts ({bs.date()})"))
    check_windows((bs, be), (cs, ce), freqs=(vp.freq,), default_baseline=baseline is None, first=first)
    if bs < first:
        raise InputError(Problem(f"the baseline period {bs.date()}..{be.date()} starts before the data "
                                 f"({first.date()})"))
    e0, end = period_window(P, cs, ce)
    if e0 < s:
        notes.append("the comparison period starts before the intervention; effects are over the part after it")
        e0 = s
    y = ss.counts.to_numpy(float)
    b0, b1 = period_window(P, bs, be)
    c0, c1 = period_window(P, cs, ce)
    bv, cv = float(y[b0:b1].mean()), float(y[c0:c1].mean())
    change = cv / bv - 1 if bv > 0 and cv >= 0 else np.nan
    claim = Claim(claim_id="", area_id=area_id, category=category, measure=MEAN_VALUE, baseline_start=bs,
                  baseline_end=be, comparison_start=cs, comparison_end=ce, reported_change=reported,
                  reported_text="" if reported is None else repr(float(reported)))
    tol = 0.0005
    obs = ObservedChange(
        claim_id="", measure=MEAN_VALUE, baseline_value=bv, comparison_value=cv, observed_change=float(change),
        reported_change=reported, reproduced=None if reported is None or not np.isfinite(change)
        else bool(abs(change - reported) <= tol + 1e-12), tolerance=tol,
        baseline_days=int((be - bs).days) + 1, comparison_days=int((ce - cs).days) + 1,
        baseline_total=b1 - b0, comparison_total=c1 - c0)  # value outcomes: periods in each window
    if not np.isfinite(change):
        notes.append(f"the mean value is {bv:.4g} in the baseline and {cv:.4g} in the comparison window: a relative "
                     "change is only defined for positive values (see the effects in the outcome's units, att)")
    return StudyDesign(
        series=ss, start=s, eval_start=e0, end=end, intervention=t_int, baseline=(bs, be), comparison=(cs, ce),
        data_span=(first, last), claim=claim, observed=obs, trend="level", seasonal="none", season_length=1,
        control_regressor=None, exog=None, methods=tuple(methods), notes=tuple(notes), outcome="value")


# ------------------------------------------------------------------ the observed change
def observed(d: StudyDesign, opt: EvaluationOptions) -> EffectResult:
    """The observed change: of counts, as the claim defines it (rate-ratio interval); of values, of the mean.

    For a value outcome the change is ``mean(comparison) / mean(baseline) - 1``
    with a delta-method interval on the log scale, the per-period noise
    variance estimated from the pre-period as half the variance of its first
    differences (so that a window of one year still has an interval).
    """
    if d.outcome != "value":
        return _count_observed(d, opt)
    (bs, be), (cs, ce) = d.baseline, d.comparison
    y = d.series.counts.to_numpy(float)
    b0, b1 = d.window(bs, be)
    c0, c1 = d.window(cs, ce)
    mb, mc = float(y[b0:b1].mean()), float(y[c0:c1].mean())
    note = f"observed mean value {bs.date()}..{be.date()} -> {cs.date()}..{ce.date()}: {mb:.4g} -> {mc:.4g}"
    if not (mb > 0 and mc > 0):
        return EffectResult.failed("observed", note + "; a relative change needs positive values")
    pre = y[: d.start]
    if len(pre) < 3:  # too short a pre-period: the whole series' period-to-period noise (said in the note)
        pre = y[: d.end]
        note += "; noise from the whole series (fewer than 3 pre-periods)"
    s2 = float(np.var(np.diff(pre), ddof=1) / 2.0) if len(pre) >= 3 else np.nan
    est = mc / mb - 1
    se = float(np.sqrt(s2 * (1.0 / ((c1 - c0) * mc ** 2) + 1.0 / ((b1 - b0) * mb ** 2))))
    z = NormalDist().inv_cdf(0.5 + opt.level / 2.0)
    return EffectResult(method="observed", estimate=est, lo=float(np.expm1(np.log1p(est) - z * se)),
                        hi=float(np.expm1(np.log1p(est) + z * se)), level=opt.level, coef=float(np.log1p(est)),
                        se=se, scale="log ratio of mean values",
                        note=note + "; interval from the pre-period's period-to-period noise")


# ------------------------------------------------------------------ the evaluation
def evaluate_values(
    vp: ValuePanel, area_id: str, category: str, *,
    intervention: str | pd.Timestamp,
    comparison: tuple[str | pd.Timestamp, str | pd.Timestamp] | None = None,
    baseline: tuple[str | pd.Timestamp, str | pd.Timestamp] | None = None,
    reported: float | None = None,
    methods: Iterable[str] | None = None,
    options: EvaluationOptions | None = None,
    controls: ControlSpec | None = None,
    area_names: Mapping[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Evaluate a claim on a value outcome with the methods asked for (all those that take values by default).

    Raises
    ------
    InputError
        A method asked for that does not take values (:func:`refuse_count_only`),
        and the problems of :func:`value_design`.
    """
    opt = options or EvaluationOptions(freq=vp.freq)
    names = check_names(value_methods() if methods is None else methods)
    refuse_count_only(names)
    opt.check()
    design = value_design(vp, area_id, category, intervention=intervention, comparison=comparison,
                          baseline=baseline, reported=reported, methods=names, options=opt, controls=controls)
    todo = [s for s in METHODS.specs() if s.name in names and runs_with(s, opt)]
    results = []
    for spec in todo:
        results.append(run_method(spec, design, opt))
        if progress is not None:
            progress(len(results), len(todo))
    shim = SimpleNamespace(areas=pd.DataFrame({"area_id": list(area_names or {}),
                                               "name_en": list((area_names or {}).values())}))
    return conclude(shim, design, results, opt, reported=reported)  # type: ignore[arg-type]


__all__ = ["MEAN_VALUE", "VALUE_COLUMNS", "ValuePanel", "evaluate_values", "is_value_table", "observed",
           "read_values", "refuse_count_only", "supports_values", "value_design", "value_methods",
           "value_series"]
