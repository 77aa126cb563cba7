"""Chinese calendar features per period: statutory holidays and make-up workdays.

China moves weekend days to make long holidays (调休): a *make-up workday* is a
Saturday or Sunday on which people work, a *holiday* is a statutory day off
(Spring Festival, National Day, ...). Both change incident counts (traffic,
hotline, disputes), so they are features and GLM regressors.

Source: the ``chinesecalendar`` package (``import chinese_calendar``), called
directly here. ``riskmodel.data.calendar`` (the foundation's calendar) refuses
years outside the package's coverage (2004-2026), which is right for history
but not for a forecaster that must describe future periods: here days outside
that range are counted as ordinary (weekends off, no festivals) and the column
``calendar_known`` says which share of each period's days the calendar
covered (a model can then see that the holiday columns are not informative).

Calendar features are known in advance for every period, so using them for
the period being predicted is not leakage.
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache

import chinese_calendar
import numpy as np
import pandas as pd

_PANDAS_FREQ = {"D": "D", "W": "W-MON", "M": "MS"}

CALENDAR_COLUMNS = (
    "days",
    "workdays",
    "holidays",
    "makeup_workdays",
    "spring_festival",
    "calendar_known",
)


@lru_cache(maxsize=20_000)
def _day(d: _dt.date) -> tuple[bool, bool, bool, bool, bool]:
    """(known, workday, statutory holiday, make-up workday, spring festival) for one day."""
    weekend = d.weekday() >= 5
    try:
        is_hol, name = chinese_calendar.get_holiday_detail(d)
    except NotImplementedError:
        return False, not weekend, False, False, False
    work = not is_hol
    statutory = bool(is_hol and name is not None)
    makeup = bool(work and weekend)
    spring = bool(name is not None and "Spring" in str(name) and is_hol)
    return True, work, statutory, makeup, spring


def daily_calendar(start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """One row per day from ``start`` to ``end``: workday, holiday, make-up workday flags.

    Returns
    -------
    DataFrame
        Index: day (datetime64). Columns (0/1 integers): ``workday``,
        ``holiday`` (statutory day off), ``makeup_workday`` (weekend day
        worked), ``spring_festival`` (day off of the Spring Festival holiday),
        ``known`` (1 when the calendar covers that year).
    """
    days = pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq="D")
    rows = np.array([_day(d.date()) for d in days], dtype=np.int8).reshape(len(days), 5)
    return pd.DataFrame(
        rows[:, [1, 2, 3, 4, 0]],
        index=pd.DatetimeIndex(days, name="day"),
        columns=["workday", "holiday", "makeup_workday", "spring_festival", "known"],
    )


def period_calendar(periods: pd.DatetimeIndex, freq: str) -> pd.DataFrame:
    """Calendar counts per period (day, ISO week starting Monday, or month).

    Parameters
    ----------
    periods : DatetimeIndex
        Period start dates (may extend into the future: the calendar is known).
    freq : {'D', 'W', 'M'}

    Returns
    -------
    DataFrame indexed by period with :data:`CALENDAR_COLUMNS`: ``days`` in
    the period, ``workdays``, statutory ``holidays`` (days off), make-up
    workdays, Spring Festival days off (all in days) and ``calendar_known``
    (share of the days the calendar covers, 0-1).
    """
    periods = pd.DatetimeIndex(periods)
    if len(periods) == 0:
        return pd.DataFrame(columns=list(CALENDAR_COLUMNS), index=periods)
    off = pd.tseries.frequencies.to_offset(_PANDAS_FREQ[freq])
    end = periods.max() + off - pd.Timedelta(days=1)
    daily = daily_calendar(periods.min(), end)
    starts = periods.sort_values().unique()
    bucket = np.searchsorted(starts.to_numpy(), daily.index.to_numpy(), side="right") - 1
    grp = daily.groupby(starts[bucket])
    agg = grp.sum()
    out = pd.DataFrame(
        {
            "days": grp.size(),
            "workdays": agg["workday"],
            "holidays": agg["holiday"],
            "makeup_workdays": agg["makeup_workday"],
            "spring_festival": agg["spring_festival"],
            "calendar_known": agg["known"] / grp.size(),
        }
    )
    out.index.name = "period"
    return out.reindex(periods).astype(float)
