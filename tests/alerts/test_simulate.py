"""The outbreak simulator against its own specification (Noufaily et al. 2013)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from riskmodel.alerts.simulate import Scenario, _outbreak, draw_baseline, lognormal_spread, simulate


def test_baseline_mean_and_variance_match_the_spec() -> None:
    """Across replicates, week by week: mean mu_t and variance phi * mu_t."""
    sc = Scenario("t", theta=1.5, beta=0.002, gamma1=0.4, gamma2=0.3, m=2, phi=2.5)
    s = simulate([sc], 4000, n_weeks=104, n_eval=4, seed=1, past_k=(0,), current_k=(0,))
    assert s.outbreak.sum() == 0
    mu = sc.mean(np.arange(1, 105))
    np.testing.assert_allclose(s.mu[:, 0], mu)
    m = s.y.mean(axis=1)
    v = s.y.var(axis=1, ddof=1)
    se_m = np.sqrt(sc.phi * mu / 4000)
    assert np.all(np.abs(m - mu) < 4.5 * se_m)
    # pooled variance ratio: var/(phi mu) averages 1 within sampling error
    ratio = v / (sc.phi * mu)
    assert abs(ratio.mean() - 1) < 0.02
    # the seasonal shape: two harmonics
    t = np.arange(1, 105)
    expect = np.exp(1.5 + 0.002 * t + 0.4 * (np.cos(2 * np.pi * t / 52) + np.cos(4 * np.pi * t / 52))
                    + 0.3 * (np.sin(2 * np.pi * t / 52) + np.sin(4 * np.pi * t / 52)))
    np.testing.assert_allclose(mu, expect)


def test_poisson_when_phi_is_one() -> None:
    rng = np.random.default_rng(3)
    y = draw_baseline(np.full(200_000, 3.0), 1.0, rng)
    assert abs(y.mean() - 3) < 0.02 and abs(y.var() - 3) < 0.05


def test_lognormal_spread_is_r_lognormdiscrete() -> None:
    p = lognormal_spread()
    assert p.shape == (20,) and abs(p.sum() - 1) < 1e-12
    # P(0 < X <= 1) = Phi(0) = 1/2, over P(X <= 20)
    assert abs(p[0] - 0.5 / stats.norm.cdf(np.log(20) / 0.5)) < 1e-12
    assert np.argmax(p) == 0 and p[1] > p[2] > p[3]


def test_outbreak_size_and_spread() -> None:
    rng = np.random.default_rng(5)
    spread = lognormal_spread()
    tot = np.array([_outbreak(10, 7.5, spread, 60, rng) for _ in range(20000)])
    assert abs(tot.sum(axis=1).mean() - 7.5) < 0.1
    shape = tot[:, 10:30].sum(axis=0) / tot.sum()
    np.testing.assert_allclose(shape, spread, atol=0.005)
    assert tot[:, :10].sum() == 0


def test_one_current_outbreak_in_the_evaluation_weeks_and_seeded() -> None:
    a = simulate(n_reps=5, seed=11)
    b = simulate(n_reps=5, seed=11)
    assert np.array_equal(a.y, b.y)
    assert not np.array_equal(a.y, simulate(n_reps=5, seed=12).y)
    T = a.y.shape[0]
    assert (a.current[: T - a.n_eval] == 0).all()
    assert np.array_equal(a.y, a.baseline + a.outbreak)
    assert (a.outbreak >= a.current).all()
    # sizes scale with the baseline sd at the start: mean cases / (k sd) ~ 1 over many
    sc = Scenario("big", theta=3.0, phi=2.0)
    s = simulate([sc], 1500, n_weeks=120, n_eval=60, seed=2, past_k=(0,), current_k=(4,))
    sd = np.sqrt(2.0 * np.exp(3.0))
    starts_early = s.current[:100].sum(axis=0) == s.current.sum(axis=0)  # not cut by the end
    first = s.current.argmax(axis=0)
    keep = starts_early & (first < 100) & (s.current.sum(axis=0) > 0)
    # cases within the series; outbreaks starting at weeks 60..79 lose little of the spread
    tot = s.current.sum(axis=0)[keep & (first < 80)]
    assert abs(tot.mean() / (4 * sd) - 1) < 0.05
    assert len(s.to_counts()) == 120 * 1500
