"""Interval calibration per area level (riskmodel.forecast.calibrate) and the coverage table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from riskmodel.data.panel import IncidentPanel
from riskmodel.data.wide import WidePanel
from riskmodel.forecast import Forecast, Forecaster
from riskmodel.forecast.calibrate import apply_factors, best_factor, coverage_table
from riskmodel.forecast.result import probs_for

from .test_registry_contract import AREAS, small_counts


def test_best_factor_recovers_how_much_too_wide_an_interval_is():
    # y ~ N(1000, 30^2) (as counts); the interval ends of N(1000, 60^2): twice too wide -> factor 0.5
    rng = np.random.default_rng(0)
    y = np.round(rng.normal(1000, 30, 4000))
    med = np.full_like(y, 1000.0)
    lo, hi = med + 60 * stats.norm.ppf(0.1), med + 60 * stats.norm.ppf(0.9)
    assert best_factor(y, med, lo, hi, 0.1) == pytest.approx(0.5, abs=0.05)
    # right as they are: factor 1
    lo1, hi1 = med + 30 * stats.norm.ppf(0.1), med + 30 * stats.norm.ppf(0.9)
    assert best_factor(y, med, lo1, hi1, 0.1) == pytest.approx(1.0, abs=0.05)


def test_apply_factors_moves_each_levels_quantiles_around_the_median_and_keeps_whole_numbers():
    probs = probs_for((80, 95))
    med = np.array([[1000.0, 3.0]])
    spread = np.array([[100.0, 2.0]])
    q = med[..., None] + spread[..., None] * stats.norm.ppf(probs)[None, None, :]
    q = np.where(probs[None, None, :] < 0.5, np.floor(q), np.ceil(q))
    q[:, :, np.isclose(probs, 0.5)] = med[..., None]
    fc = Forecast(med, q, probs, pd.DatetimeIndex(["2021-01-01"]), [("C", "x"), ("S1", "x")],
                  np.array(["m", "m"], dtype=object))
    f = pd.DataFrame({"level": ["city", "city"], "nominal": [80.0, 95.0], "factor": [0.5, 0.5], "n": [50, 50]})
    out = apply_factors(fc, f, {"C": "city", "S1": "area"})
    lo, hi = out.interval(80)
    lo0, hi0 = fc.interval(80)
    assert hi[0, 0] - lo[0, 0] == pytest.approx((hi0[0, 0] - lo0[0, 0]) / 2, abs=1.0)
    assert (out.quantiles[:, 1] == fc.quantiles[:, 1]).all()  # the street's level has no factor: unchanged
    assert (out.quantiles == np.round(out.quantiles)).all()
    assert (out.mean == fc.mean).all()


def test_forecaster_calibrates_auto_only_when_asked_and_says_with_what():
    panel = IncidentPanel.from_counts(small_counts(), freq="M", areas=AREAS)
    plain = Forecaster(["auto"], reconcile="mint_shrink").forecast(panel, 3)
    assert plain.calibration == {}
    cal = Forecaster(["auto"], reconcile="mint_shrink", calibrate=True).forecast(panel, 3)
    f = cal.calibration["auto"]
    assert list(f.columns) == ["level", "nominal", "factor", "n"] and set(f["level"]) == {"area", "district"}
    np.testing.assert_array_equal(cal.forecast.mean, plain.forecast.mean)  # the means are not touched
    assert "interval factors per area level" in cal.summary()


def test_coverage_table_counts_what_falls_inside():
    probs = probs_for((80,))
    q = np.zeros((2, 1, len(probs)))
    q[:, :, probs < 0.5], q[:, :, probs > 0.5], q[:, :, np.isclose(probs, 0.5)] = 2.0, 4.0, 3.0
    fc = Forecast(np.full((2, 1), 3.0), q, probs, pd.DatetimeIndex(["2021-01-01", "2021-02-01"]), [("A", "x")],
                  np.array(["m"], dtype=object))
    wp = WidePanel(np.array([[1.0], [3.0], [3.0], [9.0]]), pd.date_range("2020-11-01", periods=4, freq="MS"),
                   [("A", "x")], "M")
    t = coverage_table([("m", 2, fc)], wp, {}, [80.0])
    r = t[t["level"] == "overall"].iloc[0]
    # 3 is inside [2, 4]; 9 is not: coverage 1/2, width 2, interval score (2 + 2 + 2 / 0.2 * 5) / 2 = 27
    assert (r["coverage"], r["n"], r["mean_width"]) == (0.5, 2, 2.0)
    assert r["interval_score"] == pytest.approx(27.0)
