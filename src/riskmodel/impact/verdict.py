"""The verdict: one paragraph a non-statistician can read, in Chinese and English.

"The data show a fall of X% [a, b]; after city-wide change and trend, the
programme's effect is Y% [c, d]; ..." Percentages are of the expected count;
intervals are 95%. What the effect's interval lets one say (:data:`FINDINGS`,
the verdict's ``finding``):

``shows_effect``
    the interval excludes 0 and contains the reported figure: "consistent,
    and the data show an effect";
``cannot_tell``
    the interval contains 0: "the data cannot tell this change from no change
    (interval width X points)", whatever the reported figure (a reported
    figure inside it can be neither confirmed nor ruled out; one outside is
    said to be so as well);
``larger_than_effect``
    the reported fall lies beyond the interval (a fall larger than the
    programme's effect: the rest is city-wide change, trend or chance);
``smaller_than_effect``
    the reported figure lies on the other side of the interval (the
    estimated effect is larger than reported);
``effect_no_report``
    an effect without a reported figure to compare (the interval excludes 0);
``no_effect``
    no method could estimate the programme's effect.

Nothing non-finite is printed: an interval that is not finite is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskmodel.impact.registry import METHODS

#: Chinese and English names of the sample city's categories (others print as given).
CATEGORY_NAMES = {
    "alerts": ("违法犯罪警情", "illegal and criminal alerts"),
    "criminal_cases": ("刑事立案", "criminal cases filed"),
    "traffic_accidents": ("交通事故", "traffic accidents"),
    "fires": ("火灾", "fires"),
    "urban_management": ("城市管理事件", "urban-management events"),
    "hotline_12345": ("12345热线投诉", "12345 hotline complaints"),
    "disputes": ("矛盾纠纷", "disputes"),
    "production_safety": ("安全生产事故", "production-safety accidents"),
    "gun_cases": ("涉枪案件", "gun-related cases"),
}


#: The verdict's possible findings (module notes).
FINDINGS = ("shows_effect", "cannot_tell", "larger_than_effect", "smaller_than_effect", "effect_no_report",
            "no_effect")


def _en_change(x: float, lo: float, hi: float) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f"a change of {x:+.1%}"
    if lo < 0 and hi < 0:
        return f"a fall of {-x:.1%} [{-hi:.1%}, {-lo:.1%}]"
    if lo > 0 and hi > 0:
        return f"a rise of {x:.1%} [{lo:.1%}, {hi:.1%}]"
    return f"a change of {x:+.1%} [{lo:+.1%}, {hi:+.1%}]"


def _zh_change(x: float, lo: float, hi: float) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f"变化{x:+.1%}"
    if lo < 0 and hi < 0:
        return f"下降{-x:.1%}（95%区间：{-hi:.1%}～{-lo:.1%}）"
    if lo > 0 and hi > 0:
        return f"上升{x:.1%}（95%区间：{lo:.1%}～{hi:.1%}）"
    return f"变化{x:+.1%}（95%区间：{lo:+.1%}～{hi:+.1%}）"


def _en_single(x: float) -> str:
    return f"fall of {-x:.1%}" if x < 0 else f"rise of {x:.1%}"


def _zh_single(x: float) -> str:
    return f"下降{-x:.1%}" if x < 0 else f"上升{x:.1%}"


@dataclass
class Verdict:
    """The verdict in both languages, and the facts it rests on."""

    en: str
    zh: str
    consistent: bool | None
    reproduced: bool | None
    finding: str = "no_effect"
    """One of :data:`FINDINGS`."""

    def text(self) -> str:
        return f"{self.zh}\n\n{self.en}\n"


def make_verdict(
    *,
    area_zh: str,
    area_en: str,
    category: str,
    period_zh: str,
    period_en: str,
    observed: float,
    observed_lo: float,
    observed_hi: float,
    reported: float | None,
    reproduced: bool | None,
    effect: tuple[float, float, float] | None,
    method: str | None,
    with_controls: bool,
    checks: list[str] | None = None,
    checks_zh: list[str] | None = None,
    comparison_en: str = "",
    comparison_zh: str = "",
) -> Verdict:
    """Compose the verdict sentences.

    Parameters
    ----------
    observed, observed_lo, observed_hi : float
        Observed relative change (as the claim defines it) and its interval.
    reported : float, optional
        The reported relative change.
    reproduced : bool, optional
        Whether the data reproduce the reported figure to its precision.
    effect : (estimate, lo, hi), optional
        The programme effect of the primary method.
    method : str, optional
        The primary method's name; the verdict names it by its registered
        labels (:data:`riskmodel.impact.registry.METHODS`).
    with_controls : bool
        Whether the effect is net of city-wide change (comparison areas used).
    checks, checks_zh : list of str
        Extra warnings (placebo-in-time failure, regression to the mean,
        zeros riskmodel added in the windows).
    comparison_en, comparison_zh : str
        The chosen comparison series in words ("disputes in Z1"); empty: the
        areas at the same level ("city-wide change").

    Returns
    -------
    Verdict
        ``consistent``: the reported figure lies in the effect's interval
        (None without an effect or a reported figure); ``finding``: one of
        :data:`FINDINGS`.
    """
    cat_zh, cat_en = CATEGORY_NAMES.get(category, (category, category.replace("_", " ")))
    en = [f"{area_en}, {cat_en} ({period_en}): the data show {_en_change(observed, observed_lo, observed_hi)}"]
    zh = [f"{area_zh}{cat_zh}（{period_zh}）：数据显示{_zh_change(observed, observed_lo, observed_hi)}"]
    if reported is not None:
        if reproduced:
            en[-1] += f", which reproduces the reported {_en_single(reported)}."
            zh[-1] += f"，与报告的{_zh_single(reported)}相符。"
        else:
            inside = observed_lo <= reported <= observed_hi
            en[-1] += (f"; the reported {_en_single(reported)} is not reproduced exactly"
                       + (" but lies within the interval." if inside else " and lies outside the interval."))
            zh[-1] += (f"；报告的{_zh_single(reported)}与数据不完全相符"
                       + ("，但在区间之内。" if inside else "，且在区间之外。"))
    else:
        en[-1] += "."
        zh[-1] += "。"
    consistent = None
    finding = "no_effect"
    if effect is not None and all(np.isfinite(effect)):
        y, lo, hi = effect
        m_zh, m_en = METHODS.label(method or "", "zh"), METHODS.label(method or "", "en")
        rest_en = "city-wide change, trend or chance." if with_controls else "trend or chance."
        rest_zh = "全市共同变化、趋势或偶然波动。" if with_controls else "趋势或偶然波动。"
        if with_controls and comparison_en:
            en.append(f"Compared with {comparison_en}, and after trend, the programme's effect is "
                      f"{_en_change(y, lo, hi)} ({m_en}).")
            zh.append(f"与{comparison_zh}相比并扣除趋势后，项目本身的效果为{_zh_change(y, lo, hi)}（{m_zh}）。")
            rest_en = f"change shared with {comparison_en}, trend or chance."
            rest_zh = f"与{comparison_zh}共同的变化、趋势或偶然波动。"
        elif with_controls:
            en.append(f"After city-wide change and trend, the programme's effect is {_en_change(y, lo, hi)} ({m_en}).")
            zh.append(f"扣除全市共同变化和趋势后，项目本身的效果为{_zh_change(y, lo, hi)}（{m_zh}）。")
        else:
            en.append(f"Against the area's own trend and season (no comparison areas), the change beyond "
                      f"expectation is {_en_change(y, lo, hi)} ({m_en}).")
            zh.append(f"与本地区自身趋势和季节相比（无对照地区），超出预期的变化为{_zh_change(y, lo, hi)}（{m_zh}）。")
        cannot_tell = lo <= 0 <= hi
        width = (hi - lo) * 100
        if cannot_tell:
            en.append(f"The data cannot tell this change from no change (interval width {width:.1f} points).")
            zh.append(f"数据无法区分这一变化与无变化（区间宽度{width:.1f}个百分点）。")
        if reported is None:
            finding = "cannot_tell" if cannot_tell else "effect_no_report"
        else:
            consistent = bool(lo <= reported <= hi)
            if consistent and cannot_tell:
                finding = "cannot_tell"
                en.append(f"The reported {_en_single(reported)} lies within the interval, "
                          "but the data can neither confirm nor rule it out.")
                zh.append(f"报告的{_zh_single(reported)}在区间之内，但数据既不能证实也不能排除。")
            elif consistent:
                finding = "shows_effect"
                en.append(f"The reported {_en_single(reported)} is consistent with this, and the data show an effect.")
                zh.append(f"报告的{_zh_single(reported)}与此一致，且数据显示确有效果。")
            elif reported < lo and reported < 0:
                finding = "cannot_tell" if cannot_tell else "larger_than_effect"
                en.append(f"The reported {_en_single(reported)} is not consistent with this: "
                          "it is larger than the programme's effect, and the rest is " + rest_en)
                zh.append(f"报告的{_zh_single(reported)}与此不一致：降幅大于项目效果，其余部分来自" + rest_zh)
            elif reported > hi and reported > 0:
                finding = "cannot_tell" if cannot_tell else "larger_than_effect"
                en.append(f"The reported {_en_single(reported)} is not consistent with this: "
                          "it is larger than the programme's effect, and the rest is " + rest_en)
                zh.append(f"报告的{_zh_single(reported)}与此不一致：升幅大于项目效果，其余部分来自" + rest_zh)
            else:
                finding = "cannot_tell" if cannot_tell else "smaller_than_effect"
                en.append(f"The reported {_en_single(reported)} is not consistent with this: "
                          "the estimated effect is larger than reported.")
                zh.append(f"报告的{_zh_single(reported)}与此不一致：估计效果大于报告数字。")
    else:
        en.append("No method could estimate the programme's effect (see effects.csv).")
        zh.append("没有方法能估计项目效果（见 effects.csv）。")
    en += checks or []
    zh += checks_zh or []
    return Verdict(en=" ".join(en), zh="".join(zh), consistent=consistent, reproduced=reproduced, finding=finding)
