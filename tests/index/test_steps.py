"""The sample city's Ping'an index through the pipeline (steps index and sensitivity)."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.conftest import ROOT

from riskmodel.index.build import build_index
from riskmodel.index.config import load_config
from riskmodel.pipeline import run_experiment
from riskmodel.tracking import Tracker


@pytest.fixture(scope="module")
def sample_ok(sample_dir):
    if not (sample_dir / "indicators_monthly.csv").exists():
        pytest.skip("sample city not generated")
    return sample_dir


def test_pingan_index_per_street_and_month(sample_ok):
    res = build_index(load_config(ROOT / "experiments" / "pingan_sample.toml"))
    idx = res.index
    assert idx["area_id"].nunique() == 25 and idx["period"].nunique() == 96
    # ranks within each month run 1..25 (ties share the lowest), grades on the top level
    assert idx.groupby("period")["rank"].min().eq(1).all()
    assert idx["grade"].notna().all()
    assert set(res.spec.codes_at(2)) == {"order", "safety", "urban", "disputes", "perception"}
    # change since last month: the first month has none, later months do
    first = idx["period"].min()
    assert idx.loc[idx["period"] == first, "score_change"].isna().all()
    assert idx.loc[idx["period"] > first, "score_change"].notna().all()
    # the committee's AHP matrix is acceptably consistent and sets the dimension weights
    (a,) = res.ahp
    assert a.cr < 0.1
    w = res.weights.set_index("code")["weight"]
    assert w[["order", "safety", "urban", "disputes", "perception"]].sum() == pytest.approx(1.0)


def test_pipeline_steps_log_scores_rank_intervals_and_sobol(sample_ok, tmp_path):
    cfg = tmp_path / "study.toml"
    cfg.write_text(f"""
[study]
name = "idx"
out = "{tmp_path / 'out'}"
seed = 3
[data]
counts = "{sample_ok / 'counts_monthly.csv'}"
freq = "M"
areas = "{sample_ok / 'areas.csv'}"
indicators = "{sample_ok / 'indicators_monthly.csv'}"
[steps.index]
config = "{ROOT / 'experiments' / 'pingan_sample.toml'}"
[steps.sensitivity]
n = 200
sobol_base = 16
""", encoding="utf-8")
    summary = run_experiment(cfg, tracker=Tracker(enabled=False), progress=False)
    out = tmp_path / "out"
    scores = pd.read_csv(out / "index" / "scores.csv")
    assert list(scores.columns[:5]) == ["area_id", "level", "code", "score", "rank"]
    rs = pd.read_csv(out / "sensitivity" / "rank_stats.csv")
    assert list(rs.columns[:5]) == ["area_id", "nominal", "median", "q05", "q95"] and len(rs) == 25
    assert "香湾街道" in set(rs["name"])
    sob = pd.read_csv(out / "sensitivity" / "sobol.csv")
    assert {"factor", "first_order", "total", "total_low", "total_high"} <= set(sob.columns)
    assert (out / "sensitivity" / "rank_intervals.png").stat().st_size > 10_000
    res = summary["results"]
    assert len(res["sensitivity"]["rank_stats"]) == 25
    assert "Monte Carlo: 200 replications" in res["sensitivity"]["summary"]
