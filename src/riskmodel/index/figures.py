"""The rank-interval chart: nominal rank, median and 5-95% interval per area.

Chinese names are drawn with the CJK font found by
:func:`riskmodel.plotting.use_cjk_font`; when no such font is installed the
chart falls back to the area codes, so it never shows boxes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from riskmodel.plotting import use_cjk_font

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _cjk() -> bool:
    return use_cjk_font(required=False) is not None


def rank_interval_chart(
    rank_stats: pd.DataFrame,
    *,
    title: str = "",
    n_replications: int | None = None,
    n_failed: int = 0,
    period: str = "",
    source: str = "",
    factors: str = "",
    lang: str = "both",
) -> Figure:
    """Horizontal rank intervals, best nominal rank at the top.

    Parameters
    ----------
    rank_stats : DataFrame
        ``area_id, nominal, median, q05, q95`` and optionally ``name``.
    lang : {"both", "zh", "en"}
        Labels in Chinese and English (default), or in one language only; with ``en`` or ``zh`` the
        areas are labelled by ``name`` alone (give the names in that language).
    """
    if lang in ("zh", "en"):
        return _one_language(rank_stats, title=title, n_replications=n_replications, n_failed=n_failed,
                             period=period, lang=lang)
    cjk = _cjk()
    rs = rank_stats.sort_values("nominal", ascending=True).reset_index(drop=True)
    labels = [
        f"{r.name} {r.area_id}" if cjk and "name" in rs.columns and isinstance(r.name, str) and r.name != r.area_id
        else str(r.area_id)
        for r in rs.itertuples(index=False)
    ]
    n = len(rs)
    import matplotlib.pyplot as plt  # here, not at import: `riskmodel index` starts faster

    fig, ax = plt.subplots(figsize=(7.5, max(3.0, 0.22 * n + 1.6)))
    y = range(n)
    ax.hlines(y, rs["q05"], rs["q95"], color="#4477aa", lw=3, alpha=0.6,
              label="5-95% 区间 interval" if cjk else "5-95% interval")
    ax.plot(rs["median"], y, "o", color="#4477aa", ms=4, label="中位数 median" if cjk else "median")
    ax.plot(rs["nominal"], y, "x", color="#cc3311", ms=6, label="名义排名 nominal" if cjk else "nominal rank")
    ax.set_yticks(list(y))
    ax.set_yticklabels(labels, fontsize=7 if n > 30 else 8)
    ax.invert_yaxis()
    ax.set_xlabel("排名 rank (1 = 最平安 safest)" if cjk else "rank (1 = best)")
    ax.set_xlim(0.5, max(float(rs["q95"].max()), float(rs["nominal"].max())) + 0.5)
    head = title or ("指数排名不确定性 Index rank uncertainty" if cjk else "Index rank uncertainty")
    ax.set_title(head, fontsize=10)
    note = []
    if n_replications is not None:
        note.append(f"Monte Carlo, {n_replications} replications ({n_failed} failed)")
    if period:
        note.append(f"period {period}")
    if factors:
        note.append(factors)
    if source:
        note.append(f"source: {source}")
    if note:
        fig.text(0.01, 0.005, "; ".join(note), fontsize=6.5, ha="left", va="bottom", wrap=True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


_TEXT = {
    "zh": {"interval": "5%–95%区间", "median": "中位数", "nominal": "名义排名", "axis": "排名（1 = 最平安）",
           "title": "指数排名不确定性", "mc": "蒙特卡罗模拟 {n} 次（失败 {f} 次）", "period": "时期 {p}"},
    "en": {"interval": "5%-95% interval", "median": "median", "nominal": "nominal rank", "axis": "rank (1 = safest)",
           "title": "Index rank uncertainty", "mc": "Monte Carlo, {n} replications ({f} failed)", "period": "period {p}"},
}


def _one_language(rank_stats: pd.DataFrame, *, title: str, n_replications: int | None, n_failed: int, period: str,
                  lang: str) -> Figure:
    """The rank-interval chart labelled in ``lang`` only (the appendix's figure)."""
    if not _cjk() and lang == "zh":
        lang = "en"  # no CJK font: English labels rather than boxes
    t = _TEXT[lang]
    rs = rank_stats.sort_values("nominal", ascending=True).reset_index(drop=True)
    names = rs["name"].astype(str) if "name" in rs.columns else rs["area_id"].astype(str)
    n = len(rs)
    import matplotlib.pyplot as plt  # here, not at import: `riskmodel index` starts faster

    fig, ax = plt.subplots(figsize=(7.5, max(3.0, 0.22 * n + 1.6)))
    y = range(n)
    ax.hlines(y, rs["q05"], rs["q95"], color="#4477aa", lw=3, alpha=0.6, label=t["interval"])
    ax.plot(rs["median"], y, "o", color="#4477aa", ms=4, label=t["median"])
    ax.plot(rs["nominal"], y, "x", color="#cc3311", ms=6, label=t["nominal"])
    ax.set_yticks(list(y))
    ax.set_yticklabels(list(names), fontsize=7 if n > 30 else 8)
    ax.invert_yaxis()
    ax.set_xlabel(t["axis"])
    ax.set_xlim(0.5, max(float(rs["q95"].max()), float(rs["nominal"].max())) + 0.5)
    ax.set_title(title or t["title"], fontsize=10)
    note = []
    if n_replications is not None:
        note.append(t["mc"].format(n=n_replications, f=n_failed))
    if period:
        note.append(t["period"].format(p=period))
    if note:
        fig.text(0.01, 0.005, ("；" if lang == "zh" else "; ").join(note), fontsize=6.5, ha="left", va="bottom")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig
