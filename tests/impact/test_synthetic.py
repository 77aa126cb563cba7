import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from riskmodel.impact import SyntheticControl, simplex_weights


def test_simplex_weights_match_a_general_solver():
    rng = np.random.default_rng(0)
    for _ in range(10):
        X0 = rng.normal(size=(6, 15))
        x1 = rng.normal(size=6)
        v = rng.dirichlet(np.ones(6))
        w = simplex_weights(x1, X0, v)
        assert w.min() >= 0 and w.sum() == pytest.approx(1)

        def f(w, x1=x1, X0=X0, v=v):
            r = x1 - X0 @ w
            return r @ (v * r)

        ref = minimize(f, np.full(15, 1 / 15), method="SLSQP", bounds=[(0, 1)] * 15,
                       constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}], options={"ftol": 1e-14})
        assert f(w) <= ref.fun + 1e-8


def test_exact_convex_combination_is_recovered():
    rng = np.random.default_rng(1)
    X0 = rng.normal(size=(20, 8))
    w_true = np.array([0.5, 0.3, 0.2, 0, 0, 0, 0, 0])
    w = simplex_weights(X0 @ w_true, X0)
    assert np.allclose(w, w_true, atol=1e-6)


def _prop99(smoking):
    Y = smoking.pivot(index="year", columns="state", values="cigsale")

    def m(col, y0, y1):
        return smoking[(smoking.year >= y0) & (smoking.year <= y1)].groupby("state")[col].mean()

    P = pd.DataFrame({"lnincome": m("lnincome", 1980, 1988), "retprice": m("retprice", 1980, 1988),
                      "age15to24": m("age15to24", 1980, 1988), "beer": m("beer", 1984, 1988),
                      "cig1988": Y.loc[1988], "cig1980": Y.loc[1980], "cig1975": Y.loc[1975]}).T
    return Y, P


def test_proposition_99_matches_abadie_diamond_hainmueller_2010(smoking):
    Y, P = _prop99(smoking)
    res = SyntheticControl(seed=0).fit(Y, "California", 1989, predictors=P)
    gap = res.tables["series"].set_index("period")["gap"]
    assert abs(gap.loc[2000] - (-26)) <= 1.5
    assert res.diagnostics["rank"] == 1
    assert res.p_value == pytest.approx(1 / 39)
    assert len(res.tables["placebos"]) == 39
    # the published donors carry the weight (Utah, Nevada, Montana, Colorado, Connecticut)
    w = res.tables["weights"].set_index("unit")["weight"]
    assert w[["Utah", "Nevada", "Montana", "Colorado", "Connecticut"]].sum() > 0.95
    assert res.diagnostics["pre_rmspe"] < 2.0
    assert res.hi < 0


def test_index_scale_on_counts_recovers_a_known_effect(city):
    counts, _, truth = city
    w = counts.pivot(index="period", columns="area_id", values="count").astype(float)
    w = w.drop(index=pd.date_range("2019-07-01", "2019-12-01", freq="MS"))
    w = w.loc[:"2020-12-01"]
    res = SyntheticControl(scale="index", v="equal").fit(w, "A00", pd.Timestamp("2020-01-01"))
    assert res.lo < truth < res.hi
    assert abs(res.estimate - truth) < 0.05
    assert res.diagnostics["rank"] <= 2


def test_failures_say_why():
    w = pd.DataFrame({"A": [1.0, 2, 3], "B": [1.0, 2, 3]}, index=[1, 2, 3])
    assert "not in the panel" in SyntheticControl().fit(w, "Z", 2).note
    assert "donor" in SyntheticControl().fit(w, "A", 3).note


def test_placebo_interval_scaled_by_pre_period_fit_with_tiny_donors(city):
    """Three tiny areas (1% thinnings of others) among the donors: their placebo effects are
    wild, but so is their pre-period fit; scaled by it, the large treated area's interval still
    covers the truth and is much narrower than the plain placebo interval."""
    counts, _, truth = city
    w = counts.pivot(index="period", columns="area_id", values="count").astype(float)
    rng = np.random.default_rng(3)
    for k, src in enumerate(["A05", "A06", "A07"]):
        w[f"T{k}"] = rng.binomial(w[src].to_numpy(int), 0.01).astype(float)
    w = w.drop(index=pd.date_range("2019-07-01", "2019-12-01", freq="MS")).loc[:"2020-12-01"]
    scaled = SyntheticControl(scale="index", v="equal").fit(w, "A00", pd.Timestamp("2020-01-01"))
    plain = SyntheticControl(scale="index", v="equal", interval="plain").fit(w, "A00", pd.Timestamp("2020-01-01"))
    assert scaled.estimate == pytest.approx(plain.estimate)
    assert scaled.lo < truth < scaled.hi
    assert "scaled by their pre-period RMSPE" in scaled.note
    pl = scaled.tables["placebos"].set_index("unit")
    assert pl.loc[["T0", "T1", "T2"], "rel_pre_rmspe"].min() > 3 * pl.loc["A00", "rel_pre_rmspe"]
    assert (scaled.hi - scaled.lo) < 0.5 * (plain.hi - plain.lo)  # 0.083 against 0.334 when written
