"""The appendix's figures are labelled in the document's language (issue 14, item 6)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from riskmodel.forecast.figures import fan_chart  # noqa: E402
from riskmodel.index.figures import rank_interval_chart  # noqa: E402
from riskmodel.plotting import use_cjk_font  # noqa: E402


def _texts(fig: plt.Figure) -> str:
    out = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return " | ".join(x for x in out if x)


@pytest.fixture
def fan_inputs():
    per = pd.date_range("2020-01-01", periods=24, freq="MS")
    hist = pd.DataFrame({"area_id": "D", "category": "fires", "period": per, "count": range(24)})
    fc = pd.DataFrame({"area_id": "D", "category": "fires", "period": pd.date_range("2022-01-01", periods=3, freq="MS"),
                       "mean": 10.0, "lo_80": 8.0, "hi_80": 12.0, "lo_95": 6.0, "hi_95": 14.0})
    return hist, fc


def test_a_chinese_fan_chart_has_chinese_labels_and_category_names(fan_inputs):
    if use_cjk_font(required=False) is None:
        pytest.skip("no CJK font installed")
    fig = fan_chart(*fan_inputs, "D", "标题", "M", lang="zh", category_names={"fires": "火灾"})
    text = _texts(fig)
    plt.close(fig)
    for want in ("火灾", "每月件数", "实际数", "80%预测区间", "预测均值"):
        assert want in text, (want, text)
    for english in ("fires", "incidents per", "observed", "forecast mean", "Jan"):
        assert english not in text, (english, text)


def test_an_english_fan_chart_keeps_its_labels(fan_inputs):
    fig = fan_chart(*fan_inputs, "D", "title", "M", lang="en", category_names={"fires": "fires (all)"})
    text = _texts(fig)
    plt.close(fig)
    for want in ("fires (all)", "incidents per month", "observed", "forecast mean"):
        assert want in text


def test_the_rank_chart_in_one_language():
    rs = pd.DataFrame({"area_id": ["A", "B"], "nominal": [1, 2], "median": [1.0, 2.0], "q05": [1.0, 1.0],
                       "q95": [2.0, 2.0], "name": ["Gongbei", "Jida"]})
    fig = rank_interval_chart(rs, n_replications=10, lang="en")
    text = _texts(fig)
    plt.close(fig)
    assert "Gongbei" in text and "rank (1 = safest)" in text and "10 replications" in text
    assert "名义" not in text and "区间" not in text
