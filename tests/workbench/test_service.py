"""The workbench's study (riskmodel.workbench): ranks under new weights equal a build with them,
the committee, rank intervals, "what would it take", warnings and their follow-up, supervision
checked against the data, a street's detail, publishing. On the small study of conftest.py."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.errors import InputError
from riskmodel.index import build_index, parse_config

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
FIXED = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)  # conftest.py's clock
LAST_WEEK = pd.Timestamp("2021-12-20")  # conftest.py's week of the warnings

NEW = {"order": 0.1, "safety": 0.1, "urban": 0.5, "disputes": 0.2, "perception": 0.1, "rate_gun_cases": 0.6}


def _latest_top(res) -> pd.DataFrame:
    top = res.index
    return top[top["period"] == top["period"].max()].set_index("area_id")


def test_ranks_for_new_weights_equal_an_index_build_with_them(open_tiny, tmp_path):
    s = open_tiny()
    r = s.ranks_for(NEW)
    assert list(r.columns) == ["area_id", "name", "name_en", "score", "rank", "grade", "score_before",
                               "rank_before", "grade_before", "rank_change"]
    assert r["rank"].tolist() == sorted(r["rank"].tolist())
    # the same weights, through the exported config, built by the library as `riskmodel index build` does
    s.save_weight_set("trial", NEW, method="direct", who="chair")
    text = s.weight_config_toml("trial")
    cfg = parse_config(tomllib.loads(text), source="exported", base_dir=tmp_path)
    assert cfg.weights.method == "expert"
    want = _latest_top(build_index(cfg))
    got = r.set_index("area_id")
    assert got["score"].to_numpy() == pytest.approx(want.loc[got.index, "score"].to_numpy(), rel=1e-12)
    assert (got["rank"] == want.loc[got.index, "rank"]).all()
    assert (got["grade"] == want.loc[got.index, "grade"]).all()
    # "before" is the study's own index
    study = _latest_top(s.index)
    assert (got["rank_before"] == study.loc[got.index, "rank"]).all()
    assert (got["rank_change"] == got["rank_before"] - got["rank"]).all()
    assert (got["rank_change"] != 0).any()  # these weights do move streets
    assert got.loc["ZH-XZ-GB", "name"] == "拱北街道"


def test_unchanged_weights_change_nothing_and_bad_weights_are_named(open_tiny):
    s = open_tiny()
    r = s.ranks_for()
    assert (r["rank"] == r["rank_before"]).all() and (r["rank_change"] == 0).all()
    with pytest.raises(InputError, match="unknown indicator 'nope'"):
        s.ranks_for({"nope": 1})
    with pytest.raises(InputError, match="must be a number"):
        s.ranks_for({"order": "heavy"})
    with pytest.raises(InputError, match=">= 0"):
        s.ranks_for({"order": -0.2})


def test_partial_weights_keep_the_others_shares(open_tiny):
    s = open_tiny()
    cur = s.current_weights()
    tree = s.index_tree({"order": 0.5}).set_index("code")
    assert tree.loc["order", "within_parent"] == pytest.approx(0.5)
    others = ["safety", "urban", "disputes", "perception"]
    rest = sum(cur[c] for c in others)
    for c in others:  # the other dimensions share the remaining 0.5 in their old proportions
        assert tree.loc[c, "within_parent"] == pytest.approx(0.5 * cur[c] / rest)
    assert tree.loc["rate_alerts", "effective"] == pytest.approx(0.5 * cur["rate_alerts"])
    assert tree.loc[s.spec.indicators, "effective"].sum() == pytest.approx(1.0)


def test_a_saved_weight_set_becomes_current_with_versions(open_tiny):
    s = open_tiny()
    assert s.save_weight_set("committee", NEW, method="AIJ", who="chair") == 1
    assert s.save_weight_set("committee", {"order": 0.9}, method="direct", who="chair", note="v2") == 2
    s.use_weight_set("committee", 1, who="chair")
    assert s.current_weights()["urban"] == pytest.approx(0.5)
    r = s.ranks_for()
    assert (r["rank"] == r["rank_before"]).all()  # before = the current (saved) weights
    assert (r.set_index("area_id")["rank"] == s.ranks_for(NEW, before={}).set_index("area_id")["rank"]).all()
    sets = s.weight_sets()
    assert sets["version"].tolist() == [1, 2] and sets["who"].tolist() == ["chair", "chair"]
    assert sets["at"].tolist() == [FIXED.isoformat(), FIXED.isoformat()]


def _judgements(w):
    w = np.asarray(w, float)
    codes = ["order", "safety", "urban", "disputes", "perception"]
    return {(codes[i], codes[j]): float(w[i] / w[j]) for i in range(5) for j in range(i + 1, 5)}


def test_committee_from_saved_judgements_and_each_experts_ranking(open_tiny):
    s = open_tiny()
    w1 = np.array([0.4, 0.2, 0.2, 0.1, 0.1])
    w2 = np.array([0.1, 0.1, 0.2, 0.2, 0.4])
    s.save_judgements("expert A", "Index", _judgements(w1), who="clerk")
    s.save_judgements("expert B", "Index", _judgements(w2), who="clerk")
    com = s.committee()
    g = np.sqrt(w1 * w2)
    assert [com.weights[c] for c in ["order", "safety", "urban", "disputes", "perception"]] == pytest.approx(g / g.sum())
    ranks = s.expert_rankings()
    a = ranks[ranks["scheme"] == "expert A"].set_index("area_id")
    direct = s.ranks_for(dict(zip(["order", "safety", "urban", "disputes", "perception"], w1, strict=True)))
    assert (a.loc[direct["area_id"], "rank"].to_numpy() == direct["rank"].to_numpy()).all()
    assert s.judgements_csv().splitlines()[0] == "expert,parent,row,col,value"
    with pytest.raises(InputError, match="outside Saaty's scale"):
        s.save_judgements("expert A", "Index", {**_judgements(w1), ("order", "safety"): 12}, who="clerk")


def test_check_matrix_gives_the_cr_at_once(open_tiny):
    s = open_tiny()
    ok = s.check_matrix("order", {("rate_alerts", "rate_criminal_cases"): 2, ("rate_alerts", "rate_gun_cases"): 4,
                                  ("rate_criminal_cases", "rate_gun_cases"): 2})
    assert ok.cr == pytest.approx(0.0, abs=1e-12) and ok.revisit is None
    bad = s.check_matrix("order", {("rate_alerts", "rate_criminal_cases"): 5, ("rate_alerts", "rate_gun_cases"): "1/5",
                                   ("rate_criminal_cases", "rate_gun_cases"): 5})
    assert bad.cr > 0.1 and bad.revisit is not None
    with pytest.raises(InputError, match="unknown group"):
        s.check_matrix("nope", {})
    with pytest.raises(InputError, match="unknown indicator 'x'"):
        s.check_matrix("order", {("x", "rate_alerts"): 2})
    assert s.ledger.judgements().empty  # nothing saved


def test_rank_intervals_are_cached_per_weight_set(open_tiny):
    s = open_tiny()
    a = s.rank_intervals(NEW)
    assert list(a.columns) == ["area_id", "name", "name_en", "nominal", "median", "q05", "q95"]
    assert ((a["q05"] <= a["median"]) & (a["median"] <= a["q95"])).all()
    nominal = s.ranks_for(NEW).set_index("area_id")["rank"]
    assert (a.set_index("area_id")["nominal"] == nominal.loc[a["area_id"]].to_numpy()).all()
    assert s.rank_intervals(NEW) is not a  # a copy each time, from the cache:
    assert len(s._cache) == 1  # noqa: SLF001 - one weight set computed once
    s.rank_intervals()
    assert len(s._cache) == 2  # noqa: SLF001


def test_what_would_it_take_ties_the_two_streets(open_tiny):
    s = open_tiny()
    r = s.ranks_for()
    a, b = r["area_id"].iloc[3], r["area_id"].iloc[4]
    ans = s.what_would_it_take(a, b)
    assert ans.feasible and ans.l2 > 0
    new = dict(zip(ans.table["code"], ans.table["new"], strict=True))
    after = s.ranks_for(new).set_index("area_id")["score"]
    assert after[a] == pytest.approx(after[b], abs=1e-6)
    assert s.ledger.vocabulary.areas and "需要第2层权重至少变动" in ans.message_zh
    with pytest.raises(InputError, match="unknown area 'ZZ'"):
        s.what_would_it_take(a, "ZZ")


def test_warnings_with_their_series_and_follow_up(open_tiny):
    s = open_tiny()
    w = s.warnings()
    assert len(w) == 3 and set(w["status"]) == {"open"}
    key = w.loc[w["area_id"] == "ZH-JW-NS", "key"].iloc[0]
    assert key == f"ZH-JW-NS|alerts|{LAST_WEEK:%Y-%m-%d}|forecast"
    series = s.warning_series(key)
    assert list(series.columns) == ["period", "count", "expected", "threshold", "alarm"]
    assert len(series) == 10 and series["count"].iloc[-1] == 11 and series["threshold"].iloc[-1] == 9.0
    s.follow_up(key, "acknowledged", who="duty")
    s.follow_up(key, "assigned", who="duty", unit="南水派出所")
    w = s.warnings().set_index("key")
    assert (w.loc[key, "status"], w.loc[key, "unit"], w.loc[key, "at"]) == ("assigned", "南水派出所", FIXED.isoformat())
    assert s.follow_up_history(key)["status"].tolist() == ["acknowledged", "assigned"]
    assert s.follow_up_table()["name"].tolist() == ["南水镇"]
    with pytest.raises(InputError, match="no warning"):
        s.follow_up("ZH-JW-NS|alerts|2020-01-06|forecast", "acknowledged", who="duty")
    with pytest.raises(InputError, match="needs a note"):
        s.follow_up(key, "rectified", who="duty")


def test_counts_below_the_appendix_threshold_are_not_shown(tmp_path, make_tiny):
    from riskmodel.workbench import open_study

    out = make_tiny(tmp_path / "s", suppress_below=3)
    s = open_study(out, db=f"sqlite:///{tmp_path / 'wb.sqlite'}")
    try:
        w = s.warnings().set_index("area_id")
        assert w.loc["ZH-XZ-GB", "count"] == "<3" and w.loc["ZH-JW-NS", "count"] == 11
        series = s.warning_series(s.warnings().set_index("area_id").loc["ZH-XZ-GB", "key"])
        assert set(series["count"]) <= {"<3"} | set(range(3, 100))
        assert (series["count"] == "<3").any()
        i = s.supervise("ZH-XZ-GB", "alerts", 1, "at_most", "2030-01-01", who="chief")
        sup = s.supervision().set_index("id")
        assert sup.loc[i, "latest_value"] == "<3" and sup.loc[i, "status"] == "not yet due"
    finally:
        s.close()


def test_supervision_checked_against_the_latest_data(open_tiny):
    s = open_tiny()  # today = 2026-01-15 (the fixed clock); latest index month 2021-12
    ind = pd.read_csv(SAMPLE / "indicators_monthly.csv")
    v = ind[(ind["area_id"] == "ZH-XZ-GB") & (ind["indicator"] == "rate_alerts") & (ind["period"] == "2021-12-01")]
    value = float(v["value"].iloc[0])
    score = s.ranks_for().set_index("area_id").loc["ZH-XZ-GB", "score"]
    i_met = s.supervise("ZH-XZ-GB", "rate_alerts", value + 1, "at_most", "2025-06-30", who="chief")
    i_not = s.supervise("ZH-XZ-GB", "rate_alerts", value - 1, "at_most", "2025-06-30", who="chief")
    i_due = s.supervise("ZH-XZ-GB", "Index", score + 1, "at_least", "2026-12-31", who="chief", note="督办")
    i_cat = s.supervise("ZH-JW-NS", "alerts", 20, "at_most", "2026-12-31", who="chief")
    t = s.supervision().set_index("id")
    assert t.loc[i_met, "latest_value"] == pytest.approx(value)
    assert t.loc[i_met, "status"] == "met" and t.loc[i_not, "status"] == "not met"
    assert t.loc[i_due, "status"] == "not yet due" and t.loc[i_due, "latest_value"] == pytest.approx(score)
    assert t.loc[i_cat, "status"] == "met" and t.loc[i_cat, "latest_value"] == 11  # the last week's count
    assert t.loc[i_met, "indicator_name"] == "违法犯罪警情率" and t.loc[i_met, "name"] == "拱北街道"
    s.end_supervision(i_not, who="chief")
    assert i_not not in set(s.supervision(active_only=True)["id"])
    with pytest.raises(InputError, match="must be a number"):
        s.supervise("ZH-XZ-GB", "rate_alerts", "lower", "at_most", "2026-06-30", who="chief")
    with pytest.raises(InputError, match="unknown area"):
        s.supervise("ZH-XX", "rate_alerts", 1, "at_most", "2026-06-30", who="chief")
    with pytest.raises(InputError, match="unknown indicator 'rate_thefts'"):
        s.supervise("ZH-XZ-GB", "rate_thefts", 1, "at_most", "2026-06-30", who="chief")


def test_a_streets_detail(open_tiny):
    s = open_tiny()
    d = s.area_detail("ZH-XZ-XW")
    assert d.area["name"] == "香湾街道"
    comp = d.components.set_index("code")
    assert comp.loc["Index", "score"] == pytest.approx(s.ranks_for().set_index("area_id").loc["ZH-XZ-XW", "score"])
    assert comp.loc["Index", "rank"] == s.ranks_for().set_index("area_id").loc["ZH-XZ-XW", "rank"]
    assert np.isfinite(comp.loc["rate_alerts", "value"]) and np.isnan(comp.loc["order", "value"])
    assert d.claims["claim_id"].tolist() == ["C1"]
    g = s.area_detail("ZH-XZ-GB")
    assert len(g.warnings) == 1 and len(g.series) == 10 and len(g.forecasts) == 2
    with pytest.raises(InputError, match="unknown area"):
        s.area_detail("nowhere")


def test_forecasts_per_level_with_last_months_count(open_tiny):
    s = open_tiny()
    assert s.forecast_levels() == ["city", "district", "street"]
    fc = s.forecasts("district")
    assert set(fc["category"]) == {"alerts", "traffic_accidents"} and fc["area_id"].nunique() == 5
    assert (fc["period"] == pd.Timestamp("2022-01-01")).all()
    assert (fc["lo_80"] <= fc["mean"]).all() and (fc["mean"] <= fc["hi_95"]).all()
    counts = pd.read_csv(SAMPLE / "counts_monthly.csv")
    xz = counts[counts["area_id"].str.startswith("ZH-XZ-") & (counts["category"] == "alerts")
                & (counts["period"] == "2021-12-01")]["count"].sum()
    row = fc[(fc["area_id"] == "ZH-XZ") & (fc["category"] == "alerts")].iloc[0]
    assert row["last"] == xz and row["change"] == pytest.approx(row["mean"] - xz)
    assert (s.forecasts("district", horizon=2)["period"] == pd.Timestamp("2022-02-01")).all()
    with pytest.raises(InputError, match="unknown level 'county'"):
        s.forecasts("county")


def test_publish_renders_the_appendix_from_the_current_state(tmp_path, make_tiny):
    from riskmodel.workbench import open_study

    out = make_tiny(tmp_path / "s", forecast=False)
    s = open_study(out, db=f"sqlite:///{tmp_path / 'wb.sqlite'}", clock=lambda: FIXED)
    try:
        s.save_weight_set("committee", NEW, method="direct", who="chair")
        s.use_weight_set("committee", who="chair")
        key = s.warnings()["key"].iloc[0]
        s.follow_up(key, "rectified", who="站长", note="增加巡逻")
        s.supervise("ZH-XZ-GB", "rate_alerts", 5, "at_most", "2026-06-30", who="chief")
        html = s.publish("zh", ["html"])
        text = html.read_text(encoding="utf-8")
        assert html.name == "appendix_zh.html"
        assert "预警整改跟踪" in text and "增加巡逻" in text and "挂牌督办" in text and "未到期" in text
        # the index section ranks by the saved weights
        best = s.ranks_for().iloc[0]
        sec = text[text.index('id="index"'):]
        body = sec.index("<tbody>")
        first_row = sec[body:sec.index("</tr>", body)]
        assert best["name"] in first_row
        xlsx = s.publish("en", ["xlsx"])
        from openpyxl import load_workbook

        wb = load_workbook(xlsx)
        assert "Follow-up of warnings" in wb.sheetnames and "Supervision list" in wb.sheetnames
        with pytest.raises(InputError, match="unknown format"):
            s.publish("zh", ["docx"])
    finally:
        s.close()


def test_opening_errors_are_clear(tmp_path):
    from riskmodel.workbench import open_study

    with pytest.raises(InputError, match="no study folder"):
        open_study(tmp_path / "nothing")
    (tmp_path / "lonely").mkdir()
    with pytest.raises(InputError, match="cannot find the experiment config"):
        open_study(tmp_path / "lonely")
    with pytest.raises(InputError, match="one of them"):
        open_study()


def test_warm_up_loads_the_study_data_and_the_intervals_in_the_background(open_tiny):
    s = open_tiny()
    s.warm_up().join(timeout=120)
    assert s._study_data is not None and s._study_data.history is not None  # noqa: SLF001
    assert len(s._cache) == 1  # noqa: SLF001 - the current weights' rank intervals


def test_the_toml_writer_round_trips_what_configs_hold():
    from riskmodel.workbench import tomlout

    doc = {"title": 'a "quoted" name\nwith 中文', "n": 3, "x": 0.1, "ok": True,
           "data": {"path": "C:\\data\\平安.csv", "groups": ["parent_id"]},
           "weights": {"method": "expert", "values": {"rate_alerts": 0.45, "odd key": 1e-12}},
           "steps": {"impute": {"method": "carry_forward"}, "range": [0.0, 100.0]}}
    back = tomllib.loads(tomlout.dumps(doc, header="line one\nline two"))
    assert back == doc
    with pytest.raises(TypeError):
        tomlout.value(object())


@pytest.mark.slow  # the first use of the session's MLflow store runs its migrations (about 10 s alone)
def test_a_tracked_study_run_opens_like_its_folder(tiny_study_dir, tmp_path):
    """``--run RUN_ID``: the study's tables logged as `riskmodel run` logs them, downloaded, the same answers."""
    from riskmodel.tracking import Tracker
    from riskmodel.workbench import open_study

    cfg = (tiny_study_dir.parents[1] / "experiments" / "tiny.toml").read_text(encoding="utf-8")
    tracker = Tracker(experiment="workbench-run")
    with tracker.run("study:tiny") as parent:
        parent.log_text(cfg, "experiment.toml")
        for step, files in {"forecast": {"forecast.csv": "forecast.csv"},
                            "alerts": {"alerts_warnings.csv": "warnings.csv"},
                            "claims": {"claims_summary.csv": "claims_summary.csv"}}.items():
            with tracker.run(f"tiny:{step}", tags={"riskmodel.step": step}) as r:
                for logged, file in files.items():
                    r.log_table(pd.read_csv(tiny_study_dir / step / file), logged)
    s = open_study(run_id=parent.run_id, root=tmp_path, db=f"sqlite:///{tmp_path / 'wb.sqlite'}", clock=lambda: FIXED)
    folder = open_study(tiny_study_dir, db=f"sqlite:///{tmp_path / 'wb2.sqlite'}")
    try:
        assert s.name == "tiny"
        pd.testing.assert_frame_equal(s.ranks_for(NEW), folder.ranks_for(NEW))
        assert s.warnings()["key"].tolist() == folder.warnings()["key"].tolist()
        assert s.area_detail("ZH-XZ-XW").claims["claim_id"].tolist() == ["C1"]
        downloaded = s._tmp  # noqa: SLF001
        assert downloaded is not None and downloaded.exists()
    finally:
        s.close()
        folder.close()
    assert not downloaded.exists()  # the run's download is removed on close


def test_a_study_without_an_index_still_shows_forecasts_and_warnings(tmp_path, make_tiny):
    from riskmodel.workbench import open_study

    out = make_tiny(tmp_path / "s", forecast=False)
    cfg = tmp_path / "s" / "experiments" / "tiny.toml"
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace("[steps.index]", "[steps.features]").replace("[steps.sensitivity]\nn = 200\n", "")
                   .replace(f'config = "{Path(__file__).resolve().parents[2] / "experiments" / "pingan_sample.toml"}"\n', ""),
                   encoding="utf-8")
    s = open_study(out, db=f"sqlite:///{tmp_path / 'wb.sqlite'}")
    try:
        assert not s.has_index and any("no Ping'an index" in n for n in s.notes)
        assert len(s.warnings()) == 3 and s.groups() == []
        with pytest.raises(InputError, match="has no Ping'an index"):
            s.ranks_for()
        with pytest.raises(InputError, match="has no Ping'an index"):
            s.save_judgements("e", "Index", {("order", "safety"): 2}, who="x")
        d = s.area_detail("ZH-XZ-GB")
        assert d.components.empty and len(d.series) == 10
        i = s.supervise("ZH-JW-NS", "alerts", 20, "at_most", "2026-12-31", who="chief")
        assert s.supervision().set_index("id").loc[i, "status"] == "met"
        with pytest.raises(InputError, match="without an index, an incident category"):
            s.supervise("ZH-JW-NS", "rate_alerts", 20, "at_most", "2026-12-31", who="chief")
        assert s.publish("zh", ["html"]).exists()
    finally:
        s.close()
