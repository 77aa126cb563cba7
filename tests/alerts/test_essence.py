"""ESSENCE's detectors (issue 18, item 10) against CDC's Rnssp, and as registered detectors.

The reference outputs (tests/alerts/data/essence_reference.csv) are Rnssp's alert_ewma,
alert_regression and alert_switch run on the seeded daily counts beside them by
tests/alerts/data/essence_reference.R (it says how).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.alerts import detect
from riskmodel.alerts.essence import ewma, regression, switch
from riskmodel.data.panel import IncidentPanel
from riskmodel.errors import InputError

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def reference():
    counts = pd.read_csv(DATA / "essence_counts.csv")
    ref = pd.read_csv(DATA / "essence_reference.csv", na_values="NA")
    wide = counts.pivot(index="date", columns="series", values="count")
    names = list(wide.columns)
    y = wide.to_numpy(float)
    days = pd.to_datetime(wide.index).to_numpy()

    def col(name: str) -> np.ndarray:
        return ref.pivot(index="date", columns="series", values=name)[names].to_numpy()

    return y, days, col, counts


def _same(mine: np.ndarray, r: np.ndarray, tol: float) -> None:
    r = np.asarray(r, float)
    assert (np.isnan(mine) == np.isnan(r)).all()
    ok = np.isfinite(r)
    assert np.abs(mine[ok] - r[ok]).max() <= tol


def test_ewma_equals_rnssp(reference):
    y, _, col, _ = reference
    e = ewma(y)
    _same(e["expected"], col("ewma_expected"), 1e-12)
    _same(e["stat"], col("ewma_stat"), 1e-10)
    _same(e["pvalue"], col("ewma_p"), 1e-12)


def test_regression_equals_rnssp(reference):
    y, days, col, _ = reference
    r = regression(y, days)
    _same(r["expected"], col("reg_expected"), 1e-9)
    _same(r["stat"], col("reg_stat"), 1e-9)
    _same(r["pvalue"], col("reg_p"), 1e-10)
    _same(r["sigma"], col("reg_sigma"), 1e-10)
    _same(r["r2adj"], col("reg_r2adj"), 1e-10)


def test_switch_chooses_as_rnssp(reference):
    y, days, col, _ = reference
    e, r = ewma(y), regression(y, days)
    use = switch(e, r)
    chosen = col("switch_detector").astype(str)
    assert (use == (chosen == "Adaptive Multiple Regression")).all()
    p = np.where(use, r["pvalue"], e["pvalue"])
    _same(p, col("switch_p"), 1e-10)
    # both detectors are used on these series: the busy weekly-pattern one mostly by regression
    assert use.any() and (~use & np.isfinite(e["pvalue"])).any()


def test_ewma_bound_is_the_count_that_alarms(reference):
    """The bound is the smallest count with p < alpha: a count just above it alarms, just below not."""
    y, _, _, _ = reference
    e = ewma(y, alpha=0.01)
    i, s = 110, 0
    for eps, expect in ((1e-6, True), (-1e-6, False)):
        y2 = y.copy()
        y2[i, s] = e["bound"][i, s] + eps
        assert bool(ewma(y2, alpha=0.01)["pvalue"][i, s] < 0.01) is expect


def _panel(counts: pd.DataFrame) -> IncidentPanel:
    df = counts.rename(columns={"series": "area_id", "date": "period"}).assign(category="all")
    return IncidentPanel.from_counts(df[["area_id", "category", "period", "count"]], freq="D")


@pytest.mark.parametrize("method", ["essence", "essence-ewma", "essence-regression"])
def test_registered_detectors_flag_the_injected_spike(reference, method):
    *_, counts = reference
    det = detect(_panel(counts), method=method)
    t = det.to_frame()
    busy = t[(t["area_id"] == "busy") & t["alarm"]]
    # 15, 30, 25 and 10 extra on a mean of 40 from 2024-04-10: the second and third days alarm at least
    assert {"2024-04-11", "2024-04-12"} <= set(pd.to_datetime(busy["period"]).dt.strftime("%Y-%m-%d"))
    ev = t[t["reason"] == ""]
    assert ((ev["pvalue"] < 0.01) == ev["alarm"]).all()
    assert (ev["upperbound"] >= ev["expected"]).all()
    if method == "essence-regression":  # its bound is exact: an alarm iff the count is above it
        assert ((ev["count"] > ev["upperbound"]) == ev["alarm"]).all()


def test_the_regression_refuses_weekly_counts(reference):
    *_, counts = reference
    weekly = _panel(counts).resample("W")
    with pytest.raises(InputError, match="day of the week"):
        detect(weekly, method="essence-regression")
    assert detect(weekly, method="essence-ewma").to_frame()["reason"].eq("").any()


def test_bad_settings_are_refused():
    with pytest.raises(InputError, match="multiple of 7"):
        regression(np.ones((60, 1)), pd.date_range("2024-01-01", periods=60).to_numpy(), baseline=30)
    with pytest.raises(InputError, match="w1"):
        ewma(np.ones((60, 1)), w1=1.5)
