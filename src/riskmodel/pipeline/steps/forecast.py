"""The ``forecast`` step of ``riskmodel run``.

Config keys (``[steps.forecast]``), all optional:

=====================  ==============  =========================================
key                    default         meaning
=====================  ==============  =========================================
freq                   "M"             frequency of the forecasts (D, W, M)
h                      3               periods ahead
model                  "auto"          see ``riskmodel forecast --model``
levels                 [80, 95]        central interval levels (percent)
reconcile              "mint_shrink"   none, bottom_up, mint_shrink
backtest_windows       3               rolling origins of the backtest (0: none)
backtest_step          1               periods between origins
backtest_models        ["auto"]        models backtested (seasonal naive added)
fan_charts             true            one fan chart per district
categories             []              restrict to these categories (all when empty)
=====================  ==============  =========================================

The series are fitted through the study's ``[execution]`` backend, in
chunks of its ``chunk_size`` (see :mod:`riskmodel.pipeline`).

Writes ``forecast.csv`` (every area, street to city, and category),
``backtest_metrics.csv``, ``backtest_forecasts.csv`` and
``figures/fan_<district>.png`` into the step's folder, and logs the same
tables, the overall backtest metrics and the figures to MLflow.
"""

from __future__ import annotations

import time
from typing import Any

import matplotlib.pyplot as plt

from riskmodel.config import StrictModel
from riskmodel.data.readers import write_table_atomic
from riskmodel.forecast.api import backtest_panel, forecast_panel, with_all_levels
from riskmodel.forecast.figures import fan_chart
from riskmodel.pipeline.steps.base import register_step
from riskmodel.tracking.pyfunc import log_forecaster


class ForecastStepConfig(StrictModel):
    freq: str = "M"
    h: int = 3
    model: str = "auto"
    levels: list[float] = [80.0, 95.0]
    reconcile: str = "mint_shrink"
    backtest_windows: int = 3
    backtest_step: int = 1
    backtest_models: list[str] = ["auto"]
    fan_charts: bool = True
    categories: list[str] = []
    register_model: bool = True


@register_step("forecast", config=ForecastStepConfig)
def step(ctx: Any, cfg: ForecastStepConfig, run: Any) -> dict[str, Any]:
    """Forecast the next periods per street and category, backtest, fan charts."""
    panel = ctx.panel_at(cfg.freq)
    if cfg.categories:
        panel = panel.select(categories=cfg.categories)
    if panel.meta.get("partial_last"):
        # a partial last period (a month cut mid-way) would look like a drop: leave it out
        panel = panel.select(end=panel.periods[-2])
    out = ctx.step_dir("forecast")
    t0 = time.perf_counter()
    ex = {"chunk_size": ctx.chunk_size, "backend": ctx.backend}  # the study's [execution] table
    run.set_tags({"riskmodel.backend": ctx.execution.backend})
    fc, fitted = forecast_panel(panel, cfg.h, cfg.model, cfg.levels, cfg.reconcile, seed=ctx.seed, **ex)
    secs = time.perf_counter() - t0
    if cfg.register_model and getattr(run, "enabled", False):
        # the fitted model as a registered MLflow pyfunc model (its own, unreconciled forecasts)
        log_forecaster(fitted["model"], run.run_id, ctx.tracker.uri,
                       registered_name=f"riskmodel-{ctx.study.name}-forecaster")
    level = panel.hierarchy.level
    fc.insert(1, "level", fc["area_id"].map(level).fillna("area"))
    write_table_atomic(fc, out / "forecast.csv")
    run.log_table(fc, "forecast.csv")
    metrics: dict[str, float] = {"forecast_seconds": secs, "series": float(fc[["area_id", "category"]].drop_duplicates().shape[0])}
    overall = None
    if cfg.backtest_windows > 0:
        fr, mt = backtest_panel(panel, cfg.h, cfg.backtest_windows, cfg.backtest_models, cfg.backtest_step,
                                cfg.levels, cfg.reconcile, seed=ctx.seed, **ex)
        write_table_atomic(mt, out / "backtest_metrics.csv")
        write_table_atomic(fr, out / "backtest_forecasts.csv")
        run.log_table(mt, "backtest_metrics.csv")
        overall = mt[mt["area_id"] == "ALL"]
        for r in overall.itertuples():
            for k in ("mase", "rmsse", "pinball", "crps", "coverage_80", "coverage_95", "bias"):
                metrics[f"{r.model}.{r.level}.{k}"] = float(getattr(r, k))
    run.log_metrics(metrics)
    figs = []
    if cfg.fan_charts:
        hist = with_all_levels(panel).counts
        names = panel.areas.set_index("area_id")
        (out / "figures").mkdir(exist_ok=True)
        for d in panel.hierarchy.areas_at("district") or []:
            if d not in set(fc["area_id"]):
                continue
            zh = str(names.loc[d, "name"]) if "name" in names.columns else d
            en = str(names.loc[d, "name_en"]) if "name_en" in names.columns else ""
            title = f"{zh} {en} ({d}): forecast of incidents per {dict(D='day', W='week', M='month')[panel.freq]}, {cfg.h} periods, model {cfg.model}, reconcile {cfg.reconcile}"
            fig = fan_chart(hist, fc, d, title, panel.freq, source=f"Data: {ctx.data.counts} (counts per {cfg.freq} period); forecast: riskmodel {cfg.model}; shaded: 80% and 95% predictive intervals")
            path = out / "figures" / f"fan_{d}.png"
            fig.savefig(path, dpi=110)
            run.log_figure(fig, f"fan_{d}.png")
            plt.close(fig)
            figs.append(str(path))
    return {"forecast": str(out / "forecast.csv"), "figures": figs,
            "overall": None if overall is None else overall.to_dict("records")}
