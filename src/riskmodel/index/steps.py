"""Pipeline steps ``index`` and ``sensitivity`` (``riskmodel run``).

``[steps.index]`` keys:

* ``config`` -- the index config TOML (default ``experiments/pingan_sample.toml``,
  the sample city's monthly Ping'an index);
* ``use_study_data`` -- take the indicators and areas from the study's ``[data]``
  (``indicators``, ``areas``) instead of the index config's own (default true).

``[steps.sensitivity]`` keys: ``n`` (Monte Carlo replications, default 1000),
``sobol_base`` (power of 2, default from the index config), ``remove_levels``
(levels for the remove-one table, default [1, 2]). The seed is the study's.
"""

from __future__ import annotations

from typing import Any

from riskmodel.pipeline import StrictModel, register_step

PINGAN_TITLE = "平安指数排名不确定性 Ping'an index rank uncertainty"


class IndexStepConfig(StrictModel):
    config: str = "experiments/pingan_sample.toml"
    use_study_data: bool = True


class SensitivityStepConfig(StrictModel):
    n: int = 1000
    sobol_base: int | None = None
    remove_levels: list[int] = [1, 2]


def _index_config(ctx, cfg: IndexStepConfig):  # noqa: ANN001, ANN202
    from riskmodel.index.config import load_config

    ic = load_config(ctx.path(cfg.config))
    if cfg.use_study_data and ctx.data.indicators and ic.data.indicators:
        upd = {"indicators": str(ctx.path(ctx.data.indicators))}
        if ctx.data.areas:
            upd["areas"] = str(ctx.path(ctx.data.areas))
        ic = ic.model_copy(update={"data": ic.data.model_copy(update=upd)})
    if ic.data.spec:
        ic = ic.model_copy(update={"data": ic.data.model_copy(update={"spec": str(ic.path(ic.data.spec) if ic.path(ic.data.spec).exists() else ctx.path(ic.data.spec))})})
    return ic


@register_step("index", config=IndexStepConfig)
def index_step(ctx, cfg: IndexStepConfig, run) -> dict[str, Any]:  # noqa: ANN001
    """Build the Ping'an index per street and period; log scores, ranks, grades, weights."""
    from riskmodel.index.build import build_index
    from riskmodel.index.commands import scores_for_output, write_build

    ic = _index_config(ctx, cfg)
    res = build_index(ic)
    out = ctx.step_dir("index")
    write_build(res, out)
    scores = scores_for_output(res)
    run.log_table(scores, "scores.csv")
    run.log_table(res.weights, "weights.csv")
    idx = res.index
    latest = idx.loc[idx["period"] == idx["period"].max()] if idx["period"].notna().any() else idx
    metrics: dict[str, float] = {"units": float(latest["area_id"].nunique()),
                                 "periods": float(idx["period"].nunique()),
                                 "indicators": float(len(res.spec.indicators))}
    for a in res.ahp:
        metrics[f"ahp.cr.{a.parent}"] = a.cr
    for r in latest.itertuples():
        metrics[f"score.{r.area_id}"] = r.score
        metrics[f"rank.{r.area_id}"] = float(r.rank)
    run.log_metrics(metrics)
    run.log_text(res.summary(), "index_summary.txt")
    return {"config": ic, "scores": scores, "summary": res.summary()}


@register_step("sensitivity", config=SensitivityStepConfig)
def sensitivity_step(ctx, cfg: SensitivityStepConfig, run) -> dict[str, Any]:  # noqa: ANN001
    """Rank intervals (Monte Carlo), Sobol' indices and remove-one changes of the index."""
    import pandas as pd

    from riskmodel.index.commands import run_sensitivity

    prev = ctx.results.get("index") or {}
    ic = prev.get("config") or _index_config(ctx, IndexStepConfig())
    out = ctx.step_dir("sensitivity")
    summary = run_sensitivity(ic, out, n=cfg.n, seed=ctx.seed, sobol_base=cfg.sobol_base, run=run,
                              remove_levels=tuple(cfg.remove_levels), title=PINGAN_TITLE,
                              source=str(ic.data.indicators or ic.data.idata))
    run.log_text(summary, "sensitivity_summary.txt")
    return {"rank_stats": pd.read_csv(out / "rank_stats.csv"), "sobol": pd.read_csv(out / "sobol.csv"),
            "summary": summary}
