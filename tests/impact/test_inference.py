import numpy as np
import pytest
from scipy import stats

from riskmodel.impact.inference import placebo_interval, placebo_interval_scaled


def _scales(rng, n):
    """Noise scales of areas of very different size: most streets, a few tiny towns (10x noisier)."""
    s = rng.uniform(0.05, 0.12, n)
    s[:3] = rng.uniform(0.5, 1.0, 3)
    return s


def test_scaled_placebo_interval_is_calibrated_and_narrower_than_the_plain_one():
    """Errors ~ N(bias, A + B s^2) with a few tiny, very noisy areas among the placebos: the interval
    of a large treated area covers the truth at the nominal rate and is far narrower than the plain
    placebo interval, which the tiny areas swamp (it over-covers)."""
    rng = np.random.default_rng(0)
    A, B, bias, truth, J = 0.03**2, 0.4**2, -0.02, np.log(0.8), 24
    cov_s, cov_p, w_s, w_p = [], [], [], []
    for _ in range(1000):
        s = _scales(rng, J)
        s_t = rng.uniform(0.05, 0.12)
        err = bias + rng.normal(0, np.sqrt(A + B * s**2))
        est = truth + bias + rng.normal(0, np.sqrt(A + B * s_t**2))
        lo, hi, *_ = placebo_interval_scaled(est, s_t, err, s)
        cov_s.append(np.log1p(lo) <= truth <= np.log1p(hi))
        w_s.append(hi - lo)
        lo, hi, _ = placebo_interval(np.expm1(est), np.expm1(err))
        cov_p.append(np.log1p(lo) <= truth <= np.log1p(hi))
        w_p.append(hi - lo)
    assert 0.93 <= np.mean(cov_s) <= 0.97  # 1000 replications: sd 0.7 points; 95.6% when written
    assert np.mean(cov_p) > 0.99  # the plain interval: 99.7%
    assert np.median(w_s) < 0.5 * np.median(w_p)


def test_scaled_placebo_interval_limiting_cases():
    rng = np.random.default_rng(1)
    r = rng.normal(0, 0.1, 12)
    # equal scales: the plain placebo interval, with t(J - 2) for t(J - 1)
    lo, hi, _, sd, _, m = placebo_interval_scaled(0.2, 0.1, r, np.full(12, 0.1))
    plain = placebo_interval(np.expm1(0.2), np.expm1(r))
    assert m == pytest.approx(r.mean())
    assert sd == pytest.approx(r.std(ddof=1) * np.sqrt(1 + 1 / 12))
    ratio = stats.t.ppf(0.975, 10) / stats.t.ppf(0.975, 11)
    assert np.log1p(hi) - np.log1p(lo) == pytest.approx(ratio * (np.log1p(plain[1]) - np.log1p(plain[0])))
    # errors exactly proportional to the scale: the noisier the treated unit, the wider its interval
    # and the larger the share of its variance from its noise; for a unit far less noisy than the
    # placebos the common error A, which twelve placebos cannot rule out, dominates (conservative)
    s = np.linspace(0.05, 1.0, 12)
    z = np.tile([-1.0, 1.0], 6) * 0.5
    sds, shares = zip(*(placebo_interval_scaled(0.0, st, z * s, s)[3:5] for st in (0.05, 0.2, 1.0)), strict=True)
    assert np.all(np.diff(sds) > 0) and np.all(np.diff(shares) > 0)
    assert sds[2] == pytest.approx(0.5 * 1.0, rel=0.15)  # 0.44 (0.5 x its scale)
    assert shares[2] > 0.8
    # too few placebos, or no scale for the treated unit
    assert np.isnan(placebo_interval_scaled(0.0, 0.1, r[:3], np.full(3, 0.1))[0])
    assert np.isnan(placebo_interval_scaled(0.0, np.nan, r, np.full(12, 0.1))[0])
    # unusable placebos (non-finite, zero scale) are dropped
    a = placebo_interval_scaled(0.1, 0.1, r, np.full(12, 0.1))
    b = placebo_interval_scaled(0.1, 0.1, np.r_[r, np.nan, 5.0], np.r_[np.full(12, 0.1), 0.1, 0.0])
    assert a[:2] == pytest.approx(b[:2])
