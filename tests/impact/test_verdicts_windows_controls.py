"""Verdict vocabulary, baseline/comparison windows, chosen comparison series, degenerate input (issues 14, 16).

Known answers: verdicts on constructed effects (the interval and the reported
figure decide the finding), windows by their days, and simulated panels whose
programme effect is known (``conftest.simulate_city``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.cli import main
from riskmodel.cli.impact import parse_period
from riskmodel.data import IncidentPanel
from riskmodel.errors import InputError
from riskmodel.impact import (
    METHODS,
    EvaluationOptions,
    difference_in_differences,
    evaluate,
    read_claims,
)
from riskmodel.impact.design import check_windows
from riskmodel.impact.results import EffectResult
from riskmodel.impact.series import ControlSpec
from riskmodel.impact.verdict import FINDINGS, make_verdict

from .conftest import simulate_city

T = pd.Timestamp


def _verdict(effect, reported, with_controls=True, **kw):
    return make_verdict(area_zh="甲街道", area_en="A street", category="alerts", period_zh="2020", period_en="2020",
                        observed=-0.3, observed_lo=-0.35, observed_hi=-0.25, reported=reported, reproduced=True,
                        effect=effect, method="did", with_controls=with_controls, **kw)


# ---------------------------------------------------------------- verdict vocabulary (issue 14 item 5)
def test_wide_interval_containing_zero_cannot_tell_even_if_it_contains_the_report():
    v = _verdict((-0.944, -0.987, 4.945), -0.944)
    assert v.finding == "cannot_tell"
    assert "cannot tell this change from no change (interval width 593.2 points)" in v.en
    assert "neither confirm nor rule it out" in v.en
    assert "is consistent with this" not in v.en
    assert "数据无法区分这一变化与无变化（区间宽度593.2个百分点）" in v.zh


def test_narrow_interval_around_zero_cannot_tell():
    v = _verdict((0.003, -0.089, 0.089), 0.003)
    assert v.finding == "cannot_tell"
    assert "interval width 17.8 points" in v.en and "consistent" not in v.en


def test_interval_excluding_zero_and_containing_the_report_shows_an_effect():
    v = _verdict((-0.30, -0.40, -0.20), -0.35)
    assert v.finding == "shows_effect" and v.consistent is True
    assert "The reported fall of 35.0% is consistent with this, and the data show an effect." in v.en
    assert "与此一致，且数据显示确有效果" in v.zh
    assert "cannot tell" not in v.en


def test_reported_fall_beyond_the_interval_is_larger_than_the_effect():
    v = _verdict((-0.30, -0.40, -0.20), -0.50)
    assert v.finding == "larger_than_effect" and v.consistent is False
    assert "larger than the programme's effect" in v.en and "降幅大于项目效果" in v.zh


def test_reported_fall_short_of_the_interval_is_smaller_than_the_effect():
    v = _verdict((-0.30, -0.40, -0.20), -0.10)
    assert v.finding == "smaller_than_effect"
    assert "the estimated effect is larger than reported" in v.en


def test_no_report_and_no_effect():
    assert _verdict((-0.30, -0.40, -0.20), None).finding == "effect_no_report"
    assert _verdict((-0.05, -0.40, 0.20), None).finding == "cannot_tell"
    v = _verdict(None, -0.3)
    assert v.finding == "no_effect" and "No method could estimate" in v.en
    assert set(FINDINGS) >= {"shows_effect", "cannot_tell", "larger_than_effect", "smaller_than_effect"}


def test_chosen_comparison_named_and_no_nan_printed():
    v = _verdict((-0.30, -0.40, -0.20), -0.35, comparison_en="disputes in Z1", comparison_zh="Z1的disputes")
    assert "Compared with disputes in Z1, and after trend" in v.en and "no comparison areas" not in v.en
    assert "与Z1的disputes相比" in v.zh
    w = make_verdict(area_zh="甲", area_en="A", category="alerts", period_zh="", period_en="", observed=-0.3,
                     observed_lo=np.nan, observed_hi=np.nan, reported=None, reproduced=None,
                     effect=(-0.3, np.nan, np.nan), method="did", with_controls=False)
    assert "nan" not in w.en.lower() and "nan" not in w.zh.lower()


# ---------------------------------------------------------------- windows (issue 14 item 2)
def test_overlapping_and_touching_windows_are_refused_naming_both():
    with pytest.raises(InputError) as e:
        check_windows((T("1982-02-01"), T("1983-12-31")), (T("1983-02-01"), T("1984-12-31")), freqs=("M",),
                      default_baseline=True)
    msg = str(e.value)
    assert "1982-02-01..1983-12-31" in msg and "1983-02-01..1984-12-31" in msg
    assert "--baseline 1981-03-01:1983-01-31" in msg
    with pytest.raises(InputError, match="month starting 1983-02-01"):  # same month, no shared day
        check_windows((T("1981-03-01"), T("1983-02-10")), (T("1983-02-15"), T("1984-12-31")), freqs=("M",))
    # adjacent windows (year on year) are fine
    check_windows((T("2019-01-01"), T("2019-12-31")), (T("2020-01-01"), T("2020-12-31")), freqs=("M", "D"))


def test_period_and_baseline_parse_years_and_months_to_their_last_day():
    assert parse_period("1995:2005") == (T("1995-01-01"), T("2005-12-31"))
    assert parse_period("1995-01-01:2005-12-31") == (T("1995-01-01"), T("2005-12-31"))
    assert parse_period("1983-02:1984-12") == (T("1983-02-01"), T("1984-12-31"))
    assert parse_period("2020") == (T("2020-01-01"), T("2020-12-31"))
    with pytest.raises(InputError, match="--baseline"):
        parse_period("2005:1995", "--baseline")
    with pytest.raises(InputError):
        parse_period("spring")


@pytest.fixture(scope="module")
def city():
    counts, popt, truth = simulate_city(seed=7, n_areas=9)
    return counts, IncidentPanel.from_counts(counts, freq="M", population=popt), truth


def test_cli_refuses_an_overlapping_baseline_and_moves_the_default_clear(city, tmp_path, capsys):
    counts, _, _ = city
    c = counts.assign(period=counts["period"].dt.strftime("%Y-%m-%d"))
    c.to_csv(tmp_path / "counts.csv", index=False)
    args = ["claim", "--counts", str(tmp_path / "counts.csv"), "--area", "A00", "--category", "alerts",
            "--intervention", "2019-07-01", "--period", "2019-07:2020-12", "--method", "rate-ratio",
            "--out", str(tmp_path / "o"), "--no-track"]
    # the 1983-02:1984-12 case of the issue: a baseline one year earlier shares 2019-07..2019-12
    assert main([*args, "--baseline", "2018-07:2019-12"]) == 2
    err = capsys.readouterr().err
    assert "2018-07-01..2019-12-31" in err and "2019-07-01..2020-12-31" in err and "overlaps" in err
    assert not (tmp_path / "o").exists()
    # by default an 18-month comparison is compared with the same months two years earlier
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "against baseline 2017-07-01..2018-12-31" in out and "nan" not in out


# ---------------------------------------------------------------- controls (issue 14 item 3)
def test_control_spec_syntax():
    assert ControlSpec.parse("category=disputes") == ControlSpec((), ("disputes",))
    assert ControlSpec.parse("area=A03,A07;category=disputes,fires") == ControlSpec(("A03", "A07"),
                                                                                   ("disputes", "fires"))
    assert ControlSpec.parse("area=A03;area=A03").areas == ("A03",)
    assert ControlSpec.parse("").empty
    for bad in ("disputes", "area=", "district=D1"):
        with pytest.raises(InputError, match="--controls"):
            ControlSpec.parse(bad)


def test_chosen_areas_and_donors_replace_the_default_comparison(city):
    _, panel, truth = city
    opt = EvaluationOptions(seed=1)
    ev = evaluate(panel, "A00", "alerts", intervention="2019-07-01", comparison=("2020-01-01", "2020-12-31"),
                  methods=["observed", "did", "synthetic"], options=opt, controls="area=A01,A02,A03",
                  donors=["A04", "A05", "A06", "A07"])
    assert list(ev.design.controls.columns) == ["A01", "A02", "A03"]
    assert list(ev.design.donors.columns) == ["A04", "A05", "A06", "A07"]
    did, syn = ev.result("did"), ev.result("synthetic")
    assert did.note.startswith("compared with areas A01, A02, A03 (alerts)")
    assert syn.note.startswith("donors A04, A05, A06, A07")
    assert did.covers(truth) and syn.ok
    assert "Compared with areas A01, A02, A03 (alerts)" in ev.verdict.en
    with pytest.raises(InputError, match="unknown area 'A99' \\(option --donors\\)"):
        evaluate(panel, "A00", "alerts", intervention="2019-07-01", comparison=("2020-01-01", "2020-12-31"),
                 methods=["observed"], donors=["A99"])
    with pytest.raises(InputError, match="treated area"):
        evaluate(panel, "A00", "alerts", intervention="2019-07-01", comparison=("2020-01-01", "2020-12-31"),
                 methods=["observed"], controls="area=A00")


def test_claims_table_reads_controls_and_donors(tmp_path):
    df = pd.DataFrame([{"claim_id": "K1", "area_id": "Z1", "category": "fraud", "measure": "relative_change",
                        "baseline_start": "2020-01-01", "baseline_end": "2021-12-31",
                        "comparison_start": "2022-01-01", "comparison_end": "2023-12-31", "reported_change": "-0.3",
                        "controls": "category=disputes", "donors": "A1, A2"}])
    (c,) = read_claims(df)
    assert c.controls == ControlSpec((), ("disputes",)) and c.donors == ("A1", "A2")
    df.loc[0, "controls"] = "disputes"
    with pytest.raises(InputError, match="claim 'K1'.*column controls"):
        read_claims(df)


# ---------------------------------------------------------------- RTM is a check, not an effect
def test_regression_to_the_mean_is_reported_as_a_check(city):
    _, panel, _ = city
    ev = evaluate(panel, "A00", "alerts", intervention="2019-07-01", comparison=("2020-01-01", "2020-12-31"),
                  methods=["observed", "did", "regression_to_mean"], options=EvaluationOptions(seed=1))
    effects = "\n".join(ev.effect_lines())
    checks = "\n".join(ev.check_lines())
    assert "regression_to_mean" not in effects and "did" in effects
    r = ev.result("regression_to_mean")
    assert "the change expected from regression to the mean alone" in checks
    assert f"relative to the comparison series) is {r.estimate:+.1%}" in checks
    text = ev.summary()
    assert text.index("checks (not effects of the programme):") > text.index("did")


# ---------------------------------------------------------------- degenerate input (issue 16 item 11)
@pytest.mark.parametrize(("window", "what"), [("2020", "comparison"), ("2019", "baseline")])
def test_zero_windows_are_refused_not_printed_as_nan_or_a_100pct_fall(city, tmp_path, capsys, window, what):
    counts, _, _ = city
    c = counts.assign(period=counts["period"].dt.strftime("%Y-%m-%d"))
    c.loc[(c["area_id"] == "A00") & c["period"].str.startswith(window), "count"] = 0
    c.to_csv(tmp_path / "counts.csv", index=False)
    code = main(["claim", "--counts", str(tmp_path / "counts.csv"), "--area", "A00", "--category", "alerts",
                 "--intervention", "2019-07-01", "--period", "2020", "--method", "did", "--out",
                 str(tmp_path / "o"), "--no-track"])
    cap = capsys.readouterr()
    assert code == 2
    assert f"no incidents of alerts in A00 in the {what} period" in cap.err
    assert "nan" not in (cap.out + cap.err).lower() and "100.0%" not in cap.out


def test_a_non_finite_interval_becomes_a_row_saying_so(city, monkeypatch):
    _, panel, _ = city
    monkeypatch.setattr(METHODS, "_specs", dict(METHODS._specs))
    METHODS.register("inf_toy", lambda d, o: EffectResult("x", estimate=-1.0, lo=-1.0, hi=np.inf),
                     labels={"zh": "玩具", "en": "toy"}, summary="t", kind="effect", group="toy", primary=0)
    ev = evaluate(panel, "A00", "alerts", intervention="2019-07-01", comparison=("2020-01-01", "2020-12-31"),
                  methods=["observed", "inf_toy"])
    r = ev.result("inf_toy")
    assert not r.ok and "no finite interval" in r.note
    assert "nan" not in ev.summary().lower() and "inf" not in ev.verdict.en


def test_structural_is_refused_on_annual_data_with_its_reason():
    with pytest.raises(InputError, match="annual data have no season"):
        METHODS.check("structural", freq="Y")
    for name in ("observed", "rate_ratio", "its", "did", "synthetic", "ratio_of_ratios"):
        METHODS.check(name, freq="Y")


def test_did_with_one_comparison_series_known_answer():
    """Exact shares: the treated share's odds ratio is the ratio of ratios, 0.6 -> -40%."""
    P = pd.date_range("2020-01-01", periods=8, freq="MS")
    c = np.array([10, 20, 30, 40, 10, 20, 30, 40], dtype=float)
    y = np.where(np.arange(8) >= 4, 0.6, 1.0) * c * 2
    d = pd.concat([pd.DataFrame({"area_id": "Z1", "period": P, "count": y}),
                   pd.DataFrame({"area_id": "Z1/disputes", "period": P, "count": c})])
    r = difference_in_differences(d, "Z1", P[4])
    assert r.estimate == pytest.approx(-0.4, abs=1e-9)
    assert "one comparison series (Z1/disputes)" in r.note


# ---------------------------------------------------------------- zeros riskmodel added (issue 14 item 1, contract)
def test_claim_says_when_its_windows_hold_zeros_riskmodel_added(city, tmp_path, capsys):
    counts, _, _ = city
    c = counts.assign(period=counts["period"].dt.strftime("%Y-%m-%d"))
    gone = (c["area_id"] == "A00") & c["period"].isin(["2020-03-01", "2020-04-01"])
    c[~gone].to_csv(tmp_path / "counts.csv", index=False)
    assert main(["claim", "--counts", str(tmp_path / "counts.csv"), "--area", "A00", "--category", "alerts",
                 "--intervention", "2019-07-01", "--period", "2020", "--method", "did",
                 "--out", str(tmp_path / "o"), "--no-track"]) == 0
    cap = capsys.readouterr()
    assert cap.err.count("counted as 0") == 1  # the panel's note, once
    verdict = (tmp_path / "o" / "verdict.txt").read_text(encoding="utf-8")
    assert "2 period(s) of alerts in A00 in the baseline or comparison window were absent" in verdict
    assert "被riskmodel计为0" in verdict


@pytest.mark.parametrize("bad", ["nan", "inf", "-1.5"])
def test_a_reported_change_that_is_not_one_is_refused(city, bad):
    _, panel, _ = city
    with pytest.raises(InputError, match="--reported"):
        evaluate(panel, "A00", "alerts", intervention="2019-07-01", comparison=("2020-01-01", "2020-12-31"),
                 methods=["observed"], reported=float(bad))
