"""One frequency rule and one loader for every command and the pipeline."""

from __future__ import annotations

import pandas as pd
import pytest

from riskmodel.data import DAILY, MONTHLY, WEEKLY, Frequency, load_panel
from riskmodel.errors import InputError


@pytest.mark.parametrize(("dates", "code"), [
    (["2020-01-01", "2020-02-01", "2020-04-01"], "M"),  # a missing month is still monthly
    (["2020-01-06", "2020-01-13", "2020-02-03"], "W"),
    (["2018-10-01"], "M"),                               # a Monday that is the 1st: the month wins
    (["2018-01-01"], "Y"),                               # ... and 1 January is a year
    (["2019-01-01", "2020-01-01", "2022-01-01"], "Y"),
    (["2020-01-06", "2020-01-07"], "D"),
    (["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-05"], "D"),
    ([], "D"),
])
def test_inference_rule(dates: list[str], code: str) -> None:
    assert Frequency.infer(pd.to_datetime(pd.Series(dates, dtype=object))).code == code


@pytest.mark.parametrize(("dates", "message"), [
    # one mid-month date made a monthly file "daily" (issue 14.1): now refused, naming the row
    (["2020-01-01", "2020-01-15", "2020-02-01", "2020-03-01"],
     r"all dates but 1 are the 1st of a month \(monthly\); this row is not.*line 3 \('2020-01-15'\)"),
    (["2020-01-05", "2020-01-12", "2020-01-19"], "dates are 7 days apart but fall on Sundays: weekly periods start on"),
    (["2020-03-15", "2020-04-15", "2020-05-15"], "dates are a month apart but fall on day 15: monthly periods start"),
    (["2020-01-31", "2020-02-29", "2020-03-31", "2020-04-30"], "a month apart but fall on the last day of the month"),
    (["2019-07-01", "2020-07-01", "2021-07-01"], "dates are a year apart but fall on 01 July: annual periods"),
    (["2020-01-03", "2020-01-08", "2020-01-14", "2020-01-20"], "typically 6 days apart"),
])
def test_inference_refuses_what_fits_no_rule(dates: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        Frequency.infer(pd.Series(pd.to_datetime(dates)), source="c.csv")


def test_frequency_values() -> None:
    assert (DAILY.cycle, WEEKLY.cycle, MONTHLY.cycle) == (7, 52, 12)
    assert WEEKLY.periods_per_year == pytest.approx(365.25 / 7) and MONTHLY.year_lag == 12
    assert WEEKLY.start(pd.Series(pd.to_datetime(["2024-01-10"]))).iloc[0] == pd.Timestamp("2024-01-08")
    assert list(MONTHLY.following(pd.Timestamp("2021-11-01"), 3).strftime("%Y-%m")) == ["2021-12", "2022-01", "2022-02"]
    assert MONTHLY.last_day(pd.Timestamp("2024-02-01")) == pd.Timestamp("2024-02-29")
    assert DAILY.finer_than("W") and DAILY.nests_in("M") and not WEEKLY.nests_in("M")
    with pytest.raises(InputError, match="unknown frequency 'Q' for --freq; valid: D, W, M"):
        Frequency.of("Q")


def _daily(tmp_path, extra=None):
    days = pd.date_range("2021-01-04", "2021-03-28", freq="D")
    df = pd.DataFrame({"area_id": "A", "category": "c", "period": days.strftime("%Y-%m-%d"), "count": 1})
    p = tmp_path / "d.csv"
    df.to_csv(p, index=False)
    return p


def test_loader_sums_finer_data_and_refuses_to_split_coarser(tmp_path) -> None:
    p = _daily(tmp_path)
    assert load_panel(p).freq == "D"
    w = load_panel(p, freq="W")
    assert w.freq == "W" and w.counts["count"].tolist() == [7] * 12
    m = load_panel(p, freq="M")
    assert m.counts["count"].tolist() == [28, 28, 28] and m.meta["partial_first"]  # data start on 4 January
    monthly = tmp_path / "m.csv"
    m.counts.assign(period=m.counts["period"].dt.strftime("%Y-%m-%d")).to_csv(monthly, index=False)
    with pytest.raises(InputError, match="cannot resample from M to W: the counts are monthly and cannot be split"):
        load_panel(monthly, freq="W")


def test_loader_names_a_stray_date_rather_than_summing_it(tmp_path) -> None:
    weeks = pd.date_range("2021-01-04", periods=20, freq="W-MON").strftime("%Y-%m-%d").tolist()
    weeks[7] = "2021-02-23"  # a Tuesday in weekly data
    p = tmp_path / "w.csv"
    pd.DataFrame({"area_id": "A", "category": "c", "period": weeks, "count": 3}).to_csv(p, index=False)
    with pytest.raises(InputError, match=r"period is not a Monday .* line 9"):
        load_panel(p, freq="W")
