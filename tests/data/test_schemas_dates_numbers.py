"""Dates and numbers as spreadsheets and Chinese offices write them (issue 15): parse_period and number_text."""

from __future__ import annotations

import pandas as pd
import pytest

from riskmodel.data import load_panel
from riskmodel.data.schemas import number_text, parse_period
from riskmodel.errors import InputError


@pytest.mark.parametrize(("text", "iso"), [
    ("2020-01-31", "2020-01-31"), ("2020-01", "2020-01-01"),
    ("2020年1月31日", "2020-01-31"), ("2020年01月05号", "2020-01-05"), ("2020 年 1 月", "2020-01-01"),
    ("2020年", "2020-01-01"), ("2020/1/31", "2020-01-31"), ("2020/1", "2020-01-01"),
    ("2020.01", "2020-01-01"), ("2020.1.31", "2020-01-31"), ("２０２０年１月", "2020-01-01"),
    ("2020-01-31 00:00:00", "2020-01-31"), ("2020/1/31 0:00", "2020-01-31"),
])
def test_dates_are_read(text, iso):
    assert parse_period(pd.Series([text])).iloc[0] == pd.Timestamp(iso)


@pytest.mark.parametrize("text", ["2020-02-30", "2020年13月", "2020年2月30日", "2020-01/05", "2020/1/31 8:30",
                                  "1月1日", "20200131", "1899年", "二〇二〇年", ""])
def test_non_dates_are_not(text):
    assert pd.isna(parse_period(pd.Series([text])).iloc[0])


def test_number_text():
    got = number_text(pd.Series(["1,234", "１２３", " 12 ", "1,23", "１，２３４", None, "3.0", "1,234,567.5", "十二"]))
    assert got.tolist()[:5] == ["1234", "123", "12", "1,23", "1234"] and pd.isna(got.iloc[5])
    assert got.tolist()[6:] == ["3.0", "1234567.5", "十二"]
    ints = pd.Series([1, 2])
    assert number_text(ints) is ints


def test_a_csv_with_chinese_months_and_separated_counts_loads(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("街道,类别,日期,数量\n" + "".join(f'S1,c,2020年{m}月,"1,{m:03d}"\n' for m in range(1, 13)),
                 encoding="utf-8")
    counts = load_panel(f).counts
    assert counts["period"].dt.strftime("%Y-%m-%d").tolist() == [f"2020-{m:02d}-01" for m in range(1, 13)]
    assert counts["count"].tolist() == [1000 + m for m in range(1, 13)]
    f.write_text("街道,类别,日期,数量\nS1,c,2020年1月,1\nS1,c,2020年2月,1.234\nS1,c,2020年3月,约3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"is not a count.*line 3 \('1.234'\), line 4 \('约3'\)"):
        load_panel(f)


def test_a_report_sheets_total_rows_are_refused_not_counted_as_an_area(tmp_path):
    # a report sheet's 合计 row read as an area would double the city's total
    f = tmp_path / "c.csv"
    rows = "".join(f"S{i},c,2020年{m}月,{i}\n" for i in (1, 2) for m in (1, 2))
    f.write_text("街道,类别,日期,数量\n" + rows + "合 计,c,2020年1月,3\nS1,Total,2020年1月,1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"a total row .*line 6 \('合 计/c'\), line 7 \('S1/Total'\)"):
        load_panel(f)
    f.write_text("街道,类别,日期,数量\n" + rows + "合计镇,c,2020年1月,3\n", encoding="utf-8")  # a name, not a total
    assert "合计镇" in set(load_panel(f).counts["area_id"])
