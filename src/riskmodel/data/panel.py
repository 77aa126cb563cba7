"""IncidentPanel: the one data model that flows through riskmodel.

A panel is a set of count series, one per (``area_id``, ``category``), at one
frequency (D, W = ISO weeks starting Monday, or M = calendar months), in long
format, with the areas they belong to (a hierarchy, population by year and
neighbours). Every analysis package takes a panel or its long ``counts``
DataFrame.

Missing rows and zeros
----------------------
A counts file lists the periods in which something was recorded. Whether a
period with no row means "zero incidents" or "no data" depends on the source:

* **zero** is right when the rows were made by counting a complete event log
  (police alerts, hotline tickets): a period with no event has zero events.
  :meth:`IncidentPanel.from_events` therefore always fills zeros, and
  :meth:`complete` does so on request.
* **missing** is right when a source may simply not have reported (a survey
  month skipped, a district that joined the system late). Then do not call
  :meth:`complete`; or call it with ``span="series"`` so that only the gaps
  inside each series' own observed range are filled, not the time before the
  series started.

Whatever the call, riskmodel never adds a zero to counts silently: a panel
read from counts knows the (series, period) cells absent from its file that
:meth:`complete`, :meth:`resample` or :meth:`WidePanel.from_panel
<riskmodel.data.WidePanel.from_panel>` count (or would count) as 0 --
:attr:`IncidentPanel.added_zeros`, an :class:`AddedZeros` whose ``note()``
every command prints and ``riskmodel validate`` lists by series. A panel
counted from an event log (:meth:`IncidentPanel.from_events`, ``riskmodel
grid``) has none: there a period with no event had zero events.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskmodel.data.areas import AreaHierarchy
from riskmodel.data.events import events_to_counts, map_events
from riskmodel.data.frequency import Frequency
from riskmodel.data.limits import Limits
from riskmodel.data.readers import read_table
from riskmodel.data.schemas import check_freq, validate_areas, validate_counts
from riskmodel.errors import InputError, Problem

TableLike = pd.DataFrame | str | os.PathLike[str]

_CELL = ["area_id", "category", "period"]


@dataclass(frozen=True)
class AddedZeros:
    """The (series, period) cells absent from a counts file that riskmodel counts as 0.

    Attributes
    ----------
    cells : DataFrame
        ``area_id, category, period`` of each zero added (``period`` at ``freq``).
    freq : str
        The frequency code of ``cells['period']`` (``'D'`` for days absent
        from daily counts later summed to weeks).
    source : str
        The counts file, for :meth:`note`.
    n_series : int
        Series in the panel (to tell a gap in every series from one in a few).
    """

    cells: pd.DataFrame
    freq: str = "D"
    source: str = ""
    n_series: int = 0

    @classmethod
    def none(cls, freq: str = "D", source: str = "") -> AddedZeros:
        return cls(pd.DataFrame({"area_id": pd.Series(dtype=object), "category": pd.Series(dtype=object),
                                 "period": pd.Series(dtype="datetime64[ns]")}), freq, source)

    @property
    def total(self) -> int:
        """How many zeros were added (cells)."""
        return len(self.cells)

    @property
    def by_series(self) -> pd.DataFrame:
        """``area_id, category, n_added, first, last``: one row per series with at least one zero added."""
        if not self.total:
            return pd.DataFrame({"area_id": pd.Series(dtype=object), "category": pd.Series(dtype=object),
                                 "n_added": pd.Series(dtype="int64"), "first": pd.Series(dtype="datetime64[ns]"),
                                 "last": pd.Series(dtype="datetime64[ns]")})
        g = self.cells.groupby(["area_id", "category"], sort=True)["period"]
        return g.agg(n_added="size", first="min", last="max").reset_index()

    @property
    def unit(self) -> str:
        return Frequency.of(self.freq).unit

    def week53(self) -> list[pd.Timestamp]:
        """The ISO-week-53 Mondays when exactly those weeks are absent, from every series (else [])."""
        if self.freq != "W" or not self.total or not self.n_series:
            return []
        per = pd.DatetimeIndex(self.cells["period"])
        if not (per.isocalendar().week.to_numpy() == 53).all():
            return []
        n = self.cells.groupby("period").size()
        return list(n.index) if (n == self.n_series).all() else []

    def note(self, source: str = "") -> str:
        """One line saying how many zeros were added, or ``""`` when none were.

        The line contains the words ``counted as 0``; when the zeros are
        exactly the ISO weeks 53 of every series, it says the source seems to
        have 52 weeks a year.
        """
        if not self.total:
            return ""
        src = source or self.source or "the counts"
        k = len(self.by_series)
        w53 = self.week53()
        if w53:
            dates = ", ".join(str(d.date()) for d in w53[:5]) + (" ..." if len(w53) > 5 else "")
            return (f"note: the source seems to have 52 weeks a year: ISO week 53 ({dates}) is absent from every "
                    f"series of {src} and was counted as 0 ({self.total:,} zeros in {k} series; "
                    "riskmodel validate lists them)")
        u = self.unit if self.total == 1 else f"{self.unit}s"
        return (f"note: {self.total:,} {u} absent from {src} were counted as 0 in {k} series "
                "(riskmodel validate lists them)")

    def lines(self, limit: int | None = 100) -> list[str]:
        """One line per series: area, category, how many, first and last (for ``riskmodel validate``).

        At most ``limit`` series (the most zeros first), then a line saying how many more.
        """
        out = []
        bs = self.by_series.sort_values(["n_added", "area_id", "category"], ascending=[False, True, True])
        more = 0 if limit is None else max(len(bs) - limit, 0)
        for a, c, n, f, last in bs.head(len(bs) - more).itertuples(index=False, name=None):
            out.append(f"  {a} / {c}: {n} {self.unit}{'s' if n != 1 else ''} counted as 0, "
                       f"first {f.date()}, last {last.date()}")
        if more:
            out.append(f"  ... and {more:,} more series")
        return out


def absent_cells(counts: pd.DataFrame, freq: str) -> pd.DataFrame:
    """``area_id, category, period`` of every cell of the panel's grid that ``counts`` has no row for.

    The grid is every series (area, category) in ``counts`` times every
    period from the first to the last date of ``counts`` at ``freq``: the
    cells the wide form (:meth:`WidePanel.from_panel
    <riskmodel.data.WidePanel.from_panel>`) fills.
    """
    if counts.empty:
        return AddedZeros.none(freq).cells
    series = counts[["area_id", "category"]].drop_duplicates()
    periods = Frequency.of(freq).range(counts["period"].min(), counts["period"].max())
    if len(series) * len(periods) == len(counts):
        return AddedZeros.none(freq).cells
    full = pd.MultiIndex.from_product([pd.MultiIndex.from_frame(series).to_flat_index(), periods])
    have = pd.MultiIndex.from_arrays([pd.MultiIndex.from_frame(counts[["area_id", "category"]]).to_flat_index(),
                                      counts["period"]])
    miss = full.difference(have)
    if not len(miss):
        return AddedZeros.none(freq).cells
    sid = miss.get_level_values(0)
    return pd.DataFrame({"area_id": [a for a, _ in sid], "category": [c for _, c in sid],
                         "period": miss.get_level_values(1)}).sort_values(_CELL, kind="stable").reset_index(drop=True)


def added_zeros_of(counts: pd.DataFrame, freq: str, source: str = "") -> AddedZeros:
    """The zeros that the wide form of a counts table (validated, long) adds (its :func:`absent_cells`)."""
    n = counts[["area_id", "category"]].drop_duplicates().shape[0] if len(counts) else 0
    return AddedZeros(absent_cells(counts, freq), freq, source, n)


def period_start(dates: pd.Series | pd.DatetimeIndex, freq: str) -> pd.Series:
    """Map timestamps to the start date of their period (day, ISO week, month)."""
    return Frequency.of(freq).start(dates)


def period_range(start: pd.Timestamp, end: pd.Timestamp, freq: str) -> pd.DatetimeIndex:
    """All period start dates from ``start`` to ``end`` inclusive."""
    return Frequency.of(freq).range(start, end)


def _load(table: TableLike, what: str, source: str | None = None) -> tuple[pd.DataFrame, str]:
    if isinstance(table, pd.DataFrame):
        return table, source or what
    df, src = read_table(table, what=what)
    return df, src.name


@dataclass
class IncidentPanel:
    """Count series per (area, category) at one frequency, with their areas.

    Build one with :meth:`from_counts`, :meth:`from_events` or
    :meth:`from_nixtla`; the constructor takes tables that are already valid.

    Attributes
    ----------
    counts : DataFrame
        Long format: ``area_id`` (str), ``category`` (str), ``period``
        (datetime64, period start), ``count`` (int64 >= 0); sorted.
    freq : {'D', 'W', 'M'}
    hierarchy : AreaHierarchy
        The areas (each area its own root when no areas table was given).
    population : DataFrame or None
        ``area_id``, ``year``, ``population`` (residents).
    neighbours : DataFrame or None
        ``area_id``, ``neighbour_id``: symmetric pairs.
    """

    counts: pd.DataFrame
    freq: str
    hierarchy: AreaHierarchy
    population: pd.DataFrame | None = None
    neighbours: pd.DataFrame | None = None
    meta: dict[str, object] = field(default_factory=dict)
    _derived: dict[tuple[str, str], object] = field(default_factory=dict, init=False, repr=False, compare=False)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_counts(
        cls,
        counts: TableLike,
        *,
        freq: str | None = None,
        areas: TableLike | None = None,
        population: TableLike | None = None,
        neighbours: TableLike | None = None,
        source: str | None = None,
        limits: Limits | None = None,
    ) -> IncidentPanel:
        """Validate a counts table (and optional areas tables) and build a panel.

        Parameters
        ----------
        counts : DataFrame or path
            ``area_id, category, period, count``.
        freq : {'D', 'W', 'M'}, optional
            Inferred from the periods when not given.
        areas : DataFrame or path, optional
            ``area_id`` [, ``name``, ``name_en``, ``parent_id``, ``level``,
            ``population``]. Without it each ``area_id`` is its own area.
        population : DataFrame or path, optional
            ``area_id, year, population``.
        neighbours : DataFrame or path, optional
            ``area_id, neighbour_id`` (made symmetric).
        source : str, optional
            The name of ``counts`` in messages when it is a DataFrame read
            from a file (default ``counts``).
        limits : Limits, optional
            Plausibility limits (:mod:`riskmodel.data.limits`; default from
            the environment).

        Raises
        ------
        InputError
            With every problem found in the tables.
        """
        problems: list[Problem] = []
        area_df = None
        if areas is not None:
            raw, name = _load(areas, "areas")
            area_df, pa_ = validate_areas(raw, source=name, raise_on_error=False)
            problems += pa_
        raw_counts, cname = _load(counts, "counts", source)
        known = None if area_df is None or problems else area_df["area_id"]
        c, pc = validate_counts(raw_counts, source=cname, freq=freq, area_ids=known, raise_on_error=False,
                                limits=limits)
        problems += pc
        if problems:
            raise InputError(problems)
        freq = c.attrs["freq"]
        if area_df is None:
            hier = AreaHierarchy.flat(c["area_id"].unique())
        else:
            hier = AreaHierarchy(area_df)
        pop = None
        if population is not None:
            pop = _read_population(population)
        elif area_df is not None and "population" in area_df.columns and "year" in area_df.columns:
            pop = area_df[["area_id", "year", "population"]].dropna()
        nb = _read_neighbours(neighbours, hier) if neighbours is not None else None
        return cls(counts=c, freq=freq, hierarchy=hier, population=pop, neighbours=nb,
                   meta={"source": cname, "origin": "counts"})

    @classmethod
    def from_events(
        cls,
        events: TableLike,
        *,
        freq: str,
        areas: TableLike | None = None,
        population: TableLike | None = None,
        neighbours: TableLike | None = None,
        **mapping: object,
    ) -> IncidentPanel:
        """Count event records per area, category and period.

        Parameters
        ----------
        events : DataFrame or path
            One row per incident.
        freq : {'D', 'W', 'M'}
        areas, population, neighbours : optional
            As in :meth:`from_counts`. With polygons, areas named in the
            polygons but not in the areas table are refused.
        **mapping
            How events find their area, passed to
            :func:`riskmodel.data.events.map_events`: ``area_col=``, or
            ``x_col=``, ``y_col=`` with ``polygons=`` (an
            :class:`~riskmodel.data.events.AreaPolygons`) or ``grid_size=``;
            ``time_col=`` (default ``timestamp``), ``category_col=`` or a fixed
            ``category=``.

        Returns
        -------
        IncidentPanel
            Zero-filled over the whole span (a complete event log: a period
            with no event had zero events). ``meta['unmatched']`` holds the
            events that fell in no area, with a ``reason`` column, and
            ``meta['n_unmatched']`` their number.
        """
        raw, name = _load(events, "events")
        freq = check_freq(freq)
        m = map_events(raw, source=name, **mapping)  # type: ignore[arg-type]
        counts = events_to_counts(m, freq)
        panel = cls.from_counts(counts, freq=freq, areas=areas, population=population, neighbours=neighbours,
                                source=name)
        panel.meta["origin"] = "events"  # a complete event log: its zeros are true zeros, not added ones
        panel = panel.complete()
        panel.meta.update(
            {"unmatched": m.unmatched, "n_unmatched": m.n_unmatched, "n_events": len(raw), "on_border": m.on_border}
        )
        return panel

    @classmethod
    def from_nixtla(
        cls, df: pd.DataFrame, *, freq: str | None = None, sep: str = "/", **kwargs: object
    ) -> IncidentPanel:
        """Build from Nixtla long format (``unique_id``, ``ds``, ``y``).

        ``unique_id`` is ``"{area_id}{sep}{category}"``; an id without the
        separator is taken as an area with category ``"all"``.
        """
        missing = [c for c in ("unique_id", "ds", "y") if c not in df.columns]
        if missing:
            raise InputError(Problem(f"missing Nixtla column(s) {', '.join(missing)}", source="nixtla"))
        uid = df["unique_id"].astype(str)
        parts = uid.str.split(sep, n=1, expand=True)
        if parts.shape[1] == 1:
            parts[1] = None
        counts = pd.DataFrame(
            {
                "area_id": parts[0],
                "category": parts[1].fillna("all"),
                "period": df["ds"],
                "count": df["y"],
            }
        )
        return cls.from_counts(counts, freq=freq, **kwargs)  # type: ignore[arg-type]

    # ------------------------------------------------------------- properties
    @property
    def areas(self) -> pd.DataFrame:
        """The areas table (``area_id``, ``parent_id``, ``level``, names...)."""
        return self.hierarchy.table

    @property
    def frequency(self) -> Frequency:
        """The panel's frequency as a value object (``freq`` is its code)."""
        return Frequency.of(self.freq)

    @property
    def added_zeros(self) -> AddedZeros:
        """The zeros riskmodel adds to this panel's counts (see the module notes).

        The cells :meth:`complete` filled (recorded in ``meta``) and the cells
        still absent from the panel's grid, which the wide form counts as 0;
        none for a panel counted from an event log (``meta['origin'] ==
        'events'``). After :meth:`resample` the absent cells of the finer
        data are reported in their own unit (days, say).
        """
        key = ("added_zeros", "")
        if key in self._derived:
            return self._derived[key]  # type: ignore[return-value]
        source = str(self.meta.get("source", ""))
        n = len(self.series_ids)
        if self.meta.get("origin") == "events":
            az = AddedZeros(AddedZeros.none(self.freq).cells, self.freq, source, n)
        else:
            rec = self.meta.get("zero_cells")
            unit = str(self.meta.get("zero_freq", self.freq))
            now = absent_cells(self.counts, self.freq)
            if isinstance(rec, pd.DataFrame) and len(rec):
                if unit != self.freq and len(now):
                    # a coarse cell absent now is already counted: its finer cells (days of an absent
                    # week, say) were recorded when the finer panel was summed (every absent coarse
                    # cell of a resampled panel has at least one such day)
                    cov = rec.assign(period=period_start(rec["period"], self.freq)).drop_duplicates()
                    now = now.merge(cov, on=_CELL, how="left", indicator=True)
                    now = now[now["_merge"] == "left_only"].drop(columns="_merge")
                cells = pd.concat([rec, now], ignore_index=True).drop_duplicates(_CELL)
                cells = cells.sort_values(_CELL, kind="stable").reset_index(drop=True)
            else:
                cells, unit = now, self.freq
            az = AddedZeros(cells, unit, source, n)
        self._derived[key] = az
        return az

    def notes(self, source: str = "") -> list[str]:
        """The lines a command prints to stderr after loading this panel, each starting ``note:``.

        The loader's notes (``meta['notes']``: a GBK file read as GB18030,
        headers read as riskmodel's columns, rows moved by ``--align-dates``,
        polygons merged) and, when riskmodel added zeros, their note
        (:meth:`AddedZeros.note`, naming ``source``).
        """
        zeros = self.added_zeros.note(source)
        return [*self.meta.get("notes", []), *([zeros] if zeros else [])]

    @property
    def categories(self) -> list[str]:
        return sorted(self.counts["category"].unique())

    @property
    def area_ids(self) -> list[str]:
        return sorted(self.counts["area_id"].unique())

    @property
    def series_ids(self) -> list[tuple[str, str]]:
        """(area_id, category) of every series, sorted."""
        s = self.counts[["area_id", "category"]].drop_duplicates()
        return sorted(map(tuple, s.itertuples(index=False, name=None)))

    @property
    def periods(self) -> pd.DatetimeIndex:
        """Every period from the first to the last in the panel."""
        p = self.counts["period"]
        return period_range(p.min(), p.max(), self.freq)

    def __repr__(self) -> str:
        p = self.counts["period"]
        return (
            f"IncidentPanel(freq={self.freq!r}, series={len(self.series_ids)}, "
            f"areas={len(self.area_ids)}, categories={len(self.categories)}, "
            f"periods={p.min().date()}..{p.max().date()}, rows={len(self.counts)})"
        )

    def _replace(self, counts: pd.DataFrame, freq: str | None = None) -> IncidentPanel:
        counts = counts.sort_values(["area_id", "category", "period"], kind="stable").reset_index(drop=True)
        counts["count"] = counts["count"].astype("int64")
        return IncidentPanel(
            counts=counts,
            freq=freq or self.freq,
            hierarchy=self.hierarchy,
            population=self.population,
            neighbours=self.neighbours,
            meta=dict(self.meta),
        )

    # ------------------------------------------------------------ transforms
    def complete(self, *, span: str = "panel", fill: int = 0) -> IncidentPanel:
        """Add explicit rows for periods with no record.

        Parameters
        ----------
        span : {'panel', 'series'}
            ``'panel'``: every series gets every period from the panel's first
            to its last. ``'series'``: only the gaps between a series' own first
            and last period (use it when a series that starts late had no data
            before, rather than zero incidents).
        fill : int
            The count to put in the new rows (0: see the module notes).
        """
        if span not in ("panel", "series"):
            raise InputError(Problem(f"unknown span {span!r}; valid: panel, series"))
        c = self.counts
        if span == "panel":
            idx = pd.MultiIndex.from_product(
                [self.series_ids and sorted({s for s in self.series_ids}), self.periods],
                names=["series", "period"],
            )
            sid = pd.DataFrame(idx.get_level_values(0).tolist(), columns=["area_id", "category"])
            full = sid.assign(period=idx.get_level_values(1))
        else:
            parts = []
            for (a, k), g in c.groupby(["area_id", "category"], sort=True):
                rng = period_range(g["period"].min(), g["period"].max(), self.freq)
                parts.append(pd.DataFrame({"area_id": a, "category": k, "period": rng}))
            full = pd.concat(parts, ignore_index=True)
        out = full.merge(c, on=["area_id", "category", "period"], how="left")
        filled = out.loc[out["count"].isna(), _CELL]
        out["count"] = out["count"].fillna(fill)
        res = self._replace(out)
        if self.meta.get("origin") != "events" and len(filled):
            rec = self.meta.get("zero_cells")
            if isinstance(rec, pd.DataFrame) and len(rec) and self.meta.get("zero_freq", self.freq) == self.freq:
                filled = pd.concat([rec, filled], ignore_index=True).drop_duplicates(_CELL)
            elif isinstance(rec, pd.DataFrame) and len(rec):
                filled = rec  # finer cells recorded already cover these (see added_zeros)
            res.meta["zero_cells"] = filled.reset_index(drop=True)
            res.meta.setdefault("zero_freq", self.freq)
        return res

    def resample(self, freq: str) -> IncidentPanel:
        """Sum counts to a coarser frequency (D -> W -> M, or D -> M).

        Weeks are ISO weeks starting Monday; a week that straddles two months
        belongs to both months through its days, so W -> M is refused (go
        from D). The first and last periods may be partial; ``meta`` records
        it. A panel is a value: the result is computed once and kept (a
        study's claims and steps that ask for the same frequency share it).
        """
        freq = check_freq(freq)
        key = ("resample", freq)
        if key in self._derived:
            return self._derived[key]  # type: ignore[return-value]
        if freq == self.freq:
            return self
        if not self.frequency.nests_in(freq):
            raise InputError(
                Problem(
                    f"cannot resample from {self.freq} to {freq}: only D -> W, D -> M, D -> Y, M -> Y "
                    "(weeks do not nest in months; resample daily data instead)"
                )
            )
        c = self.counts.assign(period=period_start(self.counts["period"], freq))
        out = c.groupby(["area_id", "category", "period"], as_index=False, sort=True)["count"].sum()
        res = self._replace(out, freq)
        az = self.added_zeros
        if az.total:
            # days absent from daily counts are summed into weeks as zeros: carry them, in days
            res.meta["zero_cells"], res.meta["zero_freq"] = az.cells, az.freq
        first, last = self.counts["period"].min(), self.counts["period"].max()
        res.meta["partial_first"] = bool(period_start(pd.Series([first]), freq).iloc[0] != first)
        end_of_last = out["period"].max() + Frequency.of(freq).offset
        res.meta["partial_last"] = bool(last + pd.Timedelta(days=1) != end_of_last)
        self._derived[key] = res
        return res

    def aggregate(self, level: str) -> IncidentPanel:
        """Sum the series up to the areas of ``level`` (for example 'district').

        Each area's counts go to its ancestor at that level; areas with no
        ancestor at that level are reported as an error.
        """
        h = self.hierarchy
        ids = self.counts["area_id"].unique()
        target = {a: h.ancestor_at(a, level) for a in ids}
        orphans = sorted(a for a, t in target.items() if t is None)
        if orphans:
            raise InputError(
                Problem(
                    f"area(s) with no ancestor at level {level!r}: {', '.join(orphans[:10])}",
                    column="parent_id",
                )
            )
        c = self.counts.assign(area_id=self.counts["area_id"].map(target))
        out = c.groupby(["area_id", "category", "period"], as_index=False, sort=True)["count"].sum()
        res = self._replace(out)
        az = self.added_zeros
        if az.total:
            # a parent's count in a period where a child's count was added as 0
            cells = az.cells.assign(area_id=az.cells["area_id"].map(target)).drop_duplicates(_CELL)
            res.meta["zero_cells"], res.meta["zero_freq"] = cells.reset_index(drop=True), az.freq
        return res

    def all_levels(self) -> pd.DataFrame:
        """Counts at the panel's own areas and every ancestor level, long, with ``level``.

        Computed once per panel (the returned table must not be modified in place).
        """
        if ("all_levels", "") in self._derived:
            return self._derived[("all_levels", "")]  # type: ignore[return-value]
        h = self.hierarchy
        base = self.counts.assign(level=self.counts["area_id"].map(h.level))
        parts = [base]
        own = set(base["level"])
        for lv in h.levels:
            if lv in own:
                continue
            try:
                agg = self.aggregate(lv).counts.assign(level=lv)
            except InputError:
                continue
            parts.append(agg)
        out = pd.concat(parts, ignore_index=True)
        self._derived[("all_levels", "")] = out
        return out

    def select(
        self,
        *,
        areas: Iterable[str] | None = None,
        categories: Iterable[str] | None = None,
        start: str | pd.Timestamp | None = None,
        end: str | pd.Timestamp | None = None,
    ) -> IncidentPanel:
        """A panel restricted to some areas, categories and periods (inclusive)."""
        c = self.counts
        m = pd.Series(True, index=c.index)
        if areas is not None:
            areas = list(map(str, areas))
            unknown = sorted(set(areas) - set(c["area_id"]))
            if unknown:
                raise InputError(Problem(f"unknown area id(s): {', '.join(unknown)}"))
            m &= c["area_id"].isin(areas)
        if categories is not None:
            categories = list(map(str, categories))
            unknown = sorted(set(categories) - set(c["category"]))
            if unknown:
                raise InputError(
                    Problem(f"unknown category: {', '.join(unknown)}; known: {', '.join(self.categories)}")
                )
            m &= c["category"].isin(categories)
        if start is not None:
            m &= c["period"] >= pd.Timestamp(start)
        if end is not None:
            m &= c["period"] <= pd.Timestamp(end)
        if not m.any():
            raise InputError(Problem("the selection is empty"))
        res = self._replace(c[m].copy())
        rec = self.meta.get("zero_cells")
        if isinstance(rec, pd.DataFrame) and len(rec):
            keep = pd.Series(True, index=rec.index)
            if areas is not None:
                keep &= rec["area_id"].isin(areas)
            if categories is not None:
                keep &= rec["category"].isin(categories)
            if start is not None:
                keep &= rec["period"] >= pd.Timestamp(start)
            if end is not None:
                keep &= rec["period"] <= pd.Timestamp(end)
            res.meta["zero_cells"] = rec[keep].reset_index(drop=True)
        return res

    def to_wide(self, fill: float | None = 0) -> pd.DataFrame:
        """Periods as rows, (area_id, category) as columns.

        ``fill`` fills periods with no row (0 by default; None keeps NaN).
        """
        w = self.counts.pivot_table(
            index="period", columns=["area_id", "category"], values="count", aggfunc="sum"
        )
        w = w.reindex(self.periods)
        w.index.name = "period"
        if fill is not None:
            w = w.fillna(fill).astype("int64")
        return w

    def to_nixtla(self, sep: str = "/") -> pd.DataFrame:
        """Nixtla long format: ``unique_id`` ("area/category"), ``ds``, ``y``."""
        c = self.counts
        return pd.DataFrame(
            {"unique_id": c["area_id"] + sep + c["category"], "ds": c["period"], "y": c["count"]}
        )

    def population_at(self, periods: pd.Series, area_ids: pd.Series) -> np.ndarray:
        """Residents of each area in the year of each period (nearest year known).

        Returns NaN where no population is known for the area.
        """
        if self.population is None:
            raise InputError(Problem("this panel has no population table"))
        pop = self.population
        years = pd.to_datetime(periods).dt.year.to_numpy()
        out = np.full(len(years), np.nan)
        areas = np.asarray(area_ids, dtype=object)
        for a, g in pop.groupby("area_id"):
            sel = areas == a
            if not sel.any():
                continue
            gy = g["year"].to_numpy(dtype=float)
            gv = g["population"].to_numpy(dtype=float)
            order = np.argsort(gy)
            gy, gv = gy[order], gv[order]
            pos = np.clip(np.searchsorted(gy, years[sel]), 0, len(gy) - 1)
            prev = np.clip(pos - 1, 0, len(gy) - 1)
            nearer = np.abs(gy[prev] - years[sel]) < np.abs(gy[pos] - years[sel])
            out[sel] = np.where(nearer, gv[prev], gv[pos])
        return out

    def rates(self, per: float = 10_000) -> pd.DataFrame:
        """Counts per ``per`` residents: the counts table with ``population`` and ``rate``."""
        c = self.counts.copy()
        c["population"] = self.population_at(c["period"], c["area_id"])
        c["rate"] = c["count"] / c["population"] * per
        return c

    def summary(self) -> pd.DataFrame:
        """Per category: series, periods, total, mean per period, share of zeros."""
        c = self.complete().counts
        g = c.groupby("category")["count"]
        return pd.DataFrame(
            {
                "series": c.groupby("category")["area_id"].nunique(),
                "total": g.sum(),
                "mean": g.mean(),
                "var": g.var(),
                "zero_share": g.apply(lambda s: float((s == 0).mean())),
            }
        )


def _read_population(table: TableLike) -> pd.DataFrame:
    raw, name = _load(table, "population")
    missing = [c for c in ("area_id", "year", "population") if c not in raw.columns]
    if missing:
        raise InputError(Problem(f"missing column(s) {', '.join(missing)}", source=name))
    out = raw[["area_id", "year", "population"]].copy()
    out["area_id"] = out["area_id"].astype(str)
    for col in ("year", "population"):
        num = pd.to_numeric(out[col], errors="coerce")
        bad = num.isna() | (num < 0)
        if bad.any():
            idx = out.index[bad]
            raise InputError(
                Problem.at_rows(
                    f"{col} is not a non-negative number",
                    source=name,
                    column=col,
                    index=idx,
                    values=out.loc[idx, col].tolist(),
                )
            )
        out[col] = num
    out["year"] = out["year"].astype(int)
    return out


def _read_neighbours(table: TableLike, hier: AreaHierarchy) -> pd.DataFrame:
    raw, name = _load(table, "neighbours")
    missing = [c for c in ("area_id", "neighbour_id") if c not in raw.columns]
    if missing:
        raise InputError(Problem(f"missing column(s) {', '.join(missing)}", source=name))
    nb = raw[["area_id", "neighbour_id"]].astype(str)
    unknown = ~(nb["area_id"].isin(hier.parent.keys()) & nb["neighbour_id"].isin(hier.parent.keys()))
    if unknown.any() and len(hier.parent) > 0:
        idx = nb.index[unknown]
        raise InputError(
            Problem.at_rows(
                "neighbour pair names an area that is not in the areas table",
                source=name,
                column="area_id, neighbour_id",
                index=idx,
                values=[f"{a}-{b}" for a, b in nb.loc[idx].itertuples(index=False)],
            )
        )
    both = pd.concat([nb, nb.rename(columns={"area_id": "neighbour_id", "neighbour_id": "area_id"})])
    both = both[both["area_id"] != both["neighbour_id"]]
    return both.drop_duplicates().sort_values(["area_id", "neighbour_id"]).reset_index(drop=True)


def stack_series(values: np.ndarray, series: Sequence[tuple[str, str]], periods: pd.DatetimeIndex) -> pd.DataFrame:
    """Long ``area_id, category, period, value`` from an array (n_periods, n_series)."""
    n_t, n_s = values.shape
    area = np.repeat([s[0] for s in series], n_t)
    cat = np.repeat([s[1] for s in series], n_t)
    per = np.tile(periods.to_numpy(), n_s)
    return pd.DataFrame({"area_id": area, "category": cat, "period": per, "value": values.T.ravel()})
