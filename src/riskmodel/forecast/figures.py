"""Fan charts: history and forecast with 80% and 95% intervals, one panel per category."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from riskmodel.plotting import use_cjk_font

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

FAN_TEXT = {
    "zh": {"observed": "实际数", "pi95": "95%预测区间", "pi80": "80%预测区间", "mean": "预测均值",
           "unit": {"D": "每日件数", "W": "每周件数", "M": "每月件数", "Y": "每年件数"}},
    "en": {"observed": "observed", "pi95": "95% interval", "pi80": "80% interval", "mean": "forecast mean",
           "unit": {"D": "incidents per day", "W": "incidents per week", "M": "incidents per month",
                    "Y": "incidents per year"}},
}
"""The fan chart's legend and axis labels in each language."""

# Chinese date ticks: 2021年, 03月 (ConciseDateFormatter's levels: year, month, day, hour, minute, second)
_ZH_FORMATS = ["%Y年", "%m月", "%d日", "%H:%M", "%H:%M", "%S.%f"]
_ZH_ZERO = ["", "%Y年", "%m月", "%m-%d", "%H:%M", "%H:%M"]
_ZH_OFFSET = ["", "%Y年", "%Y-%m", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"]


def fan_chart(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    area_id: str,
    title: str,
    freq: str,
    source: str = "",
    last: int = 36,
    lang: str = "en",
    category_names: Mapping[str, str] | None = None,
) -> plt.Figure:
    """Fan chart of one area: every category in its own panel.

    Parameters
    ----------
    history : DataFrame
        ``area_id, category, period, count`` (the area's observed counts).
    forecast : DataFrame
        ``area_id, category, period, mean, lo_80, hi_80, lo_95, hi_95``.
    area_id, title : str
    freq : {'D', 'W', 'M', 'Y'}
        For the axis label (incidents per day, week, month or year).
    last : int
        Periods of history to show.
    lang : {'en', 'zh'}
        Language of the legend, the axis label and the date ticks.
    category_names : mapping, optional
        Category code -> the panel's title (the code when absent).
    """
    use_cjk_font(required=False)
    text = FAN_TEXT["zh" if lang == "zh" else "en"]
    names = category_names or {}
    hist = history[history["area_id"] == area_id]
    fc = forecast[forecast["area_id"] == area_id]
    cats = sorted(fc["category"].unique())
    ncol = min(3, len(cats)) or 1
    nrow = math.ceil(len(cats) / ncol) or 1
    # here, not at the top: the appendix and a study's start import this module, and must not import matplotlib
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 2.8 * nrow), squeeze=False)
    for ax, cat in zip(axes.ravel(), cats, strict=False):
        h = hist[hist["category"] == cat].sort_values("period").tail(last)
        f = fc[fc["category"] == cat].sort_values("period")
        ax.plot(h["period"], h["count"], color="black", lw=1, label=text["observed"])
        if len(h):
            link = pd.concat([h[["period", "count"]].tail(1).rename(columns={"count": "mean"}), f[["period", "mean"]]])
        else:
            link = f[["period", "mean"]]
        ax.fill_between(f["period"], f["lo_95"], f["hi_95"], color="tab:blue", alpha=0.18, lw=0, label=text["pi95"])
        ax.fill_between(f["period"], f["lo_80"], f["hi_80"], color="tab:blue", alpha=0.35, lw=0, label=text["pi80"])
        ax.plot(link["period"], link["mean"], color="tab:blue", lw=1.5, label=text["mean"])
        ax.set_title(str(names.get(cat, cat)), fontsize=9)
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7)
        loc = mdates.AutoDateLocator(minticks=3, maxticks=7)
        ax.xaxis.set_major_locator(loc)
        if lang == "zh":
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(
                loc, formats=_ZH_FORMATS, zero_formats=_ZH_ZERO, offset_formats=_ZH_OFFSET))
        else:
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
        ax.set_ylabel(text["unit"][freq], fontsize=7)
    for ax in axes.ravel()[len(cats):]:
        ax.set_visible(False)
    axes.ravel()[0].legend(fontsize=6, loc="upper left")
    fig.suptitle(title, fontsize=11)
    if source:
        fig.text(0.01, 0.005, source, fontsize=6, color="0.35")
    fig.tight_layout(rect=(0, 0.02, 1, 0.96))
    return fig
