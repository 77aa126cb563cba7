"""Every registered hotspot ranker keeps the Ranker contract (like scikit-learn's ``check_estimator``).

The tests are parametrized over :data:`riskmodel.hotspots.RANKERS`, so a
ranker is tested by being registered: on the toy city of conftest.py, ``fit``
then ``expected`` gives one finite, non-negative value per cell, in the order
of ``GridCells.table``; one seed gives one result (and a ranker that does not
declare ``Needs(seed=True)`` ignores the seed); events on or after the origin
change nothing; and a ranker that knows the future scores a PAI at least as
high as the ranker's in every window. A ranker registered for one test is
evaluated by ``evaluate_hotspots`` and accepted by ``riskmodel hotspots
--ranker`` with no other edit. Options in a spec's
``extra["contract_options"]`` keep a ranker fast here (the forecast ranker
uses ``hmean``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.cli import main
from riskmodel.data.events import AreaPolygons
from riskmodel.data.grid import GridCells
from riskmodel.hotspots import (
    RANKERS,
    RankContext,
    Ranker,
    evaluate_hotspots,
    make_ranker,
    make_rankers,
    rank_context,
)
from riskmodel.hotspots.evaluate import cell_counts
from riskmodel.registry import Needs

from .conftest import AREAS, toy_events, toy_streets

NAMES = RANKERS.names()
H = 2


def _make(name: str) -> Ranker:
    return make_ranker(name, **RANKERS[name].extra.get("contract_options", {}))


def _toy_city(size: float, events: pd.DataFrame):
    grid = GridCells.build(toy_streets(), size)
    m = grid.map(events, x_col="x", y_col="y")
    return grid, grid.panel(m, "W", areas=AREAS), m.events


@pytest.fixture(scope="module")
def city():
    """The toy city with 4 m squares (cells split at the A|B border), 12 weeks of events; origin week 9."""
    grid, panel, events = _toy_city(4.0, toy_events(seed=3, n=500, weeks=12))
    origin = panel.periods[8]
    return grid, panel, events, origin


def _all_expected(ranker: Ranker, ctx: RankContext, categories: list[str]) -> dict[tuple[str, int], np.ndarray]:
    ranker.fit(ctx)
    return {(c, h): np.asarray(ranker.expected(c, h), dtype=float) for c in categories for h in range(1, H + 1)}


def _assert_same(a: dict, b: dict, **tol) -> None:
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], err_msg=str(k), **tol)


def test_the_catalogue_registers_the_four_rankers():
    assert NAMES[:4] == ("forecast", "kde", "last", "history")
    assert RANKERS.label("kde", "zh") == "核密度" and RANKERS.label("history", "en") == "historical counts"
    assert RANKERS["forecast"].needs.seed and not RANKERS["kde"].needs.seed


@pytest.mark.parametrize("name", NAMES)
def test_declared_options_are_the_rankers_constructor_keywords(name):
    # the catalogue names each ranker by reference (imported on first use, so that `hotspots --help`
    # imports no model) and declares its options: they are the constructor's keywords and defaults
    import inspect

    spec = RANKERS[name]
    assert spec.lazy and spec.target.__name__ == spec.ref.rpartition(":")[2]
    params = {k: p.default for k, p in inspect.signature(spec.target).parameters.items() if k != "name"}
    assert {o.name: o.default for o in spec.options} == params


@pytest.mark.parametrize("name", NAMES)
def test_fit_then_expected_gives_a_finite_nonnegative_value_per_cell(city, name):
    grid, panel, events, origin = city
    ctx = rank_context(panel, grid, events, origin, horizon=H, seed=0)
    r = _make(name)
    assert r.name == name or r.name.startswith(name + "_")  # the name in the results
    assert r.fit(ctx) is r
    for cat in [*panel.categories, "never seen"]:
        for h in range(1, H + 1):
            e = np.asarray(r.expected(cat, h))
            assert e.shape == (len(grid.table),), (cat, h)
            assert np.isfinite(e).all() and (e >= 0).all(), (cat, h)
            if cat == "never seen":
                assert (e == 0).all()
    # something is expected of the categories the history has
    assert any(np.asarray(r.expected(cat, 1)).sum() > 0 for cat in panel.categories)


@pytest.mark.parametrize("name", NAMES)
def test_cells_are_in_the_order_of_the_grid_table(city, name):
    grid, panel, events, origin = city
    perm = np.random.default_rng(0).permutation(len(grid.table))
    pol = grid.polygons
    shuffled = GridCells(
        table=grid.table.iloc[perm].reset_index(drop=True),
        polygons=AreaPolygons(ids=[pol.ids[i] for i in perm], geoms=[pol.geoms[i] for i in perm],
                              attributes=pol.attributes.iloc[perm].reset_index(drop=True), source=pol.source),
        size=grid.size, origin=grid.origin)
    a = _all_expected(_make(name), rank_context(panel, grid, events, origin, horizon=H), panel.categories)
    b = _all_expected(_make(name), rank_context(panel, shuffled, events, origin, horizon=H), panel.categories)
    _assert_same({k: v[perm] for k, v in a.items()}, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_one_seed_one_result(city, name):
    grid, panel, events, origin = city
    run = [_all_expected(_make(name), rank_context(panel, grid, events, origin, horizon=H, seed=s), panel.categories)
           for s in (7, 7, 8)]
    for k in run[0]:
        assert run[0][k].tobytes() == run[1][k].tobytes(), k
    if not RANKERS[name].needs.seed:
        # a ranker that does not declare Needs(seed=True) must not depend on the seed
        _assert_same(run[0], run[2], rtol=0, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_events_on_or_after_the_origin_change_nothing(city, name):
    grid, panel, events, origin = city
    ev = events.assign(timestamp=pd.to_datetime(events["timestamp"]))
    future = ev[ev["timestamp"] >= origin]
    assert len(future) > 0
    # three times the events from the origin on, in the same cells (same series, same periods)
    changed = pd.concat([ev, future, future], ignore_index=True)
    raw = changed[["timestamp", "category", "x", "y"]].assign(timestamp=changed["timestamp"].dt.strftime("%Y-%m-%d"))
    _, panel2, events2 = _toy_city(4.0, raw)
    assert panel2.counts["count"].sum() == panel.counts["count"].sum() + 2 * len(future)
    a = _all_expected(_make(name), rank_context(panel, grid, events, origin, horizon=H), panel.categories)
    b = _all_expected(_make(name), rank_context(panel2, grid, events2, origin, horizon=H), panel.categories)
    _assert_same(a, b, rtol=1e-12, atol=1e-12)


class Oracle(Ranker):
    """Knows the future: the window's actual counts (test only)."""

    name = "oracle"

    def __init__(self, panel, cells):
        self.future = cell_counts(panel, cells, panel.periods)

    def expected(self, category, h):
        i = len(self.ctx_.periods)  # the origin's position: the history is every period before it
        return self.future[category][i: i + h].sum(axis=0)


@pytest.mark.parametrize("name", NAMES)
def test_a_ranker_that_knows_the_future_scores_a_pai_at_least_as_high(name):
    # 1 m squares: no square is split or clipped, so every ranker flags the same number of squares
    # at a coverage, and the counts of the window's top squares are the most any flagged set can hold
    grid, panel, events = _toy_city(1.0, toy_events(seed=4, n=600, weeks=12))
    assert grid.table["area"].nunique() == 1
    res = evaluate_hotspots(panel, grid, events, horizons=[1, 2], coverages=[4.0, 10.0], windows=3,
                            rankers=[Oracle(panel, grid), _make(name)], seed=0)
    t = res.table.dropna(subset=["pai"])
    keys = ["category", "origin", "h", "coverage"]
    wide = t.pivot_table(index=keys, columns="method", values="pai")
    other = [c for c in wide.columns if c != "oracle"]
    assert len(other) == 1 and len(wide) >= 2 * 3 * 2 * 2 - 4
    assert (wide["oracle"] >= wide[other[0]] - 1e-12).all()
    assert (t.loc[t["method"] == "oracle", "pei_star"] == 1.0).all()


class ToyRanker(Ranker):
    """Closeness to (2, 2), times the cell's area: a fixed map that ignores the history."""

    def expected(self, category, h):
        t = self.ctx_.cells.table
        d = np.hypot(t["x"].to_numpy() - 2.0, t["y"].to_numpy() - 2.0)
        return h * self._area() / (1.0 + d)


@pytest.fixture()
def toy_registered(monkeypatch):
    """A ranker registered for one test (the registry is restored afterwards)."""
    monkeypatch.setattr(RANKERS, "_specs", dict(RANKERS._specs))
    RANKERS.register("toy", ToyRanker, labels={"zh": "玩具", "en": "toy"}, summary="closeness to (2, 2)",
                     needs=Needs(seed=False))
    yield "toy"


def test_a_registered_ranker_is_checked_evaluated_and_offered_by_the_command(toy_registered, city, toy_files,
                                                                             tmp_path, capsys):
    grid, panel, events, origin = city
    assert toy_registered in RANKERS.names()
    r = make_ranker("toy")
    assert r.name == "toy"
    e = r.fit(rank_context(panel, grid, events, origin, horizon=1)).expected("theft", 1)
    assert e.shape == (len(grid.table),) and grid.table["area_id"].iloc[int(np.argmax(e))] == "A-G0_0"
    res = evaluate_hotspots(panel, grid, events, horizons=[1], coverages=[16.0], origins=[origin],
                            rankers=make_rankers(["toy", "last"]))
    assert list(dict.fromkeys(res.table["method"])) == ["toy", "last"]
    out = tmp_path / "out"
    args = ["hotspots", "--events", str(toy_files["events"]), "--polygons", str(toy_files["polygons"]),
            "--id-field", "street", "--areas", str(toy_files["areas"]), "--cell-size", "4", "--coverage", "20",
            "--windows", "2", "--ranker", "toy", "--ranker", "history", "--lookback", "4", "--out", str(out),
            "--no-track"]
    assert main(args) == 0, capsys.readouterr().err
    m = pd.read_csv(out / "metrics.csv")
    assert list(dict.fromkeys(m["method"])) == ["toy", "history"]
