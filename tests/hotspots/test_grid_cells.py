"""Square grid cells nested in streets: geometry, counts at every level, forecasts and warnings per cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from riskmodel.alerts.detect import detect
from riskmodel.data.events import AreaPolygons, assign_polygons
from riskmodel.data.grid import GridCells
from riskmodel.data.portland import load_portland, load_portland_grid
from riskmodel.errors import InputError
from riskmodel.forecast.api import forecast_panel

from .conftest import AREAS, STREETS, toy_events, toy_streets


@pytest.fixture(scope="module")
def grid():
    return GridCells.build(toy_streets(), 4.0)


def test_cells_never_cross_a_street_and_tile_the_city(grid):
    t = grid.table
    # 3 x 3 squares over A (x 0..12 clipped at 10), 3 columns x 3 rows over B (x 8..20 clipped to 10..17)
    assert len(t) == 18
    assert t.groupby("parent_id")["area"].sum().to_dict() == pytest.approx({"A": 100.0, "B": 70.0})
    assert grid.total_area == pytest.approx(170.0)
    # the square [8, 12] x [0, 4] is split at x = 10 into two cells of 8 m2, one per street
    split = t[(t["col"] == 2) & (t["row"] == 0)].set_index("parent_id")
    assert split["area"].to_dict() == pytest.approx({"A": 8.0, "B": 8.0})
    assert split.loc["A", "area_id"] == "A-G2_0" and split.loc["B", "area_id"] == "B-G2_0"
    for row in t.itertuples():
        g = grid.polygons.geoms[row.Index]
        assert STREETS[row.parent_id].covers(g)
        assert g.area == pytest.approx(row.area)
    assert t["whole"].sum() == 6  # A: 2x2 full squares; B: column 3, rows 0-1
    sq, idx = grid.squares()
    assert len(sq) == 15 and sq["area"].sum() == pytest.approx(170.0)
    assert sq.set_index("square_id").loc["G2_0", "area"] == pytest.approx(16.0)
    assert (sq["square_id"].to_numpy()[idx] == ("G" + t["col"].astype(str) + "_" + t["row"].astype(str))).all()


def test_counts_add_up_from_cells_to_streets_to_district_to_city(grid):
    ev = toy_events(seed=3)
    m = grid.map(ev, x_col="x", y_col="y")
    assert m.n_unmatched == 0 and len(m.events) == len(ev)
    p = grid.panel(m, "W", areas=AREAS)
    assert set(p.hierarchy.levels) == {"grid", "street", "district", "city"}
    # the street of each event by point-in-polygon against the streets themselves
    street_of, _ = assign_polygons(ev["x"].to_numpy(), ev["y"].to_numpy(), toy_streets())
    truth = ev.assign(area_id=np.array(["A", "B"])[street_of])
    truth["period"] = pd.to_datetime(truth["timestamp"]) - pd.to_timedelta(pd.to_datetime(truth["timestamp"]).dt.day_of_week, unit="D")
    by_street = truth.groupby(["area_id", "category", "period"]).size()
    got = p.aggregate("street").counts.set_index(["area_id", "category", "period"])["count"]
    pd.testing.assert_series_equal(got[got > 0], by_street, check_names=False, check_index_type=False)
    total = p.counts.groupby(["category", "period"])["count"].sum()
    for level in ("street", "district", "city"):
        agg = p.aggregate(level).counts.groupby(["category", "period"])["count"].sum()
        pd.testing.assert_series_equal(agg, total)
    assert p.aggregate("city").counts["count"].sum() == len(ev)
    # every cell is in the hierarchy, with or without events; include_empty gives them series
    assert set(grid.ids) <= set(p.hierarchy.parent)
    full = grid.panel(m, "W", areas=AREAS, include_empty=True)
    assert len(full.series_ids) == len(grid.ids) * 2
    assert full.counts["count"].sum() == len(ev)


def test_forecasts_and_warnings_per_cell_reconcile_up(grid):
    m = grid.map(toy_events(seed=4, n=900, weeks=30), x_col="x", y_col="y")
    p = grid.panel(m, "W", areas=AREAS)
    h = p.hierarchy
    for method in ("bottom_up", "mint_shrink"):
        fr, _ = forecast_panel(p, 3, model="hmean", reconcile_method=method)
        fr = fr.assign(parent=fr["area_id"].map(h.parent))
        for parent, lv in (("A", "grid"), ("D1", "street"), ("CITY", "district")):
            kids = fr[(fr["area_id"].map(h.level) == lv) & (fr["parent"] == parent)]
            s = kids.groupby(["category", "period"])["mean"].sum()
            top = fr[fr["area_id"] == parent].set_index(["category", "period"])["mean"]
            np.testing.assert_allclose(s.sort_index().to_numpy(), top.sort_index().to_numpy(), rtol=1e-9)
    daily = grid.panel(m, "D", areas=AREAS)
    det = detect(daily, "ears-c2")
    assert set(det.table["area_id"]) == set(daily.area_ids)
    assert set(daily.hierarchy.level[a] for a in det.table["area_id"]) == {"grid"}
    assert (det.table["reason"] == "").any()


def test_points_on_borders_go_to_the_first_street():
    g = GridCells.build(toy_streets(), 4.0)
    ev = pd.DataFrame({"timestamp": "2021-01-04", "category": "x", "x": [10.0, 8.0, 17.0], "y": [1.0, 2.0, 10.0]})
    m = g.map(ev, x_col="x", y_col="y")
    assert m.events["area_id"].tolist() == ["A-G2_0", "A-G1_0", "B-G4_2"]


def test_bad_grid_inputs():
    with pytest.raises(InputError, match="cell size must be a positive"):
        GridCells.build(toy_streets(), 0)
    with pytest.raises(InputError, match="grid squares"):
        GridCells.build(toy_streets(), 1e-4)
    g = GridCells.build(toy_streets(), 4.0)
    with pytest.raises(InputError, match="not in the areas table: B"):
        g.areas_table(AREAS[AREAS["area_id"] != "B"])
    ev = pd.DataFrame({"timestamp": ["2021-01-04", "2021-01-05"], "category": "x", "x": [50.0, 1.0], "y": [1.0, 1.0]})
    m = g.map(ev, x_col="x", y_col="y")
    assert m.unmatched["reason"].tolist() == ["outside every polygon"]
    with pytest.raises(InputError, match="missing column"):
        g.map(ev, x_col="lon", y_col="y")


def test_invalid_polygon_is_repaired_without_losing_area():
    bowtie = shapely.Polygon([(0, 0), (4, 4), (4, 0), (0, 4), (0, 0)])  # self-intersecting ring
    polys = AreaPolygons(ids=["Z"], geoms=[bowtie], attributes=pd.DataFrame({"area_id": ["Z"]}))
    g = GridCells.build(polys, 2.0)
    assert g.total_area == pytest.approx(shapely.make_valid(bowtie).area)


def test_portland_grid_adds_up_to_the_districts(reference_dir):
    d = reference_dir / "portland"
    grid = load_portland_grid(d, cell_size=2000.0, freq="M")
    districts = load_portland(d, freq="M")
    got = grid.panel.aggregate("district").counts.astype({"area_id": object, "category": object})
    want = districts.counts.astype({"area_id": object, "category": object})
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    assert grid.cells.total_area == pytest.approx(sum(g.area for g in AreaPolygons.read(
        d / "Portland_Police_Districts.shp", id_field="DISTRICT").geoms), rel=1e-9)
    assert grid.panel.meta["n_unmatched"] == 0
