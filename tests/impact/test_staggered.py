"""Staggered adoption (Callaway and Sant'Anna 2021): the did package's mpdta example, hand cases, simulation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.errors import InputError
from riskmodel.impact.staggered import staggered_did

MPDTA = Path(__file__).parent / "data" / "mpdta.csv"

# The did package's published example (docs/reference/att_gt.md and aggte.md of
# github.com/bcallaway11/did at 71ba8a5: att_gt(yname="lemp", tname="year",
# idname="countyreal", gname="first.treat", xformla=NULL, data=mpdta)).
PUBLISHED_ATTGT = [  # group, year, ATT(g,t), bootstrap SE
    (2004, 2004, -0.0105, 0.0258), (2004, 2005, -0.0704, 0.0341), (2004, 2006, -0.1373, 0.0384),
    (2004, 2007, -0.1008, 0.0354), (2006, 2004, 0.0065, 0.0235), (2006, 2005, -0.0028, 0.0192),
    (2006, 2006, -0.0046, 0.0184), (2006, 2007, -0.0412, 0.0207), (2007, 2004, 0.0305, 0.0161),
    (2007, 2005, -0.0027, 0.0157), (2007, 2006, -0.0311, 0.0184), (2007, 2007, -0.0261, 0.0176),
]
PUBLISHED_OVERALL = {"simple": (-0.0400, 0.0119), "group": (-0.0310, 0.0126),
                     "dynamic": (-0.0772, 0.0208), "calendar": (-0.0417, 0.0175)}
PUBLISHED_DYNAMIC = [0.0305, -0.0006, -0.0245, -0.0199, -0.0510, -0.1373, -0.1008]  # e = -3..3
PUBLISHED_GROUP = [-0.0797, -0.0229, -0.0261]
PUBLISHED_CALENDAR = [-0.0105, -0.0704, -0.0488, -0.0371]


@pytest.fixture(scope="module")
def mpdta() -> tuple[pd.DataFrame, pd.Series]:
    d = pd.read_csv(MPDTA)
    starts = d.groupby("countyreal")["first.treat"].first()
    return d, starts[starts > 0]


@pytest.fixture(scope="module")
def mpdta_fit(mpdta):
    d, starts = mpdta
    return staggered_did(d, starts, unit="countyreal", time="year", outcome="lemp",
                         control_group="nevertreated", n_boot=999, seed=3)


def test_mpdta_group_time_effects_match_the_did_package(mpdta_fit) -> None:
    tab = mpdta_fit.to_frame()
    assert list(zip(tab["group"], tab["period"], strict=True)) == [(g, t) for g, t, _, _ in PUBLISHED_ATTGT]
    np.testing.assert_allclose(tab["att"], [a for *_, a, _ in PUBLISHED_ATTGT], atol=5e-5)
    # analytical SEs beside the package's bootstrap SEs (1,000 draws: a few % of noise)
    np.testing.assert_allclose(tab["se"], [s for *_, s in PUBLISHED_ATTGT], rtol=0.12)
    # the Wald pre-test is analytical in did: the same to the printed digits
    assert mpdta_fit.pretest_p == pytest.approx(0.16812, abs=5e-6)
    assert 2.3 < mpdta_fit.crit < 3.1  # did's vignette: about 2.7 for such a table


def test_mpdta_aggregations_match_the_did_package(mpdta_fit) -> None:
    for kind, (att, se) in PUBLISHED_OVERALL.items():
        agg = mpdta_fit.aggregate(kind)
        assert agg.att == pytest.approx(att, abs=5e-5), kind
        assert agg.se == pytest.approx(se, rel=0.12), kind
    dyn = mpdta_fit.aggregate("dynamic").to_frame()
    assert dyn["event_time"].tolist() == [-3, -2, -1, 0, 1, 2, 3]
    np.testing.assert_allclose(dyn["att"], PUBLISHED_DYNAMIC, atol=5e-5)
    np.testing.assert_allclose(mpdta_fit.aggregate("group").table["att"], PUBLISHED_GROUP, atol=5e-5)
    np.testing.assert_allclose(mpdta_fit.aggregate("calendar").table["att"], PUBLISHED_CALENDAR, atol=5e-5)
    short = mpdta_fit.aggregate("dynamic", min_e=-1, max_e=1)
    assert short.table["event_time"].tolist() == [-1, 0, 1]
    assert short.att == pytest.approx(np.mean(PUBLISHED_DYNAMIC[3:5]), abs=5e-5)


def _tiny() -> tuple[pd.DataFrame, dict[str, int]]:
    # A starts in 2, B in 3, C and D never; outcomes chosen so every difference is distinct
    Y = {"A": [1.0, 4.0, 9.0, 10.0], "B": [2.0, 3.0, 7.0, 12.0], "C": [0.0, 1.0, 1.5, 4.0],
         "D": [5.0, 5.5, 8.0, 8.0]}
    rows = [(u, t + 1, y) for u, ys in Y.items() for t, y in enumerate(ys)]
    return pd.DataFrame(rows, columns=["area_id", "period", "value"]), {"A": 2, "B": 3}


def test_comparison_groups_and_base_periods_follow_the_definitions() -> None:
    d, starts = _tiny()
    Y = d.pivot(index="area_id", columns="period", values="value")

    def diff(units, t, b):
        return float((Y.loc[units, t] - Y.loc[units, b]).mean())

    nyt = staggered_did(d, starts, n_boot=49).to_frame().set_index(["group", "period"])
    # ATT(2,2): B is not yet treated at 2, so it joins C and D
    assert nyt.loc[(2, 2), "att"] == pytest.approx(diff(["A"], 2, 1) - diff(["B", "C", "D"], 2, 1))
    # ATT(2,3): B is treated at 3, never-treated only
    assert nyt.loc[(2, 3), "att"] == pytest.approx(diff(["A"], 3, 1) - diff(["C", "D"], 3, 1))
    # varying base: the pre-period cell (3,2) compares 2 with 1; A is treated at 2 and is no control
    assert nyt.loc[(3, 2), "att"] == pytest.approx(diff(["B"], 2, 1) - diff(["C", "D"], 2, 1))
    assert (1 not in nyt.index.get_level_values("period"))
    nev = staggered_did(d, starts, control_group="nevertreated", n_boot=49).to_frame()
    nev = nev.set_index(["group", "period"])
    assert nev.loc[(2, 2), "att"] == pytest.approx(diff(["A"], 2, 1) - diff(["C", "D"], 2, 1))
    uni = staggered_did(d, starts, base_period="universal", n_boot=49).to_frame()
    uni = uni.set_index(["group", "period"])
    # universal base g-1 = 2 for cohort 3: the cell at 1 is Y_1 - Y_2, the cell at 2 is 0
    assert uni.loc[(3, 1), "att"] == pytest.approx(diff(["B"], 1, 2) - diff(["C", "D"], 1, 2))
    assert uni.loc[(3, 2), "att"] == 0.0 and np.isnan(uni.loc[(3, 2), "se"])


def test_bad_panels_and_options_are_refused_clearly() -> None:
    d, starts = _tiny()
    with pytest.raises(InputError, match="unbalanced panel: 1 area.*C"):
        staggered_did(d.drop(index=9), starts)
    with pytest.raises(InputError, match="more than one row"):
        staggered_did(pd.concat([d, d.iloc[[0]]]), starts)
    bad = d.assign(value=d["value"].astype(object))
    bad.loc[3, "value"] = "n/a"
    with pytest.raises(InputError, match="finite number"):
        staggered_did(bad, starts)
    with pytest.raises(InputError, match="control_group"):
        staggered_did(d, starts, control_group="everyone")
    with pytest.raises(InputError, match="nevertreated"):
        staggered_did(d, {"A": 2, "B": 3, "C": 3, "D": 4}, control_group="nevertreated")
    with pytest.raises(InputError, match="no column 'count'"):
        staggered_did(d, starts, outcome="count")
    res = staggered_did(d, {"A": 2, "B": 3, "C": 1, "D": 9}, n_boot=49)
    assert any("already treated in the first period" in n for n in res.notes)
    assert any("after the last period" in n for n in res.notes)
    with pytest.raises(InputError, match="unknown aggregation"):
        res.aggregate("weekly")


def _simulate(rng: np.random.Generator, n: int = 400, T: int = 8, dynamic: bool = True
              ) -> tuple[pd.DataFrame, dict[int, int], dict[int, float]]:
    """Cohorts start at 3, 5, 6 (positions) or never; effect tau(g, e) known; returns the true event path."""
    cohorts = np.array([3, 5, 6, 99])
    g = cohorts[np.arange(n) % 4]
    alpha = rng.normal(0, 1, n) + 0.3 * (g < 99)       # levels differ by cohort (parallel trends hold)
    lam = np.cumsum(rng.normal(0.2, 0.3, T))
    e = np.arange(T)[None, :] - g[:, None]
    base = {3: 1.0, 5: 0.5, 6: 0.2}
    tau = np.zeros((n, T))
    for c, b in base.items():
        rows = g == c
        tau[rows] = np.where(e[rows] >= 0, (b + 0.4 * e[rows]) if dynamic else 1.0, 0.0)
    Y = alpha[:, None] + lam[None, :] + tau + rng.normal(0, 1, (n, T))
    d = pd.DataFrame({"area_id": np.repeat(np.arange(n), T), "period": np.tile(np.arange(T), n),
                      "value": Y.ravel()})
    starts = {i: int(g[i]) for i in range(n) if g[i] < 99}
    truth = {}
    for ev in range(0, T - 3):
        cs = [c for c in base if c + ev < T]
        w = np.array([(g == c).sum() for c in cs], float)
        vals = [(base[c] + 0.4 * ev) if dynamic else 1.0 for c in cs]
        truth[ev] = float(np.dot(w, vals) / w.sum())
    return d, starts, truth


def test_simulated_effects_are_recovered_and_twfe_is_flagged_only_when_biased() -> None:
    rng = np.random.default_rng(20261203)
    d, starts, truth = _simulate(rng, n=2000)
    res = staggered_did(d, starts, n_boot=199, seed=1)
    dyn = res.aggregate("dynamic").to_frame().set_index("event_time")
    for e, v in truth.items():
        assert dyn.loc[e, "att"] == pytest.approx(v, abs=4 * dyn.loc[e, "se"])
    assert np.all(np.abs(dyn.loc[[-4, -3, -2, -1], "att"]) < 4 * dyn.loc[[-4, -3, -2, -1], "se"])
    tw = res.twfe_check()
    assert tw.biased and tw.diff_p < 0.01
    assert abs(tw.beta - res.aggregate("simple").att) > 0.2  # TWFE is far off the robust ATT
    assert "TWFE is biased here" in res.summary()
    d2, starts2, _ = _simulate(rng, n=2000, dynamic=False)
    res2 = staggered_did(d2, starts2, n_boot=199, seed=1)
    tw2 = res2.twfe_check()
    assert tw2.beta == pytest.approx(1.0, abs=4 * tw2.se) and not tw2.biased
    assert abs(tw2.weights["weight"].sum() - 1.0) < 1e-9


def test_simultaneous_band_covers_the_true_event_path() -> None:
    rng = np.random.default_rng(7)
    covered = []
    for rep in range(25):
        d, starts, truth = _simulate(rng, n=200)
        agg = staggered_did(d, starts, n_boot=199, seed=rep).aggregate("dynamic", min_e=0)
        tab = agg.table.set_index("event_time")
        tv = pd.Series(truth)
        covered.append(bool(((tab["band_lo"] <= tv) & (tv <= tab["band_hi"])).all()))
        assert agg.crit > 1.96
    assert np.mean(covered) >= 0.8  # nominal 95%; a pointwise band would cover ~80% of paths or less


def test_same_seed_same_numbers_and_clusters_are_honoured() -> None:
    rng = np.random.default_rng(11)
    d, starts, _ = _simulate(rng, n=200, T=6)
    a = staggered_did(d, starts, n_boot=199, seed=5).to_frame()
    b = staggered_did(d, starts, n_boot=199, seed=5).to_frame()
    c = staggered_did(d, starts, n_boot=199, seed=6).to_frame()
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["se_boot"], c["se_boot"])
    # every area twice, each pair one cluster: clustered inference is that of the single panel
    twin = pd.concat([d, d.assign(area_id=d["area_id"] + 10_000)])
    starts2 = {**starts, **{k + 10_000: v for k, v in starts.items()}}
    cl = {u: u % 10_000 for u in twin["area_id"].unique()}
    one = staggered_did(d, starts, n_boot=999, seed=2).to_frame()
    two = staggered_did(twin, starts2, n_boot=999, seed=2, clusters=cl).to_frame()
    np.testing.assert_allclose(two["att"], one["att"], atol=1e-12)
    np.testing.assert_allclose(two["se"], one["se"] / np.sqrt(2), rtol=1e-9)   # naive: too small
    np.testing.assert_allclose(two["se_boot"], one["se"], rtol=0.15)            # clustered: right
    ci90 = staggered_did(d, starts, n_boot=99).conf_int(90)
    assert ((ci90["hi"] - ci90["lo"]) < (a["hi"] - a["lo"])).all()


def test_aggregate_standard_errors_include_the_random_cohort_shares() -> None:
    # cohorts drawn at random with very different effects: most of the simple ATT's sampling
    # variance comes from the cohort shares (did's "wif" term), little from the noise
    rng = np.random.default_rng(99)
    n, T = 300, 4
    est, se = [], []
    for _ in range(50):
        g = rng.choice([1, 2, 99], size=n)
        e = np.arange(T)[None, :] - g[:, None]
        Y = rng.normal(0, 1, n)[:, None] + np.where((g[:, None] == 1) & (e >= 0), 5.0, 0.0)
        Y = Y + rng.normal(0, 0.1, (n, T))
        d = pd.DataFrame({"area_id": np.repeat(np.arange(n), T), "period": np.tile(np.arange(T), n),
                          "value": Y.ravel()})
        agg = staggered_did(d, {i: int(g[i]) for i in range(n) if g[i] < 99}, n_boot=2).aggregate("simple")
        est.append(agg.att)
        se.append(agg.se)
    assert np.mean(se) / np.std(est, ddof=1) == pytest.approx(1.0, abs=0.2)


def test_effect_row_for_effects_csv(mpdta_fit) -> None:
    eff = mpdta_fit.effect_result()
    assert eff.method == "staggered" and eff.coef == pytest.approx(-0.0400, abs=5e-5)
    post = mpdta_fit.to_frame().query("post")
    w = post["n_treated"].to_numpy(float)  # cohort sizes: the simple ATT's weights
    m = float(np.dot(w, post["treated_mean"]) / w.sum())
    assert eff.estimate == pytest.approx(eff.coef / (m - eff.coef))
    assert eff.lo < eff.estimate < eff.hi
    assert "TWFE" in eff.note and set(eff.tables) == {"attgt", "event_study"}


def test_conflicting_start_dates_are_refused() -> None:
    d, _ = _tiny()
    starts = pd.Series([2, 3, 2], index=["A", "B", "A"])
    assert staggered_did(d, starts, n_boot=9).to_frame()["n_treated"].tolist()[0] == 1
    with pytest.raises(InputError, match="more than one start date.*A"):
        staggered_did(d, pd.Series([2, 3, 3], index=["A", "B", "A"]))
