"""Calendar features per period: public holidays (and China's make-up workdays).

Which calendar is a declared choice (``calendar``, :func:`check_calendar`):
``"CN"`` (the default, the sample city's country: the Chinese calendar
below), ``"none"`` (no holiday regressors at all) or any other country code
of the ``holidays`` package when it is installed (a development dependency:
without it other codes are refused, naming the choices). "The data's
country" is resolved by :func:`resolve_calendar`: the explicit choice, else
the data's ``country`` (a loader's ``panel.meta["country"]``, a study's
``[data] country``), else ``CN``, with a note saying so when not given.

The Chinese calendar:

China moves weekend days to make long holidays (调休): a *make-up workday* is a
Saturday or Sunday on which people work, a *holiday* is a statutory day off
(Spring Festival, National Day, ...). Both change incident counts (traffic,
hotline, disputes), so they are features and GLM regressors.

Source: the one calendar, :func:`riskmodel.data.calendar.holiday_table`,
with ``strict=False``: the calendar (``chinesecalendar``) covers the years
the State Council has announced (2004-2026), which is right for history
but not for a forecaster that must describe future periods, so days
outside that range are counted as ordinary (weekends off, no festivals) and
the column ``calendar_known`` says which share of each period's days the
calendar covered (a model can then see that the holiday columns are not
informative). Where the data themselves are concerned (the sample city,
validation), the calendar is strict and refuses unknown years.

Calendar features are known in advance for every period, so using them for
the period being predicted is not leakage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.data.calendar import holiday_table
from riskmodel.data.calendar_choice import (
    DEFAULT_CALENDAR,
    NO_CALENDAR,
    check_calendar,
    resolve_calendar,
)
from riskmodel.data.frequency import Frequency

CALENDAR_COLUMNS = (
    "days",
    "workdays",
    "holidays",
    "makeup_workdays",
    "spring_festival",
    "calendar_known",
)


def _country_daily(start: pd.Timestamp, end: pd.Timestamp, country: str) -> pd.DataFrame:
    """:func:`daily_calendar`'s columns from the ``holidays`` package's public holidays of ``country``.

    A holiday is a public holiday of the package's default categories (on any
    weekday); there are no make-up workdays or Spring Festival; the package
    computes every year, so ``known`` is 1.
    """
    import holidays  # here, not at the top: a development dependency, and slow to import

    days = pd.date_range(start, end, freq="D")
    hol = holidays.country_holidays(country, years=range(days[0].year, days[-1].year + 1))
    is_hol = np.array([d in hol for d in days.date], dtype=bool)
    weekday = days.day_of_week.to_numpy() < 5
    rows = np.column_stack([weekday & ~is_hol, is_hol, np.zeros(len(days), bool), np.zeros(len(days), bool),
                            np.ones(len(days), bool)]).astype(np.int8)
    return pd.DataFrame(rows, index=pd.DatetimeIndex(days, name="day"),
                        columns=["workday", "holiday", "makeup_workday", "spring_festival", "known"])


def daily_calendar(start: pd.Timestamp, end: pd.Timestamp, country: str = DEFAULT_CALENDAR) -> pd.DataFrame:
    """One row per day from ``start`` to ``end``: workday, holiday, make-up workday flags.

    ``country``: ``CN`` (the Chinese calendar), ``none`` (weekdays are
    workdays, no holiday) or a code of the ``holidays`` package (:func:`check_calendar`).

    Returns
    -------
    DataFrame
        Index: day (datetime64). Columns (0/1 integers): ``workday``,
        ``holiday`` (statutory day off), ``makeup_workday`` (weekend day
        worked), ``spring_festival`` (day off of the Spring Festival holiday),
        ``known`` (1 when the calendar covers that year).
    """
    country = check_calendar(country)
    if country == NO_CALENDAR:
        days = pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq="D")
        z = np.zeros(len(days), np.int8)
        return pd.DataFrame({"workday": (days.day_of_week < 5).astype(np.int8), "holiday": z, "makeup_workday": z,
                             "spring_festival": z, "known": np.ones(len(days), np.int8)},
                            index=pd.DatetimeIndex(days, name="day"))
    if country != DEFAULT_CALENDAR:
        return _country_daily(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), country)
    t = holiday_table(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), strict=False)
    spring = t["is_holiday"] & (t["holiday_name"] == "Spring Festival")
    cols = [t["is_workday"], t["is_holiday"], t["is_makeup_workday"], spring, t["calendar_known"]]
    rows = np.column_stack([c.to_numpy(dtype=bool) for c in cols]).astype(np.int8)
    return pd.DataFrame(
        rows,
        index=pd.DatetimeIndex(t["date"], name="day"),
        columns=["workday", "holiday", "makeup_workday", "spring_festival", "known"],
    )


def period_calendar(periods: pd.DatetimeIndex, freq: str, country: str = DEFAULT_CALENDAR) -> pd.DataFrame:
    """Calendar counts per period (day, ISO week starting Monday, or month).

    Parameters
    ----------
    periods : DatetimeIndex
        Period start dates (may extend into the future: the calendar is known).
    freq : {'D', 'W', 'M'}
    country : str
        ``CN``, ``none`` or a ``holidays`` country code (:func:`check_calendar`).

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
    off = Frequency.of(freq).offset
    end = periods.max() + off - pd.Timedelta(days=1)
    daily = daily_calendar(periods.min(), end, country)
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


__all__ = ["CALENDAR_COLUMNS", "DEFAULT_CALENDAR", "NO_CALENDAR", "check_calendar", "daily_calendar",
           "period_calendar", "resolve_calendar"]
