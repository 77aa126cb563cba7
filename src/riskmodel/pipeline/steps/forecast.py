"""The ``forecast`` step of ``riskmodel run``.

Config keys (``[steps.forecast]``), all optional:

=====================  ==============  =========================================
key                    default         meaning
=====================  ==============  =========================================
freq                   "M"             frequency of the forecasts (D, W, M)
h                      3               periods ahead
model                  "auto"          a name of ``riskmodel.forecast.MODELS``
levels                 [80, 95]        central interval levels (percent)
reconcile              "none"          a name of ``riskmodel.forecast.RECONCILERS``
                                       (none, bottom_up, mint_shrink); the default
                                       is ``DEFAULT_RECONCILE``, shared with
                                       ``riskmodel forecast --reconcile``
backtest_windows       3               rolling origins of the backtest (0: none)
backtest_step          1               periods between origins
backtest_models        ["auto"]        models backtested (seasonal naive added)
fan_charts             true            one fan chart per district
categories             []              restrict to these categories (all when empty)
calendar               the data's      holiday regressors of the models that have
                       country         them (nbglm, qpglm, gbm, auto): "CN",
                                       "none" or a ``holidays`` country code;
                                       default ``[data] country``, else the
                                       panel's (Portland: US), else CN (a note
                                       says which)
=====================  ==============  =========================================

The series are fitted through the study's ``[execution]`` backend, in
chunks of its ``chunk_size`` (see :mod:`riskmodel.pipeline`), by
:class:`riskmodel.forecast.Forecaster`. The panel with the ancestors' sums
(district, city) is built once and shared by the forecast, the backtest and
the fan charts.

Writes ``forecast.csv`` (every area, street to city, and category),
``auto_selection.csv`` (model ``auto``: its choice and internal scores per group), ``backtest_metrics.csv``, ``backtest_forecasts.csv`` and
``figures/fan_<district>.png`` into the step's folder, and logs the same
tables, the overall backtest metrics and the figures to MLflow. With
``register_model`` (default true) the model is logged to the step's run as
an MLflow pyfunc model that serves the published ``forecast.csv``
(:mod:`riskmodel.tracking.pyfunc`), and registered as
``riskmodel-<study>-forecaster`` when the whole study has succeeded and its
outputs are in place.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from pydantic import field_validator

from riskmodel.config import StrictModel, registry_choice
from riskmodel.data.calendar_choice import resolve_calendar
from riskmodel.forecast import DEFAULT_RECONCILE, MODELS, RECONCILERS, Forecaster, with_all_levels
from riskmodel.forecast.figures import fan_chart
from riskmodel.forecast.registry import needs_hierarchy
from riskmodel.io_safety import source_label
from riskmodel.pipeline.steps.base import register_step
from riskmodel.results import Artifact
from riskmodel.tracking.pyfunc import log_forecaster

_model_name = registry_choice(MODELS)


class ForecastStepConfig(StrictModel):
    freq: str = "M"
    h: int = 3
    model: str = "auto"
    levels: list[float] = [80.0, 95.0]
    reconcile: str = DEFAULT_RECONCILE
    backtest_windows: int = 3
    backtest_step: int = 1
    backtest_models: list[str] = ["auto"]
    fan_charts: bool = True
    categories: list[str] = []
    register_model: bool = True
    calendar: str | None = None

    _model = field_validator("model")(_model_name)
    _reconcile = field_validator("reconcile")(registry_choice(RECONCILERS))

    @field_validator("backtest_models")
    @classmethod
    def _backtest_models(cls, v: list[str]) -> list[str]:
        return [_model_name(m) for m in v]


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
    run.set_tags({"riskmodel.backend": ctx.execution.backend})
    # the panel with the districts' and the city's sums: built once, for the forecast, backtest and fan charts
    full = with_all_levels(panel) if needs_hierarchy(cfg.reconcile) or cfg.fan_charts else None
    ex = {"seed": ctx.seed, "reconcile": cfg.reconcile, "chunk_size": ctx.chunk_size,
          "backend": ctx.backend}  # the study's [execution] table
    users = [m for m in dict.fromkeys([cfg.model, *cfg.backtest_models]) if MODELS.get(m).option("calendar")]
    if users:  # the holiday calendar of the models that have one: given, else the data's country, else CN
        country = getattr(ctx.data, "country", None) or panel.meta.get("country")
        code, note = resolve_calendar(cfg.calendar, country, option="[steps.forecast] calendar")
        if note:
            print(note, file=sys.stderr)
        run.set_tags({"riskmodel.calendar": code})
        ex["params"] = {m: {"calendar": code} for m in users}
    res = Forecaster([cfg.model], **ex).forecast(panel, cfg.h, level=cfg.levels, all_levels=full,
                                                 progress=ctx.progress)
    secs = time.perf_counter() - t0
    arts = res.artifacts(area_level=True)  # forecast.csv, with each area's level
    fc = arts[0].content
    if cfg.register_model and getattr(run, "enabled", False):
        # the fitted model as an MLflow pyfunc model serving what the study publishes (forecast.csv,
        # reconciled); registered by run_experiment only once the study's outputs are in place
        uri = log_forecaster(res.model, run.run_id, ctx.tracker.uri, published=fc)
        ctx.to_register.append((uri, f"riskmodel-{ctx.study.name}-forecaster"))
    metrics: dict[str, float] = {"forecast_seconds": secs, "series": float(fc[["area_id", "category"]].drop_duplicates().shape[0])}
    overall = None
    if cfg.backtest_windows > 0:
        bt = Forecaster(cfg.backtest_models, **ex).cross_validation(
            panel, cfg.h, cfg.backtest_windows, cfg.backtest_step, level=cfg.levels, all_levels=full,
            progress=ctx.progress)
        arts += bt.artifacts(prefix="backtest_")  # backtest_forecasts.csv (not logged), backtest_metrics.csv
        overall = bt.overall
        for r in overall.itertuples():
            for k in ("mase", "rmsse", "pinball", "crps", "coverage_80", "coverage_95", "bias"):
                metrics[f"{r.model}.{r.level}.{k}"] = float(getattr(r, k))
    figs = []
    if cfg.fan_charts and full is not None:
        hist = full.counts
        names = panel.areas.set_index("area_id")
        unit = dict(D="day", W="week", M="month")[panel.freq]
        for d in panel.hierarchy.areas_at("district") or []:
            if d not in set(fc["area_id"]):
                continue
            zh = str(names.loc[d, "name"]) if "name" in names.columns else d
            en = str(names.loc[d, "name_en"]) if "name_en" in names.columns else ""
            title = f"{zh} {en} ({d}): forecast of incidents per {unit}, {cfg.h} periods, model {cfg.model}, reconcile {cfg.reconcile}"
            fig = fan_chart(hist, fc, d, title, panel.freq, source=f"Data: {source_label(ctx.data.counts)} (counts per {cfg.freq} period); forecast: riskmodel {cfg.model}; shaded: 80% and 95% predictive intervals")
            arts.append(Artifact(f"figures/fan_{d}.png", fig, savefig={"dpi": 110}))
            figs.append(str(out / "figures" / f"fan_{d}.png"))
    try:
        run.publish(arts, out)
    finally:
        for a in arts:
            if a.kind == "figure":
                import matplotlib.pyplot as plt  # here, not at the top: a study's start must not import matplotlib
                plt.close(a.content)
    run.log_metrics(metrics)
    return {"forecast": str(out / "forecast.csv"), "figures": figs,
            "overall": None if overall is None else overall.to_dict("records")}
