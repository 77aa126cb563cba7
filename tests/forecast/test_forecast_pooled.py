"""The pooled top-down model and auto's stacked weights, against known truths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.data.wide import WidePanel
from riskmodel.forecast import HistoricalMean, make_model
from riskmodel.forecast.auto import simplex_grid, stacked_weights
from riskmodel.forecast.metrics import PINBALL_PROBS, series_metrics
from riskmodel.forecast.pooled import PooledLevel, season_position, seasonal_factors
from riskmodel.forecast.result import Forecast


def _panel(y, cats, start="2015-01-01"):
    y = np.asarray(y, dtype=float)
    return WidePanel(y, pd.date_range(start, periods=len(y), freq="MS"), [(f"a{j}", c) for j, c in enumerate(cats)], "M")


def test_constant_shares_give_share_times_total_exactly():
    # deterministic: series j is always s_j * 100 -> every smoother of a constant total forecasts 100
    s = np.array([0.1, 0.2, 0.7])
    y = np.repeat((100 * s)[None, :], 40, axis=0)
    m = PooledLevel().fit(_panel(y, ["x"] * 3))
    fc = m.predict(5)
    np.testing.assert_allclose(fc.mean, np.repeat((100 * s)[None, :], 5, axis=0), rtol=1e-9)
    np.testing.assert_allclose(m.share_, s, rtol=1e-12)


def test_shares_are_per_group_and_over_each_series_own_periods():
    y = np.zeros((30, 4))
    y[:, 0], y[:, 1] = 30.0, 10.0  # group x: shares 0.75 / 0.25
    y[:, 2] = 5.0  # group z
    y[20:, 3] = 5.0  # group z, starts in period 21: half of z's total since then
    wp = _panel(y, ["x", "x", "z", "z"])
    wp.n_obs = np.array([30, 30, 30, 10])
    m = PooledLevel(share_halflife=None).fit(wp)
    np.testing.assert_allclose(m.share_, [0.75, 0.25, 30 * 5 / (20 * 5 + 10 * 10), 0.5], rtol=1e-12)


def test_common_moving_level_is_tracked_through_the_group_total():
    # 60 sparse series (mean ~1.5) whose common level follows a random walk (3% a month): each
    # series alone cannot tell the moves from noise, the total of 60 can
    ratios = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        n, T = 60, 60
        share = rng.dirichlet(np.full(n, 5.0))
        level = 90 * np.exp(np.cumsum(rng.normal(0, 0.03, T)))
        mu = level[:, None] * share[None, :]
        y = rng.poisson(mu).astype(float)
        wp = _panel(y, ["x"] * n)
        fc = PooledLevel(seasonal=False).fit(wp).predict(1)
        hm = HistoricalMean(window=12).fit(wp).predict(1)
        # the best forecast of a random walk is its current value, mu[T - 1]. The total (~90 a
        # month) smoothed with the alpha its own backtest picks is within ~15% of it; a series'
        # own 12-month mean has relative sd ~ 1/sqrt(18) ~ 24% (plus its lag behind the walk)
        assert abs(fc.mean[0].sum() / level[-1] - 1) < 0.15
        ratios.append(np.abs(fc.mean[0] - mu[-1]).mean() / np.abs(hm.mean[0] - mu[-1]).mean())
    assert max(ratios) < 0.8 and np.mean(ratios) < 0.65, ratios


def test_damped_trend_chosen_for_a_trending_total_and_not_for_a_flat_one():
    rng = np.random.default_rng(5)
    T, n = 60, 20
    share = np.full(n, 1 / n)
    trend = 100 + 3.0 * np.arange(T)
    y_tr = rng.poisson(trend[:, None] * share[None, :]).astype(float)
    y_fl = rng.poisson(np.full((T, n), 100 / n)).astype(float)
    m = PooledLevel(seasonal=False).fit(_panel(np.hstack([y_tr, y_fl]), ["trend"] * n + ["flat"] * n))
    p = m.params_.set_index("group")
    assert p.loc["trend", "beta"] > 0
    fc = m.predict(12)
    tot = fc.mean[:, :n].sum(1)
    assert tot[-1] > tot[0] > trend[-1] - 15  # keeps rising from about the last level
    flat = fc.mean[:, n:].sum(1)
    assert abs(flat.mean() / 100 - 1) < 0.08


def test_seasonal_factors_recover_strong_seasonality_and_shrink_noise_to_one():
    rng = np.random.default_rng(6)
    periods = pd.date_range("2012-01-01", periods=96, freq="MS")
    pos, m = season_position(periods, "M")
    true = 1 + 0.3 * np.sin(2 * np.pi * np.arange(12) / 12)
    true /= true.mean()
    x = np.column_stack([rng.poisson(500 * true[pos]), rng.poisson(np.full(96, 500.0))]).astype(float)
    f = seasonal_factors(x, pos, m)
    assert np.abs(f[:, 0] - true).max() < 0.05  # sd of a factor ~ sqrt(1/500 / 7) ~ 0.017
    # no seasonality: raw factors spread ~ 0.017; shrinkage pulls most of that to 1
    raw = seasonal_factors(x, pos, m, shrink=False)
    assert np.abs(f[:, 1] - 1).max() < 0.5 * np.abs(raw[:, 1] - 1).max()


def test_pooled_intervals_cover_nb_counts_and_are_counts():
    rng = np.random.default_rng(7)
    n, T, alpha = 200, 72, 0.1
    share = rng.dirichlet(np.full(n, 20.0))
    mu = 4000 * share  # about 20 per series-month, a flat common level
    lam = rng.gamma(1 / alpha, alpha * np.broadcast_to(mu, (T + 12, n)))
    y = rng.poisson(lam).astype(float)
    wp = _panel(y[:T], ["x"] * n)
    m = PooledLevel(seasonal=False).fit(wp)
    assert abs(np.median(m.alpha_) - alpha) < 0.04
    fc = m.predict(12)
    for lv, tol in ((80, 0.04), (95, 0.025)):
        lo, hi = fc.interval(lv)
        cov = ((y[T:] >= lo) & (y[T:] <= hi)).mean()
        assert abs(cov - lv / 100) < tol, (lv, cov)
    assert (fc.quantiles == np.round(fc.quantiles)).all()


def test_simplex_grid_and_stacked_weights_find_the_exact_combination():
    g = simplex_grid(3, 0.1)
    assert g.shape == (66, 3) and np.allclose(g.sum(1), 1) and (g[0] == [1, 0, 0]).all()
    # two models off by +-1 at every quantile of a perfect point forecast: their average is exact
    rng = np.random.default_rng(8)
    y = [rng.poisson(5, (4, 10)).astype(float) for _ in range(2)]
    exact = np.stack([np.repeat(v[:, :, None], len(PINBALL_PROBS), axis=2) for v in y])  # (W, h, n, 5)
    qs = np.stack([exact + 1.0, exact - 1.0, exact + 3.0])
    w, score = stacked_weights(qs, y, [np.ones(10)] * 2, simplex_grid(3, 0.1))
    np.testing.assert_allclose(w, [0.5, 0.5, 0.0])
    assert score == pytest.approx(0.0)


def test_auto_gives_all_weight_to_pooled_when_the_level_is_common():
    # sparse series sharing a level that moves: the pooled model is the right one
    rng = np.random.default_rng(9)
    n, T = 40, 54
    share = rng.dirichlet(np.full(n, 5.0))
    level = 80 * np.exp(np.cumsum(rng.normal(0, 0.06, T)))
    y = rng.poisson(level[:, None] * share[None, :]).astype(float)
    m = make_model("auto", candidates=("hmean", "snaive", "pooled")).fit(_panel(y, ["x"] * n))
    fc = m.predict(6)
    w = m.selection_.set_index("model")["weight"]
    assert w["pooled"] >= 0.7 and w["snaive"] == 0
    assert np.allclose(m.weights_.sum(0), 1.0)
    assert fc.model[0].startswith("auto(")


def test_mase_of_the_median_closed_form():
    probs = np.array([0.1, 0.5, 0.9])
    y = np.array([[1.0], [0.0], [2.0]])
    q = np.repeat(np.array([[[0.0, 1.0, 3.0]]]), 3, axis=0)  # median 1 every period
    fc = Forecast(np.full((3, 1), 1.4), q, probs, pd.date_range("2020-01-01", periods=3, freq="MS"), [("a", "x")], np.array(["m"]))
    train = np.array([[0.0], [2.0]])  # scale (season 1 differences): 2
    m = series_metrics(y, fc, train, season=12)
    assert m["mase"][0] == pytest.approx((0.4 + 1.4 + 0.6) / 3 / 2)
    assert m["mase_median"][0] == pytest.approx((0 + 1 + 1) / 3 / 2)


def _regime_change_panel(T=64, brk=40):
    # a category total that alternates between 100 and 160 every 4 months (a trend only hurts there)
    # and then rises steadily by 4 a month from month brk on; 5 series with equal, exact shares
    t = np.arange(T + 12)
    total = np.where(t < brk, 100 + 60 * ((t // 4) % 2), 130 + 4.0 * (t - brk))
    y = np.repeat(total[:, None] / 5, 5, axis=1)
    return _panel(y[:T], ["x"] * 5), total[T:]


def test_origin_weights_off_by_default_and_a_long_half_life_changes_nothing():
    wp, _ = _regime_change_panel()
    ref = PooledLevel(seasonal=False).fit(wp)
    assert list(ref.origin_halflife_) == [None]
    long = PooledLevel(seasonal=False, origin_halflife=1e9).fit(wp)
    pd.testing.assert_frame_equal(ref.params_.drop(columns="mse"), long.params_.drop(columns="mse"))
    np.testing.assert_allclose(ref.predict(12).mean, long.predict(12).mean, rtol=1e-12)


def test_nested_origin_weighting_adapts_after_a_regime_change():
    # known truth: the total keeps rising by 4 a month. With every backtest origin weighing the same,
    # the 24 square-wave origins make the grid pick a slow level (alpha 0.1) that lags the rise; the
    # nested backtest over the last season finds that recent origins predict better and picks a
    # half-life, and the 12-month forecast error of the total falls by more than a third
    wp, future = _regime_change_panel()
    flat = PooledLevel(seasonal=False).fit(wp)
    nested = PooledLevel(seasonal=False, origin_halflife="auto").fit(wp)
    assert nested.origin_halflife_[0] is not None
    assert nested.params_["alpha"].iloc[0] > flat.params_["alpha"].iloc[0]
    err = {k: np.abs(m.predict(12).mean.sum(1) - future).mean() for k, m in (("flat", flat), ("nested", nested))}
    assert err["nested"] < 0.65 * err["flat"], err


def test_nested_origin_weighting_keeps_equal_weights_when_nothing_changes():
    # constant shares of a constant total: every weighting ties, the first option (no weighting) is kept
    s = np.array([0.1, 0.2, 0.7])
    y = np.repeat((100 * s)[None, :], 40, axis=0)
    m = PooledLevel(origin_halflife="auto").fit(_panel(y, ["x"] * 3))
    assert list(m.origin_halflife_) == [None]
    np.testing.assert_allclose(m.predict(5).mean, np.repeat((100 * s)[None, :], 5, axis=0), rtol=1e-9)


def _two_category_panel(related, seed, n=50, T=60):
    # n areas x 2 categories, constant totals 60 and 150 a month; area i's share in category 1 is
    # proportional to a lognormal activity a_i; in category 2 it is the same share (related) or an
    # independent one (unrelated)
    rng = np.random.default_rng(seed)
    s1 = rng.lognormal(0, 0.8, n)
    s1 /= s1.sum()
    s2 = s1 if related else rng.lognormal(0, 0.8, n)
    s2 = s2 / s2.sum()
    mu = np.hstack([np.tile(60 * s1, (T + 12, 1)), np.tile(150 * s2, (T + 12, 1))])
    y = rng.poisson(mu).astype(float)
    series = [(f"a{i}", "c1") for i in range(n)] + [(f"a{i}", "c2") for i in range(n)]
    return WidePanel(y[:T], pd.date_range("2015-01-01", periods=T, freq="MS"), series, "M"), mu[T:]


@pytest.mark.parametrize("related", [True, False])
def test_area_prior_of_the_shares_helps_when_areas_are_busy_for_every_category(related):
    # known truth mu: when both categories share the areas' activity, pooling a share with the area's
    # share of the other category (weight chosen on the last season of the training data) cuts the
    # error of the forecast mean (~25% here); when they are unrelated the chosen weight stays ~0
    ratios, lams = [], []
    for seed in range(6):
        wp, mu = _two_category_panel(related, seed)
        plain = PooledLevel(seasonal=False, share_prior=None).fit(wp).predict(12).mean
        m = PooledLevel(seasonal=False).fit(wp)
        ratios.append(np.abs(m.predict(12).mean - mu).mean() / np.abs(plain - mu).mean())
        lams.append(m.share_lambda_)
    lams = np.array(lams)
    if related:
        assert np.mean(ratios) < 0.85 and max(ratios) < 0.92, ratios
        assert (lams > 0).all()
    else:
        assert lams.max() <= 0.2 and np.mean(ratios) < 1.1, (lams, ratios)


def test_area_prior_needs_other_series_of_the_same_area():
    # one category, or areas without a second category: nothing to pool, the shares are the plain ones
    wp, _ = _two_category_panel(True, 0)
    one = wp.subset(np.arange(50))
    m = PooledLevel(seasonal=False).fit(one)
    plain = PooledLevel(seasonal=False, share_prior=None).fit(one)
    assert (m.share_lambda_ == 0).all()
    np.testing.assert_allclose(m.share_, plain.share_, rtol=1e-12)
