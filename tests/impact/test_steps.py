import numpy as np
import pandas as pd
import pytest

from riskmodel.errors import ConfigError
from riskmodel.impact import EvaluationOptions, evaluate, read_claims
from riskmodel.pipeline import Experiment, run_experiment
from riskmodel.tracking import Tracker

from .conftest import SAMPLE

CLAIMS = (
    "claim_id,area_id,category,measure,baseline_start,baseline_end,comparison_start,comparison_end,"
    "reported_change,reported_baseline,reported_comparison,period_label,source\n"
    "K1,A00,alerts,relative_change,2019-01-01,2019-12-31,2020-01-01,2020-12-31,-0.30,,,2020 vs 2019,test\n"
    "K2,A03,alerts,relative_change,2018-01-01,2018-12-31,2019-01-01,2019-12-31,-0.05,,,2019 vs 2018,test\n"
)


def test_claims_step_evaluates_every_claim_and_logs(city_files, tmp_path):
    d, truth = city_files
    (d / "claims.csv").write_text(CLAIMS, encoding="utf-8")
    tdir = tmp_path / "truth"
    tdir.mkdir()
    pd.DataFrame({"claim_id": ["K1", "K2"], "true_programme_effect": [truth, 0.0]}).to_csv(
        tdir / "claim_truth.csv", index=False)
    cfg = tmp_path / "exp.toml"
    cfg.write_text(
        f"""[study]
name = "t"
out = "{tmp_path / 'out'}"
seed = 3

[data]
counts = "{d / 'counts.csv'}"
freq = "M"
population = "{d / 'population.csv'}"
claims = "{d / 'claims.csv'}"
truth = "{tdir}"

[steps.claims]
interventions = {{ A00 = "2019-07-01" }}
methods = ["observed", "structural", "did", "synthetic"]
n_sims = 300
""", encoding="utf-8")
    tracker = Tracker(enabled=False)
    summary = run_experiment(cfg, tracker=tracker, progress=False)
    out = tmp_path / "out" / "claims"
    s = pd.read_csv(out / "claims_summary.csv")
    assert list(s["claim_id"]) == ["K1", "K2"]
    assert list(s["intervention"]) == ["2019-07-01", "2019-01-01"]  # default: the comparison start
    for col in ("reported_change", "observed_change", "effect", "effect_lo95", "effect_hi95", "verdict_zh"):
        assert col in s.columns
    eff = pd.read_csv(out / "claims_effects.csv")
    k1 = eff[(eff.claim_id == "K1") & eff.method.isin(["structural", "did", "synthetic"])]
    assert k1["covers_truth"].astype(bool).all()
    assert (out / "claim_K1_en.png").exists() and (out / "claim_K2_zh.png").exists()
    assert "数据显示" in (out / "verdicts.txt").read_text(encoding="utf-8")
    res = summary["results"]["claims"]
    assert len(res["summary"]) == 2


@pytest.mark.skipif(not (SAMPLE / "truth" / "claim_truth.csv").exists(), reason="sample city not generated")
def test_sample_city_true_programme_effects_fall_in_the_intervals():
    """Xiangwan's programme (from 2019-07-01): structural and comparison methods cover the truth."""
    from riskmodel.data import IncidentPanel

    panel = IncidentPanel.from_counts(SAMPLE / "counts_monthly.csv", freq="M", areas=SAMPLE / "areas.csv",
                                      population=SAMPLE / "population.csv")
    truth = pd.read_csv(SAMPLE / "truth" / "claim_truth.csv").set_index("claim_id")
    claims = {c.claim_id: c for c in read_claims(SAMPLE / "claims.csv")}
    opt = EvaluationOptions(n_sims=400, seed=1)
    methods = ["observed", "structural", "ratio_of_ratios", "did", "synthetic"]
    for cid in ("C1", "C2", "C3"):
        c = claims[cid]
        ev = evaluate(panel, c.area_id, c.category, intervention="2019-07-01",
                      comparison=(c.comparison_start, c.comparison_end),
                      baseline=(c.baseline_start, c.baseline_end), claim=c, methods=methods, options=opt)
        te = truth.loc[cid, "true_programme_effect"]
        for r in ev.results[1:]:
            assert r.lo <= te <= r.hi, (cid, r)
        # the year-on-year fall overstates the programme: the 2020 city-wide shock is in it
        assert ev.observed.observed_change < te
    # the city-level claims have no untreated comparison areas: those methods say so
    c = claims["C6"]
    ev = evaluate(panel, "ZH", c.category, intervention=c.comparison_start,
                  comparison=(c.comparison_start, c.comparison_end), claim=c,
                  methods=["observed", "did", "synthetic"], options=opt)
    assert all(not r.ok and "no comparison areas" in r.note for r in ev.results[1:])
    assert np.isfinite(ev.observed.observed_change)


def test_claims_step_refuses_an_unregistered_method_when_the_config_is_read(tmp_path):
    cfg = tmp_path / "exp.toml"
    cfg.write_text('[study]\nname = "t"\n\n[data]\ncounts = "c.csv"\n\n[steps.claims]\nmethods = ["did", "magic"]\n',
                   encoding="utf-8")
    with pytest.raises(ConfigError, match=r"key 'steps.claims.methods': unknown magic; valid: all, observed"):
        Experiment.load(cfg)
