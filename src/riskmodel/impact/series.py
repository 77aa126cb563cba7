"""The series an evaluation needs: the treated area and its comparison areas.

From an :class:`~riskmodel.data.IncidentPanel` (any frequency) this builds,
at the analysis frequency (monthly by default), the treated area's counts,
its exposure (residents x days, when a population table is known), and the
same-category counts of the comparison areas: every other area at the same
level of the hierarchy (for a street, the other streets). An area above the
level of the counts (a district, the city) is the sum of the areas under it.

The comparison series can instead be chosen (:class:`ControlSpec`, the
``--controls`` option and the claims table's ``controls`` column): areas
(their counts of the treated category) and/or categories (the treated area's
counts of a category the programme did not touch). The synthetic control's
donor pool can be chosen apart (``--donors``: areas, the treated category).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskmodel.data.frequency import Frequency
from riskmodel.data.panel import IncidentPanel
from riskmodel.errors import InputError, Problem


@dataclass(frozen=True)
class ControlSpec:
    """Chosen comparison series (``--controls``); empty: the areas at the treated area's level.

    Attributes
    ----------
    areas : tuple of str
        Comparison areas: each one's counts of the treated category.
    categories : tuple of str
        Comparison categories: the treated area's counts of each.
    """

    areas: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.areas and not self.categories

    @classmethod
    def parse(cls, text: str | None, option: str = "--controls") -> ControlSpec:
        """Read ``area=A03,A07``, ``category=disputes`` or both (``area=A03;category=disputes``).

        Terms are separated by ``;`` (or given as repeated options and joined
        with ``;``); each is ``area=`` or ``category=`` followed by
        comma-separated names. The comparison series are the union: each
        named area's counts of the treated category, and the treated area's
        counts of each named category.

        Raises
        ------
        InputError
            A term that is not ``area=...`` or ``category=...``, or an empty list.
        """
        areas: list[str] = []
        cats: list[str] = []
        for term in [t.strip() for t in re.split(r";", text or "") if t.strip()]:
            key, sep, val = term.partition("=")
            names = [v.strip() for v in val.split(",") if v.strip()]
            key = key.strip().lower()
            if not sep or key not in ("area", "areas", "category", "categories") or not names:
                raise InputError(Problem(
                    f"cannot read {option} {term!r}; give area=ID[,ID...] and/or category=NAME[,NAME...] "
                    "separated by ';' (e.g. 'category=disputes' or 'area=A03,A07')"))
            (areas if key.startswith("area") else cats).extend(n for n in names if n not in areas + cats)
        return cls(tuple(areas), tuple(cats))

    def describe(self, area_id: str, category: str) -> str:
        """In words: ``disputes in Z1``, ``areas A03, A07 (fraud)``, or both joined by ``and``."""
        parts = []
        if self.categories:
            parts.append(f"{', '.join(self.categories)} in {area_id}")
        if self.areas:
            parts.append(f"{'area' if len(self.areas) == 1 else 'areas'} {', '.join(self.areas)} ({category})")
        return " and ".join(parts)

    def describe_zh(self, area_id: str, category: str) -> str:
        """The same in Chinese."""
        parts = []
        if self.categories:
            parts.append(f"{area_id}的{'、'.join(self.categories)}")
        if self.areas:
            parts.append(f"{'、'.join(self.areas)}的{category}")
        return "和".join(parts)


def parse_areas(text: str | None, option: str = "--donors") -> tuple[str, ...]:
    """Comma-separated area ids (``A03,A07``), blanks dropped, order kept."""
    out: list[str] = []
    for a in (text or "").split(","):
        if a.strip() and a.strip() not in out:
            out.append(a.strip())
    return tuple(out)


@dataclass
class StudySeries:
    """Counts of the treated area and its comparison areas at one frequency.

    Attributes
    ----------
    area_id, category : str
    freq : {'D', 'W', 'M', 'Y'}
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
    has_population : bool
        Whether exposures are residents x days.
    chosen : ControlSpec
        The chosen comparison series (empty: the areas at the treated area's
        level); chosen category series are columns ``AREA/CATEGORY``.
    donors, donor_exposure : DataFrame, optional
        The synthetic control's chosen donor areas (None: the comparison series).
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
    chosen: ControlSpec = field(default_factory=ControlSpec)
    donors: pd.DataFrame | None = None
    donor_exposure: pd.DataFrame | None = None

    @property
    def comparison_en(self) -> str:
        """What the comparison series are, in words ("" for the default: areas at the same level)."""
        return self.chosen.describe(self.area_id, self.category)

    @property
    def comparison_zh(self) -> str:
        return self.chosen.describe_zh(self.area_id, self.category)

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
    step = {"M": pd.offsets.MonthBegin(1), "Y": pd.offsets.YearBegin(1)}.get(freq, pd.Timedelta(days=7))
    ends = periods + step
    s = np.maximum(periods.values, np.datetime64(first))
    e = np.minimum(ends.values, np.datetime64(last + pd.Timedelta(days=1)))
    return ((e - s) / np.timedelta64(1, "D")).astype(float)


def study_series(
    panel: IncidentPanel, area_id: str, category: str, freq: str = "M", *, controls: bool = True,
    chosen: ControlSpec | None = None, donors: tuple[str, ...] = (),
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
    freq : {'D', 'W', 'M', 'Y'}
        Analysis frequency (not finer than the panel's).
    controls : bool
        Build the comparison series.
    chosen : ControlSpec, optional
        Chosen comparison series (default: the areas at the treated area's level).
    donors : tuple of str
        The synthetic control's donor areas (their counts of ``category``);
        empty: the comparison series.

    Raises
    ------
    InputError
        Unknown area or category (listing valid ones), among them in
        ``chosen`` or ``donors``; the treated series among its own controls.
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
    chosen = chosen or ControlSpec()
    for a in (*chosen.areas, *donors):
        if a not in known:
            opt = "--controls" if a in chosen.areas else "--donors"
            problems.append(Problem(f"unknown area {a!r} (option {opt}); areas with data: "
                                    + ", ".join(sorted(have)[:8]) + (" ..." if len(have) > 8 else "")))
        elif a == area_id:
            opt = "--controls" if a in chosen.areas else "--donors"
            problems.append(Problem(f"area {a!r} (option {opt}) is the treated area; it cannot be its own comparison"))
    for c in chosen.categories:
        if c not in panel.categories:
            problems.append(Problem(f"unknown category {c!r} (option --controls); valid: {', '.join(panel.categories)}"))
        elif c == category:
            problems.append(Problem(f"category {c!r} (option --controls) is the treated category; "
                                    "it cannot be its own comparison"))
    if problems:
        raise InputError(problems)
    parts = _constituents(panel, area_id, have)
    if not parts:
        raise InputError(Problem(f"area {area_id!r} has no counts (nor any area under it)"))
    p = panel
    if panel.frequency.finer_than(freq):
        p = panel.resample(freq)
    elif Frequency.of(freq).finer_than(panel.freq):
        have_f, want_f = panel.frequency, Frequency.of(freq)
        raise InputError(Problem(
            f"cannot analyse {have_f.name} data at the finer frequency {freq} ({want_f.name}): it would add "
            f"zero {want_f.unit}s between the data's dates; give --freq {panel.freq}"))
    periods = p.periods

    def wide(cat: str) -> pd.DataFrame:
        c = p.counts[p.counts["category"] == cat]
        return c.pivot_table(index="period", columns="area_id", values="count", aggfunc="sum").reindex(periods).fillna(0)

    w = wide(category)
    raw_p = panel.counts["period"]
    last_day = panel.frequency.last_day(raw_p.max())
    days = pd.Series(_period_days(periods, freq, raw_p.min(), last_day), index=periods)

    def series_of(area: str, ww: pd.DataFrame = w) -> pd.Series:
        cols = [a for a in _constituents(panel, area, have) if a in ww.columns]
        return ww[cols].sum(axis=1).astype("int64") if cols else pd.Series(0, index=periods, dtype="int64")

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
    if controls and not chosen.empty:
        cols = {a: series_of(a) for a in chosen.areas}
        cols |= {f"{area_id}/{c}": series_of(area_id, wide(c)) for c in chosen.categories}
        ctrl = pd.DataFrame(cols, index=periods)
        ctrl_e = pd.DataFrame({a: exposure_of(a) for a in chosen.areas}
                              | {f"{area_id}/{c}": exposure_of(area_id) for c in chosen.categories}, index=periods)
    elif controls:
        level = panel.hierarchy.level.get(area_id)
        if level is not None:
            peers = [a for a in panel.hierarchy.areas_at(level) if a != area_id]
        else:
            peers = sorted(have - {area_id})
        peers = [a for a in peers if _constituents(panel, a, have)]
        if peers:
            ctrl = pd.DataFrame({a: series_of(a) for a in peers}, index=periods)
            ctrl_e = pd.DataFrame({a: exposure_of(a) for a in peers}, index=periods)
    don = don_e = None
    if donors:
        don = pd.DataFrame({a: series_of(a) for a in donors}, index=periods)
        don_e = pd.DataFrame({a: exposure_of(a) for a in donors}, index=periods)
    return StudySeries(
        area_id=area_id, category=category, freq=freq, counts=y, exposure=exposure_of(area_id),
        controls=ctrl, control_exposure=ctrl_e, days=days, has_population=has_pop, chosen=chosen,
        donors=don, donor_exposure=don_e,
    )
