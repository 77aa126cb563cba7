"""The Chinese holiday calendar, cross-checked against the `holidays` package."""

from __future__ import annotations

import datetime as dt
import re

import holidays
import pandas as pd
import pytest

from riskmodel.data.calendar import covered_years, holiday_table, period_calendar
from riskmodel.errors import InputError


def test_coverage_and_clear_error_outside_it():
    lo, hi = covered_years()
    assert lo == 2004 and hi >= 2025
    with pytest.raises(InputError, match=f"covers {lo}-{hi}"):
        holiday_table(f"{hi + 1}-01-01", f"{hi + 1}-12-31")
    with pytest.raises(InputError, match="not guessed"):
        holiday_table("2003-12-01", "2004-01-31")


def test_known_days_2020():
    t = holiday_table("2020-01-01", "2020-12-31").set_index("date")
    # Spring Festival 2020 (with the pandemic extension to 2 February)
    assert t.loc["2020-01-25", "is_holiday"] and t.loc["2020-01-25", "holiday_name_zh"] == "春节"
    assert t.loc["2020-02-02", "is_holiday"]
    # 19 January 2020 was a Sunday worked in lieu (调休)
    assert t.loc["2020-01-19", "is_makeup_workday"] and t.loc["2020-01-19", "is_workday"]
    assert t.loc["2020-01-23", "day_before_holiday"]
    assert t.loc["2020-01-17", "spring_festival_period"] and not t.loc["2020-03-01", "spring_festival_period"]
    assert t.loc["2020-10-01", "holiday_name"] == "National Day"
    assert t.loc["2020-09-27", "is_makeup_workday"]  # Sunday before National Day
    assert t.loc["2020-09-30", "days_to_holiday"] == 1


SUBSTITUTED = re.compile(r"substituted from (\d{2})/(\d{2})/(\d{4})")


@pytest.mark.parametrize("year", range(2014, 2026))
def test_cross_check_with_holidays_package(year):
    """The `holidays` package agrees with chinesecalendar on days off and make-up workdays.

    `holidays` lists statutory days off and names the bridged days
    "Day off (substituted from MM/DD/YYYY)", where the date given is the
    weekend day worked in lieu: the make-up workday.
    """
    t = holiday_table(f"{year - 1}-01-01", f"{year + 1}-12-31").set_index("date")
    # a bridged day may be named in the neighbouring year's list
    cn = holidays.China(years=range(year - 1, year + 2))
    makeup = set()
    for day, name in cn.items():
        assert t.loc[pd.Timestamp(day), "is_holiday"], (day, name)
        for m in SUBSTITUTED.finditer(name):
            makeup.add(dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2))))
    for day in makeup:
        assert t.loc[pd.Timestamp(day), "is_makeup_workday"], day
    ours = {d for d in t.index[t["is_makeup_workday"]].date if d.year == year}
    theirs = {d for d in makeup if d.year == year}
    assert ours == theirs, sorted(ours ^ theirs)
    assert len(ours) >= 5


def test_period_calendar_counts_days():
    m = period_calendar(pd.DatetimeIndex(["2020-01-01", "2020-02-01", "2020-10-01"]), "M")
    assert m.loc["2020-01-01", "n_days"] == 31
    assert m.loc["2020-10-01", "n_holiday"] == 8  # 1-8 October 2020
    w = period_calendar(pd.DatetimeIndex(["2020-09-28"]), "W")
    assert w.iloc[0]["n_days"] == 7 and w.iloc[0]["n_holiday"] == 4
    assert dt.date(2020, 9, 28).weekday() == 0


def test_non_strict_mode_marks_uncovered_days_as_ordinary():
    lo, hi = covered_years()
    t = holiday_table(f"{hi}-12-25", f"{hi + 1}-01-10", strict=False).set_index("date")
    assert t.loc[f"{hi}-12-31", "calendar_known"] and not t.loc[f"{hi + 1}-01-01", "calendar_known"]
    nxt = t.loc[f"{hi + 1}-01-01":]
    assert not nxt["is_holiday"].any()
    assert (nxt["is_workday"] == (nxt.index.day_of_week < 5)).all()
    strict = holiday_table(f"{hi}-12-25", f"{hi}-12-31")
    pd.testing.assert_frame_equal(
        t.loc[: f"{hi}-12-31"].drop(columns="calendar_known").reset_index(), strict, check_dtype=False
    )
