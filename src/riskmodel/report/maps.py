"""The study's maps: index, rank change, forecast change, warnings and claims, per street.

Each function draws one domain map (a :func:`riskmodel.maps.choropleth`) from
what the appendix reads of a study -- the tables the steps published, or the
result objects those tables come from -- and the study's
:class:`~riskmodel.data.boundaries.AreaBoundaries`:

* :func:`index_score_map`, :func:`index_grade_map`, :func:`rank_change_map`:
  the index's top level in its latest period (``scores.csv`` of the index
  step, or an :class:`~riskmodel.index.build.IndexResult`);
* :func:`forecast_change_map`: next period's forecast (the sum of the
  categories' forecast means in the first forecast period) against the last
  observed period, per street (``forecast.csv`` and the appendix's
  ``history.csv``);
* :func:`warnings_map`: this period's warnings counted by street (the alerts
  step's ``alerts_warnings.csv``); a monitored street without a warning is 0;
* :func:`claim_map`: a claim's treated area, its comparison areas and the
  others (:func:`claim_comparison` says which they are).

Every map is in Chinese or English (``lang``), names its period, and its
source line names the boundaries' and the data's sources (and says
"simulated boundaries" for the sample city). The maps are drawn at the
streets' level: the boundaries of the areas whose ``level`` in the areas
table is ``"area"`` (all of them when there is no areas table); a claim on a
district is drawn as the streets under it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.data.boundaries import AreaBoundaries
from riskmodel.maps import OKABE_ITO, choropleth

MAP_TEXT = {
    "zh": {
        "score": "平安指数得分（{period}）", "score_legend": "得分（越高越平安）",
        "grade": "平安指数等级（{period}）", "grade_legend": "等级",
        "rank_change": "平安指数排名变化（{period}，较上期）", "rank_change_legend": "名次变化（正数为上升）",
        "forecast": "下期预测变化（{period}预测，较{last}实际）", "forecast_legend": "预测较上期变化",
        "warnings": "本期预警数（{period}）", "warnings_legend": "预警数（街镇，各类别合计）",
        "claim": "声明 {claim}：{area}（{category}）及对照地区", "claim_legend": "地区",
        "claim_alone": "声明 {claim}：{area}（{category}），无对照地区",
        "treated": "项目地区", "comparison": "对照地区", "other": "其他地区",
        "source": "边界：{b}；数据：{d}",
    },
    "en": {
        "score": "Ping'an index score ({period})", "score_legend": "Score (higher is safer)",
        "grade": "Ping'an index grade ({period})", "grade_legend": "Grade",
        "rank_change": "Ping'an index rank change ({period}, since the last period)",
        "rank_change_legend": "Places (positive: moved up)",
        "forecast": "Next period's forecast change ({period} forecast vs {last} observed)",
        "forecast_legend": "Forecast vs last period",
        "warnings": "This period's warnings ({period})", "warnings_legend": "Warnings (street, all categories)",
        "claim": "Claim {claim}: {area} ({category}) and its comparison areas", "claim_legend": "Area",
        "claim_alone": "Claim {claim}: {area} ({category}), no comparison areas",
        "treated": "treated area", "comparison": "comparison area", "other": "other areas",
        "source": "boundaries: {b}; data: {d}",
    },
}
"""The maps' words in each language."""

GRADE_COLOURS = ("#0072B2", "#56B4E9", "#F0E442", "#E69F00", "#D55E00")
"""Okabe & Ito colours of the grades, best first (blue to vermillion); more grades cycle the palette."""

STREET_LEVEL = "area"
"""The ``level`` of the streets (the hierarchy's bottom) in the areas table."""


def _lang(lang: str) -> str:
    return "zh" if lang == "zh" else "en"


def street_geometries(boundaries: AreaBoundaries, areas: pd.DataFrame | None = None,
                      level: str = STREET_LEVEL) -> dict[str, Any]:
    """The polygons of the areas of ``level`` (all polygons without an areas table, or when none is of it)."""
    geoms = dict(boundaries.geometries)
    if areas is None or "level" not in areas.columns:
        return geoms
    ids = set(areas.loc[areas["level"].astype(str) == level, "area_id"].astype(str))
    keep = {a: g for a, g in geoms.items() if a in ids}
    return keep or geoms


def _source(boundaries: AreaBoundaries, data_source: str, lang: str) -> str:
    return MAP_TEXT[lang]["source"].format(b=boundaries.source, d=data_source) if data_source else boundaries.source


def _pct(x: float) -> str:
    if abs(x) < 1e-12:
        return "0%"
    return f"{x * 100:+.3g}%".replace("-", "\u2212")


def _period(p: Any) -> str:  # noqa: ANN401 - a period as stored (text or timestamp)
    if p is None or (isinstance(p, float) and np.isnan(p)):
        return ""
    return str(pd.Timestamp(p).date()) if not isinstance(p, str) else p[:10]


def _period_label(p: Any, freq: str | None = None) -> str:  # noqa: ANN401
    s = _period(p)
    if freq in ("M", None) and len(s) >= 7 and s.endswith("-01"):
        return s[:7]
    return s


def index_top(scores: pd.DataFrame | Any, period: Any = None) -> tuple[pd.DataFrame, str]:  # noqa: ANN401
    """The index's top level in ``period`` (default the latest): rows per area, and the period's label.

    ``scores``: an :class:`~riskmodel.index.build.IndexResult` or its ``scores.csv`` (long:
    ``area_id, period, code, score, rank`` and ``grade``, ``rank_change`` when built).
    """
    if hasattr(scores, "index") and hasattr(scores, "spec"):
        top = scores.index.copy()
    else:
        top = scores[scores["code"] == "Index"].copy() if "code" in scores.columns else scores.copy()
    top["area_id"] = top["area_id"].astype(str)
    label = ""
    if "period" in top.columns and top["period"].notna().any():
        per = pd.to_datetime(top["period"])
        want = per.max() if period is None else pd.Timestamp(period)
        top = top[per == want]
        label = _period_label(want)
    return top.set_index("area_id"), label


def index_score_map(boundaries: AreaBoundaries, scores: pd.DataFrame | Any, *, lang: str = "zh",  # noqa: ANN401
                    names: Mapping[str, str] | None = None, areas: pd.DataFrame | None = None,
                    data_source: str = "", period: Any = None) -> Any:  # noqa: ANN401 - a Figure
    """The index score of each street (sequential classes, higher is safer)."""
    lang = _lang(lang)
    top, label = index_top(scores, period)
    t = MAP_TEXT[lang]
    return choropleth(street_geometries(boundaries, areas), top["score"].astype(float), kind="sequential",
                      labels=names, title=t["score"].format(period=label), legend_title=t["score_legend"],
                      source=_source(boundaries, data_source, lang), simulated=boundaries.simulated, lang=lang,
                      fmt="{:g}")


def index_grade_map(boundaries: AreaBoundaries, scores: pd.DataFrame | Any, *, lang: str = "zh",  # noqa: ANN401
                    names: Mapping[str, str] | None = None, areas: pd.DataFrame | None = None,
                    data_source: str = "", period: Any = None, grades: Iterable[str] | None = None) -> Any:  # noqa: ANN401
    """The index grade of each street (categorical; ``grades`` best first, default the grades present sorted).

    Raises
    ------
    ValueError
        The index has no grades (no ``grade`` column: the index config names none).
    """
    lang = _lang(lang)
    top, label = index_top(scores, period)
    if "grade" not in top.columns:
        raise ValueError("the index has no grades (its config's [ranks] grades is not set)")
    g = top["grade"].where(top["grade"].notna(), None)
    if grades is None and hasattr(scores, "config") and getattr(scores.config.ranks, "grades", None) is not None:
        grades = scores.config.ranks.grades.labels
    cats = list(grades) if grades is not None else sorted({str(x) for x in g.dropna()})
    cols = {c: GRADE_COLOURS[i] if i < len(GRADE_COLOURS) else OKABE_ITO[i % len(OKABE_ITO)] for i, c in enumerate(cats)}
    t = MAP_TEXT[lang]
    return choropleth(street_geometries(boundaries, areas), g.astype(object), kind="categorical", categories=cats,
                      colours=cols, labels=names, title=t["grade"].format(period=label),
                      legend_title=t["grade_legend"], source=_source(boundaries, data_source, lang),
                      simulated=boundaries.simulated, lang=lang)


def rank_change_map(boundaries: AreaBoundaries, scores: pd.DataFrame | Any, *, lang: str = "zh",  # noqa: ANN401
                    names: Mapping[str, str] | None = None, areas: pd.DataFrame | None = None,
                    data_source: str = "", period: Any = None) -> Any:  # noqa: ANN401 - a Figure
    """Places moved since the last period (``rank_change``: positive = up; diverging, blue up, red down).

    Raises
    ------
    ValueError
        The index has one period only (no ``rank_change``).
    """
    lang = _lang(lang)
    top, label = index_top(scores, period)
    if "rank_change" not in top.columns:
        raise ValueError("the index has no rank change (it has one period only)")
    t = MAP_TEXT[lang]
    return choropleth(street_geometries(boundaries, areas), top["rank_change"].astype(float), kind="diverging",
                      labels=names, title=t["rank_change"].format(period=label),
                      legend_title=t["rank_change_legend"], source=_source(boundaries, data_source, lang),
                      simulated=boundaries.simulated, lang=lang)


def forecast_change(forecast: pd.DataFrame, history: pd.DataFrame, level: str = STREET_LEVEL
                    ) -> tuple[pd.Series, str, str]:
    """Next period's forecast against the last observed period, per area of ``level``.

    Parameters
    ----------
    forecast : DataFrame
        ``area_id, level, category, period, mean`` (``forecast.csv``; ``level`` optional).
    history : DataFrame
        ``area_id, category, period, count``: observed counts at the forecast's frequency
        (the appendix's ``history.csv``).

    Returns
    -------
    change : Series
        ``area_id ->`` (sum over categories of the first forecast period's means) / (the same
        categories' counts in the last observed period before it) - 1; NaN where the
        observed total is 0 or missing.
    period, last : str
        The first forecast period and the last observed one (``YYYY-MM-DD``).
    """
    fc = forecast.assign(area_id=forecast["area_id"].astype(str), period=pd.to_datetime(forecast["period"]))
    if "level" in fc.columns and (fc["level"].astype(str) == level).any():
        fc = fc[fc["level"].astype(str) == level]
    first = fc["period"].min()
    f1 = fc[fc["period"] == first]
    h = history.assign(area_id=history["area_id"].astype(str), period=pd.to_datetime(history["period"]))
    h = h[(h["period"] < first) & h["area_id"].isin(set(f1["area_id"]))]
    if h.empty:
        return pd.Series(np.nan, index=sorted(set(f1["area_id"]))), _period(first), ""
    last = h["period"].max()
    h = h[h["period"] == last]
    obs = h.merge(f1[["area_id", "category"]], on=["area_id", "category"]).groupby("area_id")["count"].sum()
    pred = f1.groupby("area_id")["mean"].sum()
    obs = obs.reindex(pred.index)
    change = (pred / obs.where(obs > 0)) - 1
    return change.astype(float), _period(first), _period(last)


def forecast_change_map(boundaries: AreaBoundaries, forecast: pd.DataFrame, history: pd.DataFrame, *,
                        lang: str = "zh", names: Mapping[str, str] | None = None, areas: pd.DataFrame | None = None,
                        data_source: str = "", freq: str = "M") -> Any:  # noqa: ANN401 - a Figure
    """Next period's forecast change per street (:func:`forecast_change`; diverging, red = more incidents).

    A street whose last observed total is 0 has no relative change: it is "no data".
    """
    lang = _lang(lang)
    change, first, last = forecast_change(forecast, history)
    t = MAP_TEXT[lang]
    return choropleth(street_geometries(boundaries, areas), change, kind="diverging", reverse=True, fmt=_pct,
                      labels=names, title=t["forecast"].format(period=_period_label(first, freq),
                                                               last=_period_label(last, freq)),
                      legend_title=t["forecast_legend"], source=_source(boundaries, data_source, lang),
                      simulated=boundaries.simulated, lang=lang)


def warning_counts(warnings: pd.DataFrame, streets: Iterable[str]) -> pd.Series:
    """Warnings per street: the rows of ``warnings`` (this period's, one per street and category)
    counted by ``area_id``, 0 for every other street of ``streets`` (monitored, no warning)."""
    ids = sorted({str(a) for a in streets})
    if warnings is None or warnings.empty:
        return pd.Series(0.0, index=ids)
    n = warnings["area_id"].astype(str).value_counts()
    return n.reindex(sorted(set(ids) | set(n.index)), fill_value=0).astype(float)


def warnings_map(boundaries: AreaBoundaries, warnings: pd.DataFrame, *, lang: str = "zh",
                 names: Mapping[str, str] | None = None, areas: pd.DataFrame | None = None,
                 data_source: str = "", period: Any = None) -> Any:  # noqa: ANN401 - a Figure
    """This period's warnings counted by street (:func:`warning_counts`; sequential, 0 lightest)."""
    lang = _lang(lang)
    geoms = street_geometries(boundaries, areas)
    if period is None and warnings is not None and "period" in warnings.columns and len(warnings):
        period = warnings["period"].max()
    t = MAP_TEXT[lang]
    return choropleth(geoms, warning_counts(warnings, geoms), kind="sequential", labels=names,
                      title=t["warnings"].format(period=_period(period)), legend_title=t["warnings_legend"],
                      source=_source(boundaries, data_source, lang), simulated=boundaries.simulated, lang=lang)


def _peers(area_id: str, areas: pd.DataFrame | None) -> list[str]:
    if areas is None or "level" not in areas.columns:
        return []
    lv = dict(zip(areas["area_id"].astype(str), areas["level"].astype(str), strict=True))
    if area_id not in lv:
        return []
    return sorted(a for a, v in lv.items() if v == lv[area_id] and a != area_id)


def claim_comparison(claim: Any, areas: pd.DataFrame | None = None) -> list[str]:  # noqa: ANN401
    """A claim's comparison areas.

    ``claim``: an :class:`~riskmodel.impact.evaluate.Evaluation` (the areas of its comparison
    series), a :class:`~riskmodel.impact.claims.Claim` (its chosen ``controls`` areas; none when
    it compares other categories of the same area; else, as the evaluation does by default, the
    areas at the treated area's level), or a row of ``claims_summary.csv`` (its
    ``comparison_areas``, ``;``- or ``,``-separated, when the table has them; else the default).
    """
    series = getattr(claim, "series", None)
    if series is not None and hasattr(series, "controls"):
        return [str(c) for c in series.controls.columns if "/" not in str(c)]
    area = str(claim["area_id"] if isinstance(claim, Mapping | pd.Series) else claim.area_id)
    ctl = getattr(claim, "controls", None)
    if ctl is not None and not ctl.empty:
        return [str(a) for a in ctl.areas]
    if isinstance(claim, Mapping | pd.Series):
        given = claim.get("comparison_areas")
        if isinstance(given, str) and given.strip():
            return [a.strip() for a in given.replace(";", ",").split(",") if a.strip()]
    return _peers(area, areas)


def _under(area_id: str, geoms: Mapping[str, Any], areas: pd.DataFrame | None) -> list[str]:
    """The mapped areas an area stands for: itself, else the mapped areas under it in the hierarchy."""
    if area_id in geoms:
        return [area_id]
    if areas is None or "parent_id" not in areas.columns:
        return []
    kids: dict[str, list[str]] = {}
    for a, p in zip(areas["area_id"].astype(str), areas["parent_id"], strict=True):
        if pd.notna(p):
            kids.setdefault(str(p), []).append(a)
    out, todo = [], [area_id]
    while todo:
        a = todo.pop()
        for k in kids.get(a, []):
            (out.append(k) if k in geoms else todo.append(k))
    return sorted(out)


def claim_map(boundaries: AreaBoundaries, area_id: str, comparison: Iterable[str], *, lang: str = "zh",
              names: Mapping[str, str] | None = None, areas: pd.DataFrame | None = None, data_source: str = "",
              claim_id: str = "", category: str = "") -> Any:  # noqa: ANN401 - a Figure
    """A claim's treated area (filled and outlined), its comparison areas (filled) and the others (plain).

    ``comparison``: the comparison areas (:func:`claim_comparison`). A district is drawn as the
    streets under it. The title names the claim, the area and the category (names as given).
    """
    lang = _lang(lang)
    t = MAP_TEXT[lang]
    geoms = street_geometries(boundaries, areas)
    treated = _under(str(area_id), geoms, areas)
    comp = [a for c in comparison for a in _under(str(c), geoms, areas) if a not in treated]
    role = pd.Series(t["other"], index=sorted(geoms), dtype=object)
    role[comp] = t["comparison"]
    role[treated] = t["treated"]
    cats = [c for c in (t["treated"], t["comparison"], t["other"]) if (role == c).any() or c == t["treated"]]
    cols = {t["treated"]: "#D55E00", t["comparison"]: "#56B4E9", t["other"]: "#f7f7f7"}
    area_name = (names or {}).get(str(area_id), str(area_id))
    return choropleth(geoms, role, kind="categorical", categories=cats, colours=cols, labels=names,
                      highlight={a: t["treated"] for a in treated},
                      title=t["claim" if comp else "claim_alone"].format(claim=claim_id, area=area_name,
                                                                         category=category),
                      legend_title=t["claim_legend"], source=_source(boundaries, data_source, lang),
                      simulated=boundaries.simulated, lang=lang)




PAGE_TEXT = {
    "zh": {"index": "平安指数地图", "forecast": "预测地图", "warnings": "预警地图", "claims": "成效声明地区图",
           "note": "地图按街镇绘制；边界来源：{b}。{sim}灰色斜线为无数据的地区。",
           "simulated": "边界为模拟边界，不代表真实行政区划。"},
    "en": {"index": "Ping'an index maps", "forecast": "Forecast map", "warnings": "Warnings map",
           "claims": "Claims' areas", "note": "Maps by street; boundaries: {b}. {sim}Grey hatching: no data.",
           "simulated": "The boundaries are simulated and are not real administrative boundaries. "},
}
"""Titles and the note of the appendix's map pages."""


def appendix_maps(boundaries: AreaBoundaries, *, lang: str = "zh", names: Mapping[str, str] | None = None,
                  category_names: Mapping[str, str] | None = None, areas: pd.DataFrame | None = None,
                  scores: pd.DataFrame | None = None, forecast: pd.DataFrame | None = None,
                  history: pd.DataFrame | None = None, warnings: pd.DataFrame | None = None,
                  claims: pd.DataFrame | None = None, claim_objects: Mapping[str, Any] | None = None,
                  data_source: str = "", freq: str = "M", grades: Iterable[str] | None = None) -> dict[str, list[Any]]:
    """The appendix's maps per section, as figures: ``{"index": [...], "forecast": [...],
    "warnings": [...], "claims": [...]}`` (a section whose table is None has no entry).

    ``index``: score, grade (when graded; ``grades``: the config's, best first, else those present)
    and rank change (when there is an earlier period);
    ``forecast``: :func:`forecast_change_map` (needs ``history``); ``warnings``: :func:`warnings_map`;
    ``claims``: one :func:`claim_map` per treated area and set of comparison areas (claims on the
    same area share a map; their ids in its title). ``claim_objects``: ``claim_id ->`` a
    :class:`~riskmodel.impact.claims.Claim` (its chosen comparison areas), else the summary's row.
    The caller closes the figures.
    """
    lang = _lang(lang)
    kw = {"lang": lang, "names": names, "areas": areas, "data_source": data_source}
    out: dict[str, list[Any]] = {}
    if scores is not None and len(scores):
        top, _ = index_top(scores)
        figs = [index_score_map(boundaries, scores, **kw)]
        if "grade" in top.columns and top["grade"].notna().any():
            present = {str(x) for x in top["grade"].dropna()}
            known = list(grades) if grades is not None and present <= set(map(str, grades)) else None
            figs.append(index_grade_map(boundaries, scores, grades=known, **kw))
        if "rank_change" in top.columns and top["rank_change"].notna().any():
            figs.append(rank_change_map(boundaries, scores, **kw))
        out["index"] = figs
    if forecast is not None and history is not None and len(forecast):
        out["forecast"] = [forecast_change_map(boundaries, forecast, history, freq=freq, **kw)]
    if warnings is not None:
        out["warnings"] = [warnings_map(boundaries, warnings, **kw)]
    if claims is not None and len(claims):
        groups: dict[tuple[str, tuple[str, ...]], list[tuple[str, str]]] = {}
        for _, r in claims.iterrows():
            c = (claim_objects or {}).get(str(r["claim_id"]), r)
            comp = tuple(claim_comparison(c, areas))
            groups.setdefault((str(r["area_id"]), comp), []).append((str(r["claim_id"]), str(r["category"])))
        cats = category_names or {}
        sep = "、" if lang == "zh" else ", "
        out["claims"] = [
            claim_map(boundaries, area, comp, claim_id=", ".join(i for i, _ in members),
                      category=sep.join(dict.fromkeys(cats.get(c, c) for _, c in members)), **kw)
            for (area, comp), members in groups.items()
        ]
    return out


def page_note(boundaries: AreaBoundaries, lang: str = "zh") -> str:
    """The note under a map page's title: the level, the boundaries' source, simulated or not, no data."""
    t = PAGE_TEXT[_lang(lang)]
    return t["note"].format(b=boundaries.source, sim=t["simulated"] if boundaries.simulated else "")


__all__ = [
    "GRADE_COLOURS", "MAP_TEXT", "PAGE_TEXT", "STREET_LEVEL", "appendix_maps", "claim_comparison", "claim_map",
    "forecast_change", "forecast_change_map", "index_grade_map", "index_score_map", "index_top", "page_note",
    "rank_change_map", "street_geometries", "warning_counts", "warnings_map",
]
