"""The forecast appendix: a document for officials, rendered from what a study published.

The appendix computes nothing: it renders the tables and figures the study's
steps published (the forecast and backtest tables and fan charts, this
period's warnings, index ranks with their rank intervals, and the claim
evaluations) as one HTML file (images embedded, so it is self-contained) and
a PDF of the same HTML (WeasyPrint: no LaTeX). Chinese by default, English
with ``lang='en'``.

Two sources give the renderer the same view (:class:`StudyOutputs`):

* :class:`StudyRecord` -- in memory, the study being run: each step's run
  record (the tables and figures it logged, tracking on or off) and the
  panel the study loaded (the ``appendix`` step; nothing is read back);
* :class:`StudyArtifacts` -- a tracked study run downloaded from MLflow
  (``riskmodel appendix --run RUN_ID``), with the study's counts read again.

Publication safety: the appendix shows aggregates only (never event records),
and ``suppress_below=N`` replaces every count below N with "<N".
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import fnmatch
import io
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from markupsafe import Markup

from riskmodel.alerts.registry import DEFAULT_METHOD, DETECTORS
from riskmodel.data.boundaries import AreaBoundaries, read_boundaries
from riskmodel.data.frequency import Frequency
from riskmodel.data.loading import DataSource, load_source
from riskmodel.data.panel import IncidentPanel
from riskmodel.errors import InputError, Problem
from riskmodel.forecast import DEFAULT_RECONCILE, MODELS, RECONCILERS
from riskmodel.forecast.figures import fan_chart
from riskmodel.impact.claims import read_claims
from riskmodel.index.build import weight_warning_text
from riskmodel.index.config import load_config as load_index_config
from riskmodel.index.figures import rank_interval_chart
from riskmodel.io_safety import is_database_url, source_label
from riskmodel.maps import map_bytes
from riskmodel.report.followup import follow_up_sections
from riskmodel.report.maps import PAGE_TEXT, appendix_maps, page_note
from riskmodel.results import FIGURE_PNG, figure_png, table_bytes
from riskmodel.tracking import RunHandle, Tracker

TEXT = {
    "zh": {
        "title": "风险预测附录",
        "study": "研究",
        "generated": "生成时间",
        "run": "MLflow 运行编号",
        "data": "数据",
        "simulated": "本附录所用数据为模拟数据（示例城市），不代表任何真实地区。",
        "contents": "目录",
        "forecast": "下季度预测",
        "fc_median": "中位数",
        "forecast_note": "每格为预测均值 [80%预测区间]（95%预测区间）；预测分布的中位数与均值不同时在均值后注明（计数少时分布偏斜，中位数是使绝对误差最小的点预测）；“去年同期”为上一年相同月份的实际合计，“同比”为预测均值合计相对去年同期的变化。区间为预测区间，单位：件。",
        "fan": "预测扇形图",
        "warnings": "本期预警",
        "warnings_note": "本期（最后一个监测周期）触发预警的街镇与类别；“期望值”为基线预测，“上限”为预警阈值。",
        "no_warnings": "本期无预警。",
        "index": "平安指数排名",
        "index_note": "名义排名及蒙特卡罗不确定性分析下排名的中位数与5%–95%区间（权重、标准化与合成方法同时变化）。",
        "claims": "成效声明评估",
        "methods": "方法说明",
        "area": "地区", "category": "类别", "period": "时期", "last_year": "去年同期", "forecast_total": "预测合计",
        "change": "同比", "count": "实际数", "expected": "期望值", "upper": "上限", "severity": "级别",
        "score": "得分", "rank": "排名", "median": "排名中位数", "interval": "5%–95%区间", "grade": "等级",
        "claim": "声明", "reported": "报告变化", "observed": "数据变化", "effect": "项目效果（95%区间）", "verdict": "结论",
        "model": "模型", "skill": "相对季节性朴素法的MASE", "coverage": "区间覆盖率", "level": "层级", "series": "序列数",
        "suppressed": "小于{n}的计数已隐去（显示为“<{n}”）。",
        "source": "数据来源",
    },
    "en": {
        "title": "Forecast appendix",
        "study": "Study",
        "generated": "Generated",
        "run": "MLflow run",
        "data": "Data",
        "simulated": "The data in this appendix are SIMULATED (the sample city) and describe no real place.",
        "contents": "Contents",
        "forecast": "Next-quarter forecasts",
        "fc_median": "median",
        "forecast_note": "Each cell: forecast mean [80% prediction interval] (95% prediction interval); where the median of the predictive distribution differs from the mean, it follows the mean (low counts are skewed; the median is the point forecast with the least absolute error). 'Last year' is the actual total of the same months a year earlier; 'change' compares the sum of forecast means with it. Units: incidents.",
        "fan": "Fan charts",
        "warnings": "This period's warnings",
        "warnings_note": "Streets and categories with an alarm in the last monitored period; 'expected' is the baseline, 'upper' the alarm threshold.",
        "no_warnings": "No warnings this period.",
        "index": "Ping'an index ranks",
        "index_note": "Nominal rank, and the median and 5%-95% interval of ranks under Monte Carlo uncertainty (weights, normalisation and aggregation varied together).",
        "claims": "Evaluation of reported declines",
        "methods": "Methods note",
        "area": "Area", "category": "Category", "period": "Period", "last_year": "Last year", "forecast_total": "Forecast total",
        "change": "Change", "count": "Count", "expected": "Expected", "upper": "Upper bound", "severity": "Severity",
        "score": "Score", "rank": "Rank", "median": "Median rank", "interval": "5%-95% interval", "grade": "Grade",
        "claim": "Claim", "reported": "Reported", "observed": "Observed", "effect": "Programme effect (95% interval)", "verdict": "Verdict",
        "model": "Model", "skill": "MASE relative to seasonal naive", "coverage": "Interval coverage", "level": "Level", "series": "Series",
        "suppressed": "Counts below {n} are suppressed (shown as '<{n}').",
        "source": "Source",
    },
}


class StudyOutputs(Protocol):
    """What the appendix reads of a study: its config, and each step's published tables and figures."""

    run_id: str
    name: str
    tags: Mapping[str, str]
    config: dict

    @property
    def steps(self) -> Mapping[str, Any]: ...

    def table(self, step: str, name: str) -> pd.DataFrame | None: ...

    def images(self, step: str, pattern: str = "*.png", limit: int | None = None) -> list[bytes]: ...


@dataclass
class StudyArtifacts:
    """What a tracked study logged: the parent run and each step's local artifact folder."""

    run_id: str
    name: str
    params: dict[str, str]
    tags: dict[str, str]
    config: dict
    steps: dict[str, Path] = field(default_factory=dict)
    workdir: Path | None = None

    def table(self, step: str, name: str) -> pd.DataFrame | None:
        d = self.steps.get(step)
        if d is None:
            return None
        p = d / "tables" / name
        return pd.read_csv(p) if p.exists() else None

    def figures(self, step: str, pattern: str = "*.png") -> list[Path]:
        d = self.steps.get(step)
        if d is None or not (d / "figures").exists():
            return []
        return sorted((d / "figures").rglob(pattern))

    def images(self, step: str, pattern: str = "*.png", limit: int | None = None) -> list[bytes]:
        """PNG bytes of the step's figures whose file name matches ``pattern``, in path order."""
        return [p.read_bytes() for p in self.figures(step, pattern)[:limit]]


@dataclass
class StudyRecord:
    """The study being run, in memory: each step's run record (see the module notes).

    Tables are passed through the CSV form they are logged in, so that the
    renderer sees exactly what :class:`StudyArtifacts` would read back from
    the store; figures are rendered as they are logged (:data:`FIGURE_PNG`).
    """

    run_id: str
    name: str
    tags: Mapping[str, str]
    config: dict
    runs: Mapping[str, RunHandle]

    @property
    def steps(self) -> Mapping[str, RunHandle]:
        return self.runs

    def table(self, step: str, name: str) -> pd.DataFrame | None:
        run = self.runs.get(step)
        if run is None or name not in run.tables:
            return None
        return pd.read_csv(io.BytesIO(table_bytes(run.tables[name], name)))

    def images(self, step: str, pattern: str = "*.png", limit: int | None = None) -> list[bytes]:
        run = self.runs.get(step)
        if run is None:
            return []
        keys = sorted((k for k in run.figures if k.startswith("figures/") and fnmatch.fnmatch(Path(k).name, pattern)),
                      key=Path)
        return [run.figure_bytes(k) for k in keys[:limit]]


def load_study(run_id: str, dest: str | os.PathLike[str], tracking_uri: str | None = None) -> StudyArtifacts:
    """Download a study run's step artifacts into ``dest``.

    ``run_id`` may be the parent run (``study:NAME``) or any of its step runs.
    """
    from mlflow.exceptions import MlflowException

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    client = Tracker(uri=tracking_uri).client
    try:
        run = client.get_run(run_id)
    except MlflowException:
        raise InputError(Problem(f"no MLflow run {run_id!r} in the tracking store {client.tracking_uri}")) from None
    parent_id = run.data.tags.get("mlflow.parentRunId")
    if parent_id:
        run = client.get_run(parent_id)
    if not run.info.run_name.startswith("study:"):
        raise InputError(Problem(f"run {run_id!r} is not a study run (riskmodel run); it is {run.info.run_name!r}"))
    exp = run.info.experiment_id
    kids = client.search_runs([exp], f"tags.mlflow.parentRunId = '{run.info.run_id}'")
    dest = Path(dest)
    cfg: dict = {}
    try:
        p = client.download_artifacts(run.info.run_id, "experiment.toml", str(dest))
        cfg = tomllib.loads(Path(p).read_text(encoding="utf-8"))
    except (MlflowException, OSError, tomllib.TOMLDecodeError):
        cfg = {}
    arts = StudyArtifacts(
        run_id=run.info.run_id, name=run.info.run_name[len("study:"):], params=dict(run.data.params),
        tags=dict(run.data.tags), config=cfg,
    )
    for k in kids:
        step = k.data.tags.get("riskmodel.step")
        if not step or k.info.status != "FINISHED":
            continue
        d = dest / step
        d.mkdir(parents=True, exist_ok=True)
        client.download_artifacts(k.info.run_id, "", str(d))
        arts.steps[step] = d
    return arts


def _img(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def suppress_count(v: float, suppress: int | None) -> float | str:
    """A count as published: ``"<N"`` when it is below ``suppress`` (N), else the count itself.

    The one rule of small-count suppression, for the document and its workbook
    (:mod:`riskmodel.report.workbook`); a missing value is returned as it is.
    """
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return v
    if suppress and v < suppress:
        return f"<{suppress}"
    return v


def _fmt_count(v: float, suppress: int | None) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(suppress_count(v, suppress), str):
        return f"<{suppress}"  # text: the template escapes it
    if abs(v) >= 10 or float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:.1f}"


def _pct(v: float) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    return f"{v * 100:+.1f}%"


class Labels:
    """Display names of areas and categories in one language."""

    def __init__(self, areas: pd.DataFrame | None, categories: pd.DataFrame | None, lang: str):
        self.lang = lang
        self.area = {}
        if areas is not None:
            col = "name" if lang == "zh" else "name_en"
            if col in areas.columns:
                self.area = dict(zip(areas["area_id"].astype(str), areas[col].astype(str), strict=True))
        self.cat = {}
        if categories is not None:
            col = "name_zh" if lang == "zh" else "name_en"
            if col in categories.columns:
                self.cat = dict(zip(categories["category"], categories[col], strict=True))

    def a(self, x: str) -> str:
        return self.area.get(str(x), str(x))

    def c(self, x: str) -> str:
        return self.cat.get(str(x), str(x))


def _resolve(cfg_path: str | None, root: Path) -> Path | None:
    if not cfg_path:
        return None
    p = Path(cfg_path)
    for cand in (p, root / p):
        if cand.exists():
            return cand
    return None


def _study_panel(arts: StudyOutputs, root: Path) -> IncidentPanel | None:
    """The study's panel, loaded as the study loaded it (None if the data are not here)."""
    data = arts.config.get("data", {})
    if not data.get("counts") or (not is_database_url(data["counts"]) and _resolve(data["counts"], root) is None):
        return None
    keys = {f.name for f in dataclasses.fields(DataSource)}
    return load_source(DataSource(**{k: v for k, v in data.items() if k in keys}),
                       lambda p: _resolve(p, root) or Path(p))


HISTORY_PERIODS = 36
"""Observed periods before the first forecast period kept for the fan charts (and last year's figures)."""

APPENDIX_TABLES = ("areas.csv", "categories.csv", "history.csv")
"""The study data the appendix shows besides the steps' tables (:func:`appendix_inputs`)."""

_YEAR_AGO = {"D": pd.DateOffset(days=364), "W": pd.DateOffset(weeks=52), "M": pd.DateOffset(years=1),
             "Y": pd.DateOffset(years=1)}


def _forecast_freq(arts: StudyOutputs) -> str:
    return str(arts.config.get("steps", {}).get("forecast", {}).get("freq", "M"))


def appendix_inputs(panel: IncidentPanel, forecast: pd.DataFrame | None, freq: str = "M",
                    categories: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The study data the appendix needs besides the steps' published tables.

    * ``areas.csv``: ``area_id, name, name_en, parent_id, level`` (the names and the hierarchy);
    * ``categories.csv``: ``category, name_zh, name_en`` (when the data have a categories table);
    * ``history.csv``: ``area_id, level, category, period, count`` -- the observed counts at every
      level of the hierarchy, at the forecast's frequency ``freq``, for the :data:`HISTORY_PERIODS`
      periods before the first forecast period (the fan charts' history and last year's figures).

    The appendix step of a study can log these (so that ``riskmodel appendix --run`` needs no data);
    otherwise the run-based appendix computes them from the study's data read again.
    """
    out: dict[str, pd.DataFrame] = {}
    a = panel.areas
    out["areas.csv"] = a[[c for c in ("area_id", "name", "name_en", "parent_id", "level") if c in a.columns]]
    if categories is not None and "category" in categories.columns:
        out["categories.csv"] = categories[[c for c in ("category", "name_zh", "name_en") if c in categories.columns]]
    if forecast is not None and len(forecast):
        try:
            p = panel if panel.freq == freq else panel.resample(freq)
        except InputError:
            p = None
        if p is not None:
            first = pd.Timestamp(pd.to_datetime(forecast["period"]).min())
            before = [t for t in p.periods if t < first][-HISTORY_PERIODS:]
            if before:
                lv = p.select(start=before[0], end=before[-1]).all_levels()
                h = lv[lv["area_id"].isin(set(forecast["area_id"].astype(str)))]
                h = h[["area_id", "level", "category", "period", "count"]].sort_values(["area_id", "category", "period"])
                out["history.csv"] = h.assign(period=h["period"].dt.strftime("%Y-%m-%d")).reset_index(drop=True)
    return out


def appendix_tables(arts: StudyOutputs, root: Path, panel: IncidentPanel) -> dict[str, pd.DataFrame]:
    """:func:`appendix_inputs` of a study: its panel, its forecast table and frequency, and the
    ``categories.csv`` beside its counts. The study's appendix step logs these to its run
    (``run.log_table(table, name)`` for each) so that ``riskmodel appendix --run`` needs no data."""
    cat_path = _resolve(arts.config.get("data", {}).get("counts"), root)
    cats = None
    if cat_path is not None and (cat_path.parent / "categories.csv").exists():
        cats = pd.read_csv(cat_path.parent / "categories.csv")
    return appendix_inputs(panel, arts.table("forecast", "forecast.csv"), _forecast_freq(arts), cats)


@dataclass
class StudyData:
    """What the appendix shows of the study's data: names, hierarchy and observed history (may be None)."""

    areas: pd.DataFrame | None = None
    categories: pd.DataFrame | None = None
    history: pd.DataFrame | None = None

    @property
    def parent(self) -> dict[str, str]:
        if self.areas is None or "parent_id" not in self.areas.columns:
            return {}
        a = self.areas
        return {str(k): str(v) for k, v in zip(a["area_id"], a["parent_id"], strict=True) if pd.notna(v) and str(v)}


def _as_logged(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """A table as it reads back from the store (through its CSV form): both paths see the same values."""
    return pd.read_csv(io.BytesIO(table_bytes(df, name)))


def study_data(arts: StudyOutputs, root: Path, panel: IncidentPanel | None = None) -> StudyData:
    """The study data of the appendix: the tables the appendix step logged, else computed from the panel.

    ``panel``: the study's panel when the caller has it; otherwise it is read again from the study's
    ``[data]`` paths under ``root`` (None when they are not there: names and history are then missing).
    """
    logged = {n: arts.table("appendix", n) for n in APPENDIX_TABLES}
    if logged["areas.csv"] is not None:
        tables = {k: v for k, v in logged.items() if v is not None}
    else:
        if panel is None:
            panel = _study_panel(arts, root)
        if panel is None:
            return StudyData()
        tables = {k: _as_logged(v, k) for k, v in appendix_tables(arts, root, panel).items()}
    hist = tables.get("history.csv")
    if hist is not None:
        hist = hist.assign(period=pd.to_datetime(hist["period"]), area_id=hist["area_id"].astype(str))
    areas = tables.get("areas.csv")
    if areas is not None:
        areas = areas.assign(area_id=areas["area_id"].astype(str))
    return StudyData(areas, tables.get("categories.csv"), hist)


def _groups(fc: pd.DataFrame, parent: Mapping[str, str]) -> list[tuple[str, list[str]]]:
    """One group per area of the level above the bottom (districts above streets), with its children."""
    ids = set(fc["area_id"])
    bottom = ids - {parent.get(a) for a in ids}  # areas with no child in the forecast (the areas file may go deeper)
    heads = sorted({parent.get(a) for a in bottom if parent.get(a) in ids})
    groups = [(d, [d] + sorted(x for x in fc["area_id"].unique() if parent.get(x) == d)) for d in heads]
    return groups or [("all", sorted(fc["area_id"].unique()))]


def _forecast_section(arts: StudyOutputs, L: Labels, T: Mapping[str, str], suppress: int | None,
                      sd: StudyData) -> list[dict]:
    fc = arts.table("forecast", "forecast.csv")
    if fc is None:
        return []
    fc["period"] = pd.to_datetime(fc["period"])
    fc["area_id"] = fc["area_id"].astype(str)
    last = last_year_totals(fc, arts, sd)
    months = sorted(fc["period"].unique())
    tables = []
    for head, members in _groups(fc, sd.parent):
        rows = []
        sub = fc[fc["area_id"].isin(members)]
        for (area, cat), g in sub.groupby(["area_id", "category"], sort=False):
            g = g.set_index("period")
            cells = []
            for mth in months:
                if mth in g.index:
                    r = g.loc[mth]
                    mean, lo80, hi80, lo95, hi95 = (
                        _fmt_count(r[k], suppress) for k in ("mean", "lo_80", "hi_80", "lo_95", "hi_95")
                    )
                    # the headline is the mean (totals add up); the median follows where it reads differently
                    med = _fmt_count(r["median"], suppress) if "median" in g.columns else mean
                    med = f" ({T['fc_median']} {med})" if med != mean else ""
                    cells.append(f"{mean}{med} [{lo80}–{hi80}] ({lo95}–{hi95})")
                else:
                    cells.append("–")
            total = float(g["mean"].sum())
            ly = float(last.get((area, cat), np.nan)) if last is not None else np.nan
            rows.append([L.a(area), L.c(cat), *cells, _fmt_count(ly, suppress), _fmt_count(total, suppress),
                         _pct(total / ly - 1 if ly and np.isfinite(ly) and ly > 0 else np.nan)])
        rows.sort(key=lambda r: (r[0] != L.a(head), r[0], r[1]))
        tables.append({
            "title": L.a(head) if head != "all" else "",
            "header": [T["area"], T["category"], *[pd.Timestamp(m).strftime("%Y-%m") for m in months],
                       T["last_year"], T["forecast_total"], T["change"]],
            "rows": rows,
        })
    return tables


def _close(fig: Any) -> None:  # noqa: ANN401 - a matplotlib Figure
    """``plt.close(fig)``; pyplot is imported here, not at the top: ``riskmodel appendix`` and a study's start
    import this module and must not import matplotlib (tests/cli/test_startup.py)."""
    import matplotlib.pyplot as plt

    plt.close(fig)


def last_year_totals(fc: pd.DataFrame, arts: StudyOutputs, sd: StudyData) -> pd.Series | None:
    """Each series' actual total over the forecast periods a year earlier (``area_id, category`` index), or
    None without history: the "last year" of the forecast tables (the document's and the workbook's)."""
    if sd.history is None:
        return None
    lag = _YEAR_AGO.get(_forecast_freq(arts), pd.DateOffset(years=1))
    h = sd.history[sd.history["period"].isin([p - lag for p in fc["period"].unique()])]
    return h.groupby(["area_id", "category"])["count"].sum()


def _fan_charts(arts: StudyOutputs, L: Labels, lang: str, sd: StudyData) -> list[bytes]:
    """One fan chart per district, labelled in ``lang`` (the forecast step's own charts when there is no history)."""
    fc = arts.table("forecast", "forecast.csv")
    if fc is None or sd.history is None:
        return arts.images("forecast", "fan_*.png")
    fc = fc.assign(period=pd.to_datetime(fc["period"]), area_id=fc["area_id"].astype(str))
    freq = _forecast_freq(arts)
    fcfg = arts.config.get("steps", {}).get("forecast", {})
    model = MODELS.label(str(fcfg.get("model", "auto")), lang)
    rec = RECONCILERS.label(str(fcfg.get("reconcile", DEFAULT_RECONCILE)), lang)
    source = source_label(str(arts.config.get("data", {}).get("counts", "")))
    pngs = []
    for head, _ in _groups(fc, sd.parent):
        if head == "all":
            continue
        if lang == "zh":
            title = f"{L.a(head)}：各类别{FREQ_ZH.get(freq, '')}预测（模型：{model}；层级协调：{rec}）"
            note = f"数据：{source}；阴影为80%与95%预测区间。"
        else:
            title = f"{L.a(head)}: forecasts by category (model: {model}; reconciliation: {rec})"
            note = f"Data: {source}; shaded: 80% and 95% prediction intervals."
        fig = fan_chart(sd.history, fc, head, title, freq, source=note, lang=lang, category_names=L.cat)
        try:
            pngs.append(figure_png(fig, **FIGURE_PNG))
        finally:
            _close(fig)
    return pngs


FREQ_ZH = {"D": "逐日", "W": "逐周", "M": "逐月", "Y": "逐年"}

INDEX_TITLE = {"zh": "平安指数排名不确定性", "en": "Ping'an index rank uncertainty"}


def _rank_charts(arts: StudyOutputs, L: Labels, lang: str, period: str) -> list[bytes]:
    """The index's rank-interval chart labelled in ``lang`` (the sensitivity step's own chart without its table)."""
    rs = arts.table("sensitivity", "rank_stats.csv")
    if rs is None or not {"area_id", "nominal", "median", "q05", "q95"} <= set(rs.columns):
        return arts.images("sensitivity", "rank_interval*.png")
    rs = rs.assign(name=[L.a(a) for a in rs["area_id"]])
    fails = arts.table("sensitivity", "failures.csv")
    n = int(fails["n"].sum()) if fails is not None and "n" in fails.columns else None
    nf = int(fails["n_failed"].sum()) if fails is not None and "n_failed" in fails.columns else 0
    fig = rank_interval_chart(rs, title=INDEX_TITLE[lang], n_replications=n, n_failed=nf, period=period, lang=lang)
    try:
        return [figure_png(fig, **FIGURE_PNG)]
    finally:
        _close(fig)


def render_html(arts: StudyOutputs, *, lang: str = "zh", suppress_below: int | None = None, root: Path | None = None,
                panel: IncidentPanel | None = None, data: StudyData | None = None,
                boundaries: AreaBoundaries | None = None) -> str:
    """The appendix as one self-contained HTML page.

    ``boundaries``: the study's area polygons (``ctx.boundaries``); None: read from the study's
    ``[data] boundaries`` when it names one (under ``root``). With boundaries, each section with a
    map (index, forecasts, warnings, claims) is followed by a map page (:func:`_add_map_pages`).

    ``data``: the study data shown beside the steps' tables (:func:`study_data`), when the caller
    has them; else they are read from the tables the appendix step logged, or computed from
    ``panel`` (the study's panel when the caller has it, a study being run; otherwise loaded from
    the study's ``[data]`` paths under ``root``).
    """
    if lang not in TEXT:
        raise InputError(Problem(f"unknown language {lang!r} for --lang; valid: zh, en"))
    # riskmodel's own wording is trusted markup; everything else is escaped by the template
    T = {k: Markup(v) for k, v in TEXT[lang].items()}
    root = root or Path.cwd()
    sd = data if data is not None else study_data(arts, root, panel)
    data = arts.config.get("data", {})
    L = Labels(sd.areas, sd.categories, lang)
    simulated = "sample" in str(data.get("counts", "")) or "simulated" in arts.config.get("study", {}).get("description", "").lower()

    sections = []
    fc_tables = _forecast_section(arts, L, T, suppress_below, sd)
    if fc_tables:
        sections.append({"id": "forecast", "title": T["forecast"], "note": T["forecast_note"], "tables": fc_tables})
    fans = _fan_charts(arts, L, lang, sd)
    if fans:
        sections.append({"id": "fan", "title": T["fan"], "images": [_img(p) for p in fans]})
    warn = arts.table("alerts", "alerts_warnings.csv")
    if warn is not None:
        rows = [[L.a(r.area_id), L.c(r.category), str(r.period)[:10], _fmt_count(r.count, suppress_below),
                 _fmt_count(r.expected, None), _fmt_count(r.upperbound, None),
                 getattr(r, "severity_zh", r.severity) if lang == "zh" else r.severity]
                for r in warn.itertuples()]
        sections.append({"id": "warnings", "title": T["warnings"], "note": T["warnings_note"] if rows else T["no_warnings"],
                         "tables": [{"title": "", "header": [T["area"], T["category"], T["period"], T["count"], T["expected"], T["upper"], T["severity"]],
                                     "rows": rows}] if rows else [],
                         "images": [_img(p) for p in (arts.images("alerts", f"*_{lang}.png", limit=6)
                                                      or arts.images("alerts", limit=6))]})
    scores = arts.table("index", "scores.csv")
    rs = arts.table("sensitivity", "rank_stats.csv")
    if scores is not None:
        top = scores[scores["code"] == "Index"]
        if "period" in top.columns:
            top = top[top["period"] == top["period"].max()]
        if rs is not None:
            top = top.merge(rs, on="area_id", how="left")
        top = top.sort_values("rank")
        rows = []
        for r in top.itertuples():
            iv = f"{int(r.q05)}–{int(r.q95)}" if hasattr(r, "q05") and pd.notna(r.q05) else "–"
            med = f"{r.median:.0f}" if hasattr(r, "median") and pd.notna(r.median) else "–"
            grade = str(r.grade) if hasattr(r, "grade") and pd.notna(r.grade) else ""
            rows.append([L.a(r.area_id), f"{r.score:.1f}", str(int(r.rank)), med, iv, grade])
        per = str(top["period"].iloc[0])[:7] if "period" in top.columns and len(top) else ""
        ww = arts.table("index", "weight_warnings.csv")
        warnings = [weight_warning_text(r, lang) for r in ww.itertuples()] if ww is not None else []
        sections.append({"id": "index", "title": Markup("{} {}").format(T["index"], per), "note": T["index_note"],
                         "warnings": warnings,
                         "tables": [{"title": "", "header": [T["area"], T["score"], T["rank"], T["median"], T["interval"], T["grade"]], "rows": rows}],
                         "images": [_img(p) for p in _rank_charts(arts, L, lang, per)]})
    cl = arts.table("claims", "claims_summary.csv")
    if cl is not None:
        rows = []
        for r in cl.itertuples():
            eff = f"{_pct(r.effect)} ({_pct(r.effect_lo95)}, {_pct(r.effect_hi95)})" if pd.notna(r.effect) else "–"
            verdict = r.verdict_zh if lang == "zh" else r.verdict_en
            rows.append([f"{r.claim_id}: {L.a(r.area_id)} {L.c(r.category)}", _pct(r.reported_change), _pct(r.observed_change), eff, verdict])
        imgs = [_img(p) for p in arts.images("claims", f"*_{lang}.png", limit=3)]
        sections.append({"id": "claims", "title": T["claims"], "note": "",
                         "tables": [{"title": "", "header": [T["claim"], T["reported"], T["observed"], T["effect"], T["verdict"]], "rows": rows}],
                         "images": imgs})
    _add_map_pages(sections, arts, L, lang, sd, root,
                   boundaries if boundaries is not None else _study_boundaries(arts, root, sd))
    sections.extend(follow_up_sections(arts, L, lang))  # the workbench's ledger: none in a study's own appendix
    methods, method_tables = _methods(arts, T, lang)
    sections.append({"id": "methods", "title": T["methods"], "paragraphs": methods, "tables": method_tables})

    return _environment().get_template("appendix.html").render(
        T=T, lang=lang, study=arts.name, run_id=arts.run_id, simulated=simulated,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), sections=sections,
        data_source=source_label(str(data.get("counts", ""))),
        suppressed=TEXT[lang]["suppressed"].format(n=suppress_below) if suppress_below else "",
    )


def _study_boundaries(arts: StudyOutputs, root: Path, sd: StudyData) -> AreaBoundaries | None:
    """The polygons the study's ``[data] boundaries`` names (None: it names none, or the file is not here)."""
    p = _resolve(arts.config.get("data", {}).get("boundaries"), root)
    return read_boundaries(p, areas=sd.areas) if p is not None else None


def _claim_objects(arts: StudyOutputs, root: Path) -> dict[str, Any]:
    """The study's claims (``claim_id -> Claim``: their chosen comparison areas), when the file is here."""
    cfg = arts.config
    p = _resolve(cfg.get("steps", {}).get("claims", {}).get("claims") or cfg.get("data", {}).get("claims"), root)
    if p is None:
        return {}
    try:
        return {c.claim_id: c for c in read_claims(p)}
    except InputError:
        return {}  # the claims step refused it already; the maps use the default comparison


def _index_grades(arts: StudyOutputs, root: Path) -> list[str] | None:
    """The grades of the study's index config, best first (so that the grade map's legend lists them
    all), or None when the config is not here or names none."""
    cfg = arts.config.get("steps", {}).get("index")
    p = _resolve(str((cfg or {}).get("config", "experiments/pingan_sample.toml")), root) if cfg is not None else None
    if p is None:
        return None
    try:
        g = load_index_config(p).ranks.grades
    except InputError:
        return None
    return list(g.labels) if g is not None else None


def _add_map_pages(sections: list[dict], arts: StudyOutputs, L: Labels, lang: str, sd: StudyData, root: Path,
                   boundaries: AreaBoundaries | None) -> None:
    """Insert a map page after the index, forecast (after the fan charts), warnings and claims
    sections (:func:`riskmodel.report.maps.appendix_maps`); nothing without boundaries."""
    if boundaries is None:
        return
    ids = [s["id"] for s in sections]
    fc = arts.table("forecast", "forecast.csv")
    warn = arts.table("alerts", "alerts_warnings.csv")
    figs = appendix_maps(
        boundaries, lang=lang, names=L.area, category_names=L.cat, areas=sd.areas,
        scores=arts.table("index", "scores.csv") if "index" in ids else None,
        forecast=fc if "forecast" in ids else None, history=sd.history,
        warnings=warn if "warnings" in ids else None,
        grades=_index_grades(arts, root) if "index" in ids else None,
        claims=arts.table("claims", "claims_summary.csv") if "claims" in ids else None,
        claim_objects=_claim_objects(arts, root) if "claims" in ids else None,
        data_source=source_label(str(arts.config.get("data", {}).get("counts", ""))), freq=_forecast_freq(arts),
    )
    after = {"index": "index", "forecast": "fan" if "fan" in ids else "forecast", "warnings": "warnings",
             "claims": "claims"}
    for key in ("claims", "index", "warnings", "forecast"):  # from the end, so earlier positions hold
        if key not in figs:
            continue
        try:
            images = [_img(map_bytes(f)) for f in figs[key]]
        finally:
            for f in figs[key]:
                _close(f)
        pos = ids.index(after[key]) + 1
        sections.insert(pos, {"id": f"{key}_map", "title": Markup(PAGE_TEXT[lang][key]), "note": page_note(boundaries, lang),
                              "images": images, "class": "maps"})
        ids.insert(pos, f"{key}_map")


def _environment(autoescape: bool = True) -> Any:  # noqa: ANN401 - a jinja2.Environment
    """The template environment: every value is HTML-escaped unless it is :class:`markupsafe.Markup`.

    Names, titles, labels and verdicts come from the user's files and go to officials' browsers:
    they are always text. Only riskmodel's own fixed wording (:data:`TEXT`) is passed as Markup.
    """
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("riskmodel.report", "templates"), autoescape=autoescape)


LEVEL_TEXT = {
    "zh": {"overall": "全部序列", "city": "全市", "district": "区", "area": "街镇"},
    "en": {"overall": "all series", "city": "city", "district": "district", "area": "street"},
}
"""Names of the hierarchy's levels (the ``level`` column of the forecast tables)."""

UNIT_TEXT = {"zh": {"D": "天", "W": "周", "M": "个月", "Y": "年"}, "en": {"D": "days", "W": "weeks", "M": "months", "Y": "years"}}


def _model_parts(models: pd.Series) -> tuple[list[str], int, str]:
    """The base models named in forecast.csv's ``model`` column (``auto(gbm 0.2+pooled 0.8)+mint_shrink``),
    the number of rows forecast as zero (an all-zero history), and the top model's name."""
    parts: list[str] = []
    zero = 0
    top = ""
    for m in models.astype(str):
        if m.startswith("zero"):
            zero += 1
            continue
        hit = re.match(r"^([A-Za-z_]\w*)\((.*)\)(\+\w+)?$", m)
        top = top or (hit.group(1) if hit else m.split("+")[0])
        for c in (hit.group(2).split("+") if hit else []):
            name = c.split()[0] if c.split() else ""
            if name and name not in parts:
                parts.append(name)
    return parts, zero, top


def _methods(arts: StudyOutputs, T: Mapping[str, str], lang: str) -> tuple[list[str], list[dict]]:
    """The methods note: paragraphs, and the backtest's accuracy per model and level as a table."""
    zh = lang == "zh"
    out: list[str] = []
    tables: list[dict] = []
    cfg = arts.config.get("steps", {})
    data = arts.config.get("data", {})
    fcfg = cfg.get("forecast", {})
    unit = UNIT_TEXT[lang].get(_forecast_freq(arts), "")
    fc = arts.table("forecast", "forecast.csv")
    if fc is not None:
        parts, zero, top = _model_parts(fc.drop_duplicates(["area_id", "category"])["model"])
        top = top or str(fcfg.get("model", "auto"))
        rec = str(fcfg.get("reconcile", DEFAULT_RECONCILE))
        comps = ("、" if zh else ", ").join(f"{MODELS.label(c, lang)}（{c}）" if zh else f"{MODELS.label(c, lang)} ({c})"
                                          for c in parts)
        if zh:
            txt = f"预测模型：{MODELS.label(top, lang)}（{top}）"
            txt += f"，每个序列从以下模型中选择并加权组合：{comps}" if comps else ""
            txt += f"；{zero}个历史全为零的序列预测为零" if zero else ""
            txt += f"；预测步长 {fcfg.get('h', 3)} {unit}；层级协调：{RECONCILERS.label(rec, lang)}（{rec}）。"
        else:
            txt = f"Forecast model: {MODELS.label(top, lang)} ({top})"
            txt += f", per series a weighted combination chosen among: {comps}" if comps else ""
            txt += f"; {zero} series with an all-zero history are forecast as zero" if zero else ""
            txt += f"; horizon {fcfg.get('h', 3)} {unit}; hierarchical reconciliation: {RECONCILERS.label(rec, lang)} ({rec})."
        out.append(txt)
    bm = arts.table("forecast", "backtest_metrics.csv")
    if bm is not None and {"mase", "model"} <= set(bm.columns):
        out.append("滚动起点回测（扩展窗口）：下表为各模型在各层级上的MASE与区间覆盖率。MASE 以季节性朴素法为尺度，小于1表示优于季节性朴素法；"
                   "覆盖率为实际值落入80%与95%预测区间的比例（目标0.80与0.95）。" if zh else
                   "Rolling-origin backtest (expanding window): the table gives each model's MASE and interval coverage "
                   "per level of the hierarchy. MASE is scaled by the seasonal naive forecast: below 1 beats it. Coverage is the share of "
                   "actual counts inside the 80% and 95% prediction intervals (targets 0.80 and 0.95).")
        levels = LEVEL_TEXT[lang]
        lv = bm["level"].astype(str) if "level" in bm.columns else pd.Series("overall", index=bm.index)
        # rows with area_id ALL summarise a level (or every series: level 'overall'); the rest are series
        summary = bm.get("area_id", pd.Series("", index=bm.index)).astype(str).isin(["ALL", "__overall__"])
        rows = []
        for model in dict.fromkeys(bm["model"].astype(str)):
            m_ = bm["model"].astype(str) == model
            for key in ("overall", "city", "district", "area"):
                series = m_ & ~summary & (lv == key if key != "overall" else True)
                given = bm[m_ & summary & (lv == key)]
                g = given if len(given) else bm[series]
                if g.empty:
                    continue
                cov = [f"{g[c].mean():.2f}" if c in g.columns else "–" for c in ("coverage_80", "coverage_95")]
                rows.append([f"{MODELS.label(model, lang)}（{model}）" if zh else f"{MODELS.label(model, lang)} ({model})",
                             levels[key], str(int(series.sum())), f"{g['mase'].mean():.3f}", *cov])
        if rows:
            tables.append({"title": "", "header": [T["model"], T["level"], T["series"], "MASE",
                                                   f"{T['coverage']} 80%", f"{T['coverage']} 95%"], "rows": rows})
    if "alerts" in arts.steps:
        # the step's method and frequency as the config gives them, else the step's defaults
        m = cfg.get("alerts", {}).get("method", DEFAULT_METHOD)
        f = Frequency.of(cfg.get("alerts", {}).get("freq", "W"))
        unit_zh = {"D": "按日", "W": "按周", "M": "按月", "Y": "按年"}.get(f.code, "")
        out.append(f"预警方法：{DETECTORS.label(m, 'zh')}（{m}，{unit_zh}监测）。" if zh else
                   f"Warning method: {DETECTORS.label(m, 'en')} ({m}, {f.name} monitoring).")
    fc_periods = fc["period"] if fc is not None else None
    bt = arts.table("forecast", "backtest_forecasts.csv")
    if bt is not None and "cutoff" in bt.columns and fc_periods is not None:
        out.append(f"回测起点：{bt['cutoff'].min()} 至 {bt['cutoff'].max()}；预测期：{str(fc_periods.min())[:10]} 至 {str(fc_periods.max())[:10]}。"
                   if zh else
                   f"Backtest origins: {bt['cutoff'].min()} to {bt['cutoff'].max()}; forecast periods: {str(fc_periods.min())[:10]} to {str(fc_periods.max())[:10]}.")
    version = arts.tags.get("git_commit", arts.tags.get("riskmodel_version", ""))
    shown = source_label(str(data.get("counts", "")))
    out.append(f"{T['source']}：{shown}；运行编号 {arts.run_id}；代码版本 {version}。" if zh else
               f"{T['source']}: {shown}; run {arts.run_id}; code version {version}.")
    return out, tables


def write_pdf(html: str, path: str | os.PathLike[str]) -> None:
    """The HTML appendix as a PDF (WeasyPrint; fonts are embedded)."""
    import logging

    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    weasyprint.HTML(string=html).write_pdf(path)
