import numpy as np
import pandas as pd
import pytest

from riskmodel.impact import (
    InterruptedTimeSeries,
    StructuralCounterfactual,
    placebo_in_time,
    regression_to_mean,
)


def _windows(seed, n_areas=30, n_years=7, noise=0.15):
    """Yearly totals: stable area levels times independent noise (pure regression to the mean)."""
    rng = np.random.default_rng(seed)
    level = rng.lognormal(6, 0.5, n_areas)
    tot = level[None, :] * np.exp(rng.normal(0, noise, (n_years, n_areas)))
    ids = [f"A{i:02d}" for i in range(n_areas)]
    return pd.DataFrame(tot, columns=ids), level, ids


def test_regression_to_mean_predicts_the_fall_of_an_area_picked_for_a_high_year():
    W, level, ids = _windows(1)
    rng = np.random.default_rng(2)
    base = pd.Series(level * np.exp(rng.normal(0, 0.15, len(ids))), index=ids)
    base["A00"] = level[0] * np.exp(0.3)  # a year 35% above the usual
    res = regression_to_mean(W, base, "A00")
    # with i.i.d. noise the next value falls back almost fully: slope near -1
    assert -1.4 < res.coef < -0.6
    assert res.hi < 0 and res.lo < -0.15
    assert res.diagnostics["baseline_rank"] >= 1


def test_regression_to_mean_goes_against_the_baseline_deviation():
    W, level, ids = _windows(3)
    for col in ("A00", "A01", "A02"):
        base = W.iloc[-1]
        res = regression_to_mean(W, base, col)
        d = res.diagnostics["baseline_deviation"]
        assert res.estimate == pytest.approx(np.expm1(res.coef * d))
        assert np.sign(res.estimate) == -np.sign(d)


def test_regression_to_mean_needs_history():
    W, level, ids = _windows(4, n_years=2)
    assert not regression_to_mean(W, pd.Series(level, index=ids), "A00").ok


def test_placebo_in_time_mostly_covers_zero_on_null_data():
    covered = {"structural": 0, "its": 0}
    for seed in range(10):
        rng = np.random.default_rng(seed)
        t = np.arange(96)
        y = rng.poisson(200 * np.exp(0.2 * np.sin(2 * np.pi * t / 12)))
        res = placebo_in_time(StructuralCounterfactual(n_sims=300, seed=1), y, 72, 12)
        assert res.method == "placebo_in_time"
        assert res.diagnostics["fake_start"] == "60"
        covered["structural"] += res.covers(0.0)
        covered["its"] += placebo_in_time(InterruptedTimeSeries(), y, 72, 12).covers(0.0)
    # 95% intervals: 8 or more of 10 cover with probability 0.99
    assert covered["structural"] >= 8 and covered["its"] >= 8


def test_placebo_in_time_refuses_when_too_early():
    res = placebo_in_time(StructuralCounterfactual(), np.arange(1, 40), 30, 12)
    assert not res.ok
