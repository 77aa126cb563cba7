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
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from riskmodel.alerts.registry import DEFAULT_METHOD, DETECTORS
from riskmodel.data.frequency import Frequency
from riskmodel.data.loading import DataSource, load_source
from riskmodel.data.panel import IncidentPanel
from riskmodel.errors import InputError, Problem
from riskmodel.io_safety import atomic_dir
from riskmodel.results import table_bytes
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
        "forecast_note": "每格为预测均值 [80%预测区间]（95%预测区间）；“去年同期”为上一年相同月份的实际合计，“同比”为预测均值合计相对去年同期的变化。区间为预测区间，单位：件。",
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
        "model": "模型", "skill": "相对季节性朴素法的MASE", "coverage": "区间覆盖率",
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
        "forecast_note": "Each cell: forecast mean [80% prediction interval] (95% prediction interval). 'Last year' is the actual total of the same months a year earlier; 'change' compares the sum of forecast means with it. Units: incidents.",
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
        "model": "Model", "skill": "MASE relative to seasonal naive", "coverage": "Interval coverage",
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


def _fmt_count(v: float, suppress: int | None) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if suppress and v < suppress:
        return f"&lt;{suppress}"
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
    if not data.get("counts") or _resolve(data.get("counts"), root) is None:
        return None
    keys = {f.name for f in dataclasses.fields(DataSource)}
    return load_source(DataSource(**{k: v for k, v in data.items() if k in keys}),
                       lambda p: _resolve(p, root) or Path(p))


def _forecast_section(arts: StudyOutputs, L: Labels, T: dict, suppress: int | None,
                      panel: IncidentPanel | None) -> list[dict]:
    fc = arts.table("forecast", "forecast.csv")
    if fc is None:
        return []
    fc["period"] = pd.to_datetime(fc["period"])
    last = None
    parent: dict = {}
    if panel is not None:
        m = panel.resample("M") if panel.freq != "M" else panel
        prev_periods = sorted({p - pd.DateOffset(years=1) for p in fc["period"].unique()})
        lv = m.select(start=min(prev_periods), end=max(prev_periods)).all_levels()
        last = lv[lv["period"].isin(prev_periods)].groupby(["area_id", "category"])["count"].sum()
        parent = panel.hierarchy.parent
    months = sorted(fc["period"].unique())
    tables = []
    # one table per area of the level above the bottom (districts above streets), with its children
    bottom = set(fc["area_id"]) - {p for p in parent.values() if p}
    heads = sorted({parent.get(a) for a in bottom if parent.get(a) in set(fc["area_id"])})
    districts = heads
    groups = [(d, [d] + sorted(x for x in fc["area_id"].unique() if parent.get(x) == d)) for d in districts]
    if not groups:
        groups = [("all", sorted(fc["area_id"].unique()))]
    for head, members in groups:
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
                    cells.append(f"{mean} [{lo80}–{hi80}] ({lo95}–{hi95})")
                else:
                    cells.append("–")
            total = float(g["mean"].sum())
            ly = float(last.get((area, cat), np.nan)) if last is not None else np.nan
            rows.append([L.a(area), L.c(cat), *cells, _fmt_count(ly, suppress), _fmt_count(total, suppress),
                         _pct(total / ly - 1 if ly and np.isfinite(ly) and ly > 0 else np.nan)])
        rows.sort(key=lambda r: (r[0] != L.a(head), r[0], r[1]))
        tables.append({
            "title": L.a(head),
            "header": [T["area"], T["category"], *[pd.Timestamp(m).strftime("%Y-%m") for m in months],
                       T["last_year"], T["forecast_total"], T["change"]],
            "rows": rows,
        })
    return tables


def render_html(arts: StudyOutputs, *, lang: str = "zh", suppress_below: int | None = None, root: Path | None = None,
                panel: IncidentPanel | None = None) -> str:
    """The appendix as one self-contained HTML page.

    ``panel``: the study's panel when the caller has it (a study being run);
    otherwise it is loaded from the study's ``[data]`` paths under ``root``.
    """
    import jinja2

    if lang not in TEXT:
        raise InputError(Problem(f"unknown language {lang!r} for --lang; valid: zh, en"))
    T = TEXT[lang]
    root = root or Path.cwd()
    data = arts.config.get("data", {})
    if panel is None:
        panel = _study_panel(arts, root)
    areas = panel.areas if panel is not None else None
    cat_path = _resolve(data.get("counts"), root)
    cats = None
    if cat_path is not None and (cat_path.parent / "categories.csv").exists():
        cats = pd.read_csv(cat_path.parent / "categories.csv")
    L = Labels(areas, cats, lang)
    simulated = "sample" in str(data.get("counts", "")) or "simulated" in arts.config.get("study", {}).get("description", "").lower()

    sections = []
    fc_tables = _forecast_section(arts, L, T, suppress_below, panel)
    if fc_tables:
        sections.append({"id": "forecast", "title": T["forecast"], "note": T["forecast_note"], "tables": fc_tables})
    fans = arts.images("forecast", "fan_*.png")
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
                         "images": [_img(p) for p in arts.images("alerts", limit=6)]})
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
        sections.append({"id": "index", "title": f"{T['index']} {per}", "note": T["index_note"],
                         "tables": [{"title": "", "header": [T["area"], T["score"], T["rank"], T["median"], T["interval"], T["grade"]], "rows": rows}],
                         "images": [_img(p) for p in arts.images("sensitivity", "rank_interval*.png")]})
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
    methods = _methods(arts, T, lang)
    sections.append({"id": "methods", "title": T["methods"], "paragraphs": methods})

    tpl = jinja2.Environment(loader=jinja2.PackageLoader("riskmodel.report", "templates"), autoescape=False)
    return tpl.get_template("appendix.html").render(
        T=T, lang=lang, study=arts.name, run_id=arts.run_id, simulated=simulated,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), sections=sections,
        data_source=str(data.get("counts", "")),
        suppressed=T["suppressed"].format(n=suppress_below) if suppress_below else "",
    )


def _methods(arts: StudyOutputs, T: dict, lang: str) -> list[str]:
    out = []
    cfg = arts.config.get("steps", {})
    data = arts.config.get("data", {})
    fc = arts.table("forecast", "forecast.csv")
    if fc is not None:
        models = ", ".join(sorted(fc["model"].astype(str).unique())[:6])
        out.append(f"预测模型：{models}；预测步长 {cfg.get('forecast', {}).get('h', 3)} 个月；层级协调：{cfg.get('forecast', {}).get('reconcile', '')}。"
                    if lang == "zh" else
                    f"Forecast models: {models}; horizon {cfg.get('forecast', {}).get('h', 3)} months; hierarchical reconciliation: {cfg.get('forecast', {}).get('reconcile', '')}.")
    bm = arts.table("forecast", "backtest_metrics.csv")
    if bm is not None and {"mase", "model"} <= set(bm.columns):
        overall = bm[bm.get("area_id", pd.Series(dtype=str)).astype(str).isin(["__overall__", "overall", "ALL"])] if "area_id" in bm.columns else bm
        if overall.empty:
            overall = bm.groupby("model", as_index=False)[[c for c in ("mase", "coverage_80", "coverage_95") if c in bm.columns]].mean()
        parts = []
        for r in overall.itertuples():
            cov = f", {T['coverage']} 80%: {getattr(r, 'coverage_80', float('nan')):.2f}, 95%: {getattr(r, 'coverage_95', float('nan')):.2f}"
            parts.append(f"{r.model}: MASE {r.mase:.3f}{cov}")
        out.append(("滚动起点回测（扩展窗口）：" if lang == "zh" else "Rolling-origin backtest (expanding window): ") + "; ".join(parts) + ("。MASE 以季节性朴素法为尺度，小于1表示优于季节性朴素法。" if lang == "zh" else ". MASE is scaled by the seasonal naive forecast: below 1 beats it."))
    if "alerts" in arts.steps:
        # the step's method and frequency as the config gives them, else the step's defaults
        m = cfg.get("alerts", {}).get("method", DEFAULT_METHOD)
        f = Frequency.of(cfg.get("alerts", {}).get("freq", "W"))
        unit_zh = {"D": "按日", "W": "按周", "M": "按月"}[f.code]
        out.append(f"预警方法：{DETECTORS.label(m, 'zh')}（{m}，{unit_zh}监测）。" if lang == "zh" else
                   f"Warning method: {DETECTORS.label(m, 'en')} ({m}, {f.name} monitoring).")
    fc_periods = fc["period"] if fc is not None else None
    bt = arts.table("forecast", "backtest_forecasts.csv")
    if bt is not None and "cutoff" in bt.columns:
        out.append(f"回测起点：{bt['cutoff'].min()} 至 {bt['cutoff'].max()}；预测期：{str(fc_periods.min())[:10]} 至 {str(fc_periods.max())[:10]}。"
                    if lang == "zh" else
                    f"Backtest origins: {bt['cutoff'].min()} to {bt['cutoff'].max()}; forecast periods: {str(fc_periods.min())[:10]} to {str(fc_periods.max())[:10]}.")
    out.append(f"{T['source']}：{data.get('counts', '')}；运行编号 {arts.run_id}；代码版本 {arts.tags.get('git_commit', arts.tags.get('riskmodel_version', ''))}。"
                if lang == "zh" else
                f"{T['source']}: {data.get('counts', '')}; run {arts.run_id}; code version {arts.tags.get('git_commit', arts.tags.get('riskmodel_version', ''))}.")
    return out


def write_appendix(
    run_id: str,
    out_dir: str | os.PathLike[str],
    *,
    formats: tuple[str, ...] = ("html", "pdf"),
    lang: str = "zh",
    suppress_below: int | None = None,
    tracking_uri: str | None = None,
    root: Path | None = None,
) -> list[Path]:
    """Render the appendix of a tracked study run into ``out_dir`` (whole or not at all).

    Returns the written files: ``appendix_<lang>.html`` and/or ``.pdf``.
    """
    bad = [f for f in formats if f not in ("html", "pdf")]
    if bad:
        raise InputError(Problem(f"unknown format(s) {', '.join(bad)} for --format; valid: html, pdf"))
    if lang not in TEXT:
        raise InputError(Problem(f"unknown language {lang!r} for --lang; valid: zh, en"))
    written = []
    with tempfile.TemporaryDirectory() as d:
        arts = load_study(run_id, d, tracking_uri=tracking_uri)
        html = render_html(arts, lang=lang, suppress_below=suppress_below, root=root)
        with atomic_dir(out_dir) as tmp:
            if "html" in formats:
                (tmp / f"appendix_{lang}.html").write_text(html, encoding="utf-8")
                written.append(Path(out_dir) / f"appendix_{lang}.html")
            if "pdf" in formats:
                write_pdf(html, tmp / f"appendix_{lang}.pdf")
                written.append(Path(out_dir) / f"appendix_{lang}.pdf")
    return written


def write_pdf(html: str, path: str | os.PathLike[str]) -> None:
    """The HTML appendix as a PDF (WeasyPrint; fonts are embedded)."""
    import logging

    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    weasyprint.HTML(string=html).write_pdf(path)
