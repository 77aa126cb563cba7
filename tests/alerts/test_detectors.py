"""Detectors against closed forms and a peer (statsmodels) where R is not needed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize

from riskmodel.alerts.ears import ears_c
from riskmodel.alerts.farrington import FarringtonControl, _rcolon, blocks, reference_points
from riskmodel.alerts.glm import fit_cells_trend
from riskmodel.alerts.glrnb import _llr, glr_nb
from riskmodel.errors import InputError


def test_cell_trend_glm_matches_statsmodels() -> None:
    rng = np.random.default_rng(0)
    n, L, S = 80, 4, 3
    level = rng.integers(0, L, n)
    t = np.linspace(-1, 1, n)
    y = rng.poisson(np.exp(1 + 0.5 * t + 0.3 * level)[None, :] * np.ones((S, 1))).astype(float)
    w = rng.uniform(0.5, 2, (S, n))
    fit = fit_cells_trend(y, w, level, L, t, trend=True)
    X = np.column_stack([(level == j).astype(float) for j in range(L)] + [t])
    for s in range(S):
        ref = sm.GLM(y[s], X, family=sm.families.Poisson(), var_weights=w[s]).fit(tol=1e-12)
        np.testing.assert_allclose(fit.beta[s], ref.params[:L], rtol=1e-7)
        np.testing.assert_allclose(fit.gamma[s], ref.params[L], rtol=1e-7)
        np.testing.assert_allclose(fit.mu[s], ref.mu, rtol=1e-7)
        # prediction variance at (level 2, t0) = x' (X'WX)^-1 x with the final weights
        x0 = np.r_[np.eye(L)[2], 0.3]
        v = x0 @ ref.cov_params(scale=1.0) @ x0
        np.testing.assert_allclose(fit.var_link(2, 0.3)[s], v, rtol=1e-5)
        # Pearson dispersion as summary.glm; R (and we) weight it with the working
        # weights of the last iteration (the mean before the final update), which
        # differs from the converged Pearson statistic in the 5th digit here
        disp = np.sum(w[s] * (y[s] - ref.mu) ** 2 / ref.mu) / (n - L - 1)
        np.testing.assert_allclose(fit.dispersion[s], disp, rtol=1e-4)


def test_reference_points_dates_and_iso_week_53() -> None:
    per = pd.date_range("2014-01-06", "2022-12-26", freq="W-MON")
    d = per.values.astype("datetime64[D]")
    k = per.get_loc(pd.Timestamp("2021-01-04"))
    refs = reference_points(k, 2, 52, d, "W")
    # 2020-01-04 is a Saturday: nearest Monday 2020-01-06 (2020 has 53 ISO weeks: 53 back)
    assert [per[i].date().isoformat() for i in refs] == ["2021-01-04", "2020-01-06", "2019-01-07"]
    assert refs[0] - refs[1] == 52 and refs[1] - refs[2] == 52
    k = per.get_loc(pd.Timestamp("2016-02-29"))  # 29 February -> 1 March a year earlier
    refs = reference_points(k, 1, 52, d, "W")
    assert per[refs[1]].date().isoformat() == "2015-03-02"
    assert reference_points(10, 1, 52, d, "W") is None  # before the data
    assert list(reference_points(200, 3, 52, None, None)) == [200, 148, 96, 44]


def test_blocks_follow_noufaily_layout() -> None:
    refs = np.array([400, 348, 296])
    f = blocks(refs, 420, 3, 10)
    assert (f[397:401] == 10).all() and (f[345:352] == 10).all() and (f[293:300] == 10).all()
    gap = f[352:397]
    assert set(np.unique(gap)) == set(range(1, 10)) and len(gap) == 45
    assert np.isnan(f[:293]).all() and np.isnan(f[401:]).all()
    assert list(_rcolon(5, 3)) == [5, 4, 3] and list(_rcolon(5, 4)) == [5, 4]


def test_farrington_flags_a_spike_and_not_the_baseline() -> None:
    from riskmodel.alerts import farrington_flexible

    rng = np.random.default_rng(4)
    T, S = 52 * 6 + 20, 50
    t = np.arange(T)
    mu = 8 * np.exp(0.4 * np.sin(2 * np.pi * t / 52))
    y = rng.poisson(mu[:, None] * np.ones(S)).astype(float)
    k = T - 5
    y[k, :10] += 40
    res = farrington_flexible(y, np.arange(T - 19, T), FarringtonControl(no_periods=10, past_weeks_not_included=26,
                                                                       threshold_method="nbPlugin", alpha=0.01), freq=52)
    row = k - (T - 19)
    assert res["alarm"][row, :10].all()
    assert res["alarm"][:, 10:].mean() < 0.04
    np.testing.assert_allclose(np.nanmean(res["expected"][:, 10:] / mu[T - 19:, None]), 1, atol=0.08)


def test_farrington_short_history_gives_reasons_not_errors() -> None:
    from riskmodel.alerts import farrington_flexible

    y = np.ones((60, 2)) * 3
    res = farrington_flexible(y, np.arange(50, 60), FarringtonControl(b=3), freq=52)
    assert not res["alarm"].any() and np.isnan(res["upperbound"]).all()
    assert all("history too short" in r for r in res["reason"].ravel())
    with pytest.raises(InputError, match="threshold_method"):
        farrington_flexible(y, [55], FarringtonControl(threshold_method="x"))


def test_ears_c1_by_hand() -> None:
    y = np.array([3, 5, 4, 6, 2, 5, 3, 12.0])[:, None]
    r = ears_c(y, np.array([7]), "C1", alpha=0.05)
    ref = y[:7, 0]
    up = ref.mean() + 1.6448536269514722 * ref.std(ddof=1)
    np.testing.assert_allclose(r["upperbound"][0, 0], up)
    assert r["alarm"][0, 0]
    with pytest.raises(InputError, match="baseline"):
        ears_c(y, None, "C1", baseline=2)


def _glr_brute(x: np.ndarray, mu: np.ndarray, a: float) -> float:
    best = -np.inf
    n = len(x)
    for k in range(n):
        def negl(kap: float, k: int = k) -> float:
            return -float(np.sum(_llr(np.float64(kap), x[k:], mu[k:], np.full(n - k, a))))
        r = optimize.minimize_scalar(negl, bounds=(0, 10), method="bounded", options={"xatol": 1e-10})
        best = max(best, -min(r.fun, negl(0.0)))
    return best


@pytest.mark.parametrize("a", [0.0, 0.3])
def test_glr_statistic_matches_brute_force(a: float) -> None:
    rng = np.random.default_rng(2)
    T = 30
    mu = np.full((T, 2), 5.0)
    y = rng.poisson(mu).astype(float)
    y[-3:, 0] += 8
    r = glr_nb(y, mu, a, np.arange(T), c_arl=1e9, M=-1, cases=False)
    for n in (10, 29):
        for s in range(2):
            np.testing.assert_allclose(r["statistic"][n, s], _glr_brute(y[: n + 1, s], mu[: n + 1, s], a), rtol=1e-6, atol=1e-8)


def test_glr_cases_and_reset() -> None:
    mu = np.full((20, 1), 4.0)
    y = np.full((20, 1), 4.0)
    y[12] = 25
    r = glr_nb(y, mu, 0.2, np.arange(20), c_arl=5, M=6)
    assert r["alarm"][12, 0] and r["alarm"].sum() == 1
    # the bound is the least count that alarms: count = bound alarms, bound - 1 does not
    ub = r["upperbound"][12, 0]
    for c, expect in ((ub, True), (ub - 1, False)):
        y2 = y.copy()
        y2[12] = c
        assert bool(glr_nb(y2, mu, 0.2, np.arange(20), c_arl=5, M=6, cases=False)["alarm"][12, 0]) is expect
    # the CUSUM with known kappa: S_n = max(0, S_{n-1} + l_n)
    rc = glr_nb(y, mu, 0.0, np.arange(20), c_arl=100, theta=np.log(2))
    s, prev = [], 0.0
    for n in range(20):
        prev = max(0.0, prev + np.log(2) * y[n, 0] + (1 - 2) * mu[n, 0])
        s.append(prev)
    np.testing.assert_allclose(rc["statistic"][:, 0], s)


def test_window_test_is_an_nb_test_of_the_sum() -> None:
    from scipy import stats

    from riskmodel.alerts.window import window_test

    y = np.array([[5.0], [9.0], [14.0]])
    mu = np.array([[4.0], [5.0], [6.0]])
    phi = np.array([[1.5], [2.0], [1.0]])
    r = window_test(y, mu, phi, window=2, alpha=0.01)
    # second row: y 9 + 14 against NB(mean 11, variance 2 * 11)
    size, p = 11 / (2 - 1), 1 / 2
    np.testing.assert_allclose(r["pvalue"][1, 0], stats.nbinom.sf(22, size, p))
    q = stats.nbinom.ppf(0.99, size, p)
    assert r["upperbound"][1, 0] == q - 9
    assert r["alarm"][1, 0] == (23 > q)
    # window 1 with phi 1 is the Poisson tail
    r1 = window_test(y, mu, np.ones_like(phi), window=1, alpha=0.01)
    np.testing.assert_allclose(r1["pvalue"][:, 0], stats.poisson.sf(y[:, 0] - 1, mu[:, 0]))
