"""Build options end to end: data-driven weights, per-level aggregation, Copeland, alternatives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.conftest import ROOT

from riskmodel.index.build import build_index
from riskmodel.index.config import load_config, parse_config
from riskmodel.index.uncertainty import rank_uncertainty, sobol
from riskmodel.index.weights import critic_weights, entropy_weights


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("opts")
    rng = np.random.default_rng(5)
    rows = [{"area_id": f"A{i:02d}", "indicator": f"i{j}", "value": float(rng.poisson(3 + j))}
            for i in range(30) for j in range(4)]
    pd.DataFrame(rows).to_csv(d / "long.csv", index=False)
    pd.DataFrame({"indicator": ["i0", "i1", "i2", "i3", "P", "Q", "Index"],
                  "parent": ["P", "P", "Q", "Q", "Index", "Index", ""],
                  "direction": [-1, 1, -1, 1, 1, 1, 1], "weight": [1, 1, 1, 1, 1, 1, 1]}).to_csv(d / "spec.csv", index=False)
    return d


def _cfg(d, **sections):
    raw = {"data": {"indicators": str(d / "long.csv"), "spec": str(d / "spec.csv")}}
    raw.update(sections)
    return parse_config(raw)


@pytest.mark.parametrize("method, fn", [("entropy", entropy_weights), ("critic", critic_weights)])
def test_data_driven_weights_in_a_build(files, method, fn):
    res = build_index(_cfg(files, weights={"method": method}))
    w = res.weights.set_index("code")
    raw = pd.read_csv(files / "long.csv").pivot(index="area_id", columns="indicator", values="value")
    exp = fn(raw[["i0", "i1"]].to_numpy(float), np.array([-1.0, 1.0]))
    np.testing.assert_allclose(w.loc[["i0", "i1"], "within_parent"], exp, atol=1e-12)
    assert w.loc[["P", "Q"], "within_parent"].tolist() == [0.5, 0.5]  # level 2 keeps the spec's weights


def test_pca_weights_build_and_effective_weights_sum_to_one(files):
    res = build_index(_cfg(files, weights={"method": "pca", "levels": [1, 2]}))
    eff = res.weights.set_index("code")
    assert eff.loc[["i0", "i1", "i2", "i3"], "effective"].sum() == pytest.approx(1.0)


def test_per_level_aggregation_methods(files):
    res = build_index(_cfg(files, steps={"normalise": {"method": "minmax", "range": [1, 100]},
                                         "aggregate": {"by_level": ["geometric", "arithmetic"]}}))
    x = res.stages["normalised"][["i0", "i1", "i2", "i3"]].to_numpy()
    exp = (np.sqrt(x[:, 0] * x[:, 1]) + np.sqrt(x[:, 2] * x[:, 3])) / 2
    np.testing.assert_allclose(res.levels[-1][:, 0], exp, rtol=1e-12)


def test_copeland_build_ranks_a_dominant_unit_first(files):
    long = pd.read_csv(files / "long.csv")
    best = long["area_id"] == "A00"
    long.loc[best & long["indicator"].isin(["i1", "i3"]), "value"] = 1000.0
    long.loc[best & long["indicator"].isin(["i0", "i2"]), "value"] = -1.0
    long.to_csv(files / "dom.csv", index=False)
    cfg = parse_config({"data": {"indicators": str(files / "dom.csv"), "spec": str(files / "spec.csv")},
                        "steps": {"aggregate": {"method": "copeland"}}})
    idx = build_index(cfg).index.set_index("area_id")
    assert idx.loc["A00", "rank"] == 1 and idx.loc["A00", "score"] == idx["score"].max()


def test_treatment_and_imputation_alternatives_are_factors(reference_dir):
    cfg = load_config(ROOT / "experiments" / "asem_coinr.toml")
    raw = cfg.model_dump()
    raw["sensitivity"].update({"treat": ["winsorise", "none"], "impute": [{"method": "group_mean", "group": "EurAsia_group"}, "mean"],
                               "sobol_base": 32, "bootstrap": 20})
    cfg2 = parse_config(raw, base_dir=cfg.base_dir)
    u = rank_uncertainty(cfg2, n=200, seed=1)
    assert set(u.failures["treat"]) == {"winsorise", "none"} and set(u.failures["impute"]) == {"group_mean", "mean"}
    s = sobol(cfg2, seed=1)
    assert {"impute", "treat", "normalise", "aggregate"} <= set(s.table["factor"])


def test_ahp_judgements_from_a_file_with_two_experts(files):
    # upper triangles only; expert E1 says P is 3x Q, E2 says 1/3: the geometric mean is 1 -> equal
    pd.DataFrame({"expert": ["E1", "E2"], "parent": ["Index", "Index"], "row": ["P", "P"], "col": ["Q", "Q"],
                  "value": [3.0, 1 / 3]}).to_csv(files / "ahp.csv", index=False)
    res = build_index(_cfg(files, weights={"method": "ahp", "ahp_file": str(files / "ahp.csv")}))
    (a,) = res.ahp
    np.testing.assert_allclose(a.weights, [0.5, 0.5], atol=1e-12)
    assert list(a.experts["expert"]) == ["E1", "E2"] and a.experts["cr"].tolist() == [0.0, 0.0]
