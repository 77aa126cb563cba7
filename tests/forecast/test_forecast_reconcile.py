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


def _dense_reference(base, sd, A, resid, method):
    """The textbook formulas (as riskmodel computed them before the scalable
    form): S, G = (S'W^-1 S)^-1 S'W^-1 or [0 | I], V = D R D, var = diag(SG V G'S')."""
    u, b = A.shape
    m = u + b
    S = np.vstack([A, np.eye(b)])
    if method == "bottom_up":
        G = np.hstack([np.zeros((b, u)), np.eye(b)])
    else:
        W, _ = shrink_covariance(resid)
        W = W + np.eye(m) * (1e-9 * max(np.trace(W) / m, 1e-12))
        Wi = np.linalg.pinv(W)
        G = np.linalg.solve(S.T @ Wi @ S, S.T @ Wi)
    SG = S @ G
    bot = np.maximum(base @ G.T, 0.0)
    mean = bot @ S.T
    if resid is not None:
        Wc, _ = shrink_covariance(resid)
        d = np.sqrt(np.diag(Wc))
        d = np.where(d > 0, d, 1.0)
        R = Wc / np.outer(d, d)
    else:
        R = np.eye(m)
    var = np.array([np.maximum(np.einsum("ij,jk,ik->i", SG, R * np.outer(s, s), SG), 0.0) for s in sd])
    return mean, var


@pytest.mark.parametrize(("method", "with_resid"), [("bottom_up", True), ("bottom_up", False), ("mint_shrink", True)])
def test_scalable_reconciliation_equals_the_dense_formulas(method, with_resid):
    """Three levels (city, 4 districts, 30 bottom areas); a bottom area whose
    residuals are all zero; base means that make MinT's bottom negative."""
    from riskmodel.forecast.reconcile import _reconcile_block, _shrink_lowrank

    rng = np.random.default_rng(7)
    b, h, T = 30, 4, 40
    district = rng.integers(0, 4, b)
    A = np.vstack([np.ones(b), (district[None, :] == np.arange(4)[:, None]).astype(float)])
    u = A.shape[0]
    common = rng.normal(0, 1, (T, 1))
    resid = rng.normal(0, 1, (T, b)) * rng.uniform(0.5, 3, b) + common
    resid[:, 5] = 0.0
    resid = np.hstack([resid @ A.T + rng.normal(0, 2, (T, u)), resid])
    base = np.abs(rng.normal(5, 3, (h, u + b)))
    base[:, u + 3] = 0.0
    base[:, 0] *= 0.2  # a city forecast far below its areas' sum: MinT pulls some bottoms below 0
    sd = rng.uniform(0.5, 4, (h, u + b))
    r = resid if with_resid else None
    mean, var = _reconcile_block(base, sd, A, r, method)
    ref_mean, ref_var = _dense_reference(base, sd, A, r, method)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(var, ref_var, rtol=1e-8, atol=1e-8)
    assert np.abs(mean[:, :u] - mean[:, u:] @ A.T).max() < 1e-9  # coherent
    if with_resid:
        lam, diag = _shrink_lowrank(resid)
        W, lam_dense = shrink_covariance(resid)
        assert lam == pytest.approx(lam_dense, rel=1e-10) and np.allclose(diag, np.diag(W))


def test_reconciling_thousands_of_cells_forms_no_square_matrix():
    """5,000 cells under 100 streets and a city: well under the 208 MB that one
    (5,101 x 5,101) float matrix would take (the dense form made several)."""
    import tracemalloc

    from riskmodel.forecast.reconcile import _reconcile_block

    rng = np.random.default_rng(0)
    b, u_streets, T, h = 5000, 100, 104, 13
    street = rng.integers(0, u_streets, b)
    A = np.vstack([np.ones(b), (street[None, :] == np.arange(u_streets)[:, None]).astype(float)])
    resid = rng.poisson(1.0, (T, b)) - 1.0
    resid = np.hstack([resid @ A.T, resid])
    base = rng.gamma(2, 1, (h, A.shape[0] + b))
    tracemalloc.start()
    mean, var = _reconcile_block(base, np.sqrt(base + 1), A, resid, "mint_shrink")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert np.isfinite(mean).all() and (var >= 0).all()
    assert np.abs(mean[:, :A.shape[0]] - mean[:, A.shape[0]:] @ A.T).max() < 1e-6
    assert peak < 150e6, peak  # no (m x m) matrix was made
