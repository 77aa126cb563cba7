"""The series an evaluation needs: the treated area and its comparison areas.

From an :class:`~riskmodel.data.IncidentPanel` (any frequency) this builds,
at the analysis frequency (monthly by default), the treated area's counts,
its exposure (residents x days, when a population table is known), and the
same-category counts of the comparison areas: every other area at the same
level of the hierarchy (for a street, the other streets). An area above the
level of the counts (a district, the city) is the sum of the areas under it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.data.frequency import Frequency
from riskmodel.data.panel import IncidentPanel
from riskmodel.errors import InputError, Problem


@dataclass
class StudySeries:
    """Counts of the treated area and its comparison areas at one frequency.

    Attributes
    ----------
    area_id, category : str
    freq : {'D', 'W', 'M'}
    counts : Series
        Treated area's counts per period (index: period starts), zero-filled.
    exposure : Series
        Residents x days per period (days alone when no population is known).
    controls : DataFrame
        Periods x comparison areas, counts of the same category (may have no
        columns: then comparison methods cannot run).
    control_exposure : DataFrame
        The same shape, residents x days.
    days : Series
        Days of the period that lie inside the data (partial first/last periods).
    """

    area_id: str
    category: str
    freq: str
    counts: pd.Series
    exposure: pd.Series
    controls: pd.DataFrame
    control_exposure: pd.DataFrame
    days: pd.Series
    has_population: bool

    @property
    def season(self) -> float:
        """Periods per year (:attr:`Frequency.periods_per_year`): the seasonal cycle of the harmonics."""
        return Frequency.of(self.freq).periods_per_year

    @property
    def periods(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.counts.index)

    def long(self) -> pd.DataFrame:
        """Treated and controls in long format: area_id, period, count, exposure, treated."""
        w = pd.concat([self.counts.rename(self.area_id), self.controls], axis=1)
        e = pd.concat([self.exposure.rename(self.area_id), self.control_exposure], axis=1)
        out = w.stack().rename("count").reset_index()
        out.columns = ["period", "area_id", "count"]
        ex = e.stack().rename("exposure").reset_index()
        ex.columns = ["period", "area_id", "exposure"]
        out = out.merge(ex, on=["period", "area_id"])
        out["treated"] = out["area_id"] == self.area_id
        return out


def _constituents(panel: IncidentPanel, area: str, have: set[str]) -> list[str]:
    """Areas with counts that make up ``area`` (itself, or the nearest descendants with data)."""
    if area in have:
        return [area]
    out, stack = [], list(panel.hierarchy.children.get(area, []))
    while stack:
        a = stack.pop()
        if a in have:
            out.append(a)
        else:
            stack.extend(panel.hierarchy.children.get(a, []))
    return sorted(out)


def _period_days(periods: pd.DatetimeIndex, freq: str, first: pd.Timestamp, last: pd.Timestamp) -> np.ndarray:
    """Days of each period inside [first, last] (daily data's own span)."""
    if freq == "D":
        return np.ones(len(periods))
    ends = periods + (pd.offsets.MonthBegin(1) if freq == "M" else pd.Timedelta(days=7))
    s = np.maximum(periods.values, np.datetime64(first))
    e = np.minimum(ends.values, np.datetime64(last + pd.Timedelta(days=1)))
    return ((e - s) / np.timedelta64(1, "D")).astype(float)


def study_series(
    panel: IncidentPanel, area_id: str, category: str, freq: str = "M", *, controls: bool = True
) -> StudySeries:
    """Build the treated and comparison series for one (area, category).

    Parameters
    ----------
    panel : IncidentPanel
        Counts at any frequency (resampled to ``freq`` when finer).
    area_id : str
        The treated area: an area with counts, or one above them in the
        hierarchy (then the sum of the areas under it).
    category : str
        Incident category.
    freq : {'D', 'W', 'M'}
        Analysis frequency (not finer than the panel's).
    controls : bool
        Build the comparison areas' series.

    Raises
    ------
    InputError
        Unknown area or category (listing valid ones).
    """
    have = set(panel.area_ids)
    known = set(panel.hierarchy.parent) | have
    problems = []
    if area_id not in known:
        sample = ", ".join(sorted(have)[:8]) + (" ..." if len(have) > 8 else "")
        problems.append(Problem(f"unknown area {area_id!r} (option --area); areas with data: {sample}"))
    if category not in panel.categories:
        problems.append(
            Problem(f"unknown category {category!r} (option --category); valid: {', '.join(panel.categories)}")
        )
    if problems:
        raise InputError(problems)
    parts = _constituents(panel, area_id, have)
    if not parts:
        raise InputError(Problem(f"area {area_id!r} has no counts (nor any area under it)"))
    p = panel
    if panel.frequency.finer_than(freq):
        p = panel.resample(freq)
    elif Frequency.of(freq).finer_than(panel.freq):
        raise InputError(Problem(f"cannot analyse {panel.freq} data at the finer frequency {freq}"))
    c = p.counts[p.counts["category"] == category]
    periods = p.periods
    w = c.pivot_table(index="period", columns="area_id", values="count", aggfunc="sum").reindex(periods).fillna(0)
    raw_p = panel.counts["period"]
    last_day = panel.frequency.last_day(raw_p.max())
    days = pd.Series(_period_days(periods, freq, raw_p.min(), last_day), index=periods)

    def series_of(area: str) -> pd.Series:
        cols = [a for a in _constituents(panel, area, have) if a in w.columns]
        return w[cols].sum(axis=1).astype("int64") if cols else pd.Series(0, index=periods, dtype="int64")

    has_pop = panel.population is not None

    def exposure_of(area: str) -> pd.Series:
        if not has_pop:
            return days.copy()
        pop_areas = set(panel.population["area_id"])
        members = [area] if area in pop_areas else [a for a in _constituents(panel, area, have) if a in pop_areas]
        if not members:
            return days.copy()
        per = pd.Series(periods)
        tot = np.zeros(len(periods))
        for m in members:
            tot += np.nan_to_num(panel.population_at(per, pd.Series([m] * len(per))))
        return pd.Series(np.where(tot > 0, tot, 1.0) * days.to_numpy(), index=periods)

    y = series_of(area_id)
    ctrl = pd.DataFrame(index=periods)
    ctrl_e = pd.DataFrame(index=periods)
    if controls:
        level = panel.hierarchy.level.get(area_id)
        if level is not None:
            peers = [a for a in panel.hierarchy.areas_at(level) if a != area_id]
        else:
            peers = sorted(have - {area_id})
        peers = [a for a in peers if _constituents(panel, a, have)]
        if peers:
            ctrl = pd.DataFrame({a: series_of(a) for a in peers}, index=periods)
            ctrl_e = pd.DataFrame({a: exposure_of(a) for a in peers}, index=periods)
    return StudySeries(
        area_id=area_id, category=category, freq=freq, counts=y, exposure=exposure_of(area_id),
        controls=ctrl, control_exposure=ctrl_e, days=days, has_population=has_pop,
    )
