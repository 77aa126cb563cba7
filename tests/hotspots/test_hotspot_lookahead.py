"""No look-ahead through which series exist (issue 14.8's brief, item 5).

:meth:`GridCells.panel` gives a (cell, category) a series, zero-filled over
the whole span, when it has an event at any time. Cut at a forecast origin,
a cell whose first event comes after the origin would still have a series of
zeros in the history: which series a global model is trained on (and what a
reconciliation sums) would depend on the future. The history a ranker sees
has a series only for the cells with an event before the origin.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from riskmodel.data.grid import GridCells
from riskmodel.hotspots import ForecastRanker
from riskmodel.hotspots.evaluate import cell_counts, rank_context

from .conftest import AREAS, toy_streets

ORIGIN = "2021-03-29"


def _events(with_late_cell: bool) -> pd.DataFrame:
    """Weekly events at (2, 2) and (6, 6) for 20 weeks; optionally a cell at (14, 2) whose first event is after ORIGIN."""
    rng = np.random.default_rng(0)
    mondays = pd.date_range("2021-01-04", periods=20, freq="W-MON")
    rows = [(d, "theft", x, y) for d in mondays for (x, y), lam in (((2.0, 2.0), 4), ((6.0, 6.0), 2))
            for _ in range(rng.poisson(lam) + 1)]
    if with_late_cell:
        rows += [(d, "theft", 14.0, 2.0) for d in mondays[mondays >= pd.Timestamp("2021-04-12")]]
    return pd.DataFrame(rows, columns=["timestamp", "category", "x", "y"]).assign(
        timestamp=lambda d: pd.DatetimeIndex(d["timestamp"]).strftime("%Y-%m-%d"))


@functools.cache
def _grid() -> GridCells:
    return GridCells.build(toy_streets(), 4.0)


@functools.cache
def _context(with_late_cell: bool):
    grid = _grid()
    m = grid.map(_events(with_late_cell), x_col="x", y_col="y")
    panel = grid.panel(m, "W", areas=AREAS)
    return grid, panel, rank_context(panel, grid, m.events, ORIGIN, horizon=2, counts=cell_counts(panel, grid, panel.periods))


def test_a_cell_first_seen_after_the_origin_has_no_series_in_the_history():
    grid, panel, ctx = _context(True)
    late = _grid().map(pd.DataFrame({"timestamp": ["2021-04-12"], "category": ["theft"], "x": [14.0], "y": [2.0]}),
                    x_col="x", y_col="y").events["area_id"].iloc[0]
    assert (late, "theft") in panel.series_ids  # the whole panel has it (zero-filled from the start) ...
    assert (late, "theft") not in ctx.history.series_ids  # ... the history before the origin does not
    _, _, ctx0 = _context(False)
    assert ctx.history.series_ids == ctx0.history.series_ids
    pd.testing.assert_frame_equal(ctx.history.counts, ctx0.history.counts)


def test_a_global_forecast_ranker_does_not_see_cells_of_the_future():
    # gbm is one model over the rows of every series: a series of zeros for the late cell was training data
    for model, rec in (("gbm", "none"), ("hmean", "mint_shrink")):
        a = ForecastRanker(model, reconcile=rec).fit(_context(True)[2]).expected("theft", 2)
        b = ForecastRanker(model, reconcile=rec).fit(_context(False)[2]).expected("theft", 2)
        np.testing.assert_allclose(a, b, err_msg=f"{model}/{rec}")
