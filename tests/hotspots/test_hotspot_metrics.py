"""PAI and PEI* against hand-computed answers, brute force and closed forms."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from riskmodel.errors import InputError
from riskmodel.hotspots.metrics import hotspot_score, max_capture, rank_order, select_hotspots


def test_pai_and_pei_star_by_hand():
    # five cells of 1 km2; the ranker flags the two highest scores (cells 0 and 1)
    score = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    actual = np.array([2, 0, 3, 1, 0])
    r = hotspot_score(score, actual, np.ones(5), 2, by="cells")
    assert (r.cells, r.n, r.N, r.a, r.A) == (2, 2, 6, 2.0, 5.0)
    assert r.pai == pytest.approx((2 / 6) / (2 / 5))  # 0.8333: worse than random
    assert r.n_star == 5  # cells 2 and 0
    assert r.pei_star == pytest.approx(2 / 5)
    # the same by area: a third cell would take the area to 3 > 2.5, so the list stops at 2
    assert hotspot_score(score, actual, np.ones(5), 2.5, by="area") == r
    # a study area larger than the cells (e.g. parks left out of the grid) only changes A
    assert hotspot_score(score, actual, np.ones(5), 2, by="cells", total_area=10.0).pai == pytest.approx((2 / 6) / (2 / 10))


def test_perfect_forecast_has_pei_star_one_even_with_ties():
    rng = np.random.default_rng(7)
    for seed in range(20):
        actual = rng.poisson(0.8, 200)  # many ties among 0, 1, 2
        for k in (1, 10, 37):
            r = hotspot_score(actual.astype(float), actual, np.ones(200), k, by="cells", seed=seed)
            assert r.pei_star == 1.0
            assert r.n == np.sort(actual)[::-1][:k].sum()


def test_ties_first_keeps_input_order_and_random_is_fair_on_average():
    score = np.array([1.0, 1.0, 1.0, 1.0, 0.0])
    actual = np.array([0, 0, 0, 4, 9])
    area = np.ones(5)
    first = hotspot_score(score, actual, area, 2, by="cells", ties="first")
    assert first.n == 0 and first.n_star == 13
    # random order among the 4 tied cells: 2 of 4 slots, so E[n] = 2/4 * 4 = 2 (closed form)
    ns = [hotspot_score(score, actual, area, 2, by="cells", seed=s).n for s in range(2000)]
    assert np.mean(ns) == pytest.approx(2.0, abs=0.15)
    assert set(ns) == {0, 4}
    # the same seed gives the same order
    assert rank_order(score, seed=3).tolist() == rank_order(score, seed=3).tolist()
    assert select_hotspots(score, area, 2, by="cells", seed=3).tolist() == rank_order(score, seed=3)[:2].tolist()


def test_n_star_is_a_knapsack_when_cells_differ_in_area():
    # by events per area the 3-m2 cell comes first (5/3 > 3/2), but two 2-m2 cells hold 6 in 4 m2
    assert max_capture(np.array([5, 3, 3]), np.array([3.0, 2.0, 2.0]), 4.0) == 6
    assert max_capture(np.array([5, 3, 3]), np.array([3.0, 2.0, 2.0]), 3.9) == 5  # the 3-m2 cell alone
    assert max_capture(np.array([5, 3, 3]), np.array([3.0, 2.0, 2.0]), 2.9) == 3
    assert max_capture(np.array([5, 3, 3]), np.array([3.0, 2.0, 2.0]), 7.0) == 11
    assert max_capture(np.array([0, 0]), np.array([1.0, 1.0]), 5.0) == 0
    rng = np.random.default_rng(11)
    for _ in range(60):
        n = 9
        y = rng.poisson(1.5, n)
        ar = rng.choice([0.5, 1.0, 1.7, 2.0], n)
        budget = float(rng.uniform(0.5, 6))
        best = max(
            (int(y[list(s)].sum()) for k in range(n + 1) for s in itertools.combinations(range(n), k)
             if ar[list(s)].sum() <= budget + 1e-12),
            default=0,
        )
        assert max_capture(y, ar, budget) == best


def test_pei_star_never_exceeds_one_with_unequal_areas():
    rng = np.random.default_rng(5)
    for _ in range(50):
        area = rng.uniform(0.1, 1.0, 40)
        actual = rng.poisson(0.7, 40)
        r = hotspot_score(rng.normal(size=40), actual, area, float(rng.uniform(0.5, 8.0)))
        assert r.a <= r.A
        assert np.isnan(r.pei_star) or 0.0 <= r.pei_star <= 1.0


def test_undefined_values_and_empty_selection():
    r = hotspot_score(np.array([2.0, 1.0]), np.array([0, 0]), np.ones(2), 1, by="cells")
    assert np.isnan(r.pai) and np.isnan(r.pei_star)
    # the top cell alone exceeds the coverage: nothing is flagged
    r = hotspot_score(np.array([2.0, 1.0]), np.array([1, 1]), np.array([3.0, 1.0]), 2.0)
    assert r.cells == 0 and r.n == 0 and np.isnan(r.pai) and r.n_star == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"score": [1.0, np.nan]}, "NaN"),
        ({"area": [1.0, -1.0]}, "area"),
        ({"actual": [1.5, 0]}, "non-negative integers"),
        ({"actual": [1, 0, 0]}, "3 counts for 2 cells"),
        ({"ties": "best"}, "ties"),
        ({"by": "km2"}, "coverage by"),
        ({"coverage": 1.5, "by": "cells"}, "whole number"),
        ({"coverage": 0.0}, "positive"),
        ({"total_area": 1.0}, "smaller than the cells"),
    ],
)
def test_bad_inputs_are_named(kwargs, message):
    args = {"score": [2.0, 1.0], "actual": [1, 0], "area": [1.0, 1.0], "coverage": 1.0}
    args.update(kwargs)
    args = {k: np.asarray(v) if isinstance(v, list) else v for k, v in args.items()}
    with pytest.raises(InputError, match=message):
        hotspot_score(**args)
