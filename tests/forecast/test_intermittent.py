"""Intermittent-count models (issue 18, item 2): statsforecast's point forecasts, closed forms, the hurdle model.

The reference values are statsforecast 2.1.1's (CrostonSBA, TSB, ADIDA, IMAPA)
on simulated series, made by benchmarks/forecast/intermittent_reference.py in
statsforecast's own venv and committed as benchmarks/forecast/intermittent_reference.csv.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError
from riskmodel.forecast import make_model
from riskmodel.forecast.intermittent import (
    adida_fit,
    aggregate_forecast,
    croston_sba_fit,
    hurdle_quantiles,
    imapa_fit,
    ses,
    tsb_fit,
)

REFERENCE = Path(__file__).resolve().parents[2] / "benchmarks" / "forecast" / "intermittent_reference.csv"


def wide(y: np.ndarray, n_obs: np.ndarray | None = None) -> WidePanel:
    y = np.asarray(y, dtype=float).reshape(len(y), -1)
    periods = pd.date_range("2019-01-07", periods=y.shape[0], freq="W-MON")
    return WidePanel(y, periods, [(f"a{j}", "guns") for j in range(y.shape[1])], "W", n_obs)


def test_croston_and_tsb_equal_statsforecasts_on_simulated_series():
    ref = pd.read_csv(REFERENCE)
    assert len(ref) == 42
    # series by series here; ADIDA and IMAPA (fitted for all series at once) in the next test
    fits = {"croston_sba": lambda y: croston_sba_fit(y)[0], "tsb": lambda y: tsb_fit(y, 0.1, 0.1)[0]}
    for _, row in ref.iterrows():
        y = np.array(row["y"].split(), dtype=float)
        for name, fit in fits.items():
            assert fit(y) == pytest.approx(row[name], abs=1e-6), (row["unique_id"], name)


def test_the_four_registered_models_equal_statsforecasts_on_a_whole_panel():
    ref = pd.read_csv(REFERENCE)
    ys = [np.array(s.split(), dtype=float) for s in ref["y"]]
    T = max(len(y) for y in ys)
    # series of different lengths: each starts late (zeros before, n_obs = its length)
    Y = np.zeros((T, len(ys)))
    for j, y in enumerate(ys):
        Y[T - len(y):, j] = y
    wp = wide(Y, np.array([len(y) for y in ys]))
    for name in ("croston_sba", "tsb", "adida", "imapa"):
        fc = make_model(name).fit(wp).predict(3, (80, 95))
        np.testing.assert_allclose(fc.mean, np.repeat(ref[name].to_numpy()[None], 3, axis=0), atol=1e-6)


def test_croston_sba_and_tsb_by_hand_on_ten_values():
    y = np.array([0, 3, 0, 0, 2, 0, 1, 0, 0, 0], dtype=float)
    # sizes 3, 2, 1 and intervals 2, 3, 2; SES (alpha 0.1) started at the first of each
    z = 0.1 * 1 + 0.9 * (0.1 * 2 + 0.9 * 3)  # 2.71
    p = 0.1 * 2 + 0.9 * (0.1 * 3 + 0.9 * 2)  # 2.09
    assert croston_sba_fit(y)[0] == pytest.approx(0.95 * z / p, abs=1e-12)
    # TSB: the occurrence indicator smoothed every period (alpha_p), the sizes at each demand (alpha_d)
    prob = 0.0
    for v in (y[1:] > 0):
        prob = 0.2 * v + 0.8 * prob
    size = 0.3 * 1 + 0.7 * (0.3 * 2 + 0.7 * 3)
    assert tsb_fit(y, alpha_d=0.3, alpha_p=0.2)[0] == pytest.approx(prob * size, abs=1e-12)


def test_adida_sums_blocks_of_the_mean_interval_and_smooths_them_with_the_best_alpha():
    y = np.array([0, 3, 0, 0, 2, 0, 1, 0, 0, 0, 4], dtype=float)
    # intervals 2, 3, 2, 4: mean 2.75 -> blocks of 3 ending at the last period, the oldest 2 periods dropped
    sums = np.array([y[2:5].sum(), y[5:8].sum(), y[8:11].sum()])
    assert sums.tolist() == [2.0, 1.0, 4.0]

    def sse(a):
        return float(np.sum((sums[1:] - ses(sums, a)[1][1:]) ** 2))

    alpha = optimize.minimize_scalar(sse, bounds=(0.1, 0.3), method="bounded", options={"xatol": 1e-10}).x
    assert adida_fit(y)[0] == pytest.approx(ses(sums, alpha)[0] / 3, abs=1e-6)
    # IMAPA averages blocks of 1, 2 and 3 periods
    per_level = [aggregate_forecast(y, k)[0] for k in (1, 2, 3)]
    assert imapa_fit(y)[0] == pytest.approx(np.mean(per_level), abs=1e-12)


def test_a_late_series_is_forecast_from_its_own_history_only():
    y = np.array([0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 1, 0, 3, 0], dtype=float)
    both = np.column_stack([y, y])
    wp = wide(both, np.array([16, 11]))  # the second series starts at period 5 (its first count)
    for name, fit in (("croston_sba", croston_sba_fit), ("adida", adida_fit)):
        fc = make_model(name).fit(wp).predict(1, (80,))
        assert fc.mean[0, 0] == pytest.approx(fit(y)[0])
        assert fc.mean[0, 1] == pytest.approx(fit(y[5:])[0])
        assert fc.mean[0, 0] != pytest.approx(fc.mean[0, 1])  # the first interval counts from the start


def test_hurdle_quantiles_are_those_of_the_exact_distribution():
    pi = np.array([0.05, 0.3, 0.9, 1.0])
    m, v = np.array([1.0, 2.5, 4.0, 6.0]), np.array([0.0, 3.0, 2.0, 9.0])
    probs = np.array([0.025, 0.1, 0.5, 0.9, 0.975])
    q = hurdle_quantiles(pi, m, v, probs)

    def cdf(k, j):  # P(Y <= k): 1 - pi + pi P(1 + X <= k), X with mean m - 1 and variance v
        if k < 0:
            return 0.0
        mu = m[j] - 1
        if mu <= 0:
            inner = 1.0 if k >= 1 else 0.0
        elif v[j] > mu:
            inner = stats.nbinom.cdf(k - 1, mu**2 / (v[j] - mu), mu / v[j])
        else:
            inner = stats.poisson.cdf(k - 1, mu)
        return 1 - pi[j] + pi[j] * inner

    for j in range(len(pi)):
        for i, p in enumerate(probs):
            k = q[j, i]
            assert cdf(k, j) >= p - 1e-9 and cdf(k - 1, j) < p, (j, p, k)


def test_hurdle_recovers_p_and_the_mean_and_its_90_intervals_cover_like_the_true_distributions():
    rng = np.random.default_rng(7)
    S, T, H = 300, 60, 8
    p, size, excess = 0.3, 2.0, 1.5  # y > 0 with probability 0.3; y - 1 ~ NB(mean 1.5, size 2)
    draw = rng.random((T + H, S)) < p
    y = np.where(draw, 1 + rng.negative_binomial(size, size / (size + excess), (T + H, S)), 0).astype(float)
    model = make_model("hurdle", halflife_years=0.0).fit(wide(y[:T]))
    assert model.pi_.mean() == pytest.approx(p, abs=0.01)
    assert model.mean_pos_.mean() == pytest.approx(1 + excess, abs=0.06)
    fc = model.predict(H, (90,))
    assert fc.mean.mean() == pytest.approx(p * (1 + excess), abs=0.03)
    lo, hi = fc.interval(90)
    covered = ((y[T:] >= lo) & (y[T:] <= hi)).mean()
    # the true distribution's own 90% interval is [0, 4] (a discrete distribution covers more than 90%)
    true_var = excess + excess**2 / size
    tlo, thi = hurdle_quantiles(np.array([p]), np.array([1 + excess]), np.array([true_var]), np.array([0.05, 0.95]))[0]
    assert (tlo, thi) == (0.0, 4.0)
    oracle = ((y[T:] >= tlo) & (y[T:] <= thi)).mean()
    assert covered == pytest.approx(oracle, abs=0.015)
    assert 0.88 <= covered <= 0.98


def test_point_methods_intervals_cover_simulated_intermittent_series():
    rng = np.random.default_rng(3)
    S, T, H = 200, 60, 8
    y = np.where(rng.random((T + H, S)) < 0.25, 1 + rng.poisson(2.0, (T + H, S)), 0).astype(float)
    wp = wide(y[:T])
    for name in ("croston_sba", "tsb", "adida"):
        model = make_model(name).fit(wp)
        assert (model.dispersion_ > 1.2).mean() > 0.9, name  # the zeros make these counts over-dispersed
        lo, hi = model.predict(H, (80,)).interval(80)
        covered = ((y[T:] >= lo) & (y[T:] <= hi)).mean()
        assert 0.8 <= covered <= 0.95, (name, covered)


def test_bad_options_are_refused_naming_the_option():
    wp = wide(np.array([0, 1, 0, 2, 0, 0, 1, 0], dtype=float))
    with pytest.raises(InputError, match="alpha_p must be in"):
        make_model("tsb", alpha_p=0.0).fit(wp)
    with pytest.raises(InputError, match="halflife_years must be >= 0"):
        make_model("hurdle", halflife_years=-1.0).fit(wp)
