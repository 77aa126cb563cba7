"""The Chinese public-holiday calendar: holidays, make-up workdays, Spring Festival.

Source: the ``chinesecalendar`` package (module ``chinese_calendar``), which
transcribes the State Council's annual holiday notices, including the
make-up workdays (调休: weekend days that are working days, to bridge a
holiday) and one-off days (the 2015 Anti-Fascist victory day, the 2020
Spring Festival extension). It covers 2004 to the last year announced (2026
in version 1.11); any other year is refused with a clear error rather than
guessed, because holiday dates move every year.

Years the package does not know (2027 with version 1.11)
--------------------------------------------------------
* :func:`holiday_table` (default ``strict=True``) and :func:`period_calendar`
  refuse them, naming the years and how to supply them: a calendar file.
* A **calendar file** adds or overrides days: a CSV named by the environment
  variable ``RISKMODEL_HOLIDAY_FILE`` with columns ``date`` (YYYY-MM-DD),
  ``kind`` (``holiday``: a statutory day off; ``workday``: a weekend day
  worked, 调休) and optionally ``name`` (``Spring Festival``, ...; English
  names as above). Every year with at least one row in the file counts as
  covered, so list a year's whole notice.
* ``strict=False`` (the forecast features, which must describe future
  periods) treats days of unknown years as ordinary days (Monday to Friday
  working, no holiday) and flags them ``calendar_known = False``;
  :func:`unknown_years` names those years so that callers say so.

Definitions used by :func:`holiday_table`:

* ``is_holiday``: a day off in a statutory holiday period (weekend days inside
  the period included);
* ``is_makeup_workday``: a Saturday or Sunday that is a working day;
* ``is_workday``: Monday-Friday not a holiday, or a make-up workday;
* ``day_before_holiday`` / ``day_after_holiday``: the working day (or
  ordinary weekend day) immediately before the first / after the last day of
  a holiday period;
* ``spring_festival_period``: from 7 days before the first day of the Spring
  Festival holiday to 7 days after its last day, when migrant workers travel
  and a city's resident population and activity change (春运 peak);
* ``days_to_holiday`` / ``days_since_holiday``: days to the next holiday day
  and since the last one (capped at 60).
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache

import numpy as np
import pandas as pd

from riskmodel.data.frequency import Frequency
from riskmodel.data.readers import read_table
from riskmodel.errors import InputError, Problem

HOLIDAY_FILE_ENV = "RISKMODEL_HOLIDAY_FILE"
"""Environment variable naming a calendar file that adds years (see the module notes)."""

_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


@lru_cache(maxsize=4)
def _calendar_file(path: str) -> tuple[dict[pd.Timestamp, str], frozenset[pd.Timestamp], frozenset[int]]:
    """Holidays (date -> name), make-up workdays and covered years of a calendar file."""
    raw, src = read_table(path, what=f"calendar file ({HOLIDAY_FILE_ENV})")
    missing = [c for c in ("date", "kind") if c not in raw.columns]
    if missing:
        raise InputError(Problem(f"missing column(s) {', '.join(missing)}; a calendar file needs date, kind "
                                 "(holiday or workday) and optionally name", source=src.name))
    dates = pd.to_datetime(raw["date"].astype("string").str.strip(), format="%Y-%m-%d", errors="coerce")
    kind = raw["kind"].astype("string").str.strip().str.lower()
    problems = []
    bad = dates.isna()
    if bad.any():
        problems.append(Problem.at_rows("date is not YYYY-MM-DD", source=src.name, column="date",
                                        index=raw.index[bad], values=raw.loc[bad, "date"].tolist()))
    badk = ~kind.isin(["holiday", "workday"])
    if badk.any():
        problems.append(Problem.at_rows("kind is not 'holiday' or 'workday'", source=src.name, column="kind",
                                        index=raw.index[badk], values=raw.loc[badk, "kind"].tolist()))
    if problems:
        raise InputError(problems)
    names = raw["name"].fillna("").astype(str).str.strip() if "name" in raw.columns else pd.Series("", index=raw.index)
    hol = {d: (n or "Holiday") for d, k, n in zip(dates, kind, names, strict=True) if k == "holiday"}
    mk = frozenset(d for d, k in zip(dates, kind, strict=True) if k == "workday")
    return hol, mk, frozenset(int(y) for y in dates.dt.year.unique())


def _extra() -> tuple[dict[pd.Timestamp, str], frozenset[pd.Timestamp], frozenset[int]]:
    path = os.environ.get(HOLIDAY_FILE_ENV, "").strip()
    return _calendar_file(path) if path else ({}, frozenset(), frozenset())


@lru_cache(maxsize=1)
def _package_years() -> frozenset[int]:
    from chinese_calendar import constants

    return frozenset(d.year for d in constants.holidays) | frozenset(d.year for d in constants.workdays)


def known_years() -> frozenset[int]:
    """Every year the calendar covers: the package's and those of the calendar file."""
    return _package_years() | _extra()[2]


def covered_years() -> tuple[int, int]:
    """First and last year of the calendar's unbroken coverage (the package's years, extended by a calendar file)."""
    years = known_years()
    pkg = _package_years()
    lo, hi = min(pkg), max(pkg)
    while lo - 1 in years:
        lo -= 1
    while hi + 1 in years:
        hi += 1
    return lo, hi


def unknown_years(start: dt.date | pd.Timestamp, end: dt.date | pd.Timestamp) -> list[int]:
    """The years from ``start`` to ``end`` that the calendar does not cover."""
    years = known_years()
    return [y for y in range(pd.Timestamp(start).year, pd.Timestamp(end).year + 1) if y not in years]


def check_years(start: dt.date | pd.Timestamp, end: dt.date | pd.Timestamp, what: str = "dates") -> None:
    """InputError naming the years from ``start`` to ``end`` that the calendar does not cover."""
    missing = unknown_years(start, end)
    if missing:
        lo, hi = covered_years()
        y0, y1 = pd.Timestamp(start).year, pd.Timestamp(end).year
        yrs = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise InputError(
            Problem(
                f"the Chinese holiday calendar covers {lo}-{hi}; {what} run {y0}-{y1}, and {yrs} "
                f"{'is' if len(missing) == 1 else 'are'} not covered. "
                "Holiday dates are set each year by the State Council and are not guessed: "
                "restrict the data to covered years, upgrade the chinesecalendar package, or give the "
                f"year's notice in a calendar file named by {HOLIDAY_FILE_ENV} (CSV: date, kind = holiday or "
                "workday, name)"
            )
        )


def holiday_table(
    start: str | dt.date | pd.Timestamp, end: str | dt.date | pd.Timestamp, *, strict: bool = True
) -> pd.DataFrame:
    """One row per day from ``start`` to ``end`` (inclusive) with holiday features.

    With ``strict=False`` (for forecasts that reach past the announced years)
    days outside the covered years are treated as ordinary days (Monday to
    Friday working days, no holiday) and flagged ``calendar_known = False``;
    covered days have ``calendar_known = True``.

    Returns
    -------
    DataFrame
        ``date`` (datetime64), ``is_holiday``, ``is_makeup_workday``,
        ``is_workday``, ``holiday_name`` (English, "" if none),
        ``holiday_name_zh``, ``day_before_holiday``, ``day_after_holiday``,
        ``spring_festival_period`` (bool columns), ``days_to_holiday``,
        ``days_since_holiday`` (int, capped at 60).

    Raises
    ------
    InputError
        A year outside the calendar's coverage (``strict=True``): naming the
        years and how to add them (a calendar file, see the module notes).
    """
    from chinese_calendar import constants

    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    lo, hi = covered_years()
    if not strict:
        days = pd.date_range(start, end, freq="D")
        known = (days.year >= lo) & (days.year <= hi)
        out = pd.DataFrame({"date": days})
        if known.any():
            k = holiday_table(days[known].min(), days[known].max())
            out = out.merge(k, on="date", how="left")
        ordinary = {
            "is_holiday": False, "is_makeup_workday": False, "holiday_name": "", "holiday_name_zh": "",
            "day_before_holiday": False, "day_after_holiday": False, "spring_festival_period": False,
            "days_to_holiday": 60, "days_since_holiday": 60,
        }
        for col, val in ordinary.items():
            out[col] = out[col].where(known, val) if col in out.columns else val
        out["is_workday"] = (out["is_workday"] if "is_workday" in out.columns else False)
        out["is_workday"] = out["is_workday"].where(known, days.day_of_week < 5).astype(bool)
        for col in ("is_holiday", "is_makeup_workday", "day_before_holiday", "day_after_holiday", "spring_festival_period"):
            out[col] = out[col].astype(bool)
        for col in ("days_to_holiday", "days_since_holiday"):
            out[col] = out[col].astype(int)
        out["calendar_known"] = known
        return out
    check_years(start, end)
    # work on the whole covered span around the range so that features near the
    # edges (days to the next holiday) see the neighbouring years
    pad0 = max(pd.Timestamp(f"{lo}-01-01"), start - pd.Timedelta(days=90))
    pad1 = min(pd.Timestamp(f"{hi}-12-31"), end + pd.Timedelta(days=90))
    days = pd.date_range(pad0, pad1, freq="D")
    hol = {pd.Timestamp(d): str(getattr(v, "value", (v,))[0]) if not isinstance(v, str) else v for d, v in constants.holidays.items()}
    mk = {pd.Timestamp(d) for d in constants.workdays}
    ex_hol, ex_mk, ex_years = _extra()
    if ex_years:  # a calendar file replaces the package's days of the years it lists
        hol = {d: v for d, v in hol.items() if d.year not in ex_years} | ex_hol
        mk = {d for d in mk if d.year not in ex_years} | set(ex_mk)
    is_hol = np.array([d in hol for d in days])
    is_mk = np.array([d in mk for d in days])
    weekday = days.day_of_week < 5
    names = np.array([hol.get(d, "") for d in days], dtype=object)
    is_work = (weekday & ~is_hol) | is_mk
    prev_hol = np.r_[False, is_hol[:-1]]
    next_hol = np.r_[is_hol[1:], False]
    before = ~is_hol & next_hol
    after = ~is_hol & prev_hol
    # Spring Festival period: +-7 days around each run of Spring Festival holidays
    sf = np.zeros(len(days), dtype=bool)
    sf_idx = np.flatnonzero(names == "Spring Festival")
    if len(sf_idx):
        runs = np.split(sf_idx, np.flatnonzero(np.diff(sf_idx) > 1) + 1)
        for r in runs:
            sf[max(r[0] - 7, 0) : min(r[-1] + 8, len(days))] = True
    idx = np.arange(len(days))
    hol_pos = np.flatnonzero(is_hol)
    if len(hol_pos):
        nxt = np.searchsorted(hol_pos, idx)
        to_next = np.where(nxt < len(hol_pos), hol_pos[np.minimum(nxt, len(hol_pos) - 1)] - idx, 60)
        prv = np.searchsorted(hol_pos, idx, side="right") - 1
        since = np.where(prv >= 0, idx - hol_pos[np.maximum(prv, 0)], 60)
    else:
        to_next = since = np.full(len(days), 60)
    out = pd.DataFrame(
        {
            "date": days,
            "is_holiday": is_hol,
            "is_makeup_workday": is_mk,
            "is_workday": is_work,
            "holiday_name": names,
            "holiday_name_zh": [_NAMES_ZH.get(n, n) for n in names],
            "day_before_holiday": before,
            "day_after_holiday": after,
            "spring_festival_period": sf,
            "days_to_holiday": np.minimum(to_next, 60).astype(int),
            "days_since_holiday": np.minimum(since, 60).astype(int),
        }
    )
    return out[(out["date"] >= start) & (out["date"] <= end)].reset_index(drop=True)


def period_calendar(periods: pd.DatetimeIndex, freq: str) -> pd.DataFrame:
    """Calendar counts per period: holidays, make-up workdays, workdays, SF days.

    For weekly or monthly data the day-level flags are summed over the days of
    each period (so a month has, say, 7 holiday days and 1 make-up workday).
    Returns a DataFrame indexed by period start with integer columns
    ``n_days``, ``n_holiday``, ``n_makeup_workday``, ``n_workday``,
    ``n_spring_festival``.
    """
    periods = pd.DatetimeIndex(periods)
    if len(periods) == 0:
        raise InputError(Problem("no periods given"))
    last = periods.max()
    end = Frequency.of(freq).last_day(last)
    t = holiday_table(periods.min(), end)
    t["period"] = Frequency.of(freq).start(t["date"]).to_numpy()
    g = t.groupby("period")
    out = pd.DataFrame(
        {
            "n_days": g.size(),
            "n_holiday": g["is_holiday"].sum(),
            "n_makeup_workday": g["is_makeup_workday"].sum(),
            "n_workday": g["is_workday"].sum(),
            "n_spring_festival": g["spring_festival_period"].sum(),
        }
    ).astype(int)
    return out.reindex(periods).fillna(0).astype(int)
