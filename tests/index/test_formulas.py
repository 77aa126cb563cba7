"""Formulas against hand-computed cases and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from riskmodel.errors import InputError
from riskmodel.index.aggregate import aggregate_level, copeland
from riskmodel.index.ahp import RANDOM_INDEX, ahp, check_pairwise, consistency, priorities
from riskmodel.index.normalise import normalise
from riskmodel.index.ranks import grades, rank_desc
from riskmodel.index.spec import IndexSpec, effective_weights
from riskmodel.index.treat import kurtosis, skewness, treat_column, winsorise
from riskmodel.index.weights import critic_weights, entropy_weights, pca_weights


# ----------------------------------------------------------------------------- AHP
def test_ahp_consistent_matrix_has_cr_zero_and_exact_weights():
    A = np.array([[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]])
    for m in ("eigenvector", "geometric"):
        w = priorities(A, m)
        np.testing.assert_allclose(w, [4 / 7, 2 / 7, 1 / 7], atol=1e-12)
    lam, ci, cr = consistency(A)
    assert lam == pytest.approx(3.0, abs=1e-12) and cr == pytest.approx(0.0, abs=1e-12)


def test_ahp_known_cr_of_a_3x3_matrix():
    # For a 3x3 reciprocal matrix with a12=a, a13=b, a23=c, lambda_max = 1 + r + 1/r with
    # r = (b / (a c))^(1/3). Here a = 1, b = 8, c = 1: r = 2, lambda_max = 3.5,
    # CI = 0.25, CR = 0.25 / 0.58 (Saaty's RI for n = 3).
    A = np.array([[1, 1, 8], [1, 1, 1], [1 / 8, 1, 1]])
    res = ahp(A, ["x", "y", "z"], "P")
    assert res.lambda_max == pytest.approx(3.5, abs=1e-10)
    assert res.ci == pytest.approx(0.25, abs=1e-10)
    assert res.cr == pytest.approx(0.25 / 0.58, abs=1e-10)
    assert not res.consistent
    # the geometric mean equals the eigenvector for any 3x3 matrix
    np.testing.assert_allclose(priorities(A, "geometric"), res.weights, atol=1e-10)
    # the judgement to revisit: x vs z = 8, where x ~ y and y ~ z imply 1 (here w_x/w_z = 2^(2/3)*... )
    assert (res.revisit["row"], res.revisit["col"]) in {("x", "z"), ("x", "y"), ("y", "z")}
    assert res.revisit["row"] == "x" and res.revisit["col"] == "z"
    assert res.revisit["implied"] == pytest.approx(res.weights[0] / res.weights[2])


def test_ahp_random_index_table_is_saatys():
    assert [RANDOM_INDEX[n] for n in range(3, 11)] == [0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49]


def test_ahp_several_experts_aggregate_judgements_by_geometric_mean():
    A1 = np.array([[1, 3], [1 / 3, 1]])
    A2 = np.array([[1, 1 / 3], [3, 1]])
    res = ahp([A1, A2], ["a", "b"], "P", group="judgements")
    np.testing.assert_allclose(res.weights, [0.5, 0.5], atol=1e-12)  # geometric mean of 3 and 1/3 is 1
    res = ahp([A1, A2], ["a", "b"], "P", group="priorities", expert_weights=[3, 1])
    g = np.array([0.75**0.75 * 0.25**0.25, 0.25**0.75 * 0.75**0.25])
    np.testing.assert_allclose(res.weights, g / g.sum(), atol=1e-12)
    assert list(res.experts["expert"]) == ["expert 1", "expert 2"]


@pytest.mark.parametrize(
    "A, text",
    [
        ([[1, 2], [2, 1]], "not reciprocal"),
        ([[1, -2], [-0.5, 1]], "positive"),
        ([[2, 2], [0.5, 1]], "diagonal"),
        ([[1, 2, 3], [0.5, 1, 2]], "square"),
    ],
)
def test_ahp_bad_matrices_are_named(A, text):
    with pytest.raises(InputError, match=text):
        check_pairwise(A)


# ----------------------------------------------------------------------------- weights
def test_entropy_weights_with_zeros_hand_computed():
    # raw basis: column 1 = (0, 1, 3): p = (0, 1/4, 3/4), 0 log 0 = 0;
    # column 2 = (1, 1, 2): p = (1/4, 1/4, 1/2)
    x = np.array([[0.0, 1.0], [1.0, 1.0], [3.0, 2.0]])
    e1 = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75)) / math.log(3)
    e2 = -(2 * 0.25 * math.log(0.25) + 0.5 * math.log(0.5)) / math.log(3)
    d = np.array([1 - e1, 1 - e2])
    np.testing.assert_allclose(entropy_weights(x, basis="raw"), d / d.sum(), atol=1e-12)
    # minmax basis with a "good when low" column: column 2 flipped -> (1, 1, 0); column 1 -> (0, 1/3, 1)
    w = entropy_weights(x, np.array([1.0, -1.0]))
    p1 = np.array([0, 1 / 3, 1]) / (4 / 3)
    e1 = -sum(p * math.log(p) for p in p1 if p > 0) / math.log(3)
    e2 = -(2 * 0.5 * math.log(0.5)) / math.log(3)
    d = np.array([1 - e1, 1 - e2])
    np.testing.assert_allclose(w, d / d.sum(), atol=1e-12)
    assert np.all(np.isfinite(w))


def test_entropy_and_critic_refuse_constant_indicator():
    x = np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 5.0]])
    with pytest.raises(InputError, match="constant"):
        entropy_weights(x)
    with pytest.raises(InputError, match="constant"):
        critic_weights(x)


def test_critic_flips_good_when_low_indicators_before_correlating():
    rng = np.random.default_rng(0)
    a = rng.normal(size=200)
    x = np.column_stack([a, -a + 0.01 * rng.normal(size=200), rng.normal(size=200)])
    # column 2 is "good when low": aligned, it duplicates column 1 (r ~ +1), so both lose weight
    w = critic_weights(x, np.array([1.0, -1.0, 1.0]))
    assert w[2] > w[0] and w[2] > w[1]
    # hand formula on the aligned [0, 1] values
    y = (x - x.min(0)) / (x.max(0) - x.min(0))
    y[:, 1] = 1 - y[:, 1]
    c = y.std(0, ddof=1) * (1 - np.corrcoef(y.T)).sum(0)
    np.testing.assert_allclose(w, c / c.sum(), atol=1e-12)


def test_pca_weights_of_two_equal_indicators_and_noise():
    rng = np.random.default_rng(1)
    f = rng.normal(size=500)
    x = np.column_stack([f + 0.1 * rng.normal(size=500), f + 0.1 * rng.normal(size=500), rng.normal(size=500)])
    w = pca_weights(x)
    assert w.sum() == pytest.approx(1.0)
    assert w[0] == pytest.approx(0.5, abs=0.03) and w[2] < 0.02


# ----------------------------------------------------------------------------- aggregation
def test_geometric_mean_with_zeros_is_exactly_zero_without_warnings():
    C = np.array([[0.0, 50.0, 80.0], [10.0, 40.0, 90.0], [np.nan, 20.0, 80.0]])
    w = np.array([1.0, 1.0, 2.0])
    M = np.ones((3, 1))
    with np.errstate(all="raise"):
        out = aggregate_level(C, w, M, "geometric")[:, 0]
    assert out[0] == 0.0
    assert out[1] == pytest.approx((10 * 40 * 90**2) ** (1 / 4))
    assert out[2] == pytest.approx((20 * 80**2) ** (1 / 3))  # missing dropped, weights renormalised
    # a zero with zero weight does not count
    assert aggregate_level(C[:1], np.array([0.0, 1.0, 1.0]), M, "geometric")[0, 0] == pytest.approx(math.sqrt(50 * 80))
    # a negative value makes the geometric mean undefined
    assert np.isnan(aggregate_level(np.array([[-1.0, 2.0, 3.0]]), w, M, "geometric")[0, 0])


def test_harmonic_and_power_means():
    C = np.array([[1.0, 4.0], [0.0, 5.0]])
    w = np.array([1.0, 3.0])
    M = np.ones((2, 1))
    assert aggregate_level(C, w, M, "harmonic")[0, 0] == pytest.approx(4 / (1 + 3 / 4))
    assert aggregate_level(C, w, M, "harmonic")[1, 0] == 0.0
    assert aggregate_level(C, w, M, "power", p=2)[0, 0] == pytest.approx(math.sqrt((1 + 3 * 16) / 4))
    for p, m in ((1, "arithmetic"), (0, "geometric"), (-1, "harmonic")):
        np.testing.assert_allclose(aggregate_level(C, w, M, "power", p=p), aggregate_level(C, w, M, m))


def test_arithmetic_by_parent_and_batch_axis():
    C = np.array([[1.0, 2.0, 3.0, 4.0]])
    M = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], float)
    W = np.array([[1.0, 1.0, 1.0, 3.0], [3.0, 1.0, 1.0, 1.0]])
    out = aggregate_level(C, W, M, "arithmetic")
    np.testing.assert_allclose(out[:, 0, :], [[1.5, 3.75], [1.25, 3.5]])


def test_copeland_hand_case():
    # three units, three equally weighted indicators
    C = np.array([[3.0, 3.0, 1.0], [2.0, 2.0, 2.0], [1.0, 1.0, 3.0]])
    out = copeland(C, np.ones(3), np.ones((3, 1)))[:, 0]
    # unit 0 beats 1 (2 of 3) and 2 (2 of 3); unit 1 beats 2 (2 of 3)
    np.testing.assert_array_equal(out, [2, 0, -2])


# ----------------------------------------------------------------------------- treatment
def test_skew_and_kurtosis_are_type_2():
    x = np.random.default_rng(2).lognormal(size=40)
    assert skewness(x) == pytest.approx(stats.skew(x, bias=False))
    assert kurtosis(x) == pytest.approx(stats.kurtosis(x, bias=False))


def test_winsorise_handles_ties_at_the_extreme():
    x = np.r_[np.arange(1.0, 31.0), 500.0, 500.0]
    assert skewness(x) > 2 and kurtosis(x) > 3.5
    y, n, mask = winsorise(x, winmax=5)
    # both tied 500s move together to the next value in (30), in one step
    assert y[30] == y[31] == 30.0 and n == 2
    assert mask[30] and mask[31] and not mask[:30].any()
    np.testing.assert_array_equal(y[:30], x[:30])


def test_treatment_falls_back_to_log_of_the_original_values():
    x = np.r_[np.ones(20), 2.0, 3.0, 1e3, 1e4, 1e5, 1e6]
    y, rec = treat_column(x, "x", winmax=1)
    assert rec.action == "log"
    np.testing.assert_allclose(y, np.log(x - x.min() + 0.01 * (x.max() - x.min())))


# ----------------------------------------------------------------------------- normalisation
def test_normalisation_methods_and_directions():
    x = np.array([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0]])
    d = np.array([1.0, -1.0])
    mm = normalise(x, d, "minmax", range=(0, 100))
    np.testing.assert_allclose(mm, [[0, 100], [100 / 3, 200 / 3], [100, 0]])
    z = normalise(x, d, "zscore")
    np.testing.assert_allclose(z[:, 0], (x[:, 0] - x[:, 0].mean()) / x[:, 0].std(ddof=1))
    np.testing.assert_allclose(normalise(x, d, "rank"), [[1, 3], [2, 2], [3, 1]])
    np.testing.assert_allclose(normalise(x, d, "prank", scale=1), [[0, 1], [0.5, 0.5], [1, 0]])
    t = normalise(x, np.array([1.0, 1.0]), "target", targets=np.array([3.0, 40.0]), scale=1)
    np.testing.assert_allclose(t[:, 0], [0, 0.5, 1.0])  # capped at the target
    np.testing.assert_allclose(normalise(x, d, "ratio", scale=1), [[0.25, 1], [0.5, 0.5], [1, 0.25]])
    with pytest.raises(InputError, match=r"constant indicator .*b"):
        normalise(np.array([[1.0, 5.0], [2.0, 5.0]]), np.ones(2), "minmax", codes=["a", "b"])


# ----------------------------------------------------------------------------- ranks, grades, weights
def test_ranks_with_ties_and_grades():
    s = np.array([50.0, 70.0, 70.0, np.nan, 10.0])
    r = rank_desc(s)
    np.testing.assert_array_equal(r[[0, 1, 2, 4]], [3, 1, 1, 4])
    assert np.isnan(r[3])
    g = grades(np.array([85.0, 65.0, 64.9, 10.0]), [80, 65, 50, 35], list("ABCDE"))
    assert list(g) == ["A", "B", "C", "E"]


def test_effective_weights_multiply_down_the_tree():
    import pandas as pd

    spec = IndexSpec.from_table(pd.DataFrame({
        "indicator": ["a", "b", "c", "P", "Q", "Index"],
        "parent": ["P", "P", "Q", "Index", "Index", ""],
        "weight": [1, 3, 5, 2, 1, 1],
    }))
    eff = effective_weights(spec).set_index("code")["effective"]
    assert eff["a"] == pytest.approx(0.25 * 2 / 3)
    assert eff["b"] == pytest.approx(0.75 * 2 / 3)
    assert eff["c"] == pytest.approx(1 / 3)
    assert eff[["a", "b", "c"]].sum() == pytest.approx(1.0)
