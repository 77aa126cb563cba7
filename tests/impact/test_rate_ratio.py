import numpy as np
import pytest
from scipy import stats

from riskmodel.impact.rate_ratio import exact_poisson_ratio, rate_ratio


def test_exact_interval_inverts_the_conditional_binomial_tails():
    # a=12 in exposure 3, b=30 in exposure 2: RR = (12/3)/(30/2)
    a, ea, b, eb = 12, 3.0, 30, 2.0
    rr, lo, hi, p = exact_poisson_ratio(a, ea, b, eb, 0.95)
    assert rr == pytest.approx((12 / 3) / (30 / 2))
    n = a + b
    # at the bounds the binomial tail probabilities are exactly 2.5%
    p_lo = lo * ea / (lo * ea + eb)
    p_hi = hi * ea / (hi * ea + eb)
    assert stats.binom.sf(a - 1, n, p_lo) == pytest.approx(0.025, rel=1e-6)
    assert stats.binom.cdf(a, n, p_hi) == pytest.approx(0.025, rel=1e-6)
    assert p == pytest.approx(stats.binomtest(a, n, ea / (ea + eb)).pvalue)


def test_exact_interval_covers_at_least_nominally_in_simulation():
    rng = np.random.default_rng(1)
    true_rr, ea, eb = 0.7, 1.0, 1.0
    a = rng.poisson(20 * true_rr, 2000)
    b = rng.poisson(20, 2000)
    cov = [lo <= true_rr <= hi for x, y in zip(a, b, strict=True) if y > 0
           for _, lo, hi, _ in [exact_poisson_ratio(x, ea, y, eb)]]
    assert np.mean(cov) >= 0.95  # exact intervals are conservative


def test_quasi_poisson_widens_with_overdispersion_and_uses_exposure():
    rng = np.random.default_rng(2)
    before = rng.negative_binomial(5, 5 / (5 + 100), 24)  # mean 100, var 2100
    after = rng.negative_binomial(5, 5 / (5 + 80), 24)
    res = rate_ratio(before, after, np.full(24, 2.0), np.full(24, 2.0))
    iv = res.tables["intervals"].set_index("interval")
    assert set(iv.index) == {"exact_poisson", "quasi_poisson", "negative_binomial"}
    assert res.diagnostics["dispersion"] > 5
    width = iv["hi"] - iv["lo"]
    assert width["quasi_poisson"] > 2 * width["exact_poisson"]
    assert res.estimate == pytest.approx(after.sum() / before.sum() - 1)
    # doubling the comparison exposure halves the rate ratio
    res2 = rate_ratio(before, after, np.full(24, 2.0), np.full(24, 4.0))
    assert res2.estimate + 1 == pytest.approx((res.estimate + 1) / 2)
    assert res.to_frame().shape == (1, 8)


def test_single_totals_give_the_exact_interval():
    res = rate_ratio([50], [30])
    assert res.note.startswith("exact")
    assert res.lo < -0.4 < res.hi
