import pandas as pd
import pytest

from riskmodel.data import IncidentPanel
from riskmodel.errors import InputError
from riskmodel.impact import observed_change, read_claims
from riskmodel.impact.claims import Claim

from .conftest import SAMPLE

HEADER = ("claim_id,area_id,category,measure,baseline_start,baseline_end,comparison_start,comparison_end,"
          "reported_change,reported_baseline,reported_comparison,period_label,source\n")


def _daily_panel(values_2019, values_2020, area="A"):
    days19 = pd.date_range("2019-01-01", "2019-12-31")
    days20 = pd.date_range("2020-01-01", "2020-12-31")
    counts = pd.DataFrame({
        "area_id": area, "category": "alerts",
        "period": list(days19) + list(days20),
        "count": [values_2019] * len(days19) + [values_2020] * len(days20),
    })
    return IncidentPanel.from_counts(counts, freq="D")


def _claim(measure="relative_change", reported=-0.354, text="-0.354", rb=None, rc=None):
    return Claim("X", "A", "alerts", measure, pd.Timestamp("2019-01-01"), pd.Timestamp("2019-12-31"),
                 pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31"), reported, rb, rc, reported_text=text)


def test_relative_change_is_the_ratio_of_totals():
    p = _daily_panel(10, 7)
    o = observed_change(p, _claim())
    assert o.baseline_total == 3650 and o.comparison_total == 7 * 366  # 2020 is a leap year
    assert o.observed_change == pytest.approx(7 * 366 / 3650 - 1)
    assert o.reproduced is False


def test_reproduced_to_the_reported_precision():
    p = _daily_panel(1000, 646)  # 646*366/365000 - 1 = -0.35224...
    assert observed_change(p, _claim(reported=-0.352, text="-0.352")).reproduced is True
    assert observed_change(p, _claim(reported=-0.354, text="-0.354")).reproduced is False
    assert observed_change(p, _claim(reported=-0.35, text="-0.35")).reproduced is True


def test_daily_mean_uses_days_and_the_reported_means():
    p = _daily_panel(329, 240)
    o = observed_change(p, _claim("daily_mean", reported=-0.2705, text="-0.2705", rb=329.0, rc=240.0))
    assert o.baseline_value == pytest.approx(329) and o.comparison_value == pytest.approx(240)
    assert o.observed_change == pytest.approx(240 / 329 - 1)
    assert o.reproduced is True


def test_sample_claims_file_is_read_whole():
    if not (SAMPLE / "claims.csv").exists():
        pytest.skip("sample city not generated")
    claims = read_claims(SAMPLE / "claims.csv")
    assert [c.claim_id for c in claims] == [f"C{i}" for i in range(1, 9)]
    c3 = claims[2]
    assert c3.measure == "daily_mean" and c3.reported_baseline == 329.0


def test_observed_change_on_the_sample_city_matches_a_direct_sum():
    if not (SAMPLE / "counts_monthly.csv").exists():
        pytest.skip("sample city not generated")
    monthly = pd.read_csv(SAMPLE / "counts_monthly.csv", parse_dates=["period"])
    p = IncidentPanel.from_counts(monthly, freq="M", areas=SAMPLE / "areas.csv")
    c4 = read_claims(SAMPLE / "claims.csv")[3]  # city alerts 2018 vs 2014: sum of the streets
    a = monthly[monthly["category"] == "alerts"]
    direct = a[a.period.dt.year == 2018]["count"].sum() / a[a.period.dt.year == 2014]["count"].sum() - 1
    assert observed_change(p, c4).observed_change == pytest.approx(direct)


def test_bad_rows_are_all_named(tmp_path):
    f = tmp_path / "claims.csv"
    f.write_text(HEADER
                 + "C1,A,alerts,relative_change,2019-01-01,2019-12-31,2020-01-01,2020-12-31,-0.3,,,,\n"
                 + "C2,A,alerts,weekly_sum,2019-01-01,2019-12-31,2020-01-01,2020-12-31,-0.3,,,,\n"
                 + "C3,A,alerts,relative_change,2019-13-01,2019-12-31,2020-01-01,2020-12-31,abc,,,,\n"
                 + "C4,A,alerts,relative_change,2019-01-01,2018-12-31,2020-01-01,2020-12-31,,,,,\n",
                 encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_claims(f)
    msg = str(e.value)
    assert "3 problems" in msg
    assert "line 3" in msg and "measure 'weekly_sum' is unknown" in msg
    assert "line 4" in msg and "baseline_start" in msg and "'abc' is not a number" in msg
    assert "line 5" in msg and "baseline_end is before baseline_start" in msg


def test_missing_columns_and_period_outside_data(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("claim_id,area_id\nC1,A\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        read_claims(f)
    p = _daily_panel(10, 7)
    bad = Claim("X", "A", "alerts", "relative_change", pd.Timestamp("2017-01-01"), pd.Timestamp("2017-12-31"),
                pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31"), -0.3)
    with pytest.raises(InputError, match="outside the data"):
        observed_change(p, bad)
