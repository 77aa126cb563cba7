"""Reconciliation: coherence to 1e-9, bottom-up is the sum, MinT shrinkage weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.data import IncidentPanel
from riskmodel.forecast.api import backtest_panel, forecast_panel
from riskmodel.forecast.reconcile import shrink_covariance


def _hier_panel(seed=0, T=48):
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2017-01-01", periods=T, freq="MS")
    areas = pd.DataFrame(
        {
            "area_id": ["C", "D1", "D2", "S1", "S2", "S3", "S4", "S5"],
            "parent_id": [None, "C", "C", "D1", "D1", "D2", "D2", "D2"],
            "level": ["city", "district", "district", "area", "area", "area", "area", "area"],
        }
    )
    rows = []
    common = rng.gamma(20, 1 / 20, T)
    for j, a in enumerate(["S1", "S2", "S3", "S4", "S5"]):
        for k in ("fires", "thefts"):
            lam = (5 + 7 * j) * (2 if k == "thefts" else 1) * common * (1 + 0.2 * np.sin(2 * np.pi * np.arange(T) / 12))
            rows += [(a, k, p, int(c)) for p, c in zip(periods, rng.poisson(lam), strict=True)]
    counts = pd.DataFrame(rows, columns=["area_id", "category", "period", "count"])
    return IncidentPanel.from_counts(counts, freq="M", areas=areas)


def _coherence_gap(df: pd.DataFrame, panel: IncidentPanel) -> float:
    h = panel.hierarchy
    worst = 0.0
    for _key, g in df.groupby(["category", "period"]):
        m = g.set_index("area_id")["mean"]
        for parent in ("C", "D1", "D2"):
            kids = [a for a in m.index if h.parent.get(a) == parent]
            worst = max(worst, abs(m[parent] - m[kids].sum()))
    return worst


@pytest.mark.parametrize("method", ["bottom_up", "mint_shrink"])
def test_reconciled_means_are_coherent(method):
    panel = _hier_panel()
    df, info = forecast_panel(panel, 6, "nbglm", reconcile_method=method)
    assert set(df["area_id"]) == {"C", "D1", "D2", "S1", "S2", "S3", "S4", "S5"}
    assert _coherence_gap(df, panel) < 1e-9
    assert (df["lo_95"] <= df["lo_80"]).all() and (df["hi_80"] <= df["hi_95"]).all()
    assert (df["mean"] >= 0).all()
    # the city's interval is wider than any district's
    jan = df[(df.period == df.period.min()) & (df.category == "thefts")].set_index("area_id")
    assert (jan.loc["C", "hi_95"] - jan.loc["C", "lo_95"]) > (jan.loc["D2", "hi_95"] - jan.loc["D2", "lo_95"])


def test_bottom_up_is_the_sum_of_bottom_base_forecasts():
    panel = _hier_panel(seed=1)
    base, _ = forecast_panel(panel, 3, "nbglm")
    bu, _ = forecast_panel(panel, 3, "nbglm", reconcile_method="bottom_up")
    b = base.set_index(["area_id", "category", "period"])["mean"]
    r = bu.set_index(["area_id", "category", "period"])["mean"]
    np.testing.assert_allclose(r.loc[b.index].to_numpy(), b.to_numpy(), rtol=1e-12)


def test_shrinkage_intensity_known_cases():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(400, 1))
    strong = np.hstack([z + 0.1 * rng.normal(size=(400, 1)) for _ in range(4)])  # highly correlated
    W, lam = shrink_covariance(strong)
    assert lam < 0.05 and np.allclose(W, W.T)
    indep = rng.normal(size=(20, 4))  # no true correlation, few observations: shrink a lot
    _, lam2 = shrink_covariance(indep)
    assert lam2 > 0.3


def test_backtest_with_reconciliation_reports_levels():
    panel = _hier_panel(seed=3)
    fr, mt = backtest_panel(panel, 3, windows=2, models=["nbglm"], reconcile_method="mint_shrink")
    levels = set(mt.loc[mt.area_id == "ALL", "level"])
    assert {"city", "district", "area", "overall"} <= levels
    for _, g in fr[fr.model.str.startswith("nbglm")].groupby("cutoff"):
        assert _coherence_gap(g, panel) < 1e-9
