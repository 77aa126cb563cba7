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

Inference (:meth:`Frequency.infer`), the one rule every loader uses: from
the distinct period dates, **M** when every date is the 1st of a month,
else **W** when every date is a Monday, else **D**. A file of dates that
are all the 1st of a month is monthly even if its source meant days; give
the frequency explicitly to say otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    def infer(cls, periods: pd.Series | pd.DatetimeIndex) -> Frequency:
        """The frequency the period dates show (the rule of the module notes)."""
        p = pd.DatetimeIndex(pd.Series(periods).dropna().unique())
        if len(p) and (p.day == 1).all():
            return MONTHLY
        if len(p) and (p.day_of_week == 0).all():
            return WEEKLY
        return DAILY

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

__all__ = ["DAILY", "FREQUENCIES", "MONTHLY", "WEEKLY", "YEARLY", "Frequency"]
