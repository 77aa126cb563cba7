"""The committee's weights (index/committee.py): closed forms of AHP aggregation, effective weights,
re-aggregation equal to a build with the same weights, each expert's ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.errors import InputError
from riskmodel.index import build_index, parse_config
from riskmodel.index.ahp import priorities
from riskmodel.index.committee import (
    COMMITTEE,
    Reweigher,
    committee_weights,
    expert_rankings,
    judgement_matrix,
)
from riskmodel.index.spec import IndexSpec

SPEC = pd.DataFrame({
    "indicator": ["a", "b", "c", "d", "e", "P", "Q", "Index"],
    "parent": ["P", "P", "P", "Q", "Q", "Index", "Index", ""],
    "level": [1, 1, 1, 1, 1, 2, 2, 3],
    "direction": [1, -1, 1, 1, -1, 1, 1, 1],
    "weight": [0.5, 0.3, 0.2, 0.6, 0.4, 0.7, 0.3, 1.0],
})


def _long(expert: str, parent: str, codes: list[str], A: np.ndarray) -> list[dict]:
    """The upper triangle of A as long judgements."""
    return [{"expert": expert, "parent": parent, "row": codes[i], "col": codes[j], "value": float(A[i, j])}
            for i in range(len(codes)) for j in range(i + 1, len(codes))]


def _consistent(w: np.ndarray) -> np.ndarray:
    w = np.asarray(w, float)
    return w[:, None] / w[None, :]


def test_a_consistent_matrix_gives_its_priorities_and_cr_zero():
    w = np.array([0.6, 0.3, 0.1])
    df = pd.DataFrame(_long("e1", "P", ["a", "b", "c"], _consistent(w)))
    for method in ("eigenvector", "geometric"):
        res = committee_weights(df, method=method)
        assert [res.weights[c] for c in "abc"] == pytest.approx(w, abs=1e-12)
        row = res.consistency.set_index("expert").loc["e1"]
        assert row["cr"] == pytest.approx(0.0, abs=1e-12) and bool(row["consistent"])
        assert row["revisit_row"] is None


@pytest.mark.parametrize("group", ["judgements", "priorities"])
def test_two_consistent_experts_give_the_normalised_geometric_mean(group):
    """AIJ: the element-wise geometric mean of w1_i/w1_j and w2_i/w2_j is consistent with sqrt(w1 w2);
    AIP: the geometric mean of the priorities is sqrt(w1 w2), renormalised. Both give the same here."""
    w1, w2 = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.2, 0.6])
    df = pd.DataFrame(_long("e1", "P", list("abc"), _consistent(w1)) + _long("e2", "P", list("abc"), _consistent(w2)))
    res = committee_weights(df, group=group)
    g = np.sqrt(w1 * w2)
    assert [res.weights[c] for c in "abc"] == pytest.approx(g / g.sum(), abs=1e-10)
    assert res.label == ("AIJ" if group == "judgements" else "AIP")
    assert res.expert_weights("e1") == pytest.approx(dict(zip("abc", w1, strict=True)))
    assert res.expert_weights("e2") == pytest.approx(dict(zip("abc", w2, strict=True)))


def test_aij_of_inconsistent_experts_is_the_priority_of_the_geometric_mean_matrix():
    A1 = np.array([[1, 3, 5], [1 / 3, 1, 4], [1 / 5, 1 / 4, 1]])
    A2 = np.array([[1, 1 / 2, 2], [2, 1, 7], [1 / 2, 1 / 7, 1]])
    df = pd.DataFrame(_long("e1", "P", list("abc"), A1) + _long("e2", "P", list("abc"), A2))
    res = committee_weights(df, group="judgements")
    G = np.sqrt(A1 * A2)
    assert [res.weights[c] for c in "abc"] == pytest.approx(priorities(G), abs=1e-10)
    com = res.consistency.set_index("expert").loc[COMMITTEE]
    assert com["cr"] == pytest.approx(res.by_parent["P"].cr)
    assert list(res.consistency["expert"]) == ["e1", "e2", COMMITTEE]


def test_an_inconsistent_expert_is_told_which_judgement_to_revisit():
    w = np.array([8.0, 4.0, 2.0, 1.0])
    A = _consistent(w)
    A[0, 3], A[3, 0] = 1 / 8, 8.0  # the one judgement written the wrong way round
    res = committee_weights(pd.DataFrame(_long("e1", "P", ["a", "b", "c", "d"], A)), method="geometric")
    row = res.consistency.set_index("expert").loc["e1"]
    assert row["cr"] > 0.1 and not bool(row["consistent"])
    assert (row["revisit_row"], row["revisit_col"], row["revisit_value"]) == ("a", "d", pytest.approx(1 / 8))


def test_effective_weights_multiply_down_the_tree():
    spec = IndexSpec.from_table(SPEC)
    wI = np.array([0.25, 0.75])
    wP = np.array([0.5, 0.25, 0.25])
    df = pd.DataFrame(_long("e1", "Index", ["P", "Q"], _consistent(wI)) + _long("e1", "P", ["a", "b", "c"], _consistent(wP)))
    res = committee_weights(df, spec)
    eff = res.effective.set_index("code")["effective"]
    assert eff["a"] == pytest.approx(0.25 * 0.5)
    assert eff["c"] == pytest.approx(0.25 * 0.25)
    assert eff["d"] == pytest.approx(0.75 * 0.6)  # Q's children keep the spec's weights
    assert eff[["a", "b", "c", "d", "e"]].sum() == pytest.approx(1.0)


def test_judgements_checked_against_the_spec():
    spec = IndexSpec.from_table(SPEC)
    with pytest.raises(InputError, match="'zz' is not one of a, b, c"):
        committee_weights(pd.DataFrame([{"expert": "e", "parent": "P", "row": "a", "col": "zz", "value": 2}]), spec)
    with pytest.raises(InputError, match="no judgement for"):
        committee_weights(pd.DataFrame([{"expert": "e", "parent": "P", "row": "a", "col": "b", "value": 2}]), spec)
    with pytest.raises(InputError, match="not in the index"):
        committee_weights(pd.DataFrame([{"expert": "e", "parent": "R", "row": "a", "col": "b", "value": 2}]), spec)
    with pytest.raises(InputError, match="no judgements yet"):
        committee_weights(pd.DataFrame(columns=["expert", "parent", "row", "col", "value"]), spec)
    A = judgement_matrix(pd.DataFrame({"row": ["a"], "col": ["b"], "value": [4.0]}), ["a", "b"])
    assert A.tolist() == [[1.0, 4.0], [0.25, 1.0]]


def _index_files(tmp_path, n_areas: int = 30, seed: int = 3):
    rng = np.random.default_rng(seed)
    rows = []
    for per in ("2021-11-01", "2021-12-01"):
        for i in range(n_areas):
            for c in "abcde":
                rows.append({"area_id": f"S{i:02d}", "period": per, "indicator": c, "value": float(rng.gamma(2.0, 5.0))})
    pd.DataFrame(rows).to_csv(tmp_path / "ind.csv", index=False)
    SPEC.to_csv(tmp_path / "spec.csv", index=False)
    return {"data": {"indicators": str(tmp_path / "ind.csv"), "spec": str(tmp_path / "spec.csv")},
            "steps": {"normalise": {"method": "minmax", "range": [0, 100], "pooled": True}},
            "ranks": {"ties": "min", "grades": {"thresholds": [60, 40], "labels": ["A", "B", "C"]}}}


@pytest.mark.parametrize("aggregate", ["arithmetic", "geometric"])
def test_reaggregation_equals_a_build_with_the_same_weights(tmp_path, aggregate):
    raw = _index_files(tmp_path)
    raw["steps"]["aggregate"] = {"method": aggregate}
    if aggregate == "geometric":
        raw["steps"]["normalise"]["range"] = [1, 100]
    res = build_index(parse_config(raw))
    new = {"a": 0.1, "b": 0.1, "c": 0.8, "P": 0.2, "Q": 0.8}
    rebuilt = build_index(parse_config({**raw, "weights": {"method": "meta", "values": new}}))
    got = Reweigher(res).table(new).set_index("area_id")
    top = rebuilt.index
    want = top[top["period"] == top["period"].max()].set_index("area_id")
    assert got["score"].to_numpy() == pytest.approx(want.loc[got.index, "score"].to_numpy(), rel=1e-12)
    assert (got["rank"] == want.loc[got.index, "rank"]).all()
    assert (got["grade"] == want.loc[got.index, "grade"]).all()
    # the ranking did change: the test compares two different orders, not the nominal one twice
    nominal = Reweigher(res).table().set_index("area_id")
    assert (nominal["rank"] != got["rank"]).any()


def test_each_experts_ranking_beside_the_committees(tmp_path):
    res = build_index(parse_config(_index_files(tmp_path)))
    rw = Reweigher(res)
    w1, w2 = np.array([0.9, 0.1]), np.array([0.1, 0.9])
    df = pd.DataFrame(_long("e1", "Index", ["P", "Q"], _consistent(w1)) + _long("e2", "Index", ["P", "Q"], _consistent(w2)))
    com = committee_weights(df, res.spec)
    assert com.weights["P"] == pytest.approx(0.5)  # sqrt(0.09) = sqrt(0.09): equal
    ranks, changes = expert_rankings(rw, com, names={"S00": "甲街道"})
    assert set(ranks["scheme"]) == {COMMITTEE, "e1", "e2"}
    e1 = ranks[ranks["scheme"] == "e1"].set_index("area_id")
    direct = rw.table({"P": 0.9, "Q": 0.1}).set_index("area_id")
    assert (e1["rank"] == direct.loc[e1.index, "rank"]).all()
    assert (e1["shift"] == e1["rank_committee"] - e1["rank"]).all()
    assert ranks.loc[ranks["area_id"] == "S00", "name"].iloc[0] == "甲街道"
    c = ranks[ranks["scheme"] == COMMITTEE]
    assert (c["shift"] == 0).all()
    pair = changes.set_index(["scheme_a", "scheme_b"]).loc[("e1", "e2")]
    assert pair["max_abs_rank_shift"] > 0 and pair["n_areas"] == 30


def test_data_driven_weights_need_a_build_not_a_reaggregation(tmp_path):
    raw = _index_files(tmp_path)
    res = build_index(parse_config({**raw, "weights": {"method": "entropy"}}))
    with pytest.raises(InputError, match="data-driven"):
        Reweigher(res)
    rw = Reweigher(build_index(parse_config(raw)))
    with pytest.raises(InputError, match="unknown indicator"):
        rw.table({"zz": 1.0})
    with pytest.raises(InputError, match=">= 0"):
        rw.table({"a": -1.0})
