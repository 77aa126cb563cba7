import numpy as np
import pytest

from riskmodel.impact import StructuralCounterfactual, StructuralIntervention


def _city(seed, effect, n=96, start=72):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    city = np.exp(6 + 0.25 * np.sin(2 * np.pi * t / 12) + np.cumsum(rng.normal(0, 0.02, n)) - 0.25 * (t >= start))
    mu = 0.3 * city
    mu_prog = mu.copy()
    mu_prog[start:] *= 1 + effect
    y = rng.poisson(mu_prog)
    x = np.log(rng.poisson(10 * city)).reshape(-1, 1)
    return y, x, start


@pytest.mark.parametrize("effect", [-0.2, 0.0])
def test_counterfactual_interval_covers_the_known_effect(effect):
    y, x, start = _city(11, effect)
    res = StructuralCounterfactual(n_sims=400, seed=1).fit(y, start, exog=x)
    assert res.lo < effect < res.hi
    ser = res.tables["series"]
    post = ser[ser["post"]]
    # CausalImpact's identities: cumulative effect = running sum of pointwise effects
    assert post["cumulative_effect"].iloc[-1] == pytest.approx(post["point_effect"].sum(), rel=1e-9)
    summ = res.tables["summary"]
    h = len(post)
    assert summ.loc["cumulative", "actual"] == pytest.approx(h * summ.loc["average", "actual"])
    assert summ.loc["average", "rel_effect"] == pytest.approx(res.estimate)
    assert summ.loc["cumulative", "rel_effect_lo"] == pytest.approx(res.lo)


def test_without_the_control_series_the_city_wide_shock_is_taken_for_an_effect():
    y, x, start = _city(11, 0.0)
    alone = StructuralCounterfactual(n_sims=400, seed=1).fit(y, start)
    assert alone.hi < 0  # the -22% city-wide drop looks like an effect
    assert StructuralCounterfactual(n_sims=400, seed=1).fit(y, start, exog=x).covers(0.0)


def test_same_seed_same_result_and_ramp_window():
    y, x, start = _city(12, -0.3)
    a = StructuralCounterfactual(n_sims=200, seed=5).fit(y, start, exog=x, eval_start=start + 6)
    b = StructuralCounterfactual(n_sims=200, seed=5).fit(y, start, exog=x, eval_start=start + 6)
    assert a.estimate == b.estimate and a.lo == b.lo
    assert a.diagnostics["skipped_periods"] == 6
    assert a.tables["series"]["evaluated"].sum() == len(y) - start - 6


def test_dummy_seasonal_and_counts_scale_run():
    y, x, start = _city(13, -0.2)
    r = StructuralCounterfactual(seasonal="dummy", log=False, n_sims=200).fit(y, start, exog=np.exp(x))
    assert r.ok and r.lo < -0.2 < r.hi


@pytest.mark.parametrize("log", [True, False])
def test_full_sample_intervention_coefficient(log):
    y, x, start = _city(14, -0.25)
    res = StructuralIntervention(log=log).fit(y, start, exog=x if log else np.exp(x))
    assert res.se > 0 and np.isfinite(res.coef)
    assert res.lo < -0.25 < res.hi
    if log:
        assert res.coef == pytest.approx(np.log1p(res.estimate))


def test_short_pre_period_is_refused_with_a_reason():
    res = StructuralCounterfactual().fit(np.arange(1, 30), 20)
    assert not res.ok and "shorter than two seasons" in res.note
