"""Synthetic difference in differences against the paper's Table 1 and R's synthdid, and on known panels.

Reference figures: Arkhangelsky et al. (2021, AER), Table 1 (California,
Proposition 99): SDID -15.6 (8.4), SC -19.6 (9.9), DID -27.3 (17.7) packs per
capita. The full-precision values and the placebo estimates below were
computed with R's synthdid 0.0.9 (github synth-inference/synthdid, commit
70c1ce3), running its paper-results vignette code (``set.seed(12345)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.data import IncidentPanel
from riskmodel.errors import InputError
from riskmodel.impact import METHODS, evaluate
from riskmodel.impact.registry import method_groups
from riskmodel.impact.sdid import SDIDResult, SyntheticDiD, frank_wolfe_simplex, noise_level

from .conftest import simulate_city

#: R synthdid 0.0.9 on california_prop99 (the same 39 states x 1970-2000 as shared/reference).
R_ESTIMATES = {"sdid": -15.6038279, "sc": -19.6196635, "did": -27.3491110}
PAPER = {"sdid": (-15.6, 8.4), "sc": (-19.6, 9.9), "did": (-27.3, 17.7)}
#: The first six placebo draws of R after set.seed(12345) (0-based, alphabetical control states) ...
R_DRAWS = np.array([
    [13, 15, 25, 27, 23, 28, 10, 33, 1, 21, 31, 5, 6, 9, 16, 7, 35, 26, 0, 11, 22, 18, 2, 8, 37, 12, 3, 24, 32, 29,
     30, 36, 17, 19, 20, 4, 14, 34],
    [10, 8, 4, 14, 18, 16, 30, 32, 35, 25, 9, 2, 33, 12, 26, 31, 27, 37, 19, 1, 11, 23, 24, 5, 22, 6, 21, 15, 17, 20,
     36, 7, 29, 3, 34, 28, 0, 13],
    [23, 34, 4, 3, 10, 2, 9, 14, 6, 31, 25, 22, 36, 28, 27, 12, 17, 24, 0, 15, 8, 16, 32, 1, 35, 20, 5, 29, 21, 37,
     26, 30, 7, 18, 33, 13, 19, 11],
    [29, 30, 34, 28, 24, 33, 27, 11, 31, 3, 7, 13, 17, 19, 20, 23, 14, 12, 10, 18, 6, 36, 37, 21, 4, 35, 8, 15, 32,
     22, 26, 2, 9, 0, 16, 1, 5, 25],
    [12, 33, 17, 0, 35, 28, 32, 4, 37, 14, 31, 27, 26, 15, 34, 22, 30, 13, 10, 2, 7, 25, 20, 5, 11, 1, 23, 21, 24,
     16, 29, 8, 19, 36, 18, 6, 3, 9],
    [29, 16, 3, 33, 2, 34, 26, 12, 28, 7, 24, 14, 8, 11, 37, 23, 25, 31, 22, 9, 1, 18, 20, 4, 36, 15, 6, 10, 35, 17,
     32, 21, 30, 27, 19, 5, 0, 13],
])
#: ... and R's placebo estimates for them (vcov.R's theta with the real fit's weights and penalties).
R_PLACEBOS = {"sdid": [-12.260131169, -4.719077657, 14.705868603, 3.608643736, 7.583316768, -4.719077657],
              "sc": [-15.000183753, -2.041544909, 39.296855259, 7.454951424, 4.060828881, -2.041544909]}


@pytest.fixture(scope="module")
def prop99(smoking) -> pd.DataFrame:
    y = smoking.pivot(index="year", columns="state", values="cigsale")
    return y[sorted(y.columns)]


# ---------------------------------------------------------------- Table 1
@pytest.mark.parametrize("est", ["sdid", "sc", "did"])
def test_table1_point_estimates(prop99, est):
    r = SyntheticDiD(estimator=est, replications=0).fit(prop99, "California", 1989)
    assert round(r.att, 1) == PAPER[est][0]
    assert r.att == pytest.approx(R_ESTIMATES[est], abs=1e-6)
    assert r.coef == r.att and r.method == est
    assert r.omega.sum() == pytest.approx(1.0) and len(r.omega) == 38
    assert len(r.time_weights) == 19 and r.time_weights.index[-1] == 1988


def test_table1_weights_are_synthdids(prop99):
    """SDID's time weights are on 1986-1988 only, as in the paper's Figure 1; 28 states get unit weight."""
    r = SyntheticDiD(replications=0).fit(prop99, "California", 1989)
    lam = r.time_weights[r.time_weights > 0]
    assert list(lam.index) == [1986, 1987, 1988]
    assert lam.to_numpy() == pytest.approx([0.3665, 0.2065, 0.4271], abs=1e-4)  # R: 0.3665 0.2065 0.4271
    assert int((r.omega > 0).sum()) == 28
    assert r.omega["Nevada"] == pytest.approx(0.1245, abs=1e-4)
    assert r.omega["New Hampshire"] == pytest.approx(0.1050, abs=1e-4)
    # the series' post-period gap averages to the ATT
    s = r.tables["series"]
    assert s.loc[s["post"], "gap"].mean() == pytest.approx(r.att)


@pytest.mark.parametrize("est", ["sdid", "sc"])
def test_placebo_estimates_match_r_draw_for_draw(prop99, est):
    """With R's own placebo draws, every placebo estimate is R's (to 1e-6 packs)."""
    r = SyntheticDiD(estimator=est, permutations=R_DRAWS).fit(prop99, "California", 1989)
    assert r.tables["placebos"]["att"].to_numpy() == pytest.approx(R_PLACEBOS[est], abs=1e-6)
    assert r.att_se == pytest.approx(float(np.std(R_PLACEBOS[est])), abs=1e-6)


def test_did_placebos_are_the_closed_form(prop99):
    """DiD's placebos need no solver: each is the placebo state's change minus the other controls' mean change."""
    r = SyntheticDiD(estimator="did", permutations=R_DRAWS).fit(prop99, "California", 1989)
    Y = prop99[[c for c in prop99.columns if c != "California"]].to_numpy(float).T
    est = []
    for p in R_DRAWS:  # DiD: the placebo-treated state's change minus the other 37 states' mean change
        tr, co = Y[p[-1]], Y[p[:-1]].mean(axis=0)
        est.append((tr[19:].mean() - tr[:19].mean()) - (co[19:].mean() - co[:19].mean()))
    assert r.tables["placebos"]["att"].to_numpy() == pytest.approx(est, abs=1e-9)


# ---------------------------------------------------------------- known panels
def _panel(seed: int = 0, n: int = 8, T: int = 20, noise: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    Y = np.cumsum(rng.normal(0, 1, (T, n)), axis=0) + rng.normal(0, 5, n) + 50
    Y += noise * rng.normal(size=Y.shape)
    return pd.DataFrame(Y, index=range(2000, 2000 + T), columns=[f"c{i}" for i in range(n)])


def test_treated_average_of_two_controls_plus_constant_is_recovered_exactly():
    """treated = (c0 + c1) / 2 + 7, effect 3 from 2015: with a negligible ridge SDID finds both weights and the effect."""
    Y = _panel()
    Y["T"] = (Y["c0"] + Y["c1"]) / 2 + 7.0
    Y.loc[Y.index >= 2015, "T"] += 3.0
    r = SyntheticDiD(eta_omega=1e-6, replications=0).fit(Y, "T", 2015)
    assert r.omega[["c0", "c1"]].to_numpy() == pytest.approx([0.5, 0.5], abs=1e-6)
    assert r.omega.drop(["c0", "c1"]).abs().max() < 1e-6
    assert r.att == pytest.approx(3.0, abs=1e-6)
    # synthetic control has no intercept: the constant 7 is not matched and its estimate is biased
    sc = SyntheticDiD(estimator="sc", replications=0).fit(Y, "T", 2015)
    assert abs(sc.att - 3.0) > 0.5


def test_treated_average_of_all_controls_plus_constant_default_penalty():
    """Uniform weights fit exactly and have the smallest ridge penalty: the default SDID recovers the effect."""
    Y = _panel(1)
    Y["T"] = Y.mean(axis=1) - 4.0
    Y.loc[Y.index >= 2014, "T"] -= 2.5
    r = SyntheticDiD(replications=0).fit(Y, "T", 2014)
    assert r.omega.to_numpy() == pytest.approx(np.full(8, 1 / 8), abs=1e-6)
    assert r.att == pytest.approx(-2.5, abs=1e-6)


def test_sdid_is_invariant_to_a_constant_added_to_the_treated_unit(prop99):
    base = SyntheticDiD(replications=0).fit(prop99, "California", 1989)
    shifted = SyntheticDiD(replications=0).fit(prop99.assign(California=prop99["California"] + 40.0),
                                               "California", 1989)
    assert shifted.att == pytest.approx(base.att, abs=1e-8)
    assert shifted.omega.to_numpy() == pytest.approx(base.omega.to_numpy(), abs=1e-10)
    assert shifted.intercept == pytest.approx(base.intercept + 40.0, abs=1e-8)
    sc = SyntheticDiD(estimator="sc", replications=0)  # SC is not: it has no intercept
    assert sc.fit(prop99.assign(California=prop99["California"] + 40.0), "California", 1989).att != pytest.approx(
        sc.fit(prop99, "California", 1989).att, abs=1.0)


def test_placebo_se_reproducible_per_seed():
    Y = _panel(2, n=10, noise=0.5)
    Y["T"] = Y.iloc[:, :3].mean(axis=1) + 2.0
    m = SyntheticDiD(replications=25, seed=3)
    a, b = m.fit(Y, "T", 2015), m.fit(Y, "T", 2015)
    assert a.att_se == b.att_se and np.isfinite(a.att_se) and a.att_se > 0
    assert a.tables["placebos"].equals(b.tables["placebos"])
    c = SyntheticDiD(replications=25, seed=4).fit(Y, "T", 2015)
    assert c.att_se != a.att_se
    assert c.att == a.att  # the point estimate draws nothing


def test_batched_solver_equals_one_problem_at_a_time():
    rng = np.random.default_rng(5)
    A, b = rng.normal(size=(3, 15, 6)), rng.normal(size=(3, 15))
    x0 = np.full((3, 6), 1 / 6)
    xb, ib = frank_wolfe_simplex(A, b, 0.3, x0, min_decrease=1e-4, max_iter=500, zeta2=0.02)
    for k in range(3):
        x1, i1 = frank_wolfe_simplex(A[k:k + 1], b[k:k + 1], 0.3, x0[k:k + 1], min_decrease=1e-4, max_iter=500,
                                     zeta2=0.02)
        assert x1[0] == pytest.approx(xb[k], abs=1e-12) and i1[0] == ib[k]
        assert xb[k].sum() == pytest.approx(1.0) and (xb[k] >= 0).all()


# ---------------------------------------------------------------- the result object
def test_result_protocol_and_intervals(prop99):
    r = SyntheticDiD(estimator="did", replications=40, seed=1, level=0.9).fit(prop99, "California", 1989)
    assert isinstance(r, SDIDResult)
    z90, z95 = 1.6448536269514722, 1.959963984540054
    a = r.att_conf_int()
    assert (a.loc[0, "lo"], a.loc[0, "hi"]) == pytest.approx((r.att - z90 * r.att_se, r.att + z90 * r.att_se))
    assert r.att_conf_int(95).loc[0, "hi"] == pytest.approx(r.att + z95 * r.att_se)
    ci = r.conf_int()
    assert (ci.loc[0, "lo"], ci.loc[0, "hi"]) == (r.lo, r.hi)
    assert r.lo == pytest.approx((r.att - z90 * r.att_se) / r.counterfactual)
    assert r.conf_int(0.95).loc[0, "lo"] < r.lo  # a normal interval rescales to another level
    assert r.estimate == pytest.approx(r.att / r.counterfactual)
    assert r.to_frame().shape == (1, 8)
    text = r.summary()
    assert "ATT -27.35" in text and "unit weights: 38 of 38" in text and "time weights: 19 of 19" in text
    assert "(+33 more)" in text


def test_bad_input_is_refused_clearly(prop99):
    m = SyntheticDiD(replications=0)
    with pytest.raises(InputError, match="not in the panel"):
        m.fit(prop99, "Atlantis", 1989)
    with pytest.raises(InputError, match="pre-period"):
        m.fit(prop99, "California", 1971)
    with pytest.raises(InputError, match="no period"):
        m.fit(prop99, "California", 2001)
    with pytest.raises(InputError, match="missing"):
        m.fit(prop99.mask(prop99 > 200), "California", 1989)
    with pytest.raises(InputError, match="unknown estimator"):
        SyntheticDiD(estimator="mc").fit(prop99, "California", 1989)
    with pytest.raises(InputError, match="permutation"):
        SyntheticDiD(permutations=np.zeros((2, 38), int)).fit(prop99, "California", 1989)
    with pytest.raises(InputError, match="more controls"):
        SyntheticDiD(replications=5).fit(prop99[["California", "Utah", "Texas", "Nevada"]],
                                             ["California", "Utah"], 1989)


def test_noise_level_is_sd_of_controls_pre_period_first_differences():
    Y = np.array([[1.0, 2.0, 4.0, 9.0], [0.0, 3.0, 3.0, 0.0], [5.0, 5.0, 5.0, 5.0]])
    assert noise_level(Y, 2, 3) == pytest.approx(np.std([1.0, 2.0, 3.0, 0.0], ddof=1))


# ---------------------------------------------------------------- the registered method
def test_registered_as_sdid_with_its_needs():
    spec = METHODS["sdid"]
    assert method_groups()["sdid"] == ("observed", "sdid")
    assert spec.needs.comparison and spec.needs.seed and "Y" in spec.needs.freqs


def test_claim_on_counts_reports_the_att_in_counts():
    counts, popt, truth = simulate_city(seed=7, n_areas=9)
    panel = IncidentPanel.from_counts(counts, freq="M", population=popt)
    ev = evaluate(panel, "A00", "alerts", intervention="2019-07-01", comparison=("2020-01-01", "2020-12-31"),
                  methods=["observed", "sdid"])
    r = ev.result("sdid")
    assert r.ok and r.lo <= truth <= r.hi, (r, truth)
    assert "counts per period" in r.note
    s = r.tables["series"]
    assert s.loc[s["post"], "gap"].mean() == pytest.approx(r.att)
    assert r.estimate == pytest.approx(r.att / r.counterfactual)
