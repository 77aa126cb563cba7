"""Hotspot metrics of the NIJ Real-Time Crime Forecasting Challenge: PAI and PEI*.

A ranker scores every cell of a study area; the top of the ranked list, up to a
coverage, is the forecast hotspot area. With the events of the forecast window:

* **PAI**, predictive accuracy index (Chainey, Tompson & Uhlig 2008; the NIJ
  challenge's first criterion)::

      PAI = (n / N) / (a / A)

  n = events in the flagged cells, N = events in the whole study area,
  a = area of the flagged cells, A = area of the study area. PAI is the hit
  rate per unit of area share: 1 is no better than flagging at random, higher
  is better. It is unbounded above and depends on a: compare rankers at the
  same coverage only.

* **PEI\\***, predictive efficiency index as the NIJ challenge scored it
  (White, Hunt & Green 2023, Security Journal)::

      PEI* = n / n*

  n* = the most events that any set of cells of total area at most a could
  have held in the window: what a perfect forecaster (an oracle that knew the
  window's counts) would have caught with the same area. PEI* is in [0, 1];
  1 means no set of the same area would have done better.

Definitions as used here
------------------------
* **Selection.** Cells are taken in rank order (highest score first). With
  ``by='area'`` the coverage is an area in squared coordinate units (square
  feet for Portland's State Plane coordinates: 0.25 sq mi = 6,969,600 sq ft)
  and cells are added while the flagged area stays at or below it: the
  first cell that would exceed it ends the list (lower-ranked small cells are
  not used to fill the gap). With ``by='cells'`` the coverage is a number of
  cells. The PAI and n* use the flagged area a actually reached.
* **n\\*** with cells of unequal area (cells clipped at street or city
  borders) is a 0/1 knapsack: maximise the captured events under the area a.
  It is solved exactly (:func:`max_capture`); with cells of equal area it is
  the sum of the largest counts.
* **Ties.** Cells with equal scores are put in a random order drawn from
  ``seed`` (``ties='random'``, the default: the same inputs and seed give the
  same result, and a ranker gains nothing from the order of the cell table),
  or kept in the order given (``ties='first'``: the caller has broken the
  ties). Ties matter for rankers with few distinct values, such as last
  week's counts, where many cells share a count at the coverage boundary.
* **Undefined values.** PAI is NaN when N = 0 or nothing was flagged;
  PEI* is NaN when n* = 0 (no event in the window could have been caught).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from riskmodel.errors import InputError, Problem

COVERAGE_BY = ("area", "cells")
TIES = ("random", "first")
_REL = 1e-9  # relative tolerance on areas (sums of floats)


@dataclass(frozen=True)
class HotspotScore:
    """PAI and PEI* of one ranked list in one forecast window.

    Attributes
    ----------
    cells : int
        Cells flagged.
    a, A : float
        Flagged area and study area (squared coordinate units).
    n, N : int
        Events in the flagged cells and in the study area.
    n_star : int
        Most events any set of cells of area at most ``a`` held.
    """

    cells: int
    a: float
    A: float
    n: int
    N: int
    n_star: int

    @property
    def pai(self) -> float:
        """(n / N) / (a / A); NaN when N = 0 or a = 0."""
        if self.N == 0 or self.a <= 0:
            return float("nan")
        return (self.n / self.N) / (self.a / self.A)

    @property
    def pei_star(self) -> float:
        """n / n*; NaN when n* = 0."""
        return self.n / self.n_star if self.n_star > 0 else float("nan")

    def as_dict(self) -> dict[str, float]:
        return {**asdict(self), "pai": self.pai, "pei_star": self.pei_star}


def _as_arrays(score: np.ndarray | None, area: np.ndarray, actual: np.ndarray | None = None) -> tuple:
    area = np.asarray(area, dtype=float)
    if area.ndim != 1 or area.size == 0:
        raise InputError(Problem("cell areas must be a non-empty 1-d array"))
    bad = ~(np.isfinite(area) & (area > 0))
    if bad.any():
        raise InputError(Problem(f"{int(bad.sum())} cell area(s) are not positive numbers", column="area"))
    out: list[np.ndarray | None] = [None, area, None]
    if score is not None:
        s = np.asarray(score, dtype=float)
        if s.shape != area.shape:
            raise InputError(Problem(f"{s.size} scores for {area.size} cells", column="score"))
        if np.isnan(s).any():
            raise InputError(Problem(f"{int(np.isnan(s).sum())} cell score(s) are NaN", column="score"))
        out[0] = s
    if actual is not None:
        y = np.asarray(actual, dtype=float)
        if y.shape != area.shape:
            raise InputError(Problem(f"{y.size} counts for {area.size} cells", column="count"))
        if not (np.isfinite(y).all() and (y >= 0).all() and (y == np.round(y)).all()):
            raise InputError(Problem("cell counts must be non-negative integers", column="count"))
        out[2] = y.astype(np.int64)
    return tuple(out)


def rank_order(score: np.ndarray, ties: str = "random", seed: int = 0) -> np.ndarray:
    """Cell indices from the highest score to the lowest.

    Parameters
    ----------
    score : ndarray (n_cells,)
    ties : {'random', 'first'}
        Equal scores in a random order drawn from ``seed``, or in input order.
    seed : int
    """
    s = np.asarray(score, dtype=float)
    if ties == "first":
        tiebreak = np.arange(s.size)
    elif ties == "random":
        tiebreak = np.random.default_rng(seed).permutation(s.size)
    else:
        raise InputError(Problem(f"unknown value {ties!r} for ties; valid: {', '.join(TIES)}"))
    return np.lexsort((tiebreak, -s))


def select_hotspots(
    score: np.ndarray,
    area: np.ndarray,
    coverage: float,
    by: str = "area",
    ties: str = "random",
    seed: int = 0,
) -> np.ndarray:
    """The flagged cells: the top of the ranked list up to the coverage.

    Parameters
    ----------
    score : ndarray (n_cells,)
        Higher is hotter (any scale: expected counts, densities, log-densities).
    area : ndarray (n_cells,)
        Cell areas, squared coordinate units.
    coverage : float
        ``by='area'``: the most area to flag (squared coordinate units);
        ``by='cells'``: the number of cells.
    by : {'area', 'cells'}
    ties, seed
        See :func:`rank_order`.

    Returns
    -------
    ndarray of int
        Indices of the flagged cells, in rank order (possibly empty when the
        top cell alone exceeds an area coverage).
    """
    s, area, _ = _as_arrays(score, area)
    if by not in COVERAGE_BY:
        raise InputError(Problem(f"unknown value {by!r} for coverage by; valid: {', '.join(COVERAGE_BY)}"))
    if not (np.isfinite(coverage) and coverage > 0):
        raise InputError(Problem(f"coverage must be positive, got {coverage}"))
    order = rank_order(s, ties, seed)
    if by == "cells":
        if float(coverage) != int(coverage):
            raise InputError(Problem(f"a coverage in cells must be a whole number, got {coverage}"))
        return order[: int(coverage)]
    cum = np.cumsum(area[order])
    k = int(np.searchsorted(cum, float(coverage) * (1 + _REL), side="right"))
    return order[:k]


def max_capture(actual: np.ndarray, area: np.ndarray, budget: float) -> int:
    """n*: the most events any set of cells with total area <= ``budget`` holds.

    Parameters
    ----------
    actual : ndarray (n_cells,) of int
        Events per cell in the window.
    area : ndarray (n_cells,)
        Cell areas (squared coordinate units).
    budget : float
        The area available (the flagged area a), same units.

    Notes
    -----
    Cells of equal area (the usual case away from borders): the sum of the
    ``floor(budget / area)`` largest counts. Otherwise the 0/1 knapsack is
    solved exactly by dynamic programming over the number of events: for every
    total v, the least area of a set of cells holding exactly v events
    (the textbook exact method for integer values). Only cells with events
    take part, so the cost is O(cells with events x N), a few milliseconds
    for a city's weekly or quarterly window. Written here because it is
    exact in integers, where a general MILP solver works to a tolerance.
    """
    _, area, y = _as_arrays(None, area, actual)
    budget = float(budget)
    pos = y > 0
    if budget <= 0 or not pos.any():
        return 0
    c, ar = y[pos], area[pos]
    limit = budget * (1 + _REL)
    if np.ptp(ar) <= _REL * ar.max():
        k = int(np.floor(limit / ar.max()))
        return int(np.sort(c)[::-1][:k].sum())
    total = int(c.sum())
    least = np.full(total + 1, np.inf)
    least[0] = 0.0
    for ci, ai in zip(c, ar, strict=True):
        cand = least[: total + 1 - ci] + ai
        least[ci:] = np.minimum(least[ci:], cand)  # cand is a copy of the old row: each cell used once
    ok = np.flatnonzero(least <= limit)
    return int(ok.max())


def hotspot_score(
    score: np.ndarray,
    actual: np.ndarray,
    area: np.ndarray,
    coverage: float,
    by: str = "area",
    total_area: float | None = None,
    ties: str = "random",
    seed: int = 0,
) -> HotspotScore:
    """PAI and PEI* of a ranked list against a window's counts.

    Parameters
    ----------
    score : ndarray (n_cells,)
        The ranker's scores (higher is hotter).
    actual : ndarray (n_cells,) of int
        Events per cell in the forecast window.
    area : ndarray (n_cells,)
        Cell areas, squared coordinate units.
    coverage : float
        Area (squared coordinate units) or number of cells, see ``by``.
    by : {'area', 'cells'}
    total_area : float, optional
        A, the study area; default the sum of ``area`` (the cells must then
        cover the whole study area, empty cells included).
    ties : {'random', 'first'}
    seed : int
        For ``ties='random'``.

    Returns
    -------
    HotspotScore
        With ``.pai`` and ``.pei_star``; see the module notes for the
        definitions.
    """
    s, area, y = _as_arrays(score, area, actual)
    A = float(area.sum()) if total_area is None else float(total_area)
    if not (np.isfinite(A) and A >= area.sum() * (1 - _REL)):
        raise InputError(Problem(f"the study area ({A:g}) is smaller than the cells' total area ({area.sum():g})"))
    idx = select_hotspots(s, area, coverage, by=by, ties=ties, seed=seed)
    a = float(area[idx].sum())
    n = int(y[idx].sum())
    return HotspotScore(cells=int(idx.size), a=a, A=A, n=n, N=int(y.sum()), n_star=max_capture(y, area, a))
