"""The forecast appendix's tables as an Excel workbook, beside its HTML and PDF.

Officials keep and re-use tables in Excel. :func:`appendix_workbook` gives the
tables of the appendix (:mod:`riskmodel.report.appendix`) as one ``.xlsx``
workbook, a sheet per section of the document, in its language: an overview
(study, run, data, the simulated-data and suppression notes, the list of
sheets), the forecasts per period, the forecast totals against last year,
this period's warnings, the index ranks with their rank intervals, the claim
evaluations, the methods note and the backtest's accuracy. The sheet names and
headers are the document's own labels (:data:`~riskmodel.report.appendix.TEXT`;
the few the document does not need are in :data:`WORKBOOK_TEXT`).

Unlike the document, each value is one cell of its own type: numbers as
numbers (counts with thousands separators, rates as ``0.0%``, each interval
bound a number), periods as Excel dates, so that a table can be sorted,
filtered and summed. Small counts are suppressed by the document's rule
(:func:`~riskmodel.report.appendix.suppress_count`): a count the PDF shows as
``<N`` is the text ``<N`` here, and the workbook holds no other copy of it.
The workbook's bytes depend only on the study (its creation date is the
first forecast period, not the clock), and every text cell is stored as text
(:data:`riskmodel.results.XLSX_OPTIONS`): an area named ``=HYPERLINK(...)``
is shown, never run.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.data.panel import IncidentPanel
from riskmodel.errors import InputError, Problem
from riskmodel.index.build import weight_warning_text
from riskmodel.io_safety import atomic_dir, atomic_path, source_label
from riskmodel.report.appendix import (
    LEVEL_TEXT,
    TEXT,
    Labels,
    StudyData,
    StudyOutputs,
    _forecast_freq,
    _groups,
    _methods,
    last_year_totals,
    load_study,
    render_html,
    study_data,
    suppress_count,
    write_pdf,
)
from riskmodel.report.followup import follow_up_sheets
from riskmodel.results import Sheet, xlsx_bytes

WORKBOOK_TEXT = {
    "zh": {"overview": "概览", "item": "项目", "value": "内容", "sheet": "工作表", "mean": "预测均值", "median": "预测中位数",
           "lower": "下限", "upper": "上限", "effect": "项目效果", "backtest": "回测精度",
           "forecast_note": "每行为一个地区、类别与时期的预测均值、预测中位数（使绝对误差最小的点预测），及其80%与95%预测区间的下限与上限。单位：件。",
           "totals_note": "“去年同期”为上一年相同月份的实际合计，“预测合计”为各期预测均值之和，“同比”为预测合计相对去年同期的变化。单位：件。"},
    "en": {"overview": "Overview", "item": "Item", "value": "Value", "sheet": "Sheet", "mean": "Forecast mean", "median": "Forecast median",
           "lower": "lower", "upper": "upper", "effect": "Programme effect", "backtest": "Backtest accuracy",
           "forecast_note": "One row per area, category and period: the forecast mean, the forecast median (the point "
                            "forecast with the least absolute error) and the lower and upper bounds of "
                            "its 80% and 95% prediction intervals. Units: incidents.",
           "totals_note": "'Last year' is the actual total of the same months a year earlier, 'forecast total' the sum "
                          "of the forecast means, and 'change' compares the two. Units: incidents."},
}
"""The workbook's labels that the document does not use (every other label is the document's)."""

FORMATS = ("html", "pdf", "xlsx")
"""What ``riskmodel appendix --format`` and ``[steps.appendix] formats`` may name."""


def _bound(lang: str, level: int, side: str) -> str:
    w = WORKBOOK_TEXT[lang]
    return f"{level}%{w[side]}" if lang == "zh" else f"{level}% {w[side]}"


def _num(v: object) -> float:
    """A number shown by the document as text (``"0.853"``) as a number; ``"–"`` and the like: NaN."""
    try:
        return float(str(v).replace(",", ""))
    except ValueError:
        return np.nan


def _forecast_sheets(arts: StudyOutputs, L: Labels, lang: str, suppress: int | None, sd: StudyData) -> list[Sheet]:
    """The forecasts per period, and the forecast totals against last year (the document's forecast table)."""
    T, W = TEXT[lang], WORKBOOK_TEXT[lang]
    fc = arts.table("forecast", "forecast.csv")
    if fc is None:
        return []
    fc = fc.assign(period=pd.to_datetime(fc["period"]), area_id=fc["area_id"].astype(str))
    last = last_year_totals(fc, arts, sd)
    group = LEVEL_TEXT[lang]["district"]
    group = group[:1].upper() + group[1:]  # a header: "District"
    bounds = [(k, _bound(lang, int(k[3:]), "lower" if k.startswith("lo") else "upper"))
              for k in ("lo_80", "hi_80", "lo_95", "hi_95")]
    periods, totals = [], []
    has_median = "median" in fc.columns  # forecast tables written before issue 18 have no median
    for head, members in _groups(fc, sd.parent):
        gname = L.a(head) if head != "all" else ""
        series = []
        for (area, cat), g in fc[fc["area_id"].isin(members)].groupby(["area_id", "category"], sort=False):
            series.append((L.a(area), L.c(cat), area, cat, g.sort_values("period")))
        series.sort(key=lambda s: (s[0] != L.a(head), s[0], s[1]))  # the document's order
        for name, cname, area, cat, g in series:
            for r in g.itertuples():
                periods.append({group: gname, T["area"]: name, T["category"]: cname, T["period"]: r.period,
                                W["mean"]: suppress_count(float(r.mean), suppress),
                                **({W["median"]: suppress_count(float(r.median), suppress)} if has_median else {}),
                                **{lab: suppress_count(float(getattr(r, k, np.nan)), suppress) for k, lab in bounds}})
            total = float(g["mean"].sum())
            ly = float(last.get((area, cat), np.nan)) if last is not None else np.nan
            totals.append({group: gname, T["area"]: name, T["category"]: cname,
                           T["last_year"]: suppress_count(ly, suppress),
                           T["forecast_total"]: suppress_count(total, suppress),
                           T["change"]: total / ly - 1 if ly and np.isfinite(ly) and ly > 0 else np.nan})
    freq = _forecast_freq(arts)
    kinds = {T["period"]: "month" if freq == "M" else "date", W["mean"]: "estimate", W["median"]: "estimate",
             **{lab: "estimate" for _, lab in bounds}}
    # the document's note describes its cells ("mean [80%] (95%)"); the sheets' columns have their own
    return [Sheet(T["forecast"], pd.DataFrame(periods), kinds, title=T["forecast"], notes=[W["forecast_note"]]),
            Sheet(T["forecast_total"], pd.DataFrame(totals),
                  {T["last_year"]: "count", T["forecast_total"]: "estimate", T["change"]: "percent"},
                  title=T["forecast_total"], notes=[W["totals_note"]])]


def _warnings_sheet(arts: StudyOutputs, L: Labels, lang: str, suppress: int | None) -> list[Sheet]:
    T = TEXT[lang]
    warn = arts.table("alerts", "alerts_warnings.csv")
    if warn is None:
        return []
    rows = [{T["area"]: L.a(r.area_id), T["category"]: L.c(r.category), T["period"]: pd.Timestamp(str(r.period)[:10]),
             T["count"]: suppress_count(r.count, suppress), T["expected"]: float(r.expected),
             T["upper"]: float(r.upperbound),
             T["severity"]: getattr(r, "severity_zh", r.severity) if lang == "zh" else r.severity}
            for r in warn.itertuples()]
    cols = [T[k] for k in ("area", "category", "period", "count", "expected", "upper", "severity")]
    return [Sheet(T["warnings"], pd.DataFrame(rows, columns=cols),
                  {T["period"]: "date", T["count"]: "count", T["expected"]: "estimate", T["upper"]: "estimate"},
                  title=T["warnings"], notes=[T["warnings_note"] if rows else T["no_warnings"]])]


def _index_sheet(arts: StudyOutputs, L: Labels, lang: str) -> list[Sheet]:
    T, W = TEXT[lang], WORKBOOK_TEXT[lang]
    scores = arts.table("index", "scores.csv")
    if scores is None:
        return []
    rs = arts.table("sensitivity", "rank_stats.csv")
    top = scores[scores["code"] == "Index"]
    if "period" in top.columns:
        top = top[top["period"] == top["period"].max()]
    if rs is not None:
        top = top.merge(rs, on="area_id", how="left")
    top = top.sort_values("rank")
    lo, hi = f"{T['interval']} {W['lower']}", f"{T['interval']} {W['upper']}"
    rows = [{T["area"]: L.a(r.area_id), T["score"]: float(r.score), T["rank"]: int(r.rank),
             T["median"]: float(getattr(r, "median", np.nan)), lo: float(getattr(r, "q05", np.nan)),
             hi: float(getattr(r, "q95", np.nan)),
             T["grade"]: str(r.grade) if hasattr(r, "grade") and pd.notna(r.grade) else ""}
            for r in top.itertuples()]
    per = str(top["period"].iloc[0])[:7] if "period" in top.columns and len(top) else ""
    ww = arts.table("index", "weight_warnings.csv")
    warnings = [weight_warning_text(r, lang) for r in ww.itertuples()] if ww is not None else []
    title = f"{T['index']} {per}".strip()
    return [Sheet(T["index"], pd.DataFrame(rows), {T["score"]: "score", T["rank"]: "integer", T["median"]: "integer",
                                                   lo: "integer", hi: "integer"},
                  title=title, notes=[T["index_note"], *warnings])]


def _claims_sheet(arts: StudyOutputs, L: Labels, lang: str) -> list[Sheet]:
    T, W = TEXT[lang], WORKBOOK_TEXT[lang]
    cl = arts.table("claims", "claims_summary.csv")
    if cl is None:
        return []
    lo, hi = _bound(lang, 95, "lower"), _bound(lang, 95, "upper")
    rows = [{T["claim"]: f"{r.claim_id}: {L.a(r.area_id)} {L.c(r.category)}", T["reported"]: r.reported_change,
             T["observed"]: r.observed_change, W["effect"]: r.effect, lo: r.effect_lo95, hi: r.effect_hi95,
             T["verdict"]: r.verdict_zh if lang == "zh" else r.verdict_en}
            for r in cl.itertuples()]
    pct = {k: "percent" for k in (T["reported"], T["observed"], W["effect"], lo, hi)}
    return [Sheet(T["claims"], pd.DataFrame(rows), {**pct, T["claim"]: "wrap", T["verdict"]: "wrap"},
                  title=T["claims"])]


def _methods_sheets(arts: StudyOutputs, lang: str) -> list[Sheet]:
    """The methods note (one paragraph a row) and the backtest's accuracy per model and level."""
    T, W = TEXT[lang], WORKBOOK_TEXT[lang]
    paragraphs, tables = _methods(arts, T, lang)
    out = [Sheet(T["methods"], pd.DataFrame({T["methods"]: [str(p) for p in paragraphs]}), {T["methods"]: "wrap"},
                 title=T["methods"])]
    for t in tables:
        header = [str(h) for h in t["header"]]
        df = pd.DataFrame([list(r) for r in t["rows"]], columns=header)
        # the document's cells are text rounded for reading; here they are numbers again
        for c in header[2:]:
            df[c] = df[c].map(_num)
        kinds = {header[2]: "count", header[3]: "ratio", **{c: "percent" for c in header[4:]}}
        out.append(Sheet(W["backtest"], df, kinds, title=W["backtest"], notes=[paragraphs[1]] if len(paragraphs) > 1 else []))
    return out


def appendix_sheets(arts: StudyOutputs, *, lang: str = "zh", suppress_below: int | None = None,
                    root: Path | None = None, panel: IncidentPanel | None = None,
                    data: StudyData | None = None) -> list[Sheet]:
    """The appendix's sections as sheets (arguments as :func:`riskmodel.report.appendix.render_html`)."""
    if lang not in TEXT:
        raise InputError(Problem(f"unknown language {lang!r} for --lang; valid: zh, en"))
    T, W = TEXT[lang], WORKBOOK_TEXT[lang]
    sd = data if data is not None else study_data(arts, root or Path.cwd(), panel)
    L = Labels(sd.areas, sd.categories, lang)
    cfg_data = arts.config.get("data", {})
    simulated = ("sample" in str(cfg_data.get("counts", ""))
                 or "simulated" in arts.config.get("study", {}).get("description", "").lower())
    body = [*_forecast_sheets(arts, L, lang, suppress_below, sd), *_warnings_sheet(arts, L, lang, suppress_below),
            *_index_sheet(arts, L, lang), *_claims_sheet(arts, L, lang), *follow_up_sheets(arts, L, lang),
            *_methods_sheets(arts, lang)]
    rows = [(T["study"], arts.name), (T["run"], arts.run_id), (T["data"], source_label(str(cfg_data.get("counts", ""))))]
    # each sheet, with what it holds (its note, else its title)
    rows += [(f"{W['sheet']}: {s.name}", (s.notes[0] if s.notes else s.title) or s.name) for s in body]
    notes = ([T["simulated"]] if simulated else []) + ([T["suppressed"].format(n=suppress_below)] if suppress_below else [])
    overview = Sheet(W["overview"], pd.DataFrame(rows, columns=[W["item"], W["value"]]), {W["value"]: "wrap"},
                     title=f"{T['title']} – {arts.name}", notes=notes)
    return [overview, *body]


def workbook_created(arts: StudyOutputs) -> dt.datetime:
    """The workbook's creation date: the first forecast period (else 2000-01-01): from the study, not the clock."""
    fc = arts.table("forecast", "forecast.csv")
    if fc is not None and len(fc):
        first = pd.to_datetime(fc["period"], errors="coerce").min()
        if pd.notna(first) and first.year >= 1980:
            return pd.Timestamp(first).to_pydatetime()
    return dt.datetime(2000, 1, 1)


def appendix_workbook(arts: StudyOutputs, *, lang: str = "zh", suppress_below: int | None = None,
                      root: Path | None = None, panel: IncidentPanel | None = None,
                      data: StudyData | None = None) -> bytes:
    """The appendix's tables as ``.xlsx`` bytes: the same study gives the same bytes (see the module notes)."""
    sheets = appendix_sheets(arts, lang=lang, suppress_below=suppress_below, root=root, panel=panel, data=data)
    return xlsx_bytes(sheets, created=workbook_created(arts), lang=lang)


def write_appendix_workbook(arts: StudyOutputs, path: str | os.PathLike[str], **kwargs: object) -> Path:
    """Write :func:`appendix_workbook` to ``path``, whole or not at all (keywords as there)."""
    content = appendix_workbook(arts, **kwargs)  # type: ignore[arg-type]
    with atomic_path(path) as tmp:
        tmp.write_bytes(content)
    return Path(path)


def check_formats(formats: tuple[str, ...] | list[str], option: str = "--format") -> tuple[str, ...]:
    """The appendix formats, checked against :data:`FORMATS` (InputError listing them)."""
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise InputError(Problem(f"unknown format(s) {', '.join(bad)} for {option}; valid: {', '.join(FORMATS)}"))
    return tuple(formats)


def write_appendix(
    run_id: str,
    out_dir: str | os.PathLike[str],
    *,
    formats: tuple[str, ...] = ("html", "pdf"),
    lang: str = "zh",
    suppress_below: int | None = None,
    tracking_uri: str | None = None,
    root: Path | None = None,
    notes: list[str] | None = None,
) -> list[Path]:
    """Render the appendix of a tracked study run into ``out_dir`` (whole or not at all).

    The tracked run is downloaded once; ``appendix_<lang>.html``, ``.pdf`` and ``.xlsx`` (those in
    ``formats``) are written into ``out_dir`` together, and returned. ``notes`` (a list) receives a
    line when the study data could not be found (names, last year's figures and the fan charts'
    history then missing from the document).
    """
    check_formats(formats)
    if lang not in TEXT:
        raise InputError(Problem(f"unknown language {lang!r} for --lang; valid: zh, en"))
    written = []
    with tempfile.TemporaryDirectory() as d:
        arts = load_study(run_id, d, tracking_uri=tracking_uri)
        sd = study_data(arts, root or Path.cwd())
        if sd.areas is None and notes is not None:
            counts = source_label(str(arts.config.get("data", {}).get("counts", "")))
            notes.append(f"note: the study's data ({counts}) are not under {root or Path.cwd()} and the run did not log "
                         "the appendix's tables: areas are shown by code, without last year's figures "
                         "(give --root, the folder the study ran in)")
        with atomic_dir(out_dir) as tmp:
            if "html" in formats or "pdf" in formats:
                html = render_html(arts, lang=lang, suppress_below=suppress_below, root=root, data=sd)
                if "html" in formats:
                    (tmp / f"appendix_{lang}.html").write_text(html, encoding="utf-8")
                    written.append(Path(out_dir) / f"appendix_{lang}.html")
                if "pdf" in formats:
                    write_pdf(html, tmp / f"appendix_{lang}.pdf")
                    written.append(Path(out_dir) / f"appendix_{lang}.pdf")
            if "xlsx" in formats:
                (tmp / f"appendix_{lang}.xlsx").write_bytes(
                    appendix_workbook(arts, lang=lang, suppress_below=suppress_below, root=root, data=sd))
                written.append(Path(out_dir) / f"appendix_{lang}.xlsx")
    return written

