"""Figures of the data: counts per district over time (the study's overview).

Each figure states what it shows, the units, the period, the source and (for
intervals) the level, in Chinese and English where the labels allow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmodel.data.panel import IncidentPanel
from riskmodel.plotting import use_cjk_font

if TYPE_CHECKING:
    import matplotlib.pyplot as plt


def _label(panel: IncidentPanel, area_id: str, lang: str) -> str:
    t = panel.areas.set_index("area_id")
    if area_id not in t.index:
        return area_id
    zh = t.at[area_id, "name"] if "name" in t.columns else area_id
    en = t.at[area_id, "name_en"] if "name_en" in t.columns else area_id
    if lang == "en":
        return str(en)
    return f"{zh}" if lang == "zh" else f"{zh} {en}"


def counts_by_district(
    panel: IncidentPanel,
    *,
    level: str = "district",
    categories: list[str] | None = None,
    category_names: dict[str, str] | None = None,
    lang: str = "both",
    source: str = "",
    ncols: int = 3,
) -> plt.Figure:
    """Monthly counts per district over time, one small plot per category.

    Parameters
    ----------
    panel : IncidentPanel
        Any frequency finer than or equal to monthly; summed to months.
    level : str
        The area level to draw lines for ('district').
    category_names : dict, optional
        Display name per category code (e.g. Chinese names).
    lang : {'zh', 'en', 'both'}
    source : str
        Shown in the footnote (e.g. "simulated sample city").
    """
    use_cjk_font()
    p = panel if panel.freq == "M" else panel.resample("M")
    p = p.aggregate(level)
    cats = categories or p.categories
    nrows = -(-len(cats) // ncols)
    import matplotlib.pyplot as plt  # here, not at the top: a study's start imports this module

    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.9 * nrows), sharex=True, squeeze=False)
    wide = p.to_wide()
    for ax, cat in zip(axes.ravel(), cats, strict=False):
        for area in sorted({a for a, c in wide.columns if c == cat}):
            ax.plot(wide.index, wide[(area, cat)], lw=1.0, label=_label(panel, area, lang))
        title = (category_names or {}).get(cat, cat)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("件/月 per month" if lang != "en" else "per month", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(cats):]:
        ax.set_visible(False)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.025), ncol=min(len(labels), 5),
               fontsize=8, frameon=False)
    head = {"zh": "各区月度事件数", "en": "Monthly incidents per district", "both": "各区月度事件数 Monthly incidents per district"}[lang]
    per = f"{p.counts['period'].min():%Y-%m} – {p.counts['period'].max():%Y-%m}"
    fig.suptitle(f"{head}, {per}", fontsize=12)
    if source:
        fig.text(0.5, 0.004, f"数据来源 Source: {source}", fontsize=7, color="0.3", ha="center")
    fig.tight_layout(rect=(0, 0.08, 1, 0.96))
    return fig


__all__ = ["counts_by_district"]
