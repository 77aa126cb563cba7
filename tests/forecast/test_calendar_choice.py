"""The holiday calendar of the forecast models: a declared, switchable choice defaulting to the data's country."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import riskmodel.data.calendar_choice as cc
from riskmodel.cli import main
from riskmodel.data.loading import load_panel
from riskmodel.data.panel import IncidentPanel
from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError
from riskmodel.features.calendar import period_calendar
from riskmodel.forecast import Forecaster
from riskmodel.forecast.gbm import _Design
from riskmodel.forecast.registry import make_model
from riskmodel.pipeline import run_experiment
from riskmodel.pipeline.steps.forecast import ForecastStepConfig


def _weekly_panel(country: str | None) -> IncidentPanel:
    """Four Portland-like weekly series (2015-2017), with ``meta['country']`` when given."""
    rng = np.random.default_rng(3)
    periods = pd.date_range("2015-01-05", periods=150, freq="W-MON")
    rows = [(f"D{a}", "burglary", p, int(c)) for a in range(4)
            for p, c in zip(periods, rng.poisson(6 + a, len(periods)), strict=True)]
    panel = IncidentPanel.from_counts(pd.DataFrame(rows, columns=["area_id", "category", "period", "count"]), freq="W")
    if country:
        panel.meta["country"] = country
    return panel


def test_check_and_resolve_calendar():
    assert ForecastStepConfig(calendar="US").calendar == "US" and ForecastStepConfig().calendar is None
    assert cc.check_calendar(None) == "CN"
    assert cc.check_calendar("cn") == "CN" and cc.check_calendar("None") == "none"
    assert cc.check_calendar("us") == "US"
    with pytest.raises(InputError, match="not a country code"):
        cc.check_calendar("XX", option="--calendar")
    # explicit: no note; from the data's country or the default: a note naming it
    assert cc.resolve_calendar("none", "US") == ("none", None)
    code, note = cc.resolve_calendar(None, "US", option="--calendar")
    assert code == "US" and "the data's country" in note and "--calendar" in note
    code, note = cc.resolve_calendar(None, None, option="--calendar")
    assert code == "CN" and "name no country" in note


def test_other_countries_need_the_holidays_package(monkeypatch):
    monkeypatch.setattr(cc, "_holidays_countries", lambda: None)
    assert cc.check_calendar("CN") == "CN" and cc.check_calendar("none") == "none"
    with pytest.raises(InputError, match="need the 'holidays' package"):
        cc.check_calendar("US")


def test_period_calendar_by_country():
    weeks = pd.date_range("2016-06-27", periods=16, freq="W-MON")  # through 4 July and 1-7 October 2016
    us = period_calendar(weeks, "W", "US")
    cn = period_calendar(weeks, "W", "CN")
    none = period_calendar(weeks, "W", "none")
    jul4, oct3 = pd.Timestamp("2016-07-04"), pd.Timestamp("2016-10-03")
    assert us.loc[jul4, "holidays"] == 1 and cn.loc[jul4, "holidays"] == 0
    # China's National Day week: 5 statutory days off (3-7 Oct) and the make-up weekend 8-9 Oct
    assert cn.loc[oct3, "holidays"] == 5 and cn.loc[oct3, "makeup_workdays"] == 2
    assert us.loc[oct3, "holidays"] == 0 and us["makeup_workdays"].eq(0).all()
    assert none[["holidays", "makeup_workdays", "spring_festival"]].eq(0).all().all()
    assert (none["days"] == 7).all() and (none["workdays"] == 5).all()


def test_us_panel_gets_no_chinese_regressors_by_default():
    panel = _weekly_panel("US")
    code, note = cc.resolve_calendar(None, panel.meta.get("country"))
    assert code == "US" and note
    # the Forecaster gives the models with calendar regressors the panel's country when not told otherwise
    assert Forecaster(["nbglm", "snaive"]).model_params(panel) == {"nbglm": {"calendar": "US"}}
    assert Forecaster(["nbglm"]).model_params(_weekly_panel(None)) == {}
    assert Forecaster(["auto"], params={"auto": {"calendar": "none"}}).model_params(panel) == {
        "auto": {"calendar": "none"}}
    res = Forecaster(["nbglm"]).forecast(panel, 4)
    m = res.model
    assert m.calendar_ == "US" and "makeup_workdays" not in m.names_ and "holidays" in m.names_
    # the holiday regressor is the US public holidays per week (standardised), not China's
    k = m.names_.index("holidays")
    raw = m.Xs_[:, k] * m.scale_[k] + m.center_[k]
    us = period_calendar(res.wide.periods, "W", "US")["holidays"].to_numpy()
    np.testing.assert_allclose(raw, us)
    cn = period_calendar(res.wide.periods, "W", "CN")["holidays"].to_numpy()
    assert not np.allclose(raw, cn)
    # calendar none: no holiday regressor at all, in the GLM and in the GBM's features
    m0 = make_model("nbglm", calendar="none").fit(res.wide)
    assert not {"holidays", "makeup_workdays"} & set(m0.names_)
    wp, ones, cats = res.wide, np.ones(len(res.wide.series)), np.zeros(len(res.wide.series))
    d_us = _Design(wp, wp.periods, ones, cats, "US").time
    d_no = _Design(wp, wp.periods, ones, cats, "none").time
    assert d_us.shape[1] == d_no.shape[1] + 2  # the GBM's features: holidays and make-up workdays, or neither
    np.testing.assert_array_equal(d_us[:, 0], us)
    assert make_model("gbm").calendar == "CN" and make_model("gbm", calendar="none").calendar == "none"
    # auto hands its calendar to its members that have one
    a = make_model("auto", candidates=("nbglm", "hmean"), calendar="none")
    assert a._make("nbglm").calendar == "none"
    assert make_model("auto", params={"nbglm": {"calendar": "US"}}, calendar="none")._make("nbglm").calendar == "US"
    with pytest.raises(InputError, match="not a country code"):
        make_model("nbglm", calendar="XX").fit(res.wide)


# sha256 of the forecast means and quantiles of every 9th sample-city series, computed with the code
# before the calendar became an option (CN regressors always on): the default must stay byte-identical
_BEFORE = {
    ("counts_monthly.csv", "nbglm"): "dc06cf02885107e0ea525a6d02e89cba49fb52507d556c36975adc2868eff875",
    ("counts_monthly.csv", "qpglm"): "6490b5adb2ec16b3bf5cd014033a7a37a200759e3d24684c3c08c8607e3be64c",
    ("counts_monthly.csv", "gbm"): "a01d98fac99d490078ada6195f62533ad1b54c051a6b052ee90ed6715aa1393b",
}


@pytest.mark.parametrize("model", ["nbglm", "qpglm", "gbm"])
def test_cn_default_is_byte_identical_on_the_sample_city(sample_dir, model):
    wp = WidePanel.from_panel(load_panel(sample_dir / "counts_monthly.csv"))
    wp = wp.subset(np.arange(0, 225, 9))
    m = make_model(model, seed=0)
    assert m.calendar == "CN"
    fc = m.fit(wp).predict(3)
    digest = hashlib.sha256(np.ascontiguousarray(fc.mean).tobytes()
                            + np.ascontiguousarray(fc.quantiles).tobytes()).hexdigest()
    assert digest == _BEFORE[("counts_monthly.csv", model)]


def test_cli_calendar_option(tmp_path, capsys):
    panel = _weekly_panel(None)
    f = tmp_path / "counts.csv"
    panel.counts.assign(period=panel.counts["period"].dt.date.astype(str)).to_csv(f, index=False)
    outs = {}
    for cal in (None, "none", "US"):
        out = tmp_path / f"fc_{cal}.csv"
        args = ["forecast", "--counts", str(f), "--freq", "W", "--h", "4", "--model", "nbglm", "--out", str(out),
                "--no-track", *(["--calendar", cal] if cal else [])]
        assert main(args) == 0
        err = capsys.readouterr().err
        assert ("note: calendar regressors: CN" in err) == (cal is None)
        outs[cal] = pd.read_csv(out)
    direct = Forecaster(["nbglm"], params={"nbglm": {"calendar": "none"}}).forecast(panel, 4).to_frame()
    np.testing.assert_allclose(outs["none"]["mean"], direct["mean"], rtol=1e-12)
    assert not np.allclose(outs[None]["mean"], outs["none"]["mean"])
    # a model without calendar regressors: no note
    assert main(["forecast", "--counts", str(f), "--freq", "W", "--h", "2", "--model", "snaive", "--out",
                 str(tmp_path / "s.csv"), "--no-track"]) == 0
    assert "calendar" not in capsys.readouterr().err
    assert main(["forecast", "--counts", str(f), "--model", "nbglm", "--calendar", "XX", "--out",
                 str(tmp_path / "x.csv"), "--no-track"]) == 2
    err = capsys.readouterr().err
    assert "riskmodel: error:" in err and "--calendar='XX'" in err
    assert main(["backtest", "--counts", str(f), "--freq", "W", "--h", "4", "--model", "nbglm", "--calendar", "none",
                 "--out", str(tmp_path / "bt"), "--no-track"]) == 0
    assert "calendar" not in capsys.readouterr().err


def _study(tmp_path, calendar: str | None) -> str:
    """A tiny study: 2 streets x 1 category, 40 months; validate + forecast with nbglm."""
    rng = np.random.default_rng(5)
    per = pd.date_range("2019-01-01", periods=40, freq="MS")
    rows = [(s, "a", p.date().isoformat(), int(rng.poisson(30))) for s in ("S1", "S2") for p in per]
    pd.DataFrame(rows, columns=["area_id", "category", "period", "count"]).to_csv(tmp_path / "counts.csv", index=False)
    cfg = tmp_path / f"s_{calendar}.toml"
    cfg.write_text(f"""
[study]
name = "s"
out = "{tmp_path / ('out_' + str(calendar))}"
[data]
counts = "{tmp_path / 'counts.csv'}"
freq = "M"
[steps.validate]
[steps.forecast]
h = 2
model = "nbglm"
backtest_windows = 0
fan_charts = false
register_model = false
{f'calendar = "{calendar}"' if calendar else ''}
""", encoding="utf-8")
    return str(cfg)


def test_study_calendar_key(tmp_path, capsys):
    fcs = {}
    for cal in (None, "none"):
        run_experiment(_study(tmp_path, cal), progress=False)
        err = capsys.readouterr().err
        assert ("note: calendar regressors: CN" in err) == (cal is None)
        assert ("[steps.forecast] calendar" in err) == (cal is None)
        fcs[cal] = pd.read_csv(tmp_path / f"out_{cal}" / "forecast" / "forecast.csv")
    assert not np.allclose(fcs[None]["mean"], fcs["none"]["mean"])
