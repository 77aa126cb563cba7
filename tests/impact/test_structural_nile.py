"""The structural intervention model against the textbooks (STAMP / SsfPack conventions).

Published figures: Durbin & Koopman (2012), the Nile's local level (ch. 2) and
the UK drivers killed or seriously injured with the seat belt law (8.2); the
Nile with the 1899 level shift against its closed form (no published fit was
found: benchmarks/impact/nile_results.md). The data: the Nile ships with
statsmodels; R's Seatbelts is committed as benchmarks/impact/structural_seatbelts.csv
(benchmarks/impact/nile.py says how it was written).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.impact import StructuralIntervention
from riskmodel.impact.structural import _components, fit_structural, structural_model

SEATBELTS = Path(__file__).resolve().parents[2] / "benchmarks" / "impact" / "structural_seatbelts.csv"


@pytest.fixture(scope="module")
def nile():
    from statsmodels.datasets import nile as ds

    d = ds.load_pandas().data
    return d["volume"].to_numpy(float), d["year"].to_numpy(int)


@pytest.fixture(scope="module")
def drivers():
    d = pd.read_csv(SEATBELTS)
    assert len(d) == 192 and int(d["law"].sum()) == 23  # Feb 1983 - Dec 1984
    return d


def test_nile_local_level_reproduces_durbin_koopman(nile):
    y, _ = nile
    f = fit_structural(y)
    # DK print 15099 and 1469.1: the exact ML is 15098.5 and 1469.18, which they cut to one decimal
    assert round(f.params["sigma2.irregular"]) == 15099
    assert 1469.1 <= f.params["sigma2.level"] < 1469.2
    assert f.nobs_diffuse == 1


def test_nile_level_shift_is_a_diffuse_state_with_the_closed_form_estimate(nile):
    """At the ML level variance (0) the model is a constant level plus the step: the smoothed
    coefficient is the difference of means, its RMSE the OLS standard error, and the irregular
    variance RSS / (n - 2) (the diffuse likelihood is the restricted one)."""
    y, years = nile
    step = (years >= 1899).astype(float)
    f = fit_structural(y, exog=pd.DataFrame({"dam": step}))
    a, b = y[step == 0], y[step == 1]
    rss = ((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum()
    s2 = rss / (len(y) - 2)
    c = f.coefficients.loc["dam"]
    assert f.params["sigma2.level"] < 1e-6
    assert f.params["sigma2.irregular"] == pytest.approx(s2, rel=1e-5)
    assert c["coef"] == pytest.approx(b.mean() - a.mean(), rel=1e-7)  # -247.78
    assert c["rmse"] == pytest.approx(np.sqrt(s2 * (1 / len(a) + 1 / len(b))), rel=1e-5)  # 28.435
    assert c["t"] == pytest.approx(c["coef"] / c["rmse"])
    assert f.nobs_diffuse == 29  # the level's and the step's diffuse states resolve by 1899
    # the claim-level model gives the same figures (STAMP's plug-in) on the counts scale
    r = StructuralIntervention(trend="level", seasonal="none", log=False, param_draws=0).fit(y, 28)
    assert r.coef == pytest.approx(c["coef"], rel=1e-6) and r.se == pytest.approx(c["rmse"], rel=1e-4)
    assert r.diagnostics["t_ml"] == pytest.approx(c["t"], rel=1e-4)
    assert r.tables["coefficients"]["regressor"].tolist() == ["intervention"]


def test_uk_drivers_basic_structural_model_reproduces_durbin_koopman(drivers):
    """Local level + stochastic trigonometric seasonal on log KSI: DK (2012, 8.2) variances."""
    ly = np.log(drivers["drivers"].to_numpy(float))
    f = fit_structural(ly, seasonal="trig", season=12)
    assert f.params["sigma2.irregular"] == pytest.approx(0.00341598, rel=1e-4)
    assert f.params["sigma2.level"] == pytest.approx(0.000935852, rel=1e-4)
    assert f.params["sigma2.seasonal"] == pytest.approx(5.01096e-7, rel=1e-3)
    assert f.nobs_diffuse == 12  # level + 11 seasonal states (Harvey: s - 1 of them)
    mod = structural_model(ly, seasonal="trig", season=12)
    assert f.loglik >= mod.loglike(np.array([0.00341598, 0.000935852, 5.01096e-7])) - 1e-7


def test_uk_drivers_seat_belt_law_and_petrol_price_reproduce_durbin_koopman(drivers):
    """DK (2012, 8.2): petrol -0.29140 (RMSE 0.09832), law -0.23773 (0.04632): to the last printed digit."""
    ly = np.log(drivers["drivers"].to_numpy(float))
    X = pd.DataFrame({"petrol": np.log(drivers["PetrolPrice"].to_numpy(float)), "law": drivers["law"].astype(float)})
    f = fit_structural(ly, exog=X, seasonal="trig", season=12)
    tab = f.coefficients
    for name, coef, rmse in (("petrol", -0.29140, 0.09832), ("law", -0.23773, 0.04632)):
        assert abs(tab.loc[name, "coef"] - coef) <= 1e-5
        assert abs(tab.loc[name, "rmse"] - rmse) <= 1e-5
    # a 21% fall in drivers KSI with the law (exp(-0.2377) - 1)
    assert np.expm1(tab.loc["law", "coef"]) == pytest.approx(-0.2116, abs=1e-3)


@pytest.mark.parametrize(("season", "states"), [(12, 11), (4, 3), (7, 6), (52, 51)])
def test_full_trigonometric_seasonal_has_harveys_s_minus_1_states(season, states):
    blocks, z, dist, h = _components("level", "trig", season, None, True)
    assert h == season // 2
    assert len(z) == 1 + states and sum(b.shape[0] for b in blocks) == 1 + states
    assert sum(1 for _, name in dist if name == "sigma2.seasonal") == states  # one common variance
    if season % 2 == 0:
        assert blocks[-1].shape == (1, 1) and blocks[-1][0, 0] == -1.0  # frequency pi: one state
    # the seasonal's transition has period ``season``: T^s = I
    from scipy.linalg import block_diag

    t = block_diag(*blocks[1:])
    assert np.allclose(np.linalg.matrix_power(t, season), np.eye(states))


def test_fixed_full_trigonometric_seasonal_is_the_fixed_dummy_seasonal():
    """Both span the same s - 1 seasonal patterns: the same smoothed level and the same likelihood up to a
    constant (the diffuse likelihood's log|F_inf| terms depend on how the diffuse states are parameterised)."""
    rng = np.random.default_rng(3)
    n = 60
    y = 5 + np.tile([0.3, -0.1, 0.2, -0.4], n // 4) + np.cumsum(rng.normal(0, 0.05, n)) + rng.normal(0, 0.1, n)
    p = np.array([0.01, 0.0025])
    trig = structural_model(y, seasonal="trig", season=4, stochastic_seasonal=False)
    dummy = structural_model(y, seasonal="dummy", season=4, stochastic_seasonal=False)
    q = np.array([0.03, 0.0001])
    assert trig.loglike(p) - dummy.loglike(p) == pytest.approx(trig.loglike(q) - dummy.loglike(q), abs=1e-9)
    st, sd = trig.smooth(p), dummy.smooth(p)
    assert np.allclose(st.smoothed_state[0], sd.smoothed_state[0], atol=1e-8)  # the same level


def test_reduced_seasonal_matches_statsmodels_unobserved_components():
    """Below the Nyquist frequency the model is statsmodels' own (same likelihood, same states)."""
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    rng = np.random.default_rng(5)
    n = 72
    t = np.arange(n)
    x = rng.normal(size=(n, 1))
    y = 3 + 0.5 * np.sin(2 * np.pi * t / 12) + 0.8 * x[:, 0] + np.cumsum(rng.normal(0, 0.1, n)) + rng.normal(0, 0.2, n)
    ours = structural_model(y, seasonal="trig", season=12, harmonics=2, stochastic_seasonal=True, exog=x)
    uc = UnobservedComponents(y, level="local level", freq_seasonal=[{"period": 12, "harmonics": 2}],
                              stochastic_freq_seasonal=[True], exog=x, mle_regression=False, use_exact_diffuse=True)
    p = np.array([0.04, 0.01, 0.001])
    assert ours.loglike(p) == pytest.approx(uc.loglike(p), abs=1e-8)
    assert ours.smooth(p).smoothed_state[-1, -1] == pytest.approx(uc.smooth(p).smoothed_state[-1, -1], abs=1e-10)


def test_claim_level_intervention_model_uses_stamp_conventions():
    rng = np.random.default_rng(8)
    n, start = 84, 60
    t = np.arange(n)
    y = rng.poisson(np.exp(3 + 0.3 * np.sin(2 * np.pi * t / 12) - 0.3 * (t >= start)))
    r = StructuralIntervention(param_draws=0).fit(y, start)
    assert r.diagnostics["model"] == ("local level, stochastic trigonometric seasonal (period 12, 6 harmonics), "
                                      "1 regression coefficient as diffuse states")
    assert set(r.diagnostics["params"]) == {"sigma2.irregular", "sigma2.level", "sigma2.seasonal"}
    assert r.lo < -0.3 < r.hi and r.diagnostics["nobs_diffuse"] >= 12
