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

Each is registered by name in :data:`riskmodel.hotspots.registry.RANKERS`
(:mod:`riskmodel.hotspots.catalogue`); :func:`make_ranker` and
:func:`make_rankers` build rankers from the registry, with their options.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.data.grid import GridCells
from riskmodel.data.panel import IncidentPanel
from riskmodel.errors import InputError, Problem
from riskmodel.forecast.api import _check, forecast_panel
from riskmodel.hotspots.kde import KDEHotspots
from riskmodel.hotspots.registry import RANKERS

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
    """Base class of the hotspot rankers: the contract every registered ranker keeps.

    A ranker is made with its options as keyword arguments (those declared in
    its ``register`` call; a bad value is an :class:`~riskmodel.errors.InputError`
    raised by the constructor, before any data are read), then

    * ``fit(ctx: RankContext) -> self`` learns from ``ctx``, the data strictly
      before the forecast origin, and nothing else (no look-ahead: the
      evaluation passes only the past, and the contract test checks that
      events on or after the origin change nothing);
    * ``expected(category, h) -> ndarray (n_cells,)`` gives every cell of
      ``ctx.cells`` (in the order of :attr:`GridCells.table`) its expected
      events of ``category`` in the ``h`` periods from the origin
      (``1 <= h <= ctx.horizon``), or any quantity proportional to them
      across cells (a density times the cell's area): finite, non-negative,
      zeros for a category it has not seen. The evaluation only ranks these
      values (per unit of area), so their scale does not matter.

    Results name a ranker by :attr:`name`; :func:`make_ranker` sets it to the
    registered name when the class leaves the default. A ranker that draws
    random numbers takes them from ``ctx.seed`` (and is registered with
    ``Needs(seed=True)``), so that one seed gives one result.

    Attributes
    ----------
    name : str
        The method's name in the results (``method`` column).
    ctx_ : RankContext
        Set by :meth:`fit`.
    """

    name = "ranker"

    def fit(self, ctx: RankContext) -> Ranker:
        """Learn from the history before the origin; returns ``self``."""
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


def _check_window(window: int | None) -> int | None:
    if window is None:
        return None
    if int(window) != window or int(window) < 1:
        raise InputError(Problem(f"window (--lookback) must be a whole number of periods >= 1, got {window}"))
    return int(window)


class HistoricalCounts(Ranker):
    """Events over the history (all of it, or the last ``window`` periods).

    Parameters
    ----------
    window : int, optional
    name : str, optional
        Name in the results (default ``history``).
    """

    def __init__(self, window: int | None = None, name: str | None = None):
        self.window = _check_window(window)
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
        if bandwidth is not None and not bandwidth > 0:
            raise InputError(Problem(f"--bandwidth must be positive (coordinate units), got {bandwidth}"))
        self.bandwidth = bandwidth
        self.window = _check_window(window)
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
    reconcile : str
        Reconciliation over the hierarchy cell -> street -> ...: a method of
        riskmodel's forecasting (``none``, ``bottom_up``, ``mint_shrink``;
        the cells' means change only with ``mint_shrink``). The
        reconciliation works with dense matrices of all the areas: fine for
        hundreds of cells, not for a city's tens of thousands.
    params : dict, optional
        Model parameters.
    name : str, optional
        Name in the results (default ``forecast_<model>``, plus
        ``_<reconcile>`` when reconciled).

    Raises
    ------
    InputError
        An unknown model or reconciliation method (listing the valid ones).
    """

    def __init__(self, model: str = "auto", reconcile: str = "none", params: dict[str, Any] | None = None,
                 name: str | None = None):
        _check(model, reconcile)  # the forecast API's check of both names, kept there for this ranker
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


def parse_params(text: str) -> dict[str, Any]:
    """Model parameters from the command line: a JSON object (``'{"window": 52}'``)."""
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise InputError(Problem(f"--model-params must be a JSON object such as '{{\"window\": 52}}', got {text!r}"))
    return value


def make_ranker(name: str, **options: Any) -> Ranker:
    """A fresh, unfitted ranker by its registered name, with its options.

    Parameters
    ----------
    name : str
        A name of :data:`~riskmodel.hotspots.registry.RANKERS`.
    **options
        Options the ranker declares (keyword -> value); ``None`` leaves the
        ranker's default.

    Raises
    ------
    InputError
        An unknown name, an option the ranker does not declare, or a value
        it refuses.
    """
    spec = RANKERS.get(name)
    kw = RANKERS.check_options(name, {k: v for k, v in options.items() if v is not None})
    ranker = spec.target(**kw)
    if ranker.name == Ranker.name:
        ranker.name = spec.name
    return ranker


def make_rankers(names: Sequence[str] | None = None, options: Mapping[str, Any] | None = None) -> list[Ranker]:
    """Several rankers from the registry, each option given to every chosen ranker that declares it.

    Parameters
    ----------
    names : sequence of str, optional
        Registered names, in the order of the results (default: every
        registered ranker, in registration order).
    options : mapping, optional
        Option name -> value (``{"model": "hmean", "bandwidth": 400.0}``);
        ``None`` values leave the defaults.

    Raises
    ------
    InputError
        An unknown name, or an option none of the chosen rankers declares.
    """
    chosen = list(dict.fromkeys(names)) if names is not None else list(RANKERS.names())
    for n in chosen:
        RANKERS.get(n)
    opts = dict(options or {})
    unused = [k for k, v in opts.items() if v is not None and not any(k in RANKERS[n].option_names for n in chosen)]
    if unused:
        raise InputError(Problem(f"option(s) {', '.join(unused)} apply to none of the rankers {', '.join(chosen)}"))
    return [make_ranker(n, **{k: v for k, v in opts.items() if k in RANKERS[n].option_names}) for n in chosen]


def default_rankers(model: str = "auto", bandwidth: float | None = None) -> list[Ranker]:
    """Every registered ranker: riskmodel's forecast, the KDE baseline, last counts, historical counts (so far).

    ``model`` goes to the forecast ranker, ``bandwidth`` to the KDE.
    """
    return make_rankers(None, {"model": model, "bandwidth": bandwidth})
