"""Plausibility limits on counts and dates: refuse what cannot be a real incident record.

One date of 1900 in a weekly file from 2014 zero-fills 114 years of weeks;
an event dated 1677 makes ``riskmodel grid`` write 3.2 million rows; a count
of 1e18 in one period overflows the models. Such values are typos or
corrupt files, so every loader refuses them, naming the rows:

=================  ==========================  ===================================
limit              default                     override (environment variable)
=================  ==========================  ===================================
span of the dates  50 years, first to last     ``RISKMODEL_MAX_SPAN_YEARS`` (years)
latest date        today + 10 years            ``RISKMODEL_MAX_FUTURE_YEARS`` (years)
earliest date      1 January 1900              (the date parser's own limit)
count per period   1,000,000,000 (1e9)         ``RISKMODEL_MAX_COUNT``
=================  ==========================  ===================================

Set a variable to a larger number to accept data beyond the default (for
example ``RISKMODEL_MAX_SPAN_YEARS=120`` for a century of annual counts), or
to ``none`` to switch that limit off. Counts above 2**53 are always refused:
a float cannot hold them exactly. Code can pass a :class:`Limits` directly
(``load_panel(..., limits=Limits(max_span_years=120))``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd

from riskmodel.errors import InputError, Problem

EXACT_COUNT = 2**53
"""Counts above this cannot be held exactly as floats: always refused."""

_ENV = {"max_span_years": "RISKMODEL_MAX_SPAN_YEARS", "max_future_years": "RISKMODEL_MAX_FUTURE_YEARS",
        "max_count": "RISKMODEL_MAX_COUNT"}


@dataclass(frozen=True)
class Limits:
    """Plausibility limits (see the module notes); None switches a limit off."""

    max_span_years: float | None = 50.0
    max_future_years: float | None = 10.0
    max_count: float | None = 1e9

    @classmethod
    def from_env(cls) -> Limits:
        """The defaults, overridden by the ``RISKMODEL_MAX_*`` environment variables."""
        kw: dict[str, float | None] = {}
        for key, var in _ENV.items():
            raw = os.environ.get(var)
            if raw is None or not raw.strip():
                continue
            if raw.strip().lower() in ("none", "off", "inf"):
                kw[key] = None
                continue
            try:
                v = float(raw)
            except ValueError:
                raise InputError(Problem(f"environment variable {var}={raw!r} is not a number (or 'none')")) from None
            if not v > 0:
                raise InputError(Problem(f"environment variable {var}={raw!r} must be positive (or 'none')"))
            kw[key] = v
        return cls(**kw)

    def check_dates(self, dates: pd.Series, *, source: str | None, column: str = "period",
                    values: pd.Series | None = None, first_line: int = 2) -> list[Problem]:
        """Problems with the dates (index: 0-based row positions): too far in the future, too long a span."""
        d = pd.to_datetime(dates[dates.notna()])
        if d.empty:
            return []
        shown = values if values is not None else dates
        problems = []
        if self.max_future_years is not None:
            today = pd.Timestamp.today().normalize()
            latest = today + pd.DateOffset(years=int(self.max_future_years))
            late = d > latest
            if late.any():
                idx = d.index[late]
                problems.append(Problem.at_rows(
                    f"date after {latest.date()} (today + {self.max_future_years:g} years): a typo? "
                    f"Set {_ENV['max_future_years']} to accept it", source=source, column=column, index=idx,
                    values=shown.loc[idx].astype(str).tolist(), first_line=first_line))
                d = d[~late]
        if self.max_span_years is not None and len(d):
            first, last = d.min(), d.max()
            years = (last - first).days / 365.25
            if years > self.max_span_years:
                # name the rows farthest from the middle of the data: the likely typos
                mid = d.median()
                dist = (d - mid).abs()
                far = dist > pd.Timedelta(days=365.25 * self.max_span_years / 2)
                idx = d.index[far] if far.any() else d.index[(d == first) | (d == last)]
                problems.append(Problem.at_rows(
                    f"the dates span {years:.0f} years ({first.date()} to {last.date()}), more than the plausibility "
                    f"limit of {self.max_span_years:g} years (every period in between would be a row); these rows lie "
                    f"far from the median date ({mid.date()}): fix them, or set {_ENV['max_span_years']} "
                    "to accept a longer span", source=source, column=column, index=idx,
                    values=shown.loc[idx].astype(str).tolist(), first_line=first_line))
        return problems

    def check_counts(self, counts: pd.Series, *, source: str | None, column: str = "count",
                     values: pd.Series | None = None) -> list[Problem]:
        """Problems with the counts (numbers; index: 0-based row positions): above the limit."""
        c = pd.to_numeric(counts, errors="coerce")
        shown = values if values is not None else counts
        problems = []
        huge = c > EXACT_COUNT
        if huge.any():
            idx = c.index[huge]
            problems.append(Problem.at_rows(
                f"count above 2**53 ({EXACT_COUNT:,}): too large to hold exactly", source=source, column=column,
                index=idx, values=shown.loc[idx].tolist()))
        if self.max_count is not None:
            big = (c > self.max_count) & ~huge
            if big.any():
                idx = c.index[big]
                problems.append(Problem.at_rows(
                    f"count above the plausibility limit of {self.max_count:,.0f} per period: a typo? "
                    f"Set {_ENV['max_count']} to accept it", source=source, column=column, index=idx,
                    values=shown.loc[idx].tolist()))
        return problems


__all__ = ["EXACT_COUNT", "Limits"]
