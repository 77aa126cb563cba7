import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from riskmodel.impact import difference_in_differences, ratio_of_ratios
from riskmodel.impact.comparison import twoway_poisson_effect


def test_ipf_equals_the_poisson_glm_with_dummies():
    rng = np.random.default_rng(0)
    N, T = 6, 20
    E = rng.uniform(1, 3, (N, T))
    D = np.zeros((N, T), bool)
    D[0, 12:] = True
    Y = rng.poisson(E * rng.uniform(5, 20, N)[:, None] * np.exp(0.2 * np.sin(np.arange(T)))[None, :] * np.exp(-0.3 * D))
    A = np.kron(np.eye(N), np.ones((T, 1)))[:, 1:]
    P = np.kron(np.ones((N, 1)), np.eye(T))[:, 1:]
    X = np.column_stack([np.ones(N * T), A, P, D.ravel()])
    glm = sm.GLM(Y.ravel(), X, family=sm.families.Poisson(), offset=np.log(E.ravel())).fit()
    assert twoway_poisson_effect(Y, E, D) == pytest.approx(glm.params[-1], abs=1e-7)


def test_ratio_of_ratios_closed_form():
    res = ratio_of_ratios([100], [60], [1000], [900])
    assert res.estimate == pytest.approx((60 / 100) / (900 / 1000) - 1)
    assert res.se == pytest.approx(np.sqrt(1 / 100 + 1 / 60 + 1 / 1000 + 1 / 900))


def test_did_recovers_the_effect_and_placebo_interval_is_wider_than_clustered(city):
    counts, popt, truth = city
    d = counts[counts["period"] <= "2020-12-01"]
    d = d[(d["period"] < "2019-07-01") | (d["period"] >= "2020-01-01")]
    res = difference_in_differences(d, "A00", "2020-01-01")
    assert res.lo < truth < res.hi
    assert "placebo" in res.note
    assert (res.hi - res.lo) > (res.diagnostics["cluster_hi"] - res.diagnostics["cluster_lo"])
    cl = difference_in_differences(d, "A00", "2020-01-01", inference="cluster")
    assert cl.estimate == pytest.approx(res.estimate)
    assert cl.diagnostics["clusters"] == counts["area_id"].nunique()


def test_did_without_comparison_areas_says_why():
    d = pd.DataFrame({"area_id": ["A"] * 4, "period": pd.date_range("2020-01-01", periods=4, freq="MS"),
                      "count": [1, 2, 3, 4]})
    res = difference_in_differences(d, "A", "2020-03-01")
    assert not res.ok and "comparison areas" in res.note
