"""`riskmodel init` (riskmodel.pipeline.scaffold): tables recognised by their columns, the steps the data allow."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.cli import main
from riskmodel.errors import InputError
from riskmodel.pipeline import Experiment
from riskmodel.pipeline.scaffold import check_config, plan_steps, scaffold, survey

AREAS = pd.DataFrame({
    "area_id": ["C", "D1", "S1", "S2"], "name": ["城", "区", "甲街道", "乙街道"],
    "name_en": ["City", "District", "A", "B"], "parent_id": ["", "C", "D1", "D1"],
    "level": ["city", "district", "street", "street"],
})


def _counts(months: int = 30, freq: str = "MS", seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2018-01-01", periods=months, freq=freq)
    rows = [(a, c, p.strftime("%Y-%m-%d"), int(rng.poisson(20)))
            for a in ("S1", "S2") for c in ("theft", "fraud") for p in periods]
    return pd.DataFrame(rows, columns=["area_id", "category", "period", "count"])


def _plans(sv) -> dict:  # noqa: ANN001
    return {p.name: p for p in plan_steps(sv)}


def test_tables_recognised_by_their_columns_and_the_config_loads(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _counts().rename(columns={"area_id": "街道", "category": "类别", "period": "日期", "count": "数量"}).to_csv(
        data / "计数.csv", index=False, encoding="gbk")
    AREAS.to_csv(data / "areas.csv", index=False)
    pd.DataFrame({"area_id": ["S1", "S2"], "year": ["2018", "2018"], "population": ["1000", "2000"]}).to_csv(
        data / "pop.csv", index=False)
    (data / "readme.txt").write_text("not a table")
    sv = survey([data])
    assert {k: Path(v.source).name for k, v in sv.roles.items()} == {
        "counts": "计数.csv", "areas": "areas.csv", "population": "pop.csv"}
    assert sv.counts.mapping == {"街道": "area_id", "类别": "category", "日期": "period", "数量": "count"}
    assert sv.panel.freq == "M" and sv.levels == ["street", "district", "city"]
    out = tmp_path / "exp" / "study.toml"
    out.parent.mkdir()
    out.write_text(scaffold(sv, out, name="mine"), encoding="utf-8")
    exp = check_config(out, sv)
    raw = tomllib.loads(out.read_text(encoding="utf-8"))
    # paths from the folder above the config's folder, as the pipeline reads them
    assert raw["data"]["counts"] == "data/计数.csv" and raw["data"]["areas"] == "data/areas.csv"
    assert raw["data"]["columns"] == {"街道": "area_id", "类别": "category", "日期": "period", "数量": "count"}
    assert raw["data"]["freq"] == "M"
    assert exp.study.name == "mine" and raw["study"]["out"] == "exp/outputs/mine"
    assert list(exp.steps) == ["validate", "overview", "features", "forecast", "alerts", "appendix"]
    assert raw["steps"]["overview"]["level"] == "district"
    assert raw["steps"]["forecast"]["reconcile"] == "mint_shrink"
    assert raw["steps"]["alerts"].get("method") is None  # 2.5 years: the seasonal default
    text = out.read_text(encoding="utf-8")
    assert "# [steps.claims] left out: no claims table" in text
    assert "# [steps.index] left out: no indicators table" in text
    assert "readme.txt" in text  # the file left alone is said


def test_no_counts_table_is_refused_listing_each_table_and_what_it_lacks(tmp_path: Path) -> None:
    AREAS.to_csv(tmp_path / "areas.csv", index=False)
    _counts().drop(columns="count").to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(InputError) as e:
        survey([tmp_path / "areas.csv", tmp_path / "c.csv"])
    msg = str(e.value)
    assert "no counts table found" in msg
    assert "areas.csv: areas (4 rows)" in msg
    assert "c.csv: not recognised" in msg and "as counts it lacks count" in msg


def test_two_counts_tables_are_refused_by_name(tmp_path: Path) -> None:
    _counts().to_csv(tmp_path / "a.csv", index=False)
    _counts(seed=2).to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(InputError, match=r"2 tables look like the counts \(.*a\.csv, .*b\.csv\)"):
        survey([tmp_path])


def test_short_flat_data_leave_out_reconciliation_seasonal_detectors_and_claims(tmp_path: Path) -> None:
    _counts(months=16).to_csv(tmp_path / "c.csv", index=False)
    pd.DataFrame({"claim_id": ["K1"], "area_id": ["S1"], "category": ["theft"], "measure": ["relative_change"],
                  "baseline_start": ["2018-01-01"], "baseline_end": ["2018-06-30"],
                  "comparison_start": ["2018-07-01"], "comparison_end": ["2018-12-31"],
                  "reported_change": ["-0.1"]}).to_csv(tmp_path / "claims.csv", index=False)
    sv = survey([tmp_path / "c.csv", tmp_path / "claims.csv"])
    p = _plans(sv)
    assert sv.levels == ["area"]
    assert p["forecast"].keys["reconcile"] == "none" and p["forecast"].keys["fan_charts"] is False
    assert p["forecast"].keys["backtest_windows"] == 1  # 16 months: one window after a year of training
    assert p["alerts"].keys["method"] == "ears-c2"
    assert not p["claims"].on and "1.3 years" in p["claims"].why
    out = tmp_path / "s.toml"
    out.write_text(scaffold(sv, out), encoding="utf-8")
    exp = Experiment.load(out)
    assert exp.steps["alerts"].method == "ears-c2" and "claims" not in exp.steps


def test_claims_outside_the_counts_are_left_out_naming_them(tmp_path: Path) -> None:
    _counts().to_csv(tmp_path / "c.csv", index=False)
    pd.DataFrame({"claim_id": ["K1"], "area_id": ["S9"], "category": ["theft"], "measure": ["relative_change"],
                  "baseline_start": ["2018-01-01"], "baseline_end": ["2018-12-31"],
                  "comparison_start": ["2019-01-01"], "comparison_end": ["2019-12-31"],
                  "reported_change": ["-0.1"]}).to_csv(tmp_path / "claims.csv", index=False)
    p = _plans(survey([tmp_path / "c.csv", tmp_path / "claims.csv"]))
    assert not p["claims"].on and "K1: area S9 not in the data" in p["claims"].why


def test_yearly_counts_allow_validate_only(tmp_path: Path) -> None:
    _counts(months=6, freq="YS").to_csv(tmp_path / "c.csv", index=False)
    p = _plans(survey([tmp_path / "c.csv"]))
    assert [n for n, s in p.items() if s.on] == ["validate"]
    assert "yearly" in p["forecast"].why


def test_columns_option_maps_unknown_headers(tmp_path: Path) -> None:
    _counts().rename(columns={"area_id": "unit", "count": "cases"}).to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(InputError, match="no counts table found"):
        survey([tmp_path / "c.csv"])
    sv = survey([tmp_path / "c.csv"], columns={"unit": "area_id", "cases": "count"})
    assert sv.counts.mapping == {"unit": "area_id", "cases": "count"}
    with pytest.raises(InputError, match="--columns: no table has the headers wrong"):
        survey([tmp_path / "c.csv"], columns={"wrong": "area_id"})


def test_cli_writes_once_and_refuses_to_overwrite_without_force(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    _counts().to_csv(tmp_path / "c.csv", index=False)
    out = tmp_path / "cfg" / "study.toml"
    assert main(["init", str(tmp_path / "c.csv"), "--out", str(out), "--name", "x"]) == 0
    std = capsys.readouterr()
    assert "off claims       no claims table" in std.out and "next: riskmodel run" in std.out
    first = out.read_bytes()
    out.write_text("# mine\n", encoding="utf-8")
    assert main(["init", str(tmp_path / "c.csv"), "--out", str(out)]) == 2
    assert "does not overwrite" in capsys.readouterr().err and out.read_text(encoding="utf-8") == "# mine\n"
    assert main(["init", str(tmp_path / "c.csv"), "--out", str(out), "--name", "x", "--force"]) == 0
    assert out.read_bytes() == first  # same data, same config
    assert main(["init", str(tmp_path / "c.csv"), "--out", str(tmp_path / "c.csv")]) == 2  # not a .toml
    assert main(["init", str(tmp_path / "c.csv"), "--out", str(tmp_path / "n.toml"), "--name", "a/b"]) == 2
    assert "letters, digits" in capsys.readouterr().err
    assert main(["init", str(tmp_path / "none.csv"), "--out", str(tmp_path / "n.toml")]) == 2
    assert "no such file" in capsys.readouterr().err and not (tmp_path / "n.toml").exists()


def test_config_paths_reach_the_same_files_from_another_working_directory(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    (tmp_path / "proj" / "data").mkdir(parents=True)
    _counts().to_csv(tmp_path / "proj" / "data" / "c.csv", index=False)
    out = tmp_path / "proj" / "experiments" / "s.toml"
    monkeypatch.chdir(tmp_path / "proj" / "data")
    assert main(["init", "c.csv", "--out", str(out)]) == 0
    raw = tomllib.loads(out.read_text(encoding="utf-8"))
    assert raw["data"]["counts"] == "data/c.csv" and raw["study"]["out"] == "outputs/c"  # the project layout
    monkeypatch.chdir(tmp_path)
    check_config(out, survey([tmp_path / "proj" / "data" / "c.csv"]))


def test_counts_option_chooses_among_several_counts_tables(tmp_path: Path) -> None:
    _counts().to_csv(tmp_path / "monthly.csv", index=False)
    _counts(months=3, freq="W-MON").to_csv(tmp_path / "weekly.csv", index=False)
    sv = survey([tmp_path], counts=tmp_path / "weekly.csv")
    assert Path(sv.counts.source).name == "weekly.csv" and sv.panel.freq == "W"
    unused = [t for t in sv.tables if t.unused]
    assert [Path(t.source).name for t in unused] == ["monthly.csv"]
    assert "counts, not used: --counts chose" in unused[0].describe()
    AREAS.to_csv(tmp_path / "areas.csv", index=False)
    with pytest.raises(InputError, match="--counts: not a counts table: .*areas.csv: areas"):
        survey([tmp_path], counts=tmp_path / "areas.csv")


def test_a_database_url_with_its_password_written_out_is_refused_without_showing_it() -> None:
    with pytest.raises(InputError) as e:
        survey(["postgresql://analyst:s3cret@db.example.org/city?table=alerts"])
    assert "s3cret" not in str(e.value) and "${VAR}" in str(e.value)


def test_months_too_few_for_ears_or_a_forecast_leave_those_steps_out(tmp_path: Path) -> None:
    _counts(months=8).to_csv(tmp_path / "c8.csv", index=False)
    p = _plans(survey([tmp_path / "c8.csv"]))
    assert p["forecast"].on and p["forecast"].keys["backtest_windows"] == 0
    assert not p["alerts"].on and p["alerts"].why.startswith("8 months of counts: EARS C2")
    _counts(months=5).to_csv(tmp_path / "c5.csv", index=False)
    p = _plans(survey([tmp_path / "c5.csv"]))
    assert not p["forecast"].on and "5 months of counts: too few to forecast 3 months" in p["forecast"].why
    assert not p["appendix"].on


def test_counts_that_do_not_load_write_nothing(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    c = _counts()
    c["count"] = c["count"].astype(str)
    c.loc[5, "count"] = "-3"
    c.to_csv(tmp_path / "c.csv", index=False)
    assert main(["init", str(tmp_path / "c.csv"), "--out", str(tmp_path / "s.toml")]) == 2
    err = capsys.readouterr().err
    assert "c.csv" in err and "line 7" in err and not (tmp_path / "s.toml").exists()
