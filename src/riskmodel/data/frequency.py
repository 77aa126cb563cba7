"""The frequency of a count series: one value object, one inference rule.

A :class:`Frequency` is one of

==========  =========  ==============  ===========  ======  ========
code        name       period start    pandas       cycle   per year
==========  =========  ==============  ===========  ======  ========
``D``       daily      the day         ``D``        7       365.25
``W``       weekly     Monday (ISO)    ``W-MON``    52      365.25/7
``M``       monthly    the 1st         ``MS``       12      12
``Y``       annual     1 January       ``YS``       1       1
==========  =========  ==============  ===========  ======  ========

* ``cycle``: the main seasonal cycle in periods -- the week for daily data,
  the year for weekly and monthly data (seasonal naive, seasonal lags);
* ``periods_per_year``: mean calendar periods in a year (Fourier terms,
  harmonic regressions, yearly rates);
* ``year_lag``: whole periods back to the same period a year earlier, as R's
  ``surveillance`` counts them (365, 52, 12: Farrington's reference
  windows).

Inference (:meth:`Frequency.infer`), the one rule every loader uses. From
the distinct period dates, in this order:

1. **Y** when every date is 1 January;
2. else **M** when every date is the 1st of a month (unless they are all
   the 1st of one same month, a year apart: annual data dated, say, 1 July,
   which are refused with the remedy rather than read as months with eleven
   zero months a year);
3. else **W** when every date is a Monday (ISO weeks);
4. else **D** when the distinct dates are typically one day apart (median
   gap between consecutive distinct dates: 1 day; a single date counts) AND
   no coarser rule fits a majority of the dates;
5. otherwise the data are refused (:class:`~riskmodel.errors.InputError`),
   naming the rows that break the nearest rule: "all dates but 2 are Mondays
   (weekly); lines 471, 472 ... are not", or "dates are 7 days apart but fall
   on Sundays: weekly periods start on Monday", with the remedy (fix the
   rows, give the frequency explicitly, or ``align`` -- ``--align-dates`` --
   to count each row in the period that contains its date).

Nothing is guessed: a file of monthly counts with one mid-month date is not
"daily", and a weekly file dated on Sundays is not "daily" either. A file of
dates that are all the 1st of a month is monthly even if its source meant
days; give the frequency explicitly to say otherwise (an explicit frequency
finer than the data's own is refused by the loader: it would add zeros).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem


@dataclass(frozen=True)
class Frequency:
    """A count frequency (see the module notes); compare with ``==`` or by ``code``."""

    code: str
    name: str
    unit: str
    alias: str
    cycle: int
    periods_per_year: float
    year_lag: int
    order: int

    # ------------------------------------------------------------ building
    @classmethod
    def of(cls, freq: str | Frequency, *, option: str = "--freq") -> Frequency:
        """The frequency named ``freq`` (``D``, ``W``, ``M``, ``Y``; any case); InputError otherwise."""
        if isinstance(freq, Frequency):
            return freq
        f = FREQUENCIES.get(str(freq).upper().strip())
        if f is None:
            raise InputError(Problem(f"unknown frequency {freq!r} for {option}; valid: {', '.join(FREQUENCIES)}"))
        return f

    @classmethod
    def infer(cls, periods: pd.Series | pd.DatetimeIndex, *, source: str | None = None,
              option: str = "--freq", first_line: int = 2) -> Frequency:
        """The frequency the period dates show (the rule of the module notes), or an InputError.

        Parameters
        ----------
        periods : Series or DatetimeIndex of dates
            One per row; a Series' index is taken as the 0-based row position
            in the file (messages name line ``index + first_line``). NaT
            values are ignored (the validator names them).
        source : str, optional
            The file, for messages.
        option : str
            The option that gives the frequency explicitly, for messages.

        Raises
        ------
        InputError
            When no rule fits: naming the rows that break the nearest rule.
        """
        s = pd.Series(periods)
        s = pd.to_datetime(s[s.notna()])
        if s.empty:
            return DAILY
        p = pd.DatetimeIndex(s.unique()).sort_values()
        jan1 = (p.month == 1) & (p.day == 1)
        first = p.day == 1
        monday = p.day_of_week == 0
        if jan1.all():
            return YEARLY
        gaps = np.diff(p.values).astype("timedelta64[D]").astype(np.int64) if len(p) > 1 else np.array([1])
        median_gap = float(np.median(gaps))
        if first.all() and not (len(p) > 2 and median_gap >= 365 and len(set(p.month)) == 1):
            return MONTHLY
        if monday.all():
            return WEEKLY
        shares = {"Y": jan1.mean(), "M": first.mean(), "W": monday.mean()}
        if median_gap == 1 and max(shares.values()) <= 0.5:
            return DAILY
        raise InputError(_refusal(s, p, median_gap, shares, source=source, option=option, first_line=first_line))

    # ------------------------------------------------------------ dates
    @property
    def offset(self) -> pd.DateOffset:
        return pd.tseries.frequencies.to_offset(self.alias)

    def start(self, dates: pd.Series | pd.DatetimeIndex) -> pd.Series:
        """The start date of the period of each date (the day, its Monday, the 1st)."""
        d = pd.to_datetime(pd.Series(dates)).dt.normalize()
        if self.code == "W":
            return d - pd.to_timedelta(d.dt.day_of_week, unit="D")
        if self.code == "M":
            return d - pd.to_timedelta(d.dt.day - 1, unit="D")
        if self.code == "Y":
            return d - pd.to_timedelta(d.dt.day_of_year - 1, unit="D")
        return d

    def range(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
        """Every period start from ``start`` to ``end``, inclusive."""
        return pd.date_range(start, end, freq=self.alias)

    def following(self, last: pd.Timestamp, h: int) -> pd.DatetimeIndex:
        """The ``h`` period starts after ``last``."""
        first = pd.Timestamp(last) + self.offset
        return self.range(first, first + (h - 1) * self.offset)

    def misaligned(self, periods: pd.Series) -> pd.Series:
        """True where a date is not the start of a period."""
        if self.code == "M":
            return periods.dt.day != 1
        if self.code == "W":
            return periods.dt.day_of_week != 0
        if self.code == "Y":
            return periods.dt.day_of_year != 1
        return pd.Series(False, index=periods.index)

    def last_day(self, start: pd.Timestamp) -> pd.Timestamp:
        """The last day of the period starting ``start``."""
        if self.code == "M":
            return start + pd.offsets.MonthEnd(0)
        if self.code == "W":
            return start + pd.Timedelta(days=6)
        if self.code == "Y":
            return start + pd.offsets.YearEnd(0)
        return start

    # ------------------------------------------------------------ comparing
    def finer_than(self, other: str | Frequency) -> bool:
        return self.order < Frequency.of(other).order

    def nests_in(self, other: str | Frequency) -> bool:
        """Whether periods of this frequency sum exactly to periods of ``other`` (D -> W, D -> M, D/M -> Y)."""
        o = Frequency.of(other)
        return o == self or (self.code == "D" and o.code in ("W", "M", "Y")) or (self.code == "M" and o.code == "Y")

    def __str__(self) -> str:
        return self.code


DAILY = Frequency("D", "daily", "day", "D", 7, 365.25, 365, 0)
WEEKLY = Frequency("W", "weekly", "week", "W-MON", 52, 365.25 / 7, 52, 1)
MONTHLY = Frequency("M", "monthly", "month", "MS", 12, 12.0, 12, 2)
YEARLY = Frequency("Y", "annual", "year", "YS", 1, 1.0, 1, 3)
FREQUENCIES: dict[str, Frequency] = {f.code: f for f in (DAILY, WEEKLY, MONTHLY, YEARLY)}
"""The frequencies by code, finest first."""

_RULE = {"Y": ("1 January", "annual"), "M": ("the 1st of a month", "monthly"), "W": ("Mondays", "weekly")}
_ALIGN = ("or give {option} {code} with --align-dates to count each row in the {period} that contains its date")
_PERIOD = {"Y": "calendar year", "M": "calendar month", "W": "ISO week (Monday to Sunday)"}


def _lines(s: pd.Series, bad: pd.DatetimeIndex, first_line: int) -> tuple[list[int], list[str]]:
    hit = s[s.isin(bad)]
    return [int(i) for i in hit.index], [d.strftime("%Y-%m-%d") for d in hit]


def _refusal(s: pd.Series, p: pd.DatetimeIndex, median_gap: float, shares: dict[str, float], *,
             source: str | None, option: str, first_line: int) -> Problem:
    """Why no rule fits the dates ``p`` (distinct, sorted; rows ``s``), naming rows and a remedy."""
    # a regular series on the wrong day: one weekday / day of month / date of year throughout
    if median_gap == 7 and len(set(p.day_of_week)) == 1:
        day = p[0].day_name()
        return Problem(
            f"dates are 7 days apart but fall on {day}s: weekly periods start on Monday (ISO weeks). "
            f"If each date ends its week, give {option} W with --align-dates to count each row in the ISO week "
            f"(Monday to Sunday) that contains it; if each date starts a week that runs to the next {day}, "
            "shift the dates to the following Monday in the file", source=source, column="period")
    if 28 <= median_gap <= 31 and (len(set(p.day)) == 1 or p.is_month_end.all()):
        on = "the last day of the month" if p.is_month_end.all() and len(set(p.day)) > 1 else f"day {p[0].day}"
        return Problem(
            f"dates are a month apart but fall on {on}: monthly periods start on the 1st. "
            f"Give {option} M with --align-dates to count each row in the calendar month that contains it, "
            "or change the dates to the 1st", source=source, column="period")
    if 365 <= median_gap <= 366 and len(set(zip(p.month, p.day, strict=True))) == 1:
        return Problem(
            f"dates are a year apart but fall on {p[0].strftime('%d %B')}: annual periods are calendar years "
            f"starting 1 January. Give {option} Y with --align-dates to count each row in the calendar year that "
            "contains it, or change the dates to 1 January", source=source, column="period")
    code = max(shares, key=lambda k: shares[k])
    if shares[code] > 0.5:
        what, name = _RULE[code]
        fits = {"Y": (p.month == 1) & (p.day == 1), "M": p.day == 1, "W": p.day_of_week == 0}[code]
        bad = p[~fits]
        rows, vals = _lines(s, bad, first_line)
        n = len(bad)
        return Problem.at_rows(
            f"cannot tell the frequency: all dates but {n} are {what} ({name}); "
            f"{'these rows are' if len(rows) > 1 else 'this row is'} not: fix or remove "
            f"{'them' if len(rows) > 1 else 'it'}, " + _ALIGN.format(option=option, code=code, period=_PERIOD[code])
            ,
            source=source, column="period", index=rows, values=vals, first_line=first_line)
    return Problem(
        f"cannot tell the frequency: of {len(p)} distinct dates {shares['M']:.0%} are the 1st of a month and "
        f"{shares['W']:.0%} are Mondays, and consecutive dates are typically {median_gap:g} days apart "
        f"(daily data are 1 day apart); give {option} D, W, M or Y", source=source, column="period")


__all__ = ["DAILY", "FREQUENCIES", "MONTHLY", "WEEKLY", "YEARLY", "Frequency"]
