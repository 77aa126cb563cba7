"""Reading and framing real-shaped data (issue 14.1, 16.3): one inference rule, no silent zeros."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.realistic.shapes import (
    annual_panel,
    monthly_with_stray_date,
    sparse_monthly,
    weekly_missing_week53,
    weekly_on_sundays,
    weekly_with_stray_days,
)

from riskmodel.data import AddedZeros, IncidentPanel, WidePanel, load_panel
from riskmodel.errors import InputError


def test_annual_panel_is_yearly_with_no_added_zeros() -> None:
    # before: "frequency M, OK" and eleven zero months a year
    df, _ = annual_panel()
    p = load_panel(df)
    assert p.freq == "Y"
    assert p.added_zeros.total == 0 and p.added_zeros.note() == ""
    assert len(WidePanel.from_panel(p).periods) == 26


def test_annual_panel_read_as_months_is_refused() -> None:
    df, _ = annual_panel()
    with pytest.raises(InputError, match="the counts are annual .* --freq M would add eleven zero months a year"):
        load_panel(df, freq="M")


def test_stray_mid_month_date_is_refused_naming_its_line() -> None:
    # before: the monthly file was "daily, OK"
    df, row = monthly_with_stray_date()
    with pytest.raises(InputError) as exc:
        load_panel(df)
    msg = str(exc.value)
    assert "all dates but 1 are the 1st of a month (monthly)" in msg
    assert f"line {row + 2} ('{df.loc[row, 'period']}')" in msg and "--align-dates" in msg


def test_sundays_are_refused_with_a_remedy_that_works() -> None:
    df = weekly_on_sundays()
    with pytest.raises(InputError, match="dates are 7 days apart but fall on Sundays: weekly periods start on Monday"):
        load_panel(df)
    p = load_panel(df, freq="W", align=True)
    assert p.freq == "W" and (p.counts["period"].dt.day_of_week == 0).all()
    assert p.counts["count"].sum() == df["count"].sum() and p.added_zeros.total == 0
    # each Sunday went to the Monday six days before (the ISO week it ends)
    assert p.counts["period"].min() == pd.Timestamp(df["period"].min()) - pd.Timedelta(days=6)
    assert "468 of 468 rows" in p.meta["notes"][0]


def test_stray_tuesdays_are_refused_naming_both_lines() -> None:
    # before: two stray rows made the weekly file daily (forecasts of 0.0005 a day, issue 16.3)
    df, rows = weekly_with_stray_days()
    with pytest.raises(InputError) as exc:
        load_panel(df)
    msg = str(exc.value)
    assert "all dates but 2 are Mondays (weekly)" in msg
    assert f"line {rows[0] + 2} ('2017-03-07'), line {rows[1] + 2} ('2018-06-12')" in msg


def test_weekly_data_read_as_daily_is_refused() -> None:
    df = weekly_missing_week53()
    with pytest.raises(InputError, match="the counts are weekly .* --freq D would add six zero days a week"):
        load_panel(df, freq="D")


def test_missing_week53_is_loaded_with_its_three_zeros_reported() -> None:
    # before: the gap became a 0 without a message
    p = load_panel(weekly_missing_week53(), freq="W")
    az = p.added_zeros
    assert isinstance(az, AddedZeros) and az.total == 3
    assert az.by_series[["area_id", "n_added"]].values.tolist() == [["D01", 1], ["D02", 1], ["D03", 1]]
    assert (az.by_series["first"] == pd.Timestamp("2004-12-27")).all()
    note = az.note("counts.csv")
    assert note == ("note: the source seems to have 52 weeks a year: ISO week 53 (2004-12-27) is absent from every "
                    "series of counts.csv and was counted as 0 (3 zeros in 3 series; riskmodel validate lists them)")
    w = WidePanel.from_panel(p)
    assert w.added_zeros is not None and w.added_zeros.total == 3
    assert np.isnan(w.y).sum() == 0 and int((w.y[w.periods == pd.Timestamp("2004-12-27")] == 0).sum()) == 3


def test_sparse_monthly_is_monthly_with_no_added_zeros() -> None:
    p = load_panel(sparse_monthly())
    assert p.freq == "M" and p.added_zeros.total == 0 and p.added_zeros.note() == ""
    assert (p.counts["count"] == 0).mean() > 0.5  # the zeros are the file's own


def _gappy() -> pd.DataFrame:
    months = pd.date_range("2020-01-01", periods=12, freq="MS").strftime("%Y-%m-%d")
    a = pd.DataFrame({"area_id": "A", "category": "c", "period": months, "count": 5})
    b = pd.DataFrame({"area_id": "B", "category": "c", "period": months, "count": 2}).drop(index=[3, 4, 9])
    return pd.concat([a, b], ignore_index=True)


def test_complete_on_counts_records_the_zeros_it_adds() -> None:
    p = load_panel(_gappy())
    assert p.added_zeros.total == 3
    assert p.added_zeros.note("g.csv") == (
        "note: 3 months absent from g.csv were counted as 0 in 1 series (riskmodel validate lists them)")
    c = p.complete()
    assert len(c.counts) == 24 and c.added_zeros.total == 3  # no longer absent, still counted
    row = c.added_zeros.by_series.iloc[0]
    assert (row["area_id"], row["n_added"], row["first"], row["last"]) == (
        "B", 3, pd.Timestamp("2020-04-01"), pd.Timestamp("2020-10-01"))
    assert c.select(areas=["A"]).added_zeros.total == 0
    assert c.select(end="2020-06-01").added_zeros.total == 2


def test_event_log_zeros_are_true_zeros() -> None:
    ev = pd.DataFrame({"area_id": ["A", "A", "B"], "timestamp": ["2021-01-04", "2021-03-15", "2021-02-01"],
                       "category": "c"})
    p = IncidentPanel.from_events(ev, freq="M", area_col="area_id")
    assert len(p.counts) == 6 and (p.counts["count"] == 0).sum() == 3
    assert p.added_zeros.total == 0 and p.added_zeros.note() == ""


def test_resample_carries_absent_days() -> None:
    days = pd.date_range("2021-01-04", "2021-01-31", freq="D")
    df = pd.DataFrame({"area_id": "A", "category": "c", "period": days.strftime("%Y-%m-%d"), "count": 1})
    df = df.drop(index=[2, 3, 10])  # three days absent inside weeks that have other days
    w = load_panel(df, freq="W")
    assert w.freq == "W" and w.counts["count"].tolist() == [5, 6, 7, 7]
    assert w.added_zeros.total == 3 and w.added_zeros.unit == "day"
    assert "3 days absent from counts were counted as 0 in 1 series" in w.added_zeros.note()


def test_validate_lists_the_added_zeros_and_takes_align_dates(tmp_path, capsys) -> None:
    from riskmodel.cli import main

    w53 = tmp_path / "w53.csv"
    weekly_missing_week53().to_csv(w53, index=False)
    assert main(["validate", "--counts", str(w53)]) == 0
    cap = capsys.readouterr()
    assert "zeros riskmodel adds: 3 absent weeks counted as 0 in 3 series:" in cap.out
    assert "  D02 / cases: 1 week counted as 0, first 2004-12-27, last 2004-12-27" in cap.out
    assert "source seems to have 52 weeks a year: ISO week 53 (2004-12-27)" in cap.err
    sun = tmp_path / "sun.csv"
    weekly_on_sundays().to_csv(sun, index=False)
    assert main(["validate", "--counts", str(sun)]) == 2
    assert "fall on Sundays" in capsys.readouterr().err
    assert main(["validate", "--counts", str(sun), "--freq", "W", "--align-dates"]) == 0
    cap = capsys.readouterr()
    out = cap.out
    assert "468 of 468 rows" in cap.err and "frequency W, 2016-01-04 to 2018-12-24" in out
    assert "zeros riskmodel adds: none" in out


def test_zeros_follow_aggregation_and_the_wide_form() -> None:
    areas = pd.DataFrame({"area_id": ["A", "B", "T"], "parent_id": ["T", "T", None],
                          "level": ["street", "street", "town"]})
    p = IncidentPanel.from_counts(_gappy(), areas=areas)
    t = p.aggregate("town")
    # B's three absent months are inside T's sums: T has 3 periods with a zero added below it
    assert t.added_zeros.total == 3 and t.added_zeros.by_series["area_id"].tolist() == ["T"]
    w = WidePanel.from_panel(p)
    assert w.head(6).added_zeros is w.added_zeros and w.added_zeros.total == 3


def test_a_week_absent_from_daily_counts_is_counted_once_in_days() -> None:
    days = pd.date_range("2021-01-04", "2021-01-31", freq="D")
    df = pd.DataFrame({"area_id": "A", "category": "c", "period": days.strftime("%Y-%m-%d"), "count": 1})
    w = load_panel(df[(df["period"] < "2021-01-11") | (df["period"] > "2021-01-17")], freq="W")
    assert len(w.counts) == 3 and w.added_zeros.total == 7 and w.added_zeros.unit == "day"
    c = w.complete()
    assert len(c.counts) == 4 and c.added_zeros.total == 7
