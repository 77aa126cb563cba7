"""Models against known answers: closed forms, statsmodels directly, simulations with known truth."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError
from riskmodel.forecast import (
    ETS,
    GlobalGBM,
    HistoricalMean,
    Naive,
    NegBinGLM,
    SeasonalNaive,
    irls_poisson,
    make_model,
)


def _wp(y, freq="M", start="2018-01-01"):
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    pf = {"M": "MS", "W": "W-MON", "D": "D"}[freq]
    return WidePanel(y, pd.date_range(start, periods=len(y), freq=pf), [(f"a{j}", "x") for j in range(y.shape[1])], freq)


def test_baselines_point_forecasts_are_the_closed_forms():
    y = np.arange(1, 31, dtype=float)  # 30 months: 1..30
    wp = _wp(y)
    assert np.all(Naive().fit(wp).predict(3).mean[:, 0] == 30)
    sn = SeasonalNaive().fit(wp).predict(14).mean[:, 0]
    np.testing.assert_array_equal(sn, np.r_[np.arange(19, 31), 19, 20])
    hm = HistoricalMean().fit(wp).predict(2).mean[:, 0]
    assert hm[0] == pytest.approx(15.5)
    # naive intervals: 1-step errors are all exactly 1 -> every quantile of step 1 is 31
    q = Naive().fit(wp).predict(1).quantiles[0, 0]
    assert np.allclose(q, 31)


def test_irls_matches_statsmodels_glm():
    rng = np.random.default_rng(1)
    T = 60
    X = np.column_stack([np.ones(T), np.arange(T) / 12, np.sin(np.arange(T) * 2 * np.pi / 12), np.cos(np.arange(T) * 2 * np.pi / 12)])
    Y = rng.poisson(np.exp(X @ np.array([2.0, 0.1, 0.3, -0.2]))[:, None] * np.ones((1, 5))).astype(float)
    beta, mu, conv = irls_poisson(X, Y)
    assert conv.all()
    for j in range(5):
        ref = sm.GLM(Y[:, j], X, family=sm.families.Poisson()).fit()
        np.testing.assert_allclose(beta[j], ref.params, atol=1e-6)
        np.testing.assert_allclose(mu[:, j], ref.fittedvalues, rtol=1e-6)


def test_nbglm_recovers_seasonality_dispersion_and_covers(sim):
    wp, mu = sim(n=300, T=84, alpha=0.05, seed=3)
    train = wp.head(72)
    m = NegBinGLM(holidays=False, trend=False).fit(train)
    fc = m.predict(12)
    # mean close to the truth: with 7 coefficients, 72 periods, mu ~ 20 and alpha = 0.05 the
    # sd of log(mean) is about sqrt((1/20 + 0.05) * 7 / 72) ~ 0.1, median |error| ~ 0.06
    rel = np.abs(fc.mean - mu[72:]) / mu[72:]
    assert np.median(rel) < 0.08
    # the level (mean over the year) is estimated better: sd ~ sqrt(0.1 / 72) ~ 0.04
    assert np.median(np.abs(np.log(fc.mean.mean(0) / mu[72:].mean(0)))) < 0.04
    # the NB dispersion estimate is unbiased-ish for alpha = 0.05
    assert abs(np.median(m.alpha_) - 0.05) < 0.02
    y = wp.y[72:]
    for lv, tol in ((80, 0.04), (95, 0.03)):
        lo, hi = fc.interval(lv)
        cov = ((y >= lo) & (y <= hi)).mean()
        assert abs(cov - lv / 100) < tol, (lv, cov)
    assert (fc.quantiles == np.round(fc.quantiles)).all()  # integer quantiles


def test_quasipoisson_glm_intervals_widen_with_overdispersion(sim):
    wp, _ = sim(n=50, T=60, alpha=0.2, seed=4)
    qp = make_model("qpglm", holidays=False).fit(wp)
    assert (qp.phi_ > 1.5).mean() > 0.8
    lo, hi = qp.predict(3).interval(80)
    lo0, hi0 = NegBinGLM(family="nb", holidays=False).fit(wp).predict(3).interval(80)
    assert np.all(hi - lo > 0)


def test_each_glm_is_reported_by_its_registered_name(sim):
    # qpglm's rows were labelled nbglm (issue 14.7)
    wp, _ = sim(n=5, T=40, alpha=0.2, seed=4)
    assert set(make_model("qpglm", holidays=False).fit(wp).predict(2).to_frame()["model"]) == {"qpglm"}
    assert set(make_model("nbglm", holidays=False).fit(wp).predict(2).to_frame()["model"]) == {"nbglm"}


def test_ets_equals_statsmodels_directly():
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    rng = np.random.default_rng(5)
    t = np.arange(48)
    y = rng.poisson(30 + 8 * np.sin(2 * np.pi * t / 12) + 0.2 * t).astype(float)
    wp = _wp(y)
    fc = ETS().fit(wp).predict(6)
    s = pd.Series(y, index=pd.DatetimeIndex(wp.periods, freq="MS"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ETSModel(s, error="add", trend="add", damped_trend=True, seasonal="add", seasonal_periods=12).fit(disp=False, maxiter=200)
        pred = ref.get_prediction(start=48, end=53)
    np.testing.assert_allclose(fc.mean[:, 0], np.maximum(pred.predicted_mean.to_numpy(), 0), rtol=1e-8)
    # intervals: integer quantiles of the count distribution with statsmodels' mean and variance,
    # floored at Poisson (var >= mean); here ETS's variance is below the mean, so Poisson
    from scipy import stats

    var = pred.forecast_variance
    mean = fc.mean[:, 0]
    lo, hi = fc.interval(80)
    sf = pred.summary_frame(alpha=0.2)
    assert np.all(var < mean)
    np.testing.assert_array_equal(hi[:, 0], stats.poisson.ppf(0.9, mean))
    assert np.all(hi[:, 0] >= np.floor(sf["pi_upper"].to_numpy())) and np.all(lo[:, 0] <= np.ceil(sf["pi_lower"].to_numpy()))


def test_gbm_learns_seasonality_and_calibrates(sim):
    wp, mu = sim(n=40, T=72, alpha=0.02, seed=6)
    train = wp.head(60)
    fc = GlobalGBM(max_iter=100).fit(train).predict(12)
    snaive = SeasonalNaive().fit(train).predict(12)
    y = wp.y[60:]
    assert np.abs(fc.mean - y).mean() < np.abs(snaive.mean - y).mean()
    lo, hi = fc.interval(80)
    assert 0.65 < ((y >= lo) & (y <= hi)).mean() < 0.95
    assert (fc.quantiles >= 0).all()


def test_gbm_same_seed_same_output(sim):
    wp, _ = sim(n=10, T=40, seed=7)
    a = GlobalGBM(max_iter=30, max_rows=200, random_state=3).fit(wp).predict(3)
    b = GlobalGBM(max_iter=30, max_rows=200, random_state=3).fit(wp).predict(3)
    np.testing.assert_array_equal(a.quantiles, b.quantiles)


def test_auto_prefers_the_true_model_family(sim):
    wp, _ = sim(n=30, T=72, alpha=0.0, seed=8)
    m = make_model("auto", candidates=("hmean", "nbglm"), windows=2).fit(wp)
    fc = m.predict(6)
    sel = m.selection_
    assert np.allclose(m.weights_.sum(0), 1.0)
    best = sel.sort_values("score").iloc[0]["model"]
    assert best == "nbglm"  # seasonal truth: the GLM beats the flat mean
    assert all(s.startswith("auto(") for s in fc.model)


def test_fallbacks_recorded_and_never_nan():
    y = np.zeros((30, 3))
    y[:, 1] = np.random.default_rng(0).poisson(4, 30)
    y[:, 2] = np.r_[np.zeros(26), [3, 1, 2, 4]]
    wp = _wp(y)
    wp.n_obs = np.array([30, 30, 4])  # the third series starts in the 27th month
    for name in ("snaive", "nbglm", "ets", "gbm", "auto"):
        fc = make_model(name).fit(wp).predict(3)
        assert np.isfinite(fc.mean).all() and (fc.quantiles >= 0).all()
        assert fc.model[0] == "zero (all-zero history)"
        assert "fallback" in fc.model[2], (name, fc.model)
        assert np.all(fc.mean[:, 0] == 0)


def test_too_short_and_bad_options_are_input_errors():
    with pytest.raises(InputError, match="at least 2"):
        Naive().fit(_wp([3.0]))
    with pytest.raises(InputError, match="valid: auto, naive"):
        make_model("arima")
    with pytest.raises(InputError, match="family"):
        NegBinGLM(family="binomial").fit(_wp(np.arange(30.0)))
    with pytest.raises(InputError, match="h must be"):
        Naive().fit(_wp(np.arange(30.0))).predict(0)


def test_nbglm_daily_and_weekly_with_holidays():
    rng = np.random.default_rng(9)
    days = pd.date_range("2019-01-01", "2020-12-31", freq="D")
    from riskmodel.features.calendar import daily_calendar

    cal = daily_calendar(days[0], days[-1])
    mu = 20 * np.exp(0.5 * cal["holiday"].to_numpy() - 0.2 * (days.day_of_week >= 5))
    y = rng.poisson(mu).astype(float)
    wp = WidePanel(y[:, None], days, [("a", "x")], "D")
    m = NegBinGLM(trend=False).fit(wp)
    coef = dict(zip(m.names_, m.coef_[0] / m.scale_, strict=True))
    assert abs(coef["holidays"] - 0.5) < 0.1
    fc = m.predict(7)
    assert fc.mean.shape == (7, 1)
