"""Step ``claims``: evaluate every reported claim of the study.

Config (``[steps.claims]``)::

    [steps.claims]
    claims = "data/sample/claims.csv"        # default: [data] claims
    interventions = { ZH-XZ-XW = "2019-07-01" }   # programme start per claim_id or area_id;
                                               # default: the claim's comparison_start
    methods = ["all"]                          # or names registered in riskmodel.impact.METHODS
    freq = "M"                                 # default: Y for annual data, else M
    log = true
    seasonal = "auto"                          # none with comparison areas, else trig
    trend = "auto"                             # local level with comparison areas, else linear trend
    full_sample = true
    n_sims = 1000
    charts = true

Outputs (in the step's folder and logged to MLflow): ``claims_summary.csv``
(reported vs observed vs estimated effect with interval, method, verdict),
``claims_effects.csv`` (every method for every claim), ``verdicts.txt``
(Chinese and English), and one chart per claim of observed against
counterfactual. When the study has a truth folder with ``claim_truth.csv``
(the sample city), each method's coverage of the true programme effect is
added to the effects table and logged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import field_validator

from riskmodel.config import StrictModel
from riskmodel.errors import ConfigError, Problem
from riskmodel.impact import METHODS, EvaluationOptions, evaluate, read_claims
from riskmodel.pipeline.context import StudyContext
from riskmodel.pipeline.steps.base import register_step
from riskmodel.tracking import RunHandle


class ClaimsStepConfig(StrictModel):
    """``[steps.claims]`` keys (see the module notes)."""

    claims: str | None = None
    interventions: dict[str, str] = {}
    methods: list[str] = ["all"]
    freq: str | None = None
    """The analysis frequency (default: Y for annual data, else M)."""
    log: bool = True
    seasonal: str = "auto"
    trend: str = "auto"
    full_sample: bool = True
    n_sims: int = 1000
    charts: bool = True

    @field_validator("methods")
    @classmethod
    def _registered(cls, v: list[str]) -> list[str]:
        """``["all"]`` or names registered in :data:`riskmodel.impact.METHODS` (kept as given)."""
        methods_of(v)
        return v


def methods_of(names: list[str]) -> list[str]:
    """The method names a ``methods`` key asks for (``["all"]``: every registered one).

    Raises
    ------
    ValueError
        An unknown name, listing the valid ones (the config loader names the key).
    """
    if names == ["all"]:
        return list(METHODS)
    bad = [m for m in names if m not in METHODS]
    if bad:
        raise ValueError(f"unknown {', '.join(bad)}; valid: all, {', '.join(METHODS)}")
    return list(names)


@register_step("claims", config=ClaimsStepConfig)
def claims_step(ctx: StudyContext, cfg: ClaimsStepConfig, run: RunHandle) -> dict:
    """Evaluate every claim in the claims table: observed change, programme effect, verdict."""
    src = cfg.claims or ctx.data.claims
    if not src:
        raise ConfigError(Problem("key 'steps.claims.claims' (or 'data.claims'): no claims file given"))
    methods = methods_of(cfg.methods)
    claims = read_claims(ctx.path(src))
    out = ctx.step_dir("claims")
    freq = cfg.freq or ("Y" if ctx.panel.freq == "Y" else "M")
    opt = EvaluationOptions(freq=freq, log=cfg.log, seasonal=cfg.seasonal, trend=cfg.trend,
                            full_sample=cfg.full_sample, n_sims=cfg.n_sims, seed=ctx.seed)
    truth = _truth(ctx)
    summaries, effects, texts, metrics = [], [], [], {}
    for c in claims:
        when = cfg.interventions.get(c.claim_id) or cfg.interventions.get(c.area_id) or c.intervention or c.comparison_start
        ev = evaluate(ctx.panel, c.area_id, c.category, intervention=when,
                      comparison=(c.comparison_start, c.comparison_end),
                      baseline=(c.baseline_start, c.baseline_end), claim=c, methods=methods, options=opt)
        eff = ev.effects().assign(claim_id=c.claim_id)
        sm = ev.summary_row()
        if truth is not None and c.claim_id in truth.index:
            te = float(truth.loc[c.claim_id, "true_programme_effect"])
            eff["true_programme_effect"] = te
            eff["covers_truth"] = np.where(eff["estimate"].notna(), (eff["lo95"] <= te) & (te <= eff["hi95"]), np.nan)
            sm["true_programme_effect"] = te
        summaries.append(sm)
        effects.append(eff)
        texts.append(f"[{c.claim_id}] {c.period_label}\n{ev.verdict.text()}")
        metrics.update({
            f"{c.claim_id}.reported": c.reported_change,
            f"{c.claim_id}.observed": ev.observed.observed_change,
            f"{c.claim_id}.effect": sm["effect"].iloc[0],
            f"{c.claim_id}.effect_lo95": sm["effect_lo95"].iloc[0],
            f"{c.claim_id}.effect_hi95": sm["effect_hi95"].iloc[0],
        })
        if cfg.charts:
            for lang in ("en", "zh"):
                fig = ev.chart(lang)
                name = f"claim_{c.claim_id}_{lang}.png"
                fig.savefig(out / name, dpi=120)
                run.log_figure(fig, name)
                import matplotlib.pyplot as plt  # here, not at the top: a study's start must not import matplotlib
                plt.close(fig)
    summary = pd.concat(summaries, ignore_index=True)
    eff_all = pd.concat(effects, ignore_index=True)
    eff_all = eff_all[["claim_id"] + [c for c in eff_all.columns if c != "claim_id"]]
    summary.to_csv(out / "claims_summary.csv", index=False, lineterminator="\n")
    eff_all.to_csv(out / "claims_effects.csv", index=False, lineterminator="\n")
    (out / "verdicts.txt").write_text("\n".join(texts), encoding="utf-8")
    run.log_table(summary, "claims_summary.csv")
    run.log_table(eff_all, "claims_effects.csv")
    run.log_text("\n".join(texts), "verdicts.txt")
    if "covers_truth" in eff_all.columns:
        cov = eff_all.dropna(subset=["covers_truth"]).groupby("method")["covers_truth"].mean()
        metrics.update({f"coverage.{m}": float(v) for m, v in cov.items()})
    run.log_metrics({k: v for k, v in metrics.items() if v is not None and np.isfinite(v)})
    run.log_params({"n_claims": len(claims), "methods": ",".join(methods)})
    return {"summary": summary, "effects": eff_all}


def _truth(ctx: StudyContext) -> pd.DataFrame | None:
    if not ctx.data.truth:
        return None
    p = Path(ctx.path(ctx.data.truth)) / "claim_truth.csv"
    if not p.exists():
        return None
    t = pd.read_csv(p)
    if "claim_id" not in t.columns or "true_programme_effect" not in t.columns:
        return None
    return t.set_index("claim_id")
