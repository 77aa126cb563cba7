"""Rankers: ways to score every grid cell before a forecast window.

A ranker is fitted on the history before a forecast origin
(:class:`RankContext`) and then gives every cell of the grid its expected
events for a category and a window of ``h`` periods (:meth:`Ranker.expected`;
for the KDE, the density at the cell's centroid times the cell's area, which
is proportional to it). The evaluation sums them to the unit it ranks (grid
squares or cells) and ranks by expected events per unit of area, so that a
small square clipped at the city's edge competes with whole squares on
events per unit of area, which is what an area coverage rewards. Cells are
in the order of :attr:`riskmodel.data.grid.GridCells.table`.

* :class:`ForecastRanker`: riskmodel's per-cell forecast
  (:func:`riskmodel.forecast.api.forecast_panel`), summed over the window;
* :class:`KDERanker`: the kernel-density hotspot map of past events
  (:mod:`riskmodel.hotspots.kde`);
* :class:`LastCounts`: the counts of the last ``h`` periods (last week for a
  one-week window): the naive forecast;
* :class:`HistoricalCounts`: the counts over the whole history (or a window).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.data.grid import GridCells
from riskmodel.data.panel import IncidentPanel
from riskmodel.errors import InputError, Problem
from riskmodel.forecast.api import forecast_panel
from riskmodel.hotspots.kde import KDEHotspots

KDE_BANDWIDTH_CELLS = 0.5
"""Default KDE bandwidth in cell sides (see :class:`KDERanker`): the best of
0.25, 0.5, 1, 2 and 4 sides (with all the history or the last 52 periods) by
mean PAI on Portland's 2014-2015 windows (benchmarks/hotspots/tune_overall.csv)."""


@dataclass
class RankContext:
    """What a ranker may use: the data strictly before the forecast origin.

    Attributes
    ----------
    cells : GridCells
    history : IncidentPanel
        Cell counts up to the period before the origin (cell series only).
    counts : dict of str -> ndarray (n_periods, n_cells)
        The same counts per category as arrays, cells in table order.
    periods : DatetimeIndex
        The history's periods.
    events : DataFrame
        Past events: ``timestamp``, ``category``, ``area_id`` (cell), ``x``, ``y``.
    horizon : int
        The longest window that will be asked for (periods).
    seed : int
    """

    cells: GridCells
    history: IncidentPanel
    counts: dict[str, np.ndarray]
    periods: pd.DatetimeIndex
    events: pd.DataFrame
    horizon: int
    seed: int = 0


class Ranker:
    """Base class: ``fit(ctx)`` then ``expected(category, h)``."""

    name = "ranker"

    def fit(self, ctx: RankContext) -> Ranker:
        self.ctx_ = ctx
        return self

    def expected(self, category: str, h: int) -> np.ndarray:  # pragma: no cover - abstract
        """Expected events (or a quantity proportional to them) per cell, shape (n_cells,)."""
        raise NotImplementedError

    def _area(self) -> np.ndarray:
        return self.ctx_.cells.table["area"].to_numpy(float)

    def _counts(self, category: str) -> np.ndarray:
        c = self.ctx_.counts.get(category)
        if c is None:
            return np.zeros((len(self.ctx_.periods), len(self.ctx_.cells.table)))
        return c


class HistoricalCounts(Ranker):
    """Events over the history (all of it, or the last ``window`` periods).

    Parameters
    ----------
    window : int, optional
    name : str, optional
        Name in the results (default ``history``).
    """

    def __init__(self, window: int | None = None, name: str | None = None):
        self.window = window
        self.name = name or "history"

    def expected(self, category: str, h: int) -> np.ndarray:
        y = self._counts(category)
        if self.window is not None:
            y = y[-int(self.window):]
        return y.sum(axis=0)


class LastCounts(Ranker):
    """Events in the last ``h`` periods: the naive forecast of an h-period window."""

    name = "last"

    def expected(self, category: str, h: int) -> np.ndarray:
        return self._counts(category)[-int(h):].sum(axis=0)


class KDERanker(Ranker):
    """Gaussian kernel density of past events at the cells' centroids.

    Parameters
    ----------
    bandwidth : float, optional
        Kernel standard deviation in coordinate units; default
        :data:`KDE_BANDWIDTH_CELLS` (0.5) times the cell side. The default was
        chosen on Portland windows of 2014-2015, before the benchmark's
        2016-2017 windows were looked at (benchmarks/hotspots/results.md).
    window : int, optional
        Use only the events of the last ``window`` periods (default: all).
    name : str, optional
        Name in the results (default ``kde``).
    """

    def __init__(self, bandwidth: float | None = None, window: int | None = None, name: str | None = None):
        self.bandwidth = bandwidth
        self.window = window
        self.name = name or "kde"

    def fit(self, ctx: RankContext) -> KDERanker:
        super().fit(ctx)
        ev = ctx.events
        if self.window is not None:
            start = ctx.periods[-int(self.window)] if int(self.window) <= len(ctx.periods) else ctx.periods[0]
            ev = ev[ev["timestamp"] >= start]
        bw = self.bandwidth if self.bandwidth is not None else KDE_BANDWIDTH_CELLS * ctx.cells.size
        self.bandwidth_ = float(bw)
        self.kdes_: dict[str, KDEHotspots] = {}
        for cat, g in ev.groupby("category", sort=True):
            self.kdes_[str(cat)] = KDEHotspots(bandwidth=bw).fit(g["x"].to_numpy(), g["y"].to_numpy())
        return self

    def expected(self, category: str, h: int) -> np.ndarray:
        t = self.ctx_.cells.table
        kde = self.kdes_.get(category)
        if kde is None:
            return np.zeros(len(t))
        return kde.density(t["x"].to_numpy(), t["y"].to_numpy()) * self._area()


class ForecastRanker(Ranker):
    """riskmodel's forecast of every cell's count, summed over the window.

    Parameters
    ----------
    model : str
        A model of :data:`riskmodel.forecast.registry.MODELS` (default ``auto``).
    reconcile : {'none', 'bottom_up', 'mint_shrink'}
        Reconciliation over the hierarchy cell -> street -> ... (the cells'
        means change only with ``mint_shrink``). The reconciliation works
        with dense matrices of all the areas: fine for hundreds of cells,
        not for a city's tens of thousands.
    params : dict, optional
        Model parameters.
    name : str, optional
        Name in the results (default ``forecast_<model>``).
    """

    def __init__(self, model: str = "auto", reconcile: str = "none", params: dict[str, Any] | None = None,
                 name: str | None = None):
        self.model = model
        self.reconcile = reconcile
        self.params = params
        self.name = name or f"forecast_{model}" + ("" if reconcile == "none" else f"_{reconcile}")

    def fit(self, ctx: RankContext) -> ForecastRanker:
        super().fit(ctx)
        frame, _ = forecast_panel(ctx.history, ctx.horizon, model=self.model, reconcile_method=self.reconcile,
                                  seed=ctx.seed, params=self.params)
        col = {c: j for j, c in enumerate(ctx.cells.ids)}
        frame = frame[frame["area_id"].isin(col.keys())]
        periods = np.sort(frame["period"].unique())
        self.means_: dict[str, np.ndarray] = {}
        for cat, g in frame.groupby("category", sort=True):
            m = np.zeros((len(periods), len(col)))
            m[np.searchsorted(periods, g["period"].to_numpy()), g["area_id"].map(col).to_numpy()] = g["mean"].to_numpy(float)
            self.means_[str(cat)] = m
        return self

    def expected(self, category: str, h: int) -> np.ndarray:
        m = self.means_.get(category)
        if m is None:
            return np.zeros(len(self.ctx_.cells.table))
        if h > m.shape[0]:
            raise InputError(Problem(f"the forecast covers {m.shape[0]} period(s), {h} asked"))
        return m[:h].sum(axis=0)


def default_rankers(model: str = "auto", bandwidth: float | None = None) -> list[Ranker]:
    """riskmodel's forecast, the KDE baseline, last counts, historical counts."""
    return [ForecastRanker(model), KDERanker(bandwidth), LastCounts(), HistoricalCounts()]
