"""Rolling hotspot evaluation on a city where the answer is known by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.data.grid import GridCells
from riskmodel.errors import InputError
from riskmodel.hotspots import (
    ForecastRanker,
    HistoricalCounts,
    KDERanker,
    LastCounts,
    evaluate_hotspots,
)
from riskmodel.results import IntervalResult, Result, write_artifacts

from .conftest import AREAS, toy_events, toy_streets


@pytest.fixture(scope="module")
def steady():
    """Every Monday for 10 weeks: 3 events at (2, 2) (square G0_0) and 1 at (14, 2) (square G3_0)."""
    grid = GridCells.build(toy_streets(), 4.0)
    mondays = pd.date_range("2021-01-04", periods=10, freq="W-MON")
    ev = pd.DataFrame({
        "timestamp": np.repeat(mondays.strftime("%Y-%m-%d"), 4),
        "category": "theft",
        "x": np.tile([2.0, 2.0, 2.0, 14.0], 10),
        "y": 2.0,
    })
    m = grid.map(ev, x_col="x", y_col="y")
    return grid, grid.panel(m, "W", areas=AREAS), m.events


def test_known_pai_and_pei_star(steady):
    grid, panel, events = steady
    rankers = [ForecastRanker("hmean"), ForecastRanker("hmean", reconcile="bottom_up"), KDERanker(4.0),
               LastCounts(), HistoricalCounts()]
    res = evaluate_hotspots(panel, grid, events, horizons=[1, 2], coverages=[16.0, 32.0],
                            origins=["2021-02-08", "2021-02-15"], rankers=rankers, data_end="2021-03-14")
    t = res.table
    assert len(t) == 5 * 2 * 2 * 2
    # bottom-up reconciliation leaves the cells' forecasts, hence the ranking, as they were
    cols = ["n", "N", "a", "n_star", "pai", "pei_star"]
    pd.testing.assert_frame_equal(t.loc[t["method"] == "forecast_hmean_bottom_up", cols].reset_index(drop=True),
                                  t.loc[t["method"] == "forecast_hmean", cols].reset_index(drop=True))
    t = t[t["method"] != "forecast_hmean_bottom_up"]
    assert (t["A"] == 170.0).all()
    assert set(t["N"]) == {4, 8}
    for name in ("forecast_hmean", "last", "history"):
        r = t[t["method"] == name].set_index(["origin", "h", "coverage"])
        one = r.loc[(pd.Timestamp("2021-02-08"), 1, 16.0)]
        assert (one["cells"], one["n"], one["N"], one["a"], one["n_star"]) == (1, 3, 4, 16.0, 3)
        assert one["pai"] == pytest.approx((3 / 4) / (16 / 170))
        assert one["pei_star"] == 1.0
        two = r.loc[(pd.Timestamp("2021-02-15"), 2, 32.0)]
        assert (two["n"], two["N"], two["n_star"]) == (8, 8, 8)
        assert two["pai"] == pytest.approx(1 / (32 / 170))
    # a kernel of one cell side spills the 3-event point onto the next square, which it flags before (14, 2)
    k = t[(t["method"] == "kde") & (t["coverage"] == 32.0) & (t["h"] == 1)]
    assert (k["n"] == 3).all() and (k["pei_star"] == 0.75).all()
    m = res.means()
    m = m[m["method"] != "forecast_hmean_bottom_up"]
    assert set(m["method"]) == {"forecast_hmean", "kde", "last", "history"}
    best = m[(m["h"] == 1) & (m["coverage"] == 32.0)].set_index("method")["best_share"]
    assert best.to_dict() == {"forecast_hmean": 1.0, "kde": 0.0, "last": 1.0, "history": 1.0}
    text = res.summary()
    assert "15 squares of side 4" in text and "history" in text
    assert set(res.timings["method"]) == set(res.table["method"]) and (res.timings["seconds"] >= 0).all()


def test_cells_as_units_and_cells_as_coverage(steady):
    grid, panel, events = steady
    res = evaluate_hotspots(panel, grid, events, horizons=[1], coverages=[2], coverage_by="cells", unit="cell",
                            origins=["2021-02-08"], rankers=[HistoricalCounts()], data_end="2021-03-14")
    r = res.table.iloc[0]
    assert (r["unit"], r["cells"], r["a"], r["n"], r["n_star"]) == ("cell", 2, 32.0, 4, 4)
    assert res.n_units == len(grid.table)


def test_same_inputs_same_table_and_default_origins():
    grid = GridCells.build(toy_streets(), 4.0)
    m = grid.map(toy_events(seed=2, n=600, weeks=12), x_col="x", y_col="y")
    panel = grid.panel(m, "W", areas=AREAS)

    def run():
        return evaluate_hotspots(panel, grid, m.events, horizons=[1, 2], coverages=[20.0], windows=2,
                                 rankers=[KDERanker(), LastCounts(), HistoricalCounts()], seed=5)

    a, b = run(), run()
    pd.testing.assert_frame_equal(a.table, b.table)
    # the last event is in the week of 2021-03-22 (12 weeks from 2021-01-04); the last complete
    # week is the one before it unless the events run to its Sunday
    last_day = pd.Timestamp(m.events["timestamp"].max())
    last_complete = pd.Timestamp("2021-03-22") if last_day.day_of_week == 6 else pd.Timestamp("2021-03-15")
    assert sorted(a.table["origin"].unique()) == [last_complete - pd.Timedelta(weeks=3), last_complete - pd.Timedelta(weeks=1)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"origins": ["2021-02-09"]}, "not the first day of a period"),
        ({"origins": ["2021-03-08"], "horizons": [2]}, "runs past the last complete period"),
        ({"origins": ["2021-01-04"]}, "no history"),
        ({"coverages": [500.0]}, "exceeds the study area"),
        ({"categories": ["fires"]}, "unknown category"),
        ({"horizons": [0]}, "must be >= 1"),
        ({"unit": "street"}, "unknown value 'street' for unit"),
        ({"rankers": [LastCounts(), LastCounts()]}, "share a name"),
    ],
)
def test_bad_evaluation_inputs(steady, kwargs, message):
    grid, panel, events = steady
    args = {"horizons": [1], "coverages": [16.0], "origins": ["2021-02-08"], "rankers": [LastCounts()]}
    args.update(kwargs)
    with pytest.raises(InputError, match=message):
        evaluate_hotspots(panel, grid, events, **args)


def test_the_evaluation_is_a_result_published_as_four_files(steady, tmp_path):
    grid, panel, events = steady
    res = evaluate_hotspots(panel, grid, events, horizons=[1], coverages=[16.0], origins=["2021-02-08"],
                            rankers=[KDERanker(4.0), LastCounts()], data_end="2021-03-14")
    assert isinstance(res, Result) and not isinstance(res, IntervalResult)  # no interval of a mean PAI is claimed
    assert res.to_frame() is res.table and isinstance(res.summary(), str)
    arts = res.artifacts()
    assert [a.name for a in arts] == ["metrics.csv", "means.csv", "timings.csv", "summary.txt"]
    assert [a.name for a in arts if a.logged] == ["means.csv"]
    write_artifacts(arts, tmp_path / "out")
    # the bytes the command wrote before it published through write_artifacts
    old = tmp_path / "old"
    old.mkdir()
    res.table.to_csv(old / "metrics.csv", index=False, lineterminator="\n")
    res.means().to_csv(old / "means.csv", index=False, lineterminator="\n")
    res.timings.to_csv(old / "timings.csv", index=False, lineterminator="\n")
    (old / "summary.txt").write_text(res.summary() + "\n", encoding="utf-8")
    for a in arts:
        assert (tmp_path / "out" / a.name).read_bytes() == (old / a.name).read_bytes(), a.name
