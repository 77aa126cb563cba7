"""Fan charts: history and forecast with 80% and 95% intervals, one panel per category."""

from __future__ import annotations

import math

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd

from riskmodel.plotting import use_cjk_font


def fan_chart(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    area_id: str,
    title: str,
    freq: str,
    source: str = "",
    last: int = 36,
) -> plt.Figure:
    """Fan chart of one area: every category in its own panel.

    Parameters
    ----------
    history : DataFrame
        ``area_id, category, period, count`` (the area's observed counts).
    forecast : DataFrame
        ``area_id, category, period, mean, lo_80, hi_80, lo_95, hi_95``.
    area_id, title : str
    freq : {'D', 'W', 'M'}
        For the axis label (incidents per day, week or month).
    last : int
        Periods of history to show.
    """
    use_cjk_font(required=False)
    hist = history[history["area_id"] == area_id]
    fc = forecast[forecast["area_id"] == area_id]
    cats = sorted(fc["category"].unique())
    ncol = min(3, len(cats)) or 1
    nrow = math.ceil(len(cats) / ncol) or 1
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 2.8 * nrow), squeeze=False)
    unit = {"D": "day", "W": "week", "M": "month"}[freq]
    for ax, cat in zip(axes.ravel(), cats, strict=False):
        h = hist[hist["category"] == cat].sort_values("period").tail(last)
        f = fc[fc["category"] == cat].sort_values("period")
        ax.plot(h["period"], h["count"], color="black", lw=1, label="observed")
        if len(h):
            link = pd.concat([h[["period", "count"]].tail(1).rename(columns={"count": "mean"}), f[["period", "mean"]]])
        else:
            link = f[["period", "mean"]]
        ax.fill_between(f["period"], f["lo_95"], f["hi_95"], color="tab:blue", alpha=0.18, lw=0, label="95% interval")
        ax.fill_between(f["period"], f["lo_80"], f["hi_80"], color="tab:blue", alpha=0.35, lw=0, label="80% interval")
        ax.plot(link["period"], link["mean"], color="tab:blue", lw=1.5, label="forecast mean")
        ax.set_title(cat, fontsize=9)
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7)
        loc = mdates.AutoDateLocator(minticks=3, maxticks=7)
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
        ax.set_ylabel(f"incidents per {unit}", fontsize=7)
    for ax in axes.ravel()[len(cats):]:
        ax.set_visible(False)
    axes.ravel()[0].legend(fontsize=6, loc="upper left")
    fig.suptitle(title, fontsize=11)
    if source:
        fig.text(0.01, 0.005, source, fontsize=6, color="0.35")
    fig.tight_layout(rect=(0, 0.02, 1, 0.96))
    return fig
