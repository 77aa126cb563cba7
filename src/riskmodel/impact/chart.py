"""Chart of an evaluation: observed counts against the counterfactual."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from riskmodel.impact.registry import METHODS
from riskmodel.impact.verdict import CATEGORY_NAMES
from riskmodel.plotting import use_cjk_font

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def observed_vs_counterfactual(ev: Any, lang: str = "en") -> Figure:  # noqa: ANN401 - an Evaluation
    """Observed counts per period, the primary method's counterfactual (with its
    95% band where the method has one), the intervention date and the
    comparison period shaded.

    Parameters
    ----------
    ev : riskmodel.impact.evaluate.Evaluation
    lang : {'en', 'zh'}
        Labels' language (Chinese needs a CJK font; falls back to English).
    """
    import matplotlib.pyplot as plt  # here, not at import: `riskmodel claim` starts faster

    if lang == "zh" and use_cjk_font(required=False) is None:
        lang = "en"
    fig, ax = plt.subplots(figsize=(9, 4.2))
    ss = ev.series
    cut = ss.counts.loc[: ev.comparison[1]]
    ax.plot(cut.index, cut.values, color="black", lw=1.2, label="observed" if lang == "en" else "实际")
    r = ev.result(ev.primary) if ev.primary else None
    if r is not None and "series" in r.tables:
        t = r.tables["series"]
        cf = "synthetic" if "synthetic" in t.columns else "counterfactual"
        name = METHODS.label(r.method, "zh" if lang == "zh" else "en")
        ax.plot(t["period"], t[cf], color="tab:blue", lw=1.2, ls="--",
                label=(f"counterfactual ({name})" if lang == "en" else f"反事实（{name}）"))
        if "counterfactual_lo" in t.columns:
            ax.fill_between(t["period"], t["counterfactual_lo"], t["counterfactual_hi"], color="tab:blue",
                            alpha=0.2, lw=0, label="95% interval" if lang == "en" else "95%区间")
    ax.axvline(ev.intervention, color="tab:red", lw=1, label="intervention" if lang == "en" else "干预开始")
    ax.axvspan(ev.comparison[0], ev.comparison[1], color="tab:orange", alpha=0.12,
               label="comparison period" if lang == "en" else "比较期")
    zh, en = CATEGORY_NAMES.get(ev.category, (ev.category, ev.category))
    unit = {"M": "month", "W": "week", "D": "day", "Y": "year"}[ss.freq]
    a_zh, a_en = (n or ev.area_id for n in ev.area_names)
    eff = ""
    if r is not None:
        eff = f"{r.estimate:+.1%} [{r.lo:+.1%}, {r.hi:+.1%}]"
    value = ev.design is not None and ev.design.outcome == "value"  # a rate or score, not a count
    if lang == "zh":
        u = {"month": "月", "week": "周", "day": "日", "year": "年"}[unit]
        what = f"每{u}数值" if value else f"每{u}计数"
        ax.set_title(f"{a_zh}{zh}：实际与反事实（{what}）\n比较期项目效果 {eff}（95%区间）", fontsize=10)
        ax.set_ylabel(what)
    else:
        what = f"{en}, value per {unit}" if value else f"count per {unit}"
        ax.set_title(f"{a_en}, {en}: observed vs counterfactual ({what})\n"
                     f"programme effect over the comparison period {eff} (95% interval)", fontsize=10)
        ax.set_ylabel(what)
    ax.legend(loc="best", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
