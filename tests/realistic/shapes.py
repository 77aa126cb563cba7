"""Small hand-made data sets shaped like the real data riskmodel meets (issue 14).

The sample city is regular: every street, every category, every day. Real
data are not. Each builder here returns a long counts table
(``area_id, category, period, count``; periods as ISO date strings, as a
user's CSV would hold them) with the shape of a public data set the project
was tried on, and, where a test needs it, the truth it was simulated with.
Every builder is seeded, so a test's data are the same bytes every run.

* :func:`annual_panel` -- one row per state and year (US state panels:
  Proposition 99-like), a treated state from a given year;
* :func:`monthly_with_stray_date` -- monthly counts with one mid-month date;
* :func:`weekly_on_sundays` -- weekly counts dated on the week's Sunday;
* :func:`weekly_with_stray_days` -- Monday-dated weekly counts plus two stray
  Tuesday rows;
* :func:`weekly_missing_week53` -- a weekly source with 52 weeks a year: ISO
  week 53 of 2004 (Monday 2004-12-27) is absent from every series;
* :func:`sparse_monthly` -- monthly homicide-like counts per borough, mostly
  zeros (London boroughs: about 0.3 a month);
* :func:`treated_with_control` -- one area's treated category falls by a
  known fraction at a known month; another category of the same area, which
  the programme did not touch, does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

COLUMNS = ["area_id", "category", "period", "count"]


def _frame(area, category, periods, counts) -> pd.DataFrame:
    return pd.DataFrame({
        "area_id": area, "category": category,
        "period": pd.DatetimeIndex(periods).strftime("%Y-%m-%d"), "count": np.asarray(counts, dtype=np.int64),
    })[COLUMNS]


@dataclass(frozen=True)
class Truth:
    """What a simulated data set was made with."""

    treated: str
    category: str
    start: str
    effect: float
    """Multiplicative change in the treated series' mean from ``start`` (-0.3: a 30% fall)."""


def annual_panel(n_areas: int = 12, first: int = 1980, last: int = 2005, treated: str = "S01",
                 start: int = 1995, effect: float = -0.25, seed: int = 1) -> tuple[pd.DataFrame, Truth]:
    """One row per area and year, dated 1 January (``YYYY-01-01``).

    Counts are Poisson around a common log-linear trend plus an area level;
    ``treated``'s mean is multiplied by ``1 + effect`` from ``start`` on.
    """
    rng = np.random.default_rng(seed)
    years = pd.date_range(f"{first}-01-01", f"{last}-01-01", freq="YS")
    t = np.arange(len(years))
    frames = []
    for i in range(n_areas):
        area = f"S{i + 1:02d}"
        mu = np.exp(np.log(400 + 40 * i) - 0.01 * t + 0.03 * np.sin(t / 3))
        if area == treated:
            mu = mu * np.where(years.year >= start, 1 + effect, 1.0)
        frames.append(_frame(area, "all", years, rng.poisson(mu)))
    return pd.concat(frames, ignore_index=True), Truth(treated, "all", f"{start}-01-01", effect)


def _monthly(n_areas: int, months: int, level: float, seed: int, first: str = "2015-01-01") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    periods = pd.date_range(first, periods=months, freq="MS")
    season = 1 + 0.15 * np.sin(2 * np.pi * (periods.month - 1) / 12)
    return pd.concat([_frame(f"A{i + 1:02d}", "theft", periods, rng.poisson(level * (1 + 0.1 * i) * season))
                      for i in range(n_areas)], ignore_index=True)


def monthly_with_stray_date(n_areas: int = 4, months: int = 48, seed: int = 2) -> tuple[pd.DataFrame, int]:
    """Monthly counts (dated the 1st) where one row is dated the 15th; returns the table and that row's index."""
    df = _monthly(n_areas, months, 30.0, seed)
    row = 3 * months // 2 + 5
    df.loc[row, "period"] = df.loc[row, "period"][:8] + "15"
    return df, row


def _weekly(n_areas: int, weeks: int, level: float, seed: int, first: str = "2016-01-04") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    periods = pd.date_range(first, periods=weeks, freq="W-MON")
    season = 1 + 0.2 * np.sin(2 * np.pi * periods.isocalendar().week.to_numpy() / 52)
    return pd.concat([_frame(f"D{i + 1:02d}", "cases", periods, rng.poisson(level * season))
                      for i in range(n_areas)], ignore_index=True)


def weekly_on_sundays(n_areas: int = 3, weeks: int = 156, level: float = 16.0, seed: int = 3) -> pd.DataFrame:
    """Weekly counts about ``level`` a week, each dated on the Sunday that ends its ISO week."""
    df = _weekly(n_areas, weeks, level, seed)
    df["period"] = (pd.to_datetime(df["period"]) + pd.Timedelta(days=6)).dt.strftime("%Y-%m-%d")
    return df


def weekly_with_stray_days(n_areas: int = 3, weeks: int = 156, level: float = 16.0,
                           seed: int = 4) -> tuple[pd.DataFrame, list[int]]:
    """Monday-dated weekly counts plus two rows dated on a Tuesday; returns the table and those rows' indexes."""
    df = _weekly(n_areas, weeks, level, seed)
    extra = pd.DataFrame({"area_id": ["D01", "D02"], "category": "cases",
                          "period": ["2017-03-07", "2018-06-12"], "count": [2, 3]})
    out = pd.concat([df, extra], ignore_index=True)
    return out, [len(df), len(df) + 1]


def weekly_missing_week53(n_areas: int = 3, level: float = 16.0, seed: int = 5) -> pd.DataFrame:
    """Monday-dated weekly counts 2003-2006 from a source with 52 weeks a year: 2004-12-27 (ISO 2004-W53) is absent."""
    df = _weekly(n_areas, 209, level, seed, first="2003-01-06")
    return df[df["period"] != "2004-12-27"].reset_index(drop=True)


def sparse_monthly(n_areas: int = 33, months: int = 120, rate: float = 0.3,
                   seed: int = 6) -> pd.DataFrame:
    """Monthly counts per borough around ``rate`` a month (most months zero; some boroughs near-silent).

    Borough ``B01``'s rate is a tenth of the others' (a borough with a
    homicide every few years). Every month is present (zeros written as 0),
    as an official series publishes them.
    """
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2012-01-01", periods=months, freq="MS")
    frames = []
    for i in range(n_areas):
        r = rate * (0.1 if i == 0 else rng.uniform(0.5, 2.0))
        frames.append(_frame(f"B{i + 1:02d}", "homicide", periods, rng.poisson(r, size=months)))
    return pd.concat(frames, ignore_index=True)


def treated_with_control(months: int = 72, start_month: int = 48, effect: float = -0.3,
                         seed: int = 7) -> tuple[pd.DataFrame, Truth]:
    """Area ``Z1``: category ``fraud`` falls by ``effect`` from month ``start_month``; ``disputes`` is untouched.

    Both categories share the area's trend and season (the control tracks
    what the treated series would have done). No other area is in the file:
    the only comparison is the control category.
    """
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2018-01-01", periods=months, freq="MS")
    t = np.arange(months)
    base = np.exp(0.004 * t) * (1 + 0.15 * np.sin(2 * np.pi * t / 12))
    treated = 120 * base * np.where(t >= start_month, 1 + effect, 1.0)
    control = 90 * base
    df = pd.concat([_frame("Z1", "fraud", periods, rng.poisson(treated)),
                    _frame("Z1", "disputes", periods, rng.poisson(control))], ignore_index=True)
    return df, Truth("Z1", "fraud", periods[start_month].strftime("%Y-%m-%d"), effect)


__all__ = [
    "COLUMNS", "Truth", "annual_panel", "monthly_with_stray_date", "sparse_monthly", "treated_with_control",
    "weekly_missing_week53", "weekly_on_sundays", "weekly_with_stray_days",
]
