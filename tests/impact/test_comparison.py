import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from riskmodel.impact import difference_in_differences, ratio_of_ratios
from riskmodel.impact.comparison import twoway_poisson_effect
from riskmodel.impact.inference import placebo_interval


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


def test_ratio_of_ratios_share_model_known_answers():
    from riskmodel.impact.comparison import _share_log_ror

    tb, ta = np.array([10.0, 20, 30]), np.array([12.0, 18, 24])
    cb, ca = 10 * tb, 11 * tb
    coef, se = _share_log_ror(tb, ta, cb, ca)
    assert coef == pytest.approx(np.log((ta.sum() / tb.sum()) / (ca.sum() / cb.sum())))
    # shares constant within each window: no overdispersion, the Woolf standard error
    assert se == pytest.approx(np.sqrt(1 / tb.sum() + 1 / ta.sum() + 1 / cb.sum() + 1 / ca.sum()))
    # the same as a Poisson GLM with one effect per period (quasi-Poisson scale from Pearson's X2)
    rng = np.random.default_rng(0)
    tb, ta, cb, ca = (rng.poisson(m) .astype(float) for m in (np.full(12, 40.0), np.full(12, 30.0),
                                                              np.full(12, 900.0), np.full(12, 800.0)))
    y = np.r_[tb, ta, cb, ca]
    period = np.tile(np.arange(24), 2)
    X = np.column_stack([(period[:, None] == np.arange(24)[None, :]).astype(float),
                         np.r_[np.ones(24), np.zeros(24)], np.r_[np.zeros(12), np.ones(12), np.zeros(24)]])
    fit = sm.GLM(y, X, family=sm.families.Poisson()).fit(scale="X2")
    coef, se = _share_log_ror(tb, ta, cb, ca)
    assert coef == pytest.approx(fit.params[-1], abs=1e-6)
    assert se == pytest.approx(fit.bse[-1] * np.sqrt(max(1.0, fit.scale) / fit.scale), rel=1e-4)


def _two_windows(seed, n_areas=16, effect=-0.2, drift_sd=0.05):
    """Monthly counts of a baseline year and a comparison year two years later; areas of very
    different size (two tiny ones), a shared season and city-wide path, and each area's own AR(1)
    drift of its log level (coefficient 0.9); area 0 is treated in the comparison year."""
    rng = np.random.default_rng(seed)
    n = 48
    dev = np.zeros((n_areas, n))
    for k in range(1, n):
        dev[:, k] = 0.9 * dev[:, k - 1] + rng.normal(0, drift_sd, n_areas)
    size = rng.uniform(100, 600, n_areas)
    size[-2:] = 2.0
    common = 0.2 * np.cos(2 * np.pi * np.arange(n) / 12) + rng.normal(0, 0.05, n)
    mu = size[:, None] * np.exp(common[None, :] + dev)
    mu[0, 36:] *= 1 + effect
    y = rng.poisson(rng.gamma(30.0, mu / 30.0))
    return y[:, :12].T.astype(float), y[:, 36:].T.astype(float), effect


def test_ratio_of_ratios_placebo_interval_covers_an_areas_own_drift():
    """The GLM interval sees only the within-year spread; the placebo areas measure how far an
    area's level moves on its own in two years."""
    glm, placebo = [], []
    for seed in range(40):
        b, a, effect = _two_windows(seed)
        r = ratio_of_ratios(b[:, 0], a[:, 0], b[:, 1:], a[:, 1:], matched_periods=True)
        assert r.estimate == pytest.approx((a[:, 0].sum() / b[:, 0].sum()) / (a[:, 1:].sum() / b[:, 1:].sum()) - 1)
        assert "placebo areas" in r.note
        glm.append(r.diagnostics["glm_lo"] <= effect <= r.diagnostics["glm_hi"])
        placebo.append(r.lo <= effect <= r.hi)
    assert np.mean(placebo) >= 0.9  # 92.5% when written (95.5% over 200 cities)
    assert np.mean(glm) <= 0.85  # 82.5% (83.5% over 200)
    # summed comparison areas: the GLM interval, as before
    b, a, _ = _two_windows(0)
    r = ratio_of_ratios(b[:, 0], a[:, 0], b[:, 1:].sum(axis=1), a[:, 1:].sum(axis=1), matched_periods=True)
    assert "placebo" not in r.note and "quasi-Poisson" in r.note


def _panel_with_tiny_areas(seed, n_areas=16, effect=-0.2):
    """Long monthly panel: 48 pre-periods and 12 post; areas of very different size (three tiny
    ones, 1/100 of the others), a shared season and path, overdispersion and each area's own
    AR(1) drift; area A00 (a large one) is treated in the post periods."""
    rng = np.random.default_rng(seed)
    n = 60
    dev = np.zeros((n_areas, n))
    for k in range(1, n):
        dev[:, k] = 0.9 * dev[:, k - 1] + rng.normal(0, 0.03, n_areas)
    size = rng.uniform(100, 600, n_areas)
    size[-3:] = rng.uniform(1, 6, 3)
    common = 0.2 * np.cos(2 * np.pi * np.arange(n) / 12) + rng.normal(0, 0.05, n)
    mu = size[:, None] * np.exp(common[None, :] + dev)
    mu[0, 48:] *= 1 + effect
    y = rng.poisson(rng.gamma(30.0, mu / 30.0))
    periods = pd.date_range("2015-01-01", periods=n, freq="MS")
    ids = [f"A{i:02d}" for i in range(n_areas)]
    d = pd.DataFrame({"area_id": np.repeat(ids, n), "period": np.tile(periods, n_areas), "count": y.ravel()})
    return d, periods[48], effect


def test_did_scaled_placebo_interval_is_not_swamped_by_tiny_areas():
    """The plain placebo interval takes its width from the tiny areas' wild placebo effects; scaled
    by each area's quasi-Poisson se, the interval of a large area keeps its coverage and is narrower."""
    cov_s, cov_p, ratio = [], [], []
    for seed in range(30):
        d, start, effect = _panel_with_tiny_areas(seed)
        s = difference_in_differences(d, "A00", start)
        assert "scaled" in s.note and 0 <= s.diagnostics["placebo_noise_share"] <= 1
        # the plain interval from the same placebos (what placebo_interval_kind='plain' gives)
        lo, hi, _ = placebo_interval(s.estimate, np.expm1(s.diagnostics["placebo_coefs"]))
        cov_s.append(s.lo <= effect <= s.hi)
        cov_p.append(lo <= effect <= hi)
        ratio.append((s.hi - s.lo) / (hi - lo))
    assert np.mean(cov_s) >= 0.9  # 93% when written (the plain interval: 100%)
    assert np.median(ratio) < 0.85  # 0.78
    plain = difference_in_differences(d, "A00", start, placebo_interval_kind="plain")
    assert (plain.lo, plain.hi) == pytest.approx((lo, hi))
