"""The weight-calibration study: expert weight schemes compared (issue 7 section 1, issue 5)."""

from __future__ import annotations

import time
import tomllib

import numpy as np
import pandas as pd
import pytest
from tests.conftest import ROOT

from riskmodel.cli import main
from riskmodel.index.build import build_index
from riskmodel.index.calibration import bump_chart, compare_schemes, rank_changes
from riskmodel.index.config import load_config, parse_config
from riskmodel.pipeline import run_experiment
from riskmodel.tracking import Tracker

WEIGHTS = ROOT / "experiments" / "weights"
STUDY = ROOT / "experiments" / "weight_calibration.toml"


@pytest.fixture(scope="module")
def sample_ok(sample_dir):
    if not (sample_dir / "indicators_monthly.csv").exists():
        pytest.skip("sample city not generated")
    return sample_dir


def _ranks(table: dict[str, list[int]]) -> pd.DataFrame:
    """Long ranks from {scheme: ranks of areas a1..an}; score = n + 1 - rank (no ties)."""
    rows = []
    for s, rk in table.items():
        n = len(rk)
        rows += [{"area_id": f"a{i + 1}", "scheme": s, "score": float(n + 1 - r), "rank": r} for i, r in enumerate(rk)]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- rank changes by hand
def test_rank_changes_known_answers():
    ch = rank_changes(_ranks({"same": [1, 2, 3, 4], "copy": [1, 2, 3, 4], "swap": [2, 1, 3, 4],
                              "reverse": [4, 3, 2, 1]}))
    ch = ch.set_index(["scheme_a", "scheme_b"])
    assert len(ch) == 6  # 4 schemes -> 6 unordered pairs
    same = ch.loc[("same", "copy")]
    assert same["max_abs_rank_shift"] == 0 and same["mean_abs_rank_shift"] == 0
    assert same["spearman"] == pytest.approx(1.0)
    # one adjacent swap: shifts 1, 1, 0, 0; rho = 1 - 6 * 2 / (4 * 15) = 0.8
    sw = ch.loc[("same", "swap")]
    assert (sw["max_abs_rank_shift"], sw["mean_abs_rank_shift"]) == (1, 0.5)
    assert sw["spearman"] == pytest.approx(0.8)
    # full reversal: shifts 3, 1, 1, 3; rho = -1
    rv = ch.loc[("same", "reverse")]
    assert (rv["max_abs_rank_shift"], rv["mean_abs_rank_shift"]) == (3, 2)
    assert rv["spearman"] == pytest.approx(-1.0)
    # swap vs reverse: ranks (2,1,3,4) vs (4,3,2,1): shifts 2, 2, 1, 3
    sr = ch.loc[("swap", "reverse")]
    assert (sr["max_abs_rank_shift"], sr["mean_abs_rank_shift"]) == (3, 2)
    assert sr["spearman"] == pytest.approx(1 - 6 * (4 + 4 + 1 + 9) / (4 * 15))


# --------------------------------------------------------------------------- equal weights by hand
def _tiny(tmp_path):
    """3 areas, dimensions A (x1 +, x2 -) and B (x3 +), unequal spec weights."""
    pd.DataFrame({
        "indicator": ["x1", "x2", "x3", "A", "B", "Index"],
        "parent": ["A", "A", "B", "Index", "Index", ""],
        "level": [1, 1, 1, 2, 2, 3],
        "direction": [1, -1, 1, 1, 1, 1],
        "weight": [0.9, 0.1, 1.0, 0.8, 0.2, 1.0],
    }).to_csv(tmp_path / "spec.csv", index=False)
    vals = {"x1": [0, 5, 10], "x2": [2, 4, 6], "x3": [1, 3, 2]}
    pd.DataFrame([{"area_id": f"a{i + 1}", "period": "2021-12-01", "indicator": k, "value": v[i]}
                  for k, v in vals.items() for i in range(3)]).to_csv(tmp_path / "long.csv", index=False)
    return {"data": {"indicators": str(tmp_path / "long.csv"), "spec": str(tmp_path / "spec.csv")},
            "steps": {"normalise": {"method": "minmax", "range": [0, 100]}}}


def test_equal_weights_reproduce_the_hand_computed_mean(tmp_path):
    raw = _tiny(tmp_path)
    # minmax: x1 -> 0, 50, 100; x2 (good when low) -> 100, 50, 0; x3 -> 0, 100, 50
    # A = mean(x1, x2) = 50, 50, 50; B = 0, 100, 50; Index = mean(A, B) = 25, 75, 50
    eq = build_index(parse_config({**raw, "weights": {"method": "equal"}})).index.set_index("area_id")
    np.testing.assert_allclose(eq.loc[["a1", "a2", "a3"], "score"], [25.0, 75.0, 50.0], atol=1e-12)
    # the spec's weights give A = 0.9 x1 + 0.1 x2 = 10, 50, 90 and Index = 0.8 A + 0.2 B = 8, 60, 82
    meta = build_index(parse_config(raw)).index.set_index("area_id")
    np.testing.assert_allclose(meta.loc[["a1", "a2", "a3"], "score"], [8.0, 60.0, 82.0], atol=1e-12)
    cmp = compare_schemes({"equal": build_index(parse_config({**raw, "weights": {"method": "equal"}})),
                           "spec": build_index(parse_config(raw))})
    (row,) = cmp.changes.itertuples()
    # ranks equal (3, 1, 2) vs spec (3, 2, 1): shifts 0, 1, 1; rho = 1 - 6 * 2 / (3 * 8) = 0.5
    assert (row.max_abs_rank_shift, row.mean_abs_rank_shift) == (1, pytest.approx(2 / 3))
    assert row.spearman == pytest.approx(0.5)


def test_equal_scheme_on_the_sample_is_the_mean_of_dimension_means(sample_ok):
    res = build_index(load_config(WEIGHTS / "pingan_equal.toml"))
    norm = res.stages["normalised"]
    last = norm["period"].max()
    X = norm.loc[norm["period"] == last].set_index("area_id")
    spec = pd.read_csv(ROOT / "src" / "riskmodel" / "index" / "specs" / "pingan_sample.csv")
    dims = spec.loc[spec["level"] == 1].groupby("parent")["indicator"].apply(list)
    hand = pd.concat([X[cols].mean(axis=1) for cols in dims], axis=1).mean(axis=1)
    idx = res.index
    got = idx.loc[idx["period"] == last].set_index("area_id")["score"]
    np.testing.assert_allclose(got.loc[hand.index], hand, rtol=1e-12)


# --------------------------------------------------------------------------- the AHP committee
def test_ahp_committee_gives_the_geometric_mean_priorities_by_hand(sample_ok):
    cfgfile = WEIGHTS / "pingan_ahp_committee.toml"
    res = build_index(load_config(cfgfile))
    by_parent = {a.parent: a for a in res.ahp}
    assert set(by_parent) == {"Index", "order"}
    # public order, three experts, 3 x 3: with AIJ and row geometric means the priority of row i is
    # prod over experts k and columns j of A_k[i, j] ** (1/9): products 18, 24 and 1/432
    g = np.array([18.0, 24.0, 1 / 432]) ** (1 / 9)
    np.testing.assert_allclose(by_parent["order"].weights, g / g.sum(), rtol=1e-9)
    np.testing.assert_allclose(by_parent["order"].weights, [0.4163, 0.4298, 0.1539], atol=5e-5)
    # dimensions: the same formula from the config's three 5 x 5 matrices
    raw = tomllib.loads(cfgfile.read_text(encoding="utf-8"))
    mats = [np.array(m["matrix"]) for m in raw["weights"]["ahp"] if m["parent"] == "Index"]
    assert len(mats) == 3
    logs = sum(np.log(A).sum(axis=1) for A in mats) / (3 * 5)
    hand = np.exp(logs) / np.exp(logs).sum()
    np.testing.assert_allclose(by_parent["Index"].weights, hand, rtol=1e-9)
    # every expert is acceptably consistent, and the effective weights carry the priorities
    for a in res.ahp:
        assert (a.experts["cr"] < 0.1).all() and a.cr < 0.1
    w = res.weights.set_index("code")
    np.testing.assert_allclose(w.loc[["order", "safety", "urban", "disputes", "perception"], "effective"], hand,
                               rtol=1e-9)
    np.testing.assert_allclose(w.loc["rate_gun_cases", "effective"], hand[0] * g[2] / g.sum(), rtol=1e-9)


def test_data_driven_schemes_give_weights_summing_to_one_at_each_level(sample_ok):
    for f in ("pingan_entropy.toml", "pingan_critic.toml"):
        w = build_index(load_config(WEIGHTS / f)).weights
        lvl2 = w.loc[w["level"] == 2]
        assert lvl2["weight"].sum() == pytest.approx(1.0)
        assert (lvl2["weight"] > 0).all()
        # the effective weights of the indicators sum to one as well
        assert w.loc[w["level"] == 1, "effective"].sum() == pytest.approx(1.0)


# --------------------------------------------------------------------------- the study through the pipeline
def test_weight_calibration_study_runs_and_writes_the_comparison(sample_ok, tmp_path, capsys):
    t0 = time.perf_counter()
    code = main(["run", str(STUDY), "--no-track", "--out", str(tmp_path / "out")])
    secs = time.perf_counter() - t0
    assert code == 0, capsys.readouterr()
    assert secs < 30
    d = tmp_path / "out" / "index"
    ranks = pd.read_csv(d / "scheme_ranks.csv")
    assert list(ranks.columns) == ["area_id", "period", "name", "scheme", "score", "rank"]
    schemes = ["pingan_sample", "pingan_ahp_committee", "pingan_equal", "pingan_entropy", "pingan_critic"]
    assert list(dict.fromkeys(ranks["scheme"])) == schemes
    assert len(ranks) == 5 * 25 and (ranks["period"] == "2021-12-01").all()
    assert "香湾街道" in set(ranks["name"])
    # the baseline scheme is the step's own build: same latest ranks as scores.csv
    sc = pd.read_csv(d / "scores.csv")
    top = sc.loc[(sc["code"] == "Index") & (sc["period"] == "2021-12-01")].set_index("area_id")["rank"]
    base = ranks.loc[ranks["scheme"] == "pingan_sample"].set_index("area_id")["rank"]
    pd.testing.assert_series_equal(base.sort_index(), top.sort_index(), check_dtype=False)
    ch = pd.read_csv(d / "scheme_rank_changes.csv")
    assert len(ch) == 10
    # Spearman by hand (no tied scores): 1 - 6 sum d^2 / (n (n^2 - 1)); shifts from the ranks table
    R = ranks.pivot(index="area_id", columns="scheme", values="rank")
    for r in ch.itertuples():
        dlt = (R[r.scheme_a] - R[r.scheme_b]).abs()
        assert r.max_abs_rank_shift == dlt.max() and r.mean_abs_rank_shift == pytest.approx(dlt.mean())
        if R[r.scheme_a].is_unique and R[r.scheme_b].is_unique:
            assert r.spearman == pytest.approx(1 - 6 * (dlt**2).sum() / (25 * (25**2 - 1)))
    w = pd.read_csv(d / "scheme_weights.csv")
    assert set(w["scheme"]) == set(schemes)
    assert (d / "scheme_ranks.png").stat().st_size > 20_000


def _study(tmp_path, sample_dir, schemes: str) -> str:
    cfg = tmp_path / "study.toml"
    cfg.write_text(f"""
[study]
name = "schemes"
out = "{tmp_path / 'out'}"
[data]
counts = "{sample_dir / 'counts_monthly.csv'}"
freq = "M"
areas = "{sample_dir / 'areas.csv'}"
indicators = "{sample_dir / 'indicators_monthly.csv'}"
[steps.index]
config = "{ROOT / 'experiments' / 'pingan_sample.toml'}"
schemes = {schemes}
""", encoding="utf-8")
    return str(cfg)


def test_two_identical_schemes_give_zero_rank_shift_and_are_logged(sample_ok, tmp_path):
    p = ROOT / "experiments" / "pingan_sample.toml"
    cfg = _study(tmp_path, sample_ok, f'[{{ name = "a", config = "{p}" }}, {{ name = "b", config = "{p}" }}]')
    summary = run_experiment(cfg, tracker=Tracker(experiment="test-weight-schemes"), progress=False)
    (row,) = summary["results"]["index"]["schemes"].changes.itertuples()
    assert (row.scheme_a, row.scheme_b) == ("a", "b")
    assert row.max_abs_rank_shift == 0 and row.mean_abs_rank_shift == 0 and row.spearman == pytest.approx(1.0)
    # logged to the index step's MLflow run: one table each, the chart and the pair's metrics
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    rid = summary["steps"]["index"]["run_id"]
    tables = {f.path for f in client.list_artifacts(rid, "tables")}
    assert {"tables/scheme_ranks.csv", "tables/scheme_rank_changes.csv", "tables/scheme_weights.csv"} <= tables
    assert "figures/scheme_ranks.png" in {f.path for f in client.list_artifacts(rid, "figures")}
    m = client.get_run(rid).data.metrics
    assert m["schemes.max_shift.a__b"] == 0 and m["schemes.spearman.a__b"] == pytest.approx(1.0)


def test_index_step_without_schemes_is_unchanged(sample_ok, tmp_path):
    cfg = _study(tmp_path, sample_ok, "[]")
    summary = run_experiment(cfg, tracker=Tracker(enabled=False), progress=False)
    assert "schemes" not in summary["results"]["index"]
    assert not (tmp_path / "out" / "index" / "scheme_ranks.csv").exists()
    assert (tmp_path / "out" / "index" / "scores.csv").exists()


def test_bad_scheme_lists_are_refused_naming_the_key(sample_ok, tmp_path, capsys):
    p = ROOT / "experiments" / "pingan_sample.toml"
    cfg = _study(tmp_path, sample_ok, f'["{p}"]')
    assert main(["run", cfg, "--no-track"]) == 2
    err = capsys.readouterr()
    assert "steps.index.schemes" in err.out + err.err and "at least two" in err.out + err.err
    cfg = _study(tmp_path, sample_ok, f'["{p}", "{p}"]')
    assert main(["run", cfg, "--no-track"]) == 2
    err = capsys.readouterr()
    assert "repeated: pingan_sample" in err.out + err.err
    missing = tmp_path / "nope.toml"
    cfg = _study(tmp_path, sample_ok, f'["{p}", "{missing}"]')
    assert main(["run", cfg, "--no-track"]) == 2
    err = capsys.readouterr()
    assert "nope.toml" in err.out + err.err
    assert not (tmp_path / "out" / "index").exists()


def test_bump_chart_draws_every_scheme():
    fig = bump_chart(_ranks({"s1": [1, 2, 3], "s2": [3, 2, 1]}), period="2021-12")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["s1", "s2"]
    assert len(ax.lines) == 3


def test_compare_two_scheme_builds_shows_each_areas_rank_change(sample_ok, tmp_path, capsys):
    from mlflow.tracking import MlflowClient

    from riskmodel.tracking.compare import compare_runs

    ids = []
    for s in ("pingan_equal", "pingan_entropy"):
        assert main(["index", "build", "--config", str(WEIGHTS / f"{s}.toml"), "--out", str(tmp_path / s)]) == 0
        ids.append(MlflowClient().search_runs(
            [e.experiment_id for e in MlflowClient().search_experiments()], order_by=["attributes.start_time DESC"],
            max_results=1)[0].info.run_id)
    capsys.readouterr()
    diff = compare_runs(*ids).set_index("metric")
    # against the two builds' own latest ranks
    rk = []
    for s in ("pingan_equal", "pingan_entropy"):
        sc = pd.read_csv(tmp_path / s / "scores.csv")
        top = sc.loc[(sc["code"] == "Index") & (sc["period"] == sc["period"].max())]
        rk.append(top.set_index("area_id")["rank"])
    want = (rk[1] - rk[0]).rename(lambda a: f"rank.{a}")
    got = diff.loc[diff.index.str.startswith("rank."), "diff"]
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index().astype(float), check_names=False)
