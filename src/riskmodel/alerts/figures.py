"""Figures of warnings: one series' counts against its expected level and alarm threshold."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from riskmodel.plotting import use_cjk_font

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

SEVERITY_RANK = {"red": 2, "orange": 1, "yellow": 0}


def flagged_series(eps: pd.DataFrame, n_max: int) -> list[tuple[str, str]]:
    """(area_id, category) of the series with episodes, the most severe first, at most ``n_max``."""
    if eps.empty or n_max <= 0:
        return []
    order = eps.assign(_r=eps["severity"].map(SEVERITY_RANK)).sort_values(["_r", "max_score"], ascending=False)
    return list(order[["area_id", "category"]].drop_duplicates().head(n_max).itertuples(index=False, name=None))


LABELS = {
    "en": {"count": "count", "expected": "expected", "upper": "alarm threshold", "alarm": "alarm",
           "title": "{area} ({code}) - {category}: incidents per period, {method}", "y": "incidents per period",
           "source": "Source: study counts; shaded: recent periods. Threshold: the method's upper bound."},
    "zh": {"count": "计数", "expected": "期望", "upper": "预警阈值", "alarm": "预警",
           "title": "{area}（{code}）- {category}：每期件数，{method}", "y": "每期件数",
           "source": "来源：研究计数；阴影：近期各期。阈值：方法的上界。"},
}
"""The figure's words in each language."""


def alarm_figure(table: pd.DataFrame, area_id: str, category: str, *, areas: pd.DataFrame,
                 window_start: pd.Timestamp, method: str, lang: str = "en",
                 category_name: str | None = None) -> plt.Figure:
    """One series: counts, expected, the alarm threshold and the alarms, with the recent periods shaded.

    Parameters
    ----------
    table : DataFrame
        A detection table (:data:`riskmodel.alerts.detect.COLUMNS`).
    areas : DataFrame
        The areas table (``name``, ``name_en`` label the area when present).
    window_start : Timestamp
        First of the recent periods (shaded); the year before it is shown too.
    method : str
        The detector, for the title (its label in ``lang``).
    lang : {'en', 'zh'}
        The language of every word on the figure (the area's ``name`` for zh, ``name_en`` for en).
    category_name : str, optional
        The category's name in ``lang`` (default: its code).
    """
    use_cjk_font(required=False)
    names = areas.set_index("area_id")
    show_from = pd.Timestamp(window_start) - pd.Timedelta(days=7 * 52)
    a, c = area_id, category
    s = table[(table["area_id"] == a) & (table["category"] == c) & (table["period"] >= show_from)]
    import matplotlib.pyplot as plt  # here, not at the top: a study's start imports this module

    fig, ax = plt.subplots(figsize=(8, 3.2))
    w = LABELS["zh" if lang == "zh" else "en"]
    ax.step(s["period"], s["count"].astype(float), where="mid", color="0.2", lw=1, label=w["count"])
    ax.plot(s["period"], s["expected"], color="tab:blue", lw=1, label=w["expected"])
    ax.step(s["period"], s["upperbound"], where="mid", color="tab:orange", lw=1, label=w["upper"])
    al = s[s["alarm"]]
    ax.scatter(al["period"], al["count"].astype(float), color="tab:red", zorder=3, s=18, label=w["alarm"])
    ax.axvspan(pd.Timestamp(window_start), s["period"].max(), color="0.9", zorder=0)
    col = "name" if lang == "zh" else "name_en"
    nm = names.at[a, col] if col in names.columns and a in names.index and pd.notna(names.at[a, col]) else a
    ax.set_title(w["title"].format(area=nm, code=a, category=category_name or c, method=method), fontsize=9)
    ax.set_ylabel(w["y"])
    ax.legend(fontsize=7, loc="upper left")
    fig.text(0.01, 0.01, w["source"], fontsize=6)
    fig.tight_layout()
    return fig


__all__ = ["LABELS", "SEVERITY_RANK", "alarm_figure", "flagged_series"]
