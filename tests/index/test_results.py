"""The result protocol of the index: IndexResult and SensitivityReport; the sensitivity reuses the build."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.index import uncertainty
from riskmodel.index.build import build_index
from riskmodel.index.config import parse_config
from riskmodel.index.outputs import SensitivityReport, analyse_sensitivity, write_build
from riskmodel.results import IntervalResult, Result, write_artifacts


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    d = tmp_path_factory.mktemp("results")
    rng = np.random.default_rng(7)
    rows = [{"area_id": f"A{i:02d}", "indicator": f"i{j}", "value": float(v)}
            for i in range(30) for j, v in enumerate(rng.gamma(2.0, 1.0, size=5) + 0.1)]
    rows[0]["value"] = 60.0  # an outlier: treated
    pd.DataFrame(rows).to_csv(d / "long.csv", index=False)
    pd.DataFrame({"indicator": ["i0", "i1", "i2", "i3", "i4", "P", "Q", "Index"],
                  "parent": ["P", "P", "P", "Q", "Q", "Index", "Index", ""],
                  "direction": [1, -1, 1, 1, 1, 1, 1, 1],
                  "weight": [1, 1, 2, 1, 1, 1, 1, 1]}).to_csv(d / "spec.csv", index=False)
    return parse_config({
        "data": {"indicators": str(d / "long.csv"), "spec": str(d / "spec.csv")},
        "steps": {"treat": {"method": "winsorise"}, "normalise": {"method": "minmax", "range": [1, 100]}},
        "weights": {"method": "ahp", "ahp": [{"parent": "Index", "codes": ["P", "Q"], "matrix": [[1, 2], [0.5, 1]]}]},
        "sensitivity": {"weights_noise": 0.2, "normalise": [{"method": "minmax", "range": [1, 100]}, "prank"],
                        "aggregate": ["arithmetic", "geometric"], "sobol_base": 16, "bootstrap": 20},
    })


def test_index_result_is_a_result_and_publishes_its_files(cfg, tmp_path):
    res = build_index(cfg)
    assert isinstance(res, Result)
    assert res.summary().startswith("Index 'Index': 5 indicators in 3 levels, 30 units")
    pd.testing.assert_frame_equal(res.to_frame(), res.scores)
    arts = res.artifacts()
    assert [a.name for a in arts] == ["scores.csv", "weights.csv", "steps.csv", "treatment.csv", "ahp.csv",
                                      "ahp_experts.csv"]
    assert [a.log_name for a in arts if a.logged] == ["scores.csv", "weights.csv"]  # as the commands logged them
    assert list(arts[0].content.columns[:5]) == ["area_id", "level", "code", "score", "rank"]
    written = write_artifacts(arts, tmp_path / "a")
    write_build(res, tmp_path / "b")
    for p in written:
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes()
    steps = pd.read_csv(tmp_path / "a" / "steps.csv").set_index("key")["value"]
    assert steps["normalise"] == "minmax[1,100]" and steps["weights"] == "ahp"


def test_sensitivity_reuses_the_nominal_build(cfg, monkeypatch):
    res = build_index(cfg)
    fresh = analyse_sensitivity(cfg, n=200, seed=3)  # from the config: built once inside
    calls = {"prepare": 0}
    real_prepare = uncertainty.prepare

    def counting_prepare(*a, **k):  # noqa: ANN002, ANN003, ANN202
        calls["prepare"] += 1
        return real_prepare(*a, **k)

    def no_build(*a, **k):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the sensitivity analysis of a built index built it again")

    monkeypatch.setattr(uncertainty, "prepare", counting_prepare)
    monkeypatch.setattr(uncertainty, "build_index", no_build)
    rep = analyse_sensitivity(res, n=200, seed=3)
    # the nominal imputation and treatment are the build's: nothing is prepared again
    assert calls["prepare"] == 0
    pd.testing.assert_frame_equal(rep.rank_stats, fresh.rank_stats)
    pd.testing.assert_frame_equal(rep.sobol.table, fresh.sobol.table)
    pd.testing.assert_frame_equal(rep.remove_one, fresh.remove_one)
    pd.testing.assert_frame_equal(rep.uncertainty.failures, fresh.uncertainty.failures)
    rep.close()
    fresh.close()


def test_sensitivity_report_is_an_interval_result(cfg, tmp_path):
    rep = analyse_sensitivity(build_index(cfg), n=300, seed=1)
    assert isinstance(rep, SensitivityReport) and isinstance(rep, IntervalResult)
    assert "Monte Carlo: 300 replications" in rep.summary() and "Sobol'" in rep.summary()
    pd.testing.assert_frame_equal(rep.to_frame(), rep.rank_stats)
    ci = rep.conf_int(90)
    rs = rep.rank_stats
    np.testing.assert_array_equal(ci["lower"], rs["q05"])
    np.testing.assert_array_equal(ci["upper"], rs["q95"])
    assert (ci["level"] == 90).all() and list(ci["area_id"]) == list(rs["area_id"])
    narrow = rep.conf_int(0.5)
    assert ((narrow["upper"] - narrow["lower"]) <= (ci["upper"] - ci["lower"])).all()
    arts = rep.artifacts()
    assert [a.name for a in arts] == ["rank_stats.csv", "sobol.csv", "failures.csv", "remove_one.csv",
                                      "rank_intervals.png"]
    assert [a.kind for a in arts] == ["table"] * 4 + ["figure"]
    write_artifacts(arts, tmp_path / "s")
    assert (tmp_path / "s" / "rank_intervals.png").read_bytes()[:4] == b"\x89PNG"
    rep.close()
