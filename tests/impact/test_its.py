import numpy as np
import pytest

from riskmodel.impact import InterruptedTimeSeries
from riskmodel.impact.inference import placebo_interval_se


def test_sicily_smoking_ban_reproduces_lopez_bernal_2017(sicily):
    """Quasi-Poisson, population offset, trend, two harmonics: RR 0.885 (0.839 to 0.933)."""
    start = int(np.argmax(sicily["smokban"].to_numpy()))
    # the classical segmented regression: model-based interval, no autocorrelation correction
    res = InterruptedTimeSeries(harmonics=2, autocorr="check").fit(sicily["aces"], start, exposure=sicily["stdpop"])
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


def _drifting_city(seed, n_areas=10, n=84, start=66, e0=72, effect=-0.2):
    """Monthly counts of areas sharing season, trend and a shock in the evaluation year; each area's
    log level also wanders on its own (AR(1), coefficient 0.9, monthly sd 0.05). Area 0 has a
    programme from ``start``; the truth is its relative effect on the expected count over [e0, n)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    common = 0.2 * np.cos(2 * np.pi * t / 12) - 0.03 * t / 12 + np.where(t >= e0, np.log(0.85), 0.0)
    dev = np.zeros((n_areas, n))
    for k in range(1, n):
        dev[:, k] = 0.9 * dev[:, k - 1] + rng.normal(0, 0.05, n_areas)
    level = np.log(rng.uniform(50, 400, n_areas))
    mu = np.exp(level[:, None] + common[None, :] + dev)
    mu[0, t >= start] *= 1 + effect
    return rng.poisson(mu).T.astype(float), np.ones((n, n_areas)), start, e0, effect


def test_placebo_area_interval_covers_an_effect_the_regression_misses_under_drift():
    """With areas drifting on their own the regression's interval is far too narrow; the placebo
    areas measure the error it does not see."""
    model = InterruptedTimeSeries(harmonics=1, autocorr="auto")
    covered_model, covered_placebo, widths = [], [], []
    for seed in range(30):
        Y, E, start, e0, effect = _drifting_city(seed)
        x = np.log(Y[:, 1:].sum(axis=1))
        r = model.fit(Y[:, 0], start, exposure=E[:, 0], exog=x - x[:start].mean(), eval_start=e0)
        pl, pl_se = model.placebo_effects(Y[:, 1:], E[:, 1:], start, eval_start=e0)
        lo, hi, p, tau, m = placebo_interval_se(r.diagnostics["log_effect"], r.diagnostics["log_effect_se"], pl, pl_se)
        covered_model.append(r.lo <= effect <= r.hi)
        covered_placebo.append(lo <= effect <= hi)
        widths.append((hi - lo) / (r.hi - r.lo))
    assert np.mean(covered_model) <= 0.7  # 50% when written
    assert np.mean(covered_placebo) >= 0.85  # 93%
    assert np.median(widths) > 2


def test_placebo_interval_se_is_calibrated_on_errors_with_a_known_distribution():
    """Errors = sampling error (known se, different per area) + an area-level error of sd tau + a
    common bias: the interval of the treated area's effect covers the truth at the nominal rate."""
    rng = np.random.default_rng(0)
    tau, bias, truth, J = 0.08, -0.03, np.log(0.8), 20
    covered, taus = [], []
    for _ in range(2000):
        se = rng.uniform(0.02, 0.1, J + 1)
        err = bias + rng.normal(0, tau, J + 1) + rng.normal(0, se)
        lo, hi, _, t_hat, _ = placebo_interval_se(truth + err[0], se[0], err[1:], se[1:])
        covered.append(np.log1p(lo) <= truth <= np.log1p(hi))
        taus.append(t_hat)
    assert 0.935 <= np.mean(covered) <= 0.965  # 2000 replications: sd 0.5 points
    assert np.median(taus) == pytest.approx(tau, rel=0.15)
    # placebos without error: tau = 0, and the interval is the model's widened only by the
    # uncertainty of their (equally weighted) mean, with t(J - 1) quantiles: -/+ t * sqrt(se^2 + s^2 / J)
    lo, hi, _, t_hat, m = placebo_interval_se(0.1, 0.05, np.zeros(4), np.full(4, 0.04))
    half = 3.182446305284263 * np.sqrt(0.05**2 + 0.04**2 / 4)  # t(0.975, 3)
    assert (t_hat, m) == (0.0, 0.0)
    assert (np.log1p(lo), np.log1p(hi)) == pytest.approx((0.1 - half, 0.1 + half))
    assert np.isnan(placebo_interval_se(0.0, 0.05, np.zeros(2), np.full(2, 0.05))[0])  # too few
    # a tiny area's placebo (huge se, wild estimate) hardly moves the interval
    base = placebo_interval_se(0.1, 0.05, [-0.1, 0.0, 0.1, 0.05, -0.05], np.full(5, 0.04))
    more = placebo_interval_se(0.1, 0.05, [-0.1, 0.0, 0.1, 0.05, -0.05, 2.0], np.r_[np.full(5, 0.04), 3.0])
    assert more[3] == pytest.approx(base[3], abs=0.01) and abs(more[4] - base[4]) < 0.01
