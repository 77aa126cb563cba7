"""Feature builders: known answers on small panels, and no leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.errors import InputError
from riskmodel.features import (
    CategoryMix,
    FeatureBuilder,
    HolidayFeatures,
    LagFeatures,
    RateFeatures,
    RollingFeatures,
    SpatialLag,
    TrendFourier,
    YearOnYear,
    period_calendar,
)


def _series(df: pd.DataFrame, a: str, k: str, col: str) -> np.ndarray:
    return df[(df.area_id == a) & (df.category == k)].sort_values("period")[col].to_numpy()


def _raw(panel, a: str, k: str) -> np.ndarray:
    c = panel.counts
    return c[(c.area_id == a) & (c.category == k)].sort_values("period")["count"].to_numpy().astype(float)


def test_lags_and_rolling_known_values(make_panel):
    p = make_panel()
    y = _raw(p, "A", "thefts")
    f = LagFeatures(lags=(1, 12)).fit(p).transform(p)
    np.testing.assert_array_equal(_series(f, "A", "thefts", "lag_1")[1:], y[:-1])
    np.testing.assert_array_equal(_series(f, "A", "thefts", "lag_12")[12:], y[:-12])
    assert np.isnan(_series(f, "A", "thefts", "lag_12")[:12]).all()
    r = RollingFeatures(windows=(3, 12)).fit(p).transform(p)
    m3 = _series(r, "A", "thefts", "roll_mean_3")
    assert m3[3] == pytest.approx(y[0:3].mean())
    assert m3[20] == pytest.approx(y[17:20].mean())
    ratio = _series(r, "A", "thefts", "roll_ratio_3_12")
    assert ratio[20] == pytest.approx(y[17:20].mean() / y[8:20].mean())
    g2 = RollingFeatures(windows=(3,), gap=2).fit(p).transform(p)
    assert _series(g2, "A", "thefts", "roll_mean_3")[20] == pytest.approx(y[16:19].mean())


def test_year_on_year_rate_spatial_mix(make_panel):
    p = make_panel()
    y = _raw(p, "B", "thefts")
    yoy = _series(YearOnYear().fit(p).transform(p), "B", "thefts", "yoy_change")
    assert yoy[24] == pytest.approx(y[12:24].sum() / y[0:12].sum() - 1)
    assert np.isnan(yoy[:24]).all()
    rate = _series(RateFeatures().fit(p).transform(p), "B", "thefts", "rate_lag1")
    assert rate[13] == pytest.approx(y[12] / 22000 * 10000)  # Jan 2019 count, 2019 population
    assert rate[12] == pytest.approx(y[11] / 20000 * 10000)  # Dec 2018 count, 2018 population
    sp = SpatialLag(window=3).fit(p).transform(p)
    yA, yC = _raw(p, "A", "fires"), _raw(p, "C", "fires")
    # B's neighbours are A and C (pairs are symmetric)
    assert _series(sp, "B", "fires", "nb_mean_lag1")[5] == pytest.approx((yA[4] + yC[4]) / 2)
    assert _series(sp, "C", "fires", "nb_mean_3")[5] == pytest.approx(_raw(p, "B", "fires")[2:5].mean())
    mix = CategoryMix(window=12).fit(p).transform(p)
    f, t = _raw(p, "A", "fires"), _raw(p, "A", "thefts")
    assert _series(mix, "A", "fires", "category_share")[15] == pytest.approx(f[3:15].sum() / (f[3:15].sum() + t[3:15].sum()))


def test_calendar_counts_spring_festival_and_makeup_days(make_panel):
    cal = period_calendar(pd.date_range("2020-01-01", periods=3, freq="MS"), "M")
    # January 2020: Spring Festival 24-31 Jan off (8 days here, incl. extension), 19 Jan a make-up workday
    assert cal.loc["2020-01-01", "days"] == 31
    assert cal.loc["2020-01-01", "makeup_workdays"] == 1
    assert cal.loc["2020-01-01", "spring_festival"] >= 7
    assert cal.loc["2020-03-01", "holidays"] == 0
    wk = period_calendar(pd.DatetimeIndex(["2019-09-30"]), "W")  # National Day week 2019
    assert wk.iloc[0]["days"] == 7 and wk.iloc[0]["holidays"] >= 5
    old = period_calendar(pd.DatetimeIndex(["2001-01-01"]), "M")
    assert old.iloc[0]["calendar_known"] == 0


def test_builder_joins_all_and_checks_gap(make_panel):
    p = make_panel()
    df = FeatureBuilder().fit(p).transform(p)
    assert len(df) == 6 * 30
    for col in ("count", "lag_1", "roll_mean_12", "yoy_change", "trend", "sin_1", "holidays",
                "category_share", "rate_lag1", "nb_mean_lag1"):
        assert col in df.columns
    with pytest.raises(InputError, match="gap"):
        LagFeatures(gap=0).fit(p).transform(p)


def test_trend_fourier_and_holidays_are_deterministic_and_known_ahead(make_panel):
    p = make_panel()
    tf = TrendFourier(order=2).fit(p).transform(p)
    jan = tf[tf.period.dt.month == 1]
    assert np.allclose(jan["sin_1"], 0.0) and np.allclose(jan["cos_1"], 1.0)
    hol = HolidayFeatures().fit(p).transform(p)
    assert set(hol.area_id) == {"A", "B", "C"}
