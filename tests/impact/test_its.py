import numpy as np
import pytest

from riskmodel.impact import InterruptedTimeSeries


def test_sicily_smoking_ban_reproduces_lopez_bernal_2017(sicily):
    """Quasi-Poisson, population offset, trend, two harmonics: RR 0.885 (0.839 to 0.933)."""
    start = int(np.argmax(sicily["smokban"].to_numpy()))
    res = InterruptedTimeSeries(harmonics=2).fit(sicily["aces"], start, exposure=sicily["stdpop"])
    d = res.diagnostics
    assert round(d["step_rate_ratio"], 3) == 0.885
    assert round(d["step_lo"], 3) == 0.839
    assert round(d["step_hi"], 3) == 0.933
    assert res.estimate == pytest.approx(d["step_rate_ratio"] - 1)
    coefs = res.tables["coefficients"].set_index("term")
    assert list(coefs.index) == ["const", "trend", "sin1", "cos1", "sin2", "cos2", "step"]
    assert d["dispersion"] > 1


def _series(seed, step, slope=0.0, n=96, start=60, phi=0.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    e = np.zeros(n)
    for k in range(1, n):
        e[k] = phi * e[k - 1] + rng.normal(0, 0.05)
    post = t >= start
    log_mu = np.log(300) + 0.01 * t + 0.2 * np.sin(2 * np.pi * t / 12) + e
    log_mu += post * (np.log(step) + slope * (t - start) / 12)
    return rng.poisson(np.exp(log_mu)), start


def test_recovers_a_step_and_a_slope_change():
    y, start = _series(3, 0.8, slope=-0.1)
    res = InterruptedTimeSeries(slope_change=True, harmonics=1).fit(y, start)
    # true effect over the post period: mean of exp(log .8 - .1 (t-start)/12) weighted by the counterfactual
    t = np.arange(96)
    cf = np.exp(0.01 * t + 0.2 * np.sin(2 * np.pi * t / 12))[start:]
    eff = (cf * 0.8 * np.exp(-0.1 * (t[start:] - start) / 12)).sum() / cf.sum() - 1
    assert res.lo < eff < res.hi
    assert res.diagnostics["slope_ratio_per_season"] < 1


def test_negative_binomial_family_and_ramp_exclusion():
    y, start = _series(4, 0.7)
    res = InterruptedTimeSeries(family="negbin").fit(y, start, eval_start=start + 6)
    assert res.lo < -0.3 < res.hi
    used = res.tables["series"]["used"].to_numpy()
    assert not used[start:start + 6].any() and used[:start].all()


def test_autocorrelation_is_flagged_and_hac_widens():
    y, start = _series(5, 1.0, phi=0.9)
    plain = InterruptedTimeSeries(autocorr="check").fit(y, start)
    assert plain.diagnostics["ljung_box_p"] < 0.05
    assert "autocorrelation" in plain.note
    auto = InterruptedTimeSeries(autocorr="auto").fit(y, start)
    assert auto.diagnostics["hac"]
    assert auto.se != plain.se


def test_too_short_series_fails_with_a_reason():
    res = InterruptedTimeSeries().fit([5, 6, 7, 8, 3], 3)
    assert not res.ok and "too few" in res.note
