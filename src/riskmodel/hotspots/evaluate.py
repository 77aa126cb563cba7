"""Evaluate hotspot rankers with PAI and PEI* over rolling forecast windows.

For each forecast origin (the first period of a window), every ranker is
fitted on the data strictly before it and scores every grid cell; for each
window length ``h`` (periods), category and coverage, the top of its ranked
list is compared with the window's events (:mod:`riskmodel.hotspots.metrics`).
This is the NIJ Real-Time Crime Forecasting Challenge's scoring (per crime
type, per forecast period, a hotspot area between 0.25 and 0.75 sq mi),
repeated over several origins.

What is flagged
---------------
By default the hotspot units are the grid squares (``unit='square'``):
the cells that one square was split into at street borders are merged
again, so that a hotspot is a square clipped only at the edge of the study
area, as in the NIJ challenge's grids. Each ranker's expected events are
summed over the square and divided by its area; the squares are ranked by
that density. With ``unit='cell'`` the street-split cells themselves are
ranked (small cells along street borders then make it easy for the oracle of
PEI* to gather many events in little area, and PEI* drops).

Windows are whole periods (weeks start on Monday, months on the 1st); a
window that runs past the last day with data is refused rather than scored
on a partial period.

The rankers are named in the results as they name themselves: the
registered name (``kde``, ``last``, ``history``, any ranker registered in
:data:`riskmodel.hotspots.registry.RANKERS`), or ``forecast_<model>`` for
the forecast ranker. :class:`HotspotEvaluation` is a result in the sense of
:mod:`riskmodel.results` (``summary()``, ``to_frame()``, ``artifacts()``); it
has no ``conf_int``: the windows are few and overlapping in time, and no
interval of a mean PAI is claimed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskmodel.data.grid import GridCells
from riskmodel.data.panel import IncidentPanel, period_range
from riskmodel.errors import InputError, Problem
from riskmodel.hotspots.metrics import COVERAGE_BY, TIES, hotspot_score
from riskmodel.hotspots.rankers import RankContext, Ranker, default_rankers
from riskmodel.results import Artifact

_NEXT = {"D": pd.DateOffset(days=1), "W": pd.DateOffset(weeks=1), "M": pd.DateOffset(months=1)}

UNITS = ("square", "cell")
COLUMNS = ["method", "category", "origin", "h", "window_end", "unit", "coverage_by", "coverage",
           "cells", "a", "A", "n", "N", "n_star", "pai", "pei_star"]


@dataclass
class HotspotEvaluation:
    """PAI and PEI* of several rankers over forecast windows.

    Attributes
    ----------
    table : DataFrame
        One row per method x category x origin x h x coverage (long format):
        ``method, category, origin`` (first day of the window), ``h``
        (periods), ``window_end`` (last day), ``unit`` (square or cell),
        ``coverage_by``, ``coverage`` (asked), ``cells`` (units flagged),
        ``a`` (flagged area), ``A`` (study area), ``n``,
        ``N``, ``n_star``, ``pai``, ``pei_star``. Areas in squared
        coordinate units.
    timings : DataFrame
        ``method, origin, seconds``: time to fit each ranker and score every
        cell (wall clock).
    freq : str
    cell_size : float
    n_units : int
        Squares or cells ranked.
    total_area : float
    notes : list of str
    """

    table: pd.DataFrame
    timings: pd.DataFrame
    freq: str
    cell_size: float
    n_units: int
    total_area: float
    notes: list[str] = field(default_factory=list)

    def means(self) -> pd.DataFrame:
        """Per method, category, h and coverage: windows, mean PAI and PEI*, share of wins.

        ``best_share`` is the share of windows in which the method had the
        highest PAI of all methods (a tie counts for each tied method).
        Windows without any event (PAI undefined) are left out of the means.
        """
        t = self.table.copy()
        keys = ["category", "origin", "h", "coverage"]
        best = t.groupby(keys)["pai"].transform("max")
        t["best"] = (t["pai"] >= best - 1e-12) & t["pai"].notna()
        g = t.groupby(["method", "category", "h", "coverage"], sort=True)
        out = g.agg(windows=("pai", "count"), pai=("pai", "mean"), pei_star=("pei_star", "mean"),
                    n=("n", "mean"), n_star=("n_star", "mean"), best_share=("best", "mean")).reset_index()
        order = {m: i for i, m in enumerate(dict.fromkeys(self.table["method"]))}
        return out.sort_values(["category", "h", "coverage", "method"], key=lambda s: s.map(order) if s.name == "method" else s,
                               kind="stable").reset_index(drop=True)

    def summary(self) -> str:
        """A text report: the setting and the mean PAI / PEI* per method."""
        t = self.table
        m = self.means()
        lines = [
            f"Hotspot evaluation: {self.n_units:,} {t['unit'].iloc[0]}s of side {self.cell_size:g} "
            f"(study area {self.total_area:,.0f} squared units), frequency {self.freq}",
            f"origins: {t['origin'].nunique()} ({t['origin'].min().date()} .. {t['origin'].max().date()}); "
            f"h: {', '.join(map(str, sorted(t['h'].unique())))} period(s); "
            f"coverage by {t['coverage_by'].iloc[0]}: {', '.join(f'{c:g}' for c in sorted(t['coverage'].unique()))}",
            "",
            f"{'category':<16}{'h':>3}{'coverage':>12}  {'method':<24}{'windows':>8}{'PAI':>9}{'PEI*':>8}{'best':>7}",
        ]
        for r in m.itertuples(index=False):
            lines.append(f"{r.category:<16}{r.h:>3}{r.coverage:>12g}  {r.method:<24}{r.windows:>8}"
                         f"{r.pai:>9.2f}{r.pei_star:>8.3f}{r.best_share:>7.0%}")
        tm = self.timings.groupby("method", sort=False)["seconds"].mean()
        lines += ["", "mean seconds per origin (fit + score every cell): "
                  + ", ".join(f"{k} {v:.1f}" for k, v in tm.items())]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """The metrics table (:attr:`table`, long format: one row per method x category x origin x h x coverage)."""
        return self.table

    def artifacts(self) -> list[Artifact]:
        """The files the evaluation is published as (see :mod:`riskmodel.results`).

        ``metrics.csv`` (:attr:`table`), ``means.csv`` (:meth:`means`),
        ``timings.csv`` (:attr:`timings`) and ``summary.txt``
        (:meth:`summary`); only ``means.csv`` goes to a tracking run. The
        grid itself (``cells.csv``) is the command's to add.
        """
        return [
            Artifact("metrics.csv", self.table, log_as=""),
            Artifact("means.csv", self.means()),
            Artifact("timings.csv", self.timings, log_as=""),
            Artifact("summary.txt", self.summary() + "\n", log_as=""),
        ]


def _as_period(date: str | pd.Timestamp, periods: pd.DatetimeIndex, freq: str, what: str) -> pd.Timestamp:
    try:
        d = pd.Timestamp(date)
    except (ValueError, TypeError):
        raise InputError(Problem(f"{what} {date!r} is not a date")) from None
    if d not in periods:
        hint = {"W": " (weeks start on Monday)", "M": " (months start on the 1st)"}.get(freq, "")
        near = periods[max(0, min(len(periods) - 1, int(periods.searchsorted(d))))].date()
        raise InputError(Problem(f"{what} {d.date()} is not the first day of a period in the data{hint}; "
                                 f"the nearest is {near}"))
    return d


def default_origins(periods: pd.DatetimeIndex, last_complete: pd.Timestamp, h: int, windows: int) -> list[pd.Timestamp]:
    """The last ``windows`` origins, ``h`` periods apart, whose h-period windows end by ``last_complete``."""
    pos = int(periods.searchsorted(last_complete, side="right")) - h
    out = [periods[p] for p in range(pos, pos - h * windows, -h) if p >= 1]
    return sorted(out)


def cell_counts(panel: IncidentPanel, cells: GridCells, periods: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Dense counts per category: ``{category: ndarray (n_periods, n_cells)}``, cells in table order."""
    col = {c: j for j, c in enumerate(cells.ids)}
    c = panel.counts
    c = c[c["area_id"].isin(col.keys()) & (c["count"] > 0)]
    out = {}
    for cat in panel.categories:
        g = c[c["category"] == cat]
        y = np.zeros((len(periods), len(col)))
        np.add.at(y, (periods.get_indexer(g["period"]), g["area_id"].map(col).to_numpy()), g["count"].to_numpy(float))
        out[cat] = y
    return out


def history_before(panel: IncidentPanel, end: pd.Timestamp) -> IncidentPanel:
    """The panel up to ``end`` (inclusive) with only the series that have an event by then.

    :meth:`GridCells.panel` gives a (cell, category) a series, zero-filled
    over the whole span, when it has an event at any time: cut at an origin,
    a cell whose first event comes later would still have a series of zeros
    in the history, and which series exist (what a global model is trained
    on, what a reconciliation sums) would depend on the future. Here a series
    exists in the history only when it has an event before the origin.
    """
    hist = panel.select(end=end)
    c = hist.counts
    seen = c.groupby(["area_id", "category"], sort=False, observed=True)["count"].transform("sum") > 0
    if seen.all() or not seen.any():  # no event at all yet: every ranker ranks zeros whatever the series
        return hist
    return IncidentPanel(counts=c[seen.to_numpy()].reset_index(drop=True), freq=hist.freq, hierarchy=hist.hierarchy,
                         population=hist.population, neighbours=hist.neighbours, meta=dict(hist.meta))


def rank_context(
    panel: IncidentPanel,
    cells: GridCells,
    events: pd.DataFrame,
    origin: str | pd.Timestamp,
    *,
    horizon: int,
    seed: int = 0,
    counts: dict[str, np.ndarray] | None = None,
) -> RankContext:
    """What a ranker may see at a forecast origin: the data strictly before it.

    Parameters
    ----------
    panel : IncidentPanel
        Counts per cell (:meth:`GridCells.panel`).
    cells : GridCells
    events : DataFrame
        The mapped events (``timestamp``, ``category``, ``area_id``, ``x``,
        ``y``); those in no cell of ``cells`` are left out.
    origin : date
        The first period of the forecast window (a period of the panel with
        at least one period before it).
    horizon : int
        The longest window that will be asked for (periods).
    seed : int
    counts : dict, optional
        :func:`cell_counts` of the whole panel, when already computed.

    Returns
    -------
    RankContext
        Counts, periods and events before ``origin`` only; the history has a
        series only for the (cell, category) pairs with an event before
        ``origin`` (:func:`history_before`).
    """
    periods = panel.periods
    o = _as_period(origin, periods, panel.freq, "origin")
    i = periods.get_loc(o)
    if i < 1:
        raise InputError(Problem(f"origin {o.date()} leaves no history before it"))
    allc = counts if counts is not None else cell_counts(panel, cells, periods)
    ev = events[events["area_id"].isin(set(cells.ids))]
    return RankContext(cells=cells, history=history_before(panel, periods[i - 1]),
                       counts={k: v[:i] for k, v in allc.items()}, periods=periods[:i],
                       events=ev[ev["timestamp"] < o], horizon=int(horizon), seed=seed)


def evaluate_hotspots(
    panel: IncidentPanel,
    cells: GridCells,
    events: pd.DataFrame,
    *,
    horizons: Sequence[int],
    coverages: Sequence[float],
    origins: Sequence[str | pd.Timestamp] | None = None,
    windows: int = 4,
    coverage_by: str = "area",
    unit: str = "square",
    rankers: Sequence[Ranker] | None = None,
    categories: Sequence[str] | None = None,
    data_end: str | pd.Timestamp | None = None,
    ties: str = "random",
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> HotspotEvaluation:
    """Score rankers by PAI and PEI* over forecast windows.

    Parameters
    ----------
    panel : IncidentPanel
        Counts per cell (from :meth:`GridCells.panel`), at the frequency of
        the windows.
    cells : GridCells
        The grid; every cell counts in the study area A.
    events : DataFrame
        The mapped events (``GridCells.map(...).events``): ``timestamp``,
        ``category``, ``area_id``, ``x``, ``y``.
    horizons : sequence of int
        Window lengths in periods (weeks for ``freq='W'``: 1, 2, 4, 13 are
        the challenge's 1 week, 2 weeks, about 1 month, about 3 months).
    coverages : sequence of float
        Hotspot areas (squared coordinate units) or numbers of cells.
    origins : sequence of dates, optional
        First period of each window (a period start). Default: the last
        ``windows`` origins, ``max(horizons)`` periods apart.
    windows : int
        Number of default origins.
    coverage_by : {'area', 'cells'}
        With ``'cells'`` the coverage counts units (squares or cells).
    unit : {'square', 'cell'}
        What is ranked and flagged (see the module notes).
    rankers : sequence of Ranker, optional
        Default :func:`~riskmodel.hotspots.rankers.default_rankers`: every
        registered ranker with its defaults (build others with
        :func:`~riskmodel.hotspots.rankers.make_rankers`).
    categories : sequence of str, optional
        Default every category of the panel; each is scored on its own.
    data_end : date, optional
        Last day with data (default: the last event's day). Windows must end
        by it.
    ties : {'random', 'first'}
    seed : int
        Ties and the seeded forecast models.
    progress : callable, optional
        ``progress(done, total)`` after each ranker's fit at each origin (it
        never changes the results).

    Returns
    -------
    HotspotEvaluation
    """
    if coverage_by not in COVERAGE_BY:
        raise InputError(Problem(f"unknown value {coverage_by!r} for coverage by; valid: {', '.join(COVERAGE_BY)}"))
    if unit not in UNITS:
        raise InputError(Problem(f"unknown value {unit!r} for unit; valid: {', '.join(UNITS)}"))
    if ties not in TIES:
        raise InputError(Problem(f"unknown value {ties!r} for ties; valid: {', '.join(TIES)}"))
    hs = sorted({int(h) for h in horizons})
    if not hs or hs[0] < 1:
        raise InputError(Problem(f"window lengths (h) must be >= 1 period, got {list(horizons)}"))
    covs = sorted({float(c) for c in coverages})
    if not covs or covs[0] <= 0:
        raise InputError(Problem(f"coverages must be positive, got {list(coverages)}"))
    if coverage_by == "area" and covs[-1] > cells.total_area:
        raise InputError(Problem(f"coverage {covs[-1]:g} exceeds the study area {cells.total_area:g} "
                                 "(squared coordinate units)"))
    missing = [c for c in ("timestamp", "category", "area_id", "x", "y") if c not in events.columns]
    if missing:
        raise InputError(Problem(f"the events lack column(s) {', '.join(missing)}: pass GridCells.map(...).events",
                                 source="events"))
    freq = panel.freq
    periods = panel.periods
    cats = list(categories) if categories is not None else panel.categories
    unknown = sorted(set(cats) - set(panel.categories))
    if unknown:
        raise InputError(Problem(f"unknown category: {', '.join(unknown)}; known: {', '.join(panel.categories)}"))
    end = pd.Timestamp(data_end) if data_end is not None else pd.Timestamp(events["timestamp"].max()).normalize()
    ends = period_range(periods[0], periods[-1] + _NEXT[freq], freq)[1:] - pd.Timedelta(days=1)
    complete = periods[ends <= end]
    if len(complete) == 0:
        raise InputError(Problem("no complete period in the data"))
    last_complete = complete[-1]
    if origins is None:
        ors = default_origins(periods, last_complete, hs[-1], windows)
        if not ors:
            raise InputError(Problem(f"the data are too short for a window of {hs[-1]} period(s)"))
    else:
        ors = sorted({_as_period(o, periods, freq, "origin") for o in origins})
    for o in ors:
        i = periods.get_loc(o)
        if i < 1:
            raise InputError(Problem(f"origin {o.date()} leaves no history before it"))
        if i + hs[-1] - 1 > periods.get_loc(last_complete):
            raise InputError(Problem(f"the {hs[-1]}-period window from {o.date()} runs past the last complete "
                                     f"period ({last_complete.date()}; data end {end.date()})"))
    rankers = list(rankers) if rankers is not None else default_rankers(bandwidth=None)
    names = [r.name for r in rankers]
    if len(set(names)) != len(names):
        raise InputError(Problem(f"two rankers share a name: {', '.join(names)}"))

    if unit == "square":
        sq, to_unit = cells.squares()
        area = sq["area"].to_numpy(float)
    else:
        to_unit = np.arange(len(cells.table))
        area = cells.table["area"].to_numpy(float)
    n_units = len(area)
    A = cells.total_area
    allc = cell_counts(panel, cells, periods)
    cell_ids = set(cells.ids)
    ev = events[events["area_id"].isin(cell_ids)]
    rows, times = [], []
    for o in ors:
        i = periods.get_loc(o)
        ctx = rank_context(panel, cells, ev, o, horizon=hs[-1], seed=seed, counts=allc)
        for r in rankers:
            t0 = time.perf_counter()
            r.fit(ctx)
            sc = {(cat, h): np.bincount(to_unit, weights=r.expected(cat, h), minlength=n_units) / area
                  for cat in cats for h in hs}
            times.append({"method": r.name, "origin": o, "seconds": time.perf_counter() - t0})
            if progress is not None:
                progress(len(times), len(ors) * len(rankers))
            for (cat, h), s in sc.items():
                actual = (np.bincount(to_unit, weights=allc[cat][i: i + h].sum(axis=0), minlength=n_units)
                          if cat in allc else np.zeros(n_units))
                wend = ends[i + h - 1]
                for cov in covs:
                    hsr = hotspot_score(s, actual, area, cov, by=coverage_by, total_area=A, ties=ties, seed=seed)
                    rows.append({"method": r.name, "category": cat, "origin": o, "h": h, "window_end": wend,
                                 "unit": unit, "coverage_by": coverage_by, "coverage": cov, **hsr.as_dict()})
    table = pd.DataFrame(rows, columns=COLUMNS)
    table = table.sort_values(["category", "origin", "h", "coverage"], kind="stable").reset_index(drop=True)
    notes = []
    if len(ev) < len(events):
        notes.append(f"{len(events) - len(ev)} event(s) are not in any cell and were left out")
    return HotspotEvaluation(table=table, timings=pd.DataFrame(times), freq=freq, cell_size=cells.size,
                             n_units=n_units, total_area=A, notes=notes)
