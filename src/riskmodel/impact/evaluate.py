"""Evaluate one reported change: every method asked for, the checks and the verdict.

:func:`evaluate` takes a panel, the treated area and category, the
intervention date and the claim's periods; it checks them and builds the
:class:`~riskmodel.impact.design.StudyDesign` once (the series at the
analysis frequency, monthly by default, the pre-period, the evaluation
window...: the timing conventions are in :mod:`riskmodel.impact.design`),
runs every registered method asked for
(:data:`riskmodel.impact.registry.METHODS`, in registration order), and
writes the verdict. Each method that cannot run for this claim returns a row
saying why; the others still run.

The effect every method estimates is the relative change of the expected
count over the evaluation window against the counterfactual without the
programme ("programme effect").

A method whose registration does not take the analysis frequency
(``Needs.freqs``; e.g. the structural models on annual data) gets a row
saying why instead of being run. A method whose estimate or interval is not
a finite number (degenerate data) gets a row saying what could not be
computed: nothing prints "nan". The checks (placebo in time, regression to
the mean) are not effects: :meth:`Evaluation.summary` and ``riskmodel
claim`` show them in their own section, each with what it means.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.data.panel import IncidentPanel
from riskmodel.errors import InputError
from riskmodel.impact.att import fill_att
from riskmodel.impact.chart import observed_vs_counterfactual
from riskmodel.impact.claims import Claim, ObservedChange
from riskmodel.impact.design import ITS_INFERENCE, EvaluationOptions, StudyDesign, build_design
from riskmodel.impact.registry import (
    METHODS,
    NO_COMPARISON,
    check_names,
    kind,
    primary_order,
    runs_with,
)
from riskmodel.impact.results import EffectResult, effects_table
from riskmodel.impact.series import ControlSpec, StudySeries
from riskmodel.impact.verdict import Verdict, make_verdict
from riskmodel.registry import MethodSpec, by_reference
from riskmodel.results import Artifact, level_fraction

observed_effect = by_reference("riskmodel.impact.adapters:observed")
"""The observed change's adapter, imported on first use: riskmodel.impact.adapters imports scipy and statsmodels,
which the command line's and a study's start must not (tests/cli/test_startup.py)."""


@dataclass
class Evaluation:
    """The evaluation of one reported change (what :func:`evaluate` returns).

    The result protocol (:mod:`riskmodel.results`): :meth:`summary` (text),
    :meth:`to_frame` (``effects.csv``), :meth:`conf_int` and
    :meth:`artifacts` (the files ``riskmodel claim`` writes);
    :meth:`summary_row` is the one-row table of the claims step's
    ``claims_summary.csv``.
    """

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
    design: StudyDesign | None = None

    def effects(self) -> pd.DataFrame:
        """``effects.csv``: one row per method (:data:`~riskmodel.impact.results.EFFECT_COLUMNS`: the relative
        effect and interval, the model's terms, the note, and the effect in the outcome's units ``att``)."""
        return effects_table(self.results)

    def to_frame(self) -> pd.DataFrame:
        """The effects table (``effects.csv``, as :meth:`effects`): one row per method run."""
        return self.effects()

    def result(self, method: str) -> EffectResult | None:
        for r in self.results:
            if r.method == method:
                return r
        return None

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        """Every method's interval: ``method, level, estimate, lo, hi`` (NaN for a method that did not run).

        ``level`` (percent or fraction) must be the level of the evaluation
        (:attr:`EvaluationOptions.level`); see :meth:`EffectResult.conf_int`.
        """
        cols = ["method", "level", "estimate", "lo", "hi"]
        ran = [r for r in self.results if r.ok]
        lv = ran[0].level if level is None and ran else (level_fraction(level) if level is not None else 0.95)
        rows = [r.conf_int(lv).iloc[0].to_dict() if r.ok else
                {"method": r.method, "level": round(lv * 100.0, 6), "estimate": np.nan, "lo": np.nan, "hi": np.nan}
                for r in self.results]
        return pd.DataFrame(rows, columns=cols)

    def summary_row(self) -> pd.DataFrame:
        """One row: reported vs observed vs the primary effect, with the verdict facts (``claims_summary.csv``)."""
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
            # the areas compared with (the appendix's claim map); ";"-joined area ids
            "comparison_areas": ";".join(str(c) for c in self.series.controls.columns if "/" not in str(c)),
        }])

    def summary(self) -> str:
        """A text summary: the claim, every method's estimate (or why it did not run), the verdict."""
        ok = [r for r in self.results if r.ok]
        lines = [f"claim{' ' + self.claim_id if self.claim_id else ''}: {self.area_id} {self.category}, "
                 f"intervention {self.intervention.date()}; comparison {self.comparison[0].date()}.."
                 f"{self.comparison[1].date()} against {self.baseline[0].date()}..{self.baseline[1].date()}",
                 f"{len(ok)} of {len(self.results)} methods ran"
                 + (f"; the programme effect is {self.primary}'s" if self.primary else "")]
        lines += self.effect_lines()
        checks = self.check_lines()
        if checks:
            lines += ["checks (not effects of the programme):", *checks]
        lines += [f"note: {n}" for n in self.notes]
        if self.design is not None:
            lines += [f"note: {en}" for en, _ in self.design.added_zeros]
        return "\n".join(lines) + "\n\n" + self.verdict.text()

    @property
    def comparison_en(self) -> str:
        """The comparison series in words ("" when none were chosen: the areas at the same level)."""
        return self.series.comparison_en

    def effect_lines(self) -> list[str]:
        """One line per change or effect method: estimate and interval, or why it did not run."""
        out = []
        for r in self.results:
            if r.method in METHODS and kind(r.method) == "check":
                continue
            if r.ok:
                out.append(f"  {r.method:<20} {r.estimate:+8.1%}  [{r.lo:+.1%}, {r.hi:+.1%}]")
            else:
                out.append(f"  {r.method:<20} not run: {r.note}")
        return out

    def check_lines(self) -> list[str]:
        """One line per check that was asked for, saying what it measures and what it found."""
        out = []
        for r in self.results:
            if r.method not in METHODS or kind(r.method) != "check":
                continue
            if not r.ok:
                out.append(f"  {METHODS.label(r.method)}: not run: {r.note}")
            elif r.method == "regression_to_mean":
                out.append(f"  regression to the mean: the change expected from regression to the mean alone "
                           f"(the baseline's deviation from the area's usual share, relative to the comparison "
                           f"series) is {r.estimate:+.1%} [{r.lo:+.1%}, {r.hi:+.1%}]; "
                           + ("the baseline was unusually high, so part of a fall is expected without any programme"
                              if r.hi < 0 and r.estimate <= -0.0005 else
                              "the baseline was unusually low, so a fall is less likely to be chance"
                              if r.lo > 0 and r.estimate >= 0.0005 else "the baseline was not unusual"))
            elif r.method == "placebo_in_time":
                out.append(f"  placebo in time: {r.note or 'fake earlier start date'}; "
                           f"change found {r.estimate:+.1%} [{r.lo:+.1%}, {r.hi:+.1%}]")
            else:
                out.append(f"  {METHODS.label(r.method)}: {r.estimate:+.1%} [{r.lo:+.1%}, {r.hi:+.1%}]"
                           + (f"; {r.note}" if r.note else ""))
        return out

    def chart(self, lang: str = "en"):  # noqa: ANN201 - matplotlib figure
        """Observed against counterfactual (primary method), intervention and comparison period marked."""
        return observed_vs_counterfactual(self, lang=lang)

    def artifacts(self, lang: str = "en") -> list[Artifact]:
        """The files ``riskmodel claim`` writes: ``effects.csv``, ``verdict.txt``, ``series.csv``
        (the primary method's observed and counterfactual per period, when it has them; not
        logged to the tracking run) and ``chart.png`` (:meth:`chart` at 120 dpi, logged as
        ``observed_vs_counterfactual.png``). The chart is a new matplotlib figure: close it
        when done (``plt.close(a.content)``).
        """
        arts = [Artifact("effects.csv", self.effects()), Artifact("verdict.txt", self.verdict.text())]
        r = self.result(self.primary) if self.primary else None
        if r is not None and "series" in r.tables:
            arts.append(Artifact("series.csv", r.tables["series"], log_as=""))
        arts.append(Artifact("chart.png", self.chart(lang), log_as="observed_vs_counterfactual.png",
                             savefig={"dpi": 120}))
        return arts


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
    methods: Iterable[str] | None = None,
    options: EvaluationOptions | None = None,
    exog: pd.DataFrame | None = None,
    claim: Claim | None = None,
    controls: ControlSpec | str | None = None,
    donors: Iterable[str] = (),
    progress: Callable[[int, int], None] | None = None,
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
    methods : iterable of str, optional
        Names registered in :data:`~riskmodel.impact.registry.METHODS`
        (default: every one). They run in registration order.
    options : EvaluationOptions, optional
    exog : DataFrame, optional
        Extra regressors for ITS and the structural models: period starts as
        index (at the analysis frequency), one column per regressor, used as
        given (already logged if they should be).
    claim : Claim, optional
        The claim row being evaluated (its id and reported figures are used,
        and its ``controls`` and ``donors`` when those are not given).
    controls : ControlSpec or str, optional
        Chosen comparison series (``"category=disputes"``, ``"area=A03,A07"``:
        :meth:`ControlSpec.parse`) for the methods that compare (DiD, ratio of
        ratios, ITS's covariate, the structural regressor, regression to the
        mean, and synthetic control without ``donors``). Default: the areas at
        the treated area's level.
    donors : iterable of str
        The synthetic control's donor areas (default: the comparison series).
    progress : callable, optional
        ``progress(done, total)`` after each method (it never changes the results).

    Raises
    ------
    InputError
        Unknown method, area or category (also among controls and donors);
        intervention outside the data or with too short a pre-period; a
        comparison period with no data; baseline and comparison windows that
        overlap or touch; no incidents in the baseline or comparison window.
    """
    opt = options or EvaluationOptions()
    names = check_names(METHODS.names() if methods is None else methods)
    opt.check()
    spec = ControlSpec.parse(controls) if isinstance(controls, str) else controls
    design = build_design(panel, area_id, category, intervention=intervention, comparison=comparison,
                          baseline=baseline, reported=reported, measure=measure, methods=names, options=opt,
                          exog=exog, claim=claim, controls=spec, donors=tuple(donors))
    todo = [spec for spec in METHODS.specs() if spec.name in names and runs_with(spec, opt)]
    results = []
    for spec_ in todo:
        results.append(run_method(spec_, design, opt))
        if progress is not None:
            progress(len(results), len(todo))
    return conclude(panel, design, results, opt, reported=reported)


def run_method(spec: MethodSpec[Any], design: StudyDesign, options: EvaluationOptions) -> EffectResult:
    """Run one registered method on a design; a failure becomes a row saying why.

    A method that does not take the analysis frequency gets the row of its
    ``freq_reason``. A method that needs comparison areas gets the row "no
    comparison areas at the same level" when there are none. An
    :class:`InputError` propagates (the input is wrong); any other exception
    becomes "could not be estimated: ..." (one method failing must not stop
    the others), and so does an estimate or interval that is not finite.
    Warnings of the fits are silenced. The result's ``method`` is the
    registered name.
    """
    if options.freq not in spec.needs.freqs:
        try:
            METHODS.check(spec.name, freq=options.freq)
            why = ""
        except InputError as exc:
            why = exc.problems[0].message
        r = EffectResult.failed(spec.name, why)
    elif spec.needs.comparison and not design.has_controls:
        r = EffectResult.failed(spec.name, NO_COMPARISON)
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = spec.target(design, options)
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - one method failing must not stop the others
            r = EffectResult.failed(spec.name, f"could not be estimated: {type(exc).__name__}: {exc}")
        if r.ok and not (np.isfinite(r.lo) and np.isfinite(r.hi)):
            r = EffectResult.failed(spec.name, f"could not be estimated: the estimate {r.estimate:+.1%} has no "
                                    "finite interval on these data (too few counts)")
        elif not r.ok and not r.note:
            r.note = "could not be estimated on these data (the estimate is not a finite number)"
    r.method = spec.name
    return fill_att(r, design, str(spec.extra.get("kind", "effect")))


def conclude(
    panel: IncidentPanel, design: StudyDesign, results: list[EffectResult], options: EvaluationOptions,
    *, reported: float | None = None,
) -> Evaluation:
    """The verdict on the results of the methods run: primary effect, checks' cautions, names.

    The programme effect is that of the method first in
    :func:`~riskmodel.impact.registry.primary_order` that produced an
    estimate; each check that ran adds its caution when it fails.
    """
    by = {r.method: r for r in results}
    primary = next((m for m in primary_order() if m in by and by[m].ok), None)
    obs_r = by.get("observed")
    o_lo, o_hi = (obs_r.lo, obs_r.hi) if obs_r is not None and obs_r.ok else (np.nan, np.nan)
    if (obs_r is None or not obs_r.ok) and design.outcome == "count":  # values: their observed row says why
        tmp = observed_effect(design, options)
        o_lo, o_hi = tmp.lo, tmp.hi
    checks_en, checks_zh = [], []
    for r in results:
        caution = METHODS[r.method].extra.get("caution") if r.method in METHODS else None
        if caution is not None and r.ok:
            said = caution(r)
            if said is not None:
                checks_en.append(said[0])
                checks_zh.append(said[1])
    area_id, category, claim, obs = design.area_id, design.category, design.claim, design.observed
    (bs, be), (cs, ce) = design.baseline, design.comparison
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
        method=primary, with_controls=design.has_controls and primary is not None,
        checks=checks_en + [f"Note: {en}." for en, _ in design.added_zeros],
        checks_zh=checks_zh + [f"注意：{zh}。" for _, zh in design.added_zeros],
        comparison_en=design.series.comparison_en, comparison_zh=design.series.comparison_zh,
    )
    return Evaluation(
        area_id=area_id, category=category, intervention=design.intervention, baseline=(bs, be),
        comparison=(cs, ce), reported=rep, observed=obs, results=results, primary=primary, verdict=verdict,
        series=design.series, claim_id=claim.claim_id, notes=list(design.notes), area_names=(a_zh, a_en),
        design=design,
    )


__all__ = ["ITS_INFERENCE", "METHODS", "Evaluation", "EvaluationOptions", "conclude", "evaluate", "run_method"]
