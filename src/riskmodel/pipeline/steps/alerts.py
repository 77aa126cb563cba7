"""Step ``alerts``: this period's spike warnings per street and category.

Config keys (``[steps.alerts]``):

* ``method`` (:data:`riskmodel.alerts.DEFAULT_METHOD`, ``"forecast"``, shared with
  ``riskmodel detect``): a name of :data:`riskmodel.alerts.DETECTORS` (the forecast-based
  detector found all 17 injected spikes of the sample city at a 0.7% weekly false-alarm
  rate, benchmarks/alerts/sample_city.md; ``"farrington-noufaily"`` is the R-comparable one);
* ``freq`` (``"W"``): the frequency to monitor at (daily study data are summed;
  a last period that is still incomplete is dropped);
* ``level`` (``"area"``): the hierarchy level of the monitored series (streets);
* ``lookback`` (13): periods shown in the figures and searched for episodes
  that are still open;
* ``options`` (``{}``): the method's options, as its registration declares them
  (``riskmodel detect --help``; an undeclared one is refused when the config is read);
* ``max_figures`` (40): figures of flagged series (the most severe first);
* ``evaluate`` (true): score the detector on the study's injected spikes
  (``truth/spikes.csv`` under ``data.truth``) when there are any.

The series are run through the study's ``[execution]`` backend, in chunks
of its ``chunk_size`` (see :mod:`riskmodel.pipeline`).

Writes into the step folder: ``detections.csv`` (every monitored period),
``warnings.csv`` (the alarms of the last period: area, category, severity,
count, expected, upper bound, episode start and length), ``episodes.csv``
(alarm runs of the last ``lookback`` periods), ``evaluation.csv`` (POD, FPR,
delay on the injected spikes) and ``figures/<area>_<category>.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationInfo, field_validator

from riskmodel.alerts import DEFAULT_METHOD, DETECTORS, check_method, detect
from riskmodel.alerts.episodes import SEVERITY_ZH, episodes, severity
from riskmodel.alerts.evaluate import evaluate_spikes
from riskmodel.alerts.figures import alarm_figure, flagged_series
from riskmodel.config import StrictModel, registry_choice
from riskmodel.pipeline.steps.base import register_step
from riskmodel.results import Artifact, figure_png, write_artifacts


class AlertsStepConfig(StrictModel):
    method: str = DEFAULT_METHOD
    freq: str = "W"
    level: str = "area"
    lookback: int = 13
    options: dict[str, Any] = {}
    max_figures: int = 40
    evaluate: bool = True

    _method = field_validator("method")(registry_choice(DETECTORS))

    @field_validator("options")
    @classmethod
    def _options(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """The method's declared options only (names and choices, checked by the registry)."""
        method = info.data.get("method")
        if method is None:  # the method itself is wrong: reported on its own
            return v
        return DETECTORS.check_options(method, v)


def _panel(ctx: Any, cfg: AlertsStepConfig):  # noqa: ANN202
    p = ctx.panel_at(cfg.freq) if cfg.freq != ctx.panel.freq else ctx.panel
    check_method(cfg.method, p.freq)
    levels = p.hierarchy.levels if hasattr(p.hierarchy, "levels") else []
    if cfg.level in levels and set(p.counts["area_id"]) - set(p.hierarchy.areas_at(cfg.level)):
        p = p.aggregate(cfg.level)
    if p.meta.get("partial_last"):
        last = p.counts["period"].max()
        p = p._replace(p.counts[p.counts["period"] < last].copy())  # noqa: SLF001 - drop an incomplete period
    return p


@register_step("alerts", config=AlertsStepConfig)
def step(ctx: Any, cfg: AlertsStepConfig, run: Any) -> dict[str, Any]:
    """Spike warnings of the last period per street and category, with episodes and figures."""
    panel = _panel(ctx, cfg)
    run.set_tags({"riskmodel.backend": ctx.execution.backend})
    det = detect(panel, cfg.method, chunk_size=ctx.chunk_size, backend=ctx.backend, progress=ctx.progress,
                 **cfg.options)
    table = det.table
    out = ctx.step_dir("alerts")
    last = table["period"].max()
    periods = np.sort(table["period"].unique())
    window_start = periods[max(0, len(periods) - cfg.lookback)]
    recent = table[table["period"] >= window_start]
    eps = episodes(recent, det.freq)
    warn = table[(table["period"] == last) & table["alarm"]].copy()
    warn["severity"] = severity(warn["score"], warn["alarm"])
    open_eps = eps[eps["end"] == last].set_index(["area_id", "category"])
    warn = warn.join(open_eps[["start", "alarms", "severity"]].rename(
        columns={"start": "episode_start", "alarms": "episode_alarms", "severity": "episode_severity"}),
        on=["area_id", "category"])
    rank = {"yellow": 0, "orange": 1, "red": 2}
    warn["severity"] = [max(a, b, key=lambda s: rank.get(s, -1)) for a, b in zip(warn["severity"], warn["episode_severity"].fillna(""), strict=True)]
    warn["severity_zh"] = warn["severity"].map(SEVERITY_ZH)
    names = panel.areas.set_index("area_id")
    for col in ("name", "name_en"):
        if col in names.columns:
            warn[col] = warn["area_id"].map(names[col])
    warn = warn.drop(columns=["episode_severity", "reason"]).sort_values(
        ["severity", "score"], key=lambda s: s.map(rank) if s.name == "severity" else s, ascending=False)
    arts = [
        Artifact("detections.csv", table, log_as=""),
        Artifact("episodes.csv", eps, log_as="alerts_episodes.csv"),
        Artifact("warnings.csv", warn, log_as="alerts_warnings.csv"),
    ]

    metrics: dict[str, float] = {
        "series": float(table[["area_id", "category"]].drop_duplicates().shape[0]),
        "alarms_total": float(table["alarm"].sum()),
        "warnings_last_period": float(len(warn)),
        "episodes_recent": float(len(eps)),
        "evaluated_share": float((table["reason"] == "").mean()),
    }
    evaluation = None
    if cfg.evaluate:
        evaluation = _evaluate(ctx, table, det.freq)
        if evaluation is not None:
            arts.append(Artifact("evaluation.csv", evaluation, log_as="alerts_evaluation.csv"))
            allrow = evaluation[evaluation["category"] == "all"].iloc[0]
            metrics.update({f"truth.{k}": float(allrow[k]) for k in ("pod", "fpr", "delay", "spikes")
                            if pd.notna(allrow[k])})
    run.log_params({"alerts.method": cfg.method, "alerts.freq": det.freq, "alerts.last_period": str(pd.Timestamp(last).date()),
                    **{f"alerts.opt.{k}": v for k, v in det.options.items()}})
    run.log_metrics(metrics)
    gap = det.not_evaluated()
    if gap:
        # periods the detector could not evaluate, why, and the settings that would let it
        print(f"note: {gap}", file=sys.stderr)
        run.set_tags({"alerts.not_evaluated": gap[:5000]})
    figs = _figures(ctx, panel, table, eps, cfg.max_figures, window_start, det.method, run)
    write_artifacts([*arts, *figs], out)
    run.log_artifacts(arts)
    return {"warnings": warn, "episodes": eps, "detections": out / "detections.csv",
            "figures": [Path(a.name).name for a in figs],
            "evaluation": evaluation, "last_period": last, "method": cfg.method}


def _truth_spikes(ctx: Any) -> pd.DataFrame | None:
    t = getattr(ctx.data, "truth", None)
    if not t:
        return None
    p = ctx.path(t)
    f = p if p.is_file() else p / "spikes.csv"
    if not f.exists():
        return None
    return pd.read_csv(f, parse_dates=["start"])


def _evaluate(ctx: Any, table: pd.DataFrame, freq: str) -> pd.DataFrame | None:
    """POD, FPR and delay of the detector on the injected spikes inside the monitored range."""
    spikes = _truth_spikes(ctx)
    if spikes is None or spikes.empty:
        return None
    return evaluate_spikes(table, spikes, freq)


def _category_names(ctx: Any) -> dict[tuple[str, str], str]:
    """(category, lang) -> name, from the ``categories.csv`` beside the study's counts (empty when absent)."""
    t = ctx.categories
    if t is None:
        return {}
    out = {}
    for lang, col in (("zh", "name_zh"), ("en", "name_en")):
        if {"category", col} <= set(t.columns):
            out.update({(k, lang): v for k, v in zip(t["category"], t[col], strict=True) if isinstance(v, str)})
    return out


def _figures(ctx: Any, panel: Any, table: pd.DataFrame, eps: pd.DataFrame, n_max: int,
             window_start: Any, method: str, run: Any) -> list[Artifact]:
    """Two figures per flagged series (most severe episodes first), in Chinese and in English:
    ``figures/NN_NAME_zh.png`` and ``figures/NN_NAME_en.png`` at 110 dpi (``NN``: 01 the most severe).

    Each is logged as it is drawn (``figures/alerts/NAME.png`` in the run) and
    kept as PNG bytes, so that no more than one figure is open at a time.
    """
    made = []
    cats = _category_names(ctx)
    for rank, (a, c) in enumerate(flagged_series(eps, n_max), start=1):
        for lang in ("zh", "en"):
            fig = alarm_figure(table, a, c, areas=panel.areas, window_start=window_start,
                               method=DETECTORS.label(method, lang), lang=lang,
                               category_name=cats.get((c, lang)))
            # numbered most severe first, so that readers (the appendix shows the first six) sort them so
            name = f"{rank:02d}_{a}_{c}_{lang}.png".replace("/", "_")
            made.append(Artifact(f"figures/{name}", figure_png(fig, dpi=110), log_as=""))
            run.log_figure(fig, name, artifact_path="figures/alerts")
            import matplotlib.pyplot as plt  # here, not at the top: a study's start must not import matplotlib
            plt.close(fig)
    return made
