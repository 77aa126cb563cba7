"""Chinese calendar features per period: statutory holidays and make-up workdays.

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
from riskmodel.data.frequency import Frequency

CALENDAR_COLUMNS = (
    "days",
    "workdays",
    "holidays",
    "makeup_workdays",
    "spring_festival",
    "calendar_known",
)


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
    t = holiday_table(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), strict=False)
    spring = t["is_holiday"] & (t["holiday_name"] == "Spring Festival")
    cols = [t["is_workday"], t["is_holiday"], t["is_makeup_workday"], spring, t["calendar_known"]]
    rows = np.column_stack([c.to_numpy(dtype=bool) for c in cols]).astype(np.int8)
    return pd.DataFrame(
        rows,
        index=pd.DatetimeIndex(t["date"], name="day"),
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
    off = Frequency.of(freq).offset
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
