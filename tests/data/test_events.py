"""Events -> areas -> counts: Portland's real calls, grid cells, the sample city's events."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely

from riskmodel.data import IncidentPanel
from riskmodel.data.events import AreaPolygons, assign_polygons, grid_cell_ids
from riskmodel.data.portland import load_portland
from riskmodel.errors import InputError


@pytest.fixture(scope="module")
def portland(reference_dir):
    return load_portland(reference_dir / "portland", freq="M")


def test_portland_every_event_in_exactly_one_district_or_reported(portland, reference_dir):
    n_in_files = sum(
        len(pd.read_csv(reference_dir / "portland" / f)) for f in ("crimes_bur.csv", "crimes_veh.csv")
    )
    assert portland.meta["n_events"] == n_in_files == 5364 + 9842
    assert portland.counts["count"].sum() + portland.meta["n_unmatched"] == n_in_files
    assert portland.meta["n_unmatched"] == 0
    # exactly one: an independent count with shapely's `covers` per district
    polys = AreaPolygons.read(reference_dir / "portland" / "Portland_Police_Districts.shp", id_field="DISTRICT")
    ev = pd.read_csv(reference_dir / "portland" / "crimes_bur.csv")
    pts = shapely.points(ev["x_coordina"].to_numpy(float), ev["y_coordina"].to_numpy(float))
    hits = np.zeros(len(pts), dtype=int)
    for g in polys.geoms:
        hits += shapely.covers(g, pts)
    assert (hits >= 1).all()
    assert (hits == 1).mean() > 0.999  # the rest lie on a shared border


def test_portland_totals_add_up_at_every_level(portland):
    assert len(portland.area_ids) == 60
    assert portland.freq == "M"
    assert portland.counts["period"].min() == pd.Timestamp("2012-03-01")
    assert portland.counts["period"].max() == pd.Timestamp("2017-05-01")
    total = portland.counts.groupby(["category", "period"])["count"].sum()
    for level in ("precinct", "city"):
        agg = portland.aggregate(level).counts.groupby(["category", "period"])["count"].sum()
        pd.testing.assert_series_equal(agg, total)
    by_cat = portland.counts.groupby("category")["count"].sum()
    assert by_cat.to_dict() == {"burglary": 5364, "vehicle_theft": 9842}
    city = portland.aggregate("city")
    assert city.area_ids == ["PDX"]


def test_unmatched_events_are_counted_with_reasons(tmp_path):
    square = {"type": "Feature", "properties": {"id": "A"},
              "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]}}
    square2 = {"type": "Feature", "properties": {"id": "B"},
               "geometry": {"type": "Polygon", "coordinates": [[[10, 0], [20, 0], [20, 10], [10, 10], [10, 0]]]}}
    gj = tmp_path / "areas.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": [square, square2]}))
    polys = AreaPolygons.read(gj, id_field="id")
    ev = pd.DataFrame({
        "timestamp": ["2021-01-01 10:00", "2021-01-02", "2021-01-03", "not a date", "2021-01-05"],
        "category": "x",
        "x": [5, 10, 50, 5, None],   # inside A, on the A|B border, outside, bad time, no x
        "y": [5, 5, 5, 5, 5],
    })
    p = IncidentPanel.from_events(ev, freq="D", x_col="x", y_col="y", polygons=polys)
    assert p.meta["n_unmatched"] == 3
    reasons = sorted(p.meta["unmatched"]["reason"])
    assert reasons == ["coordinates missing or not numbers", "outside every polygon", "timestamp is not a date"]
    assert p.counts["count"].sum() == 2
    assert p.counts.groupby("area_id")["count"].sum().to_dict() == {"A": 2}  # the border point goes to the first


def test_grid_cells():
    ids = grid_cell_ids(np.array([0.0, 399.9, 400.0, -0.1]), np.array([0.0, 0.0, 800.0, 0.0]), 400.0)
    assert ids.tolist() == ["G0_0", "G0_0", "G1_2", "G-1_0"]
    with pytest.raises(InputError, match="positive"):
        grid_cell_ids(np.array([0.0]), np.array([0.0]), 0.0)


def test_sample_events_add_up_to_street_counts(sample_dir):
    ev = pd.read_csv(sample_dir / "events_grid.csv.gz")
    polys = AreaPolygons.read(sample_dir / "grid_cells.geojson", id_field="grid_id")
    got, _ = assign_polygons(ev["x"].to_numpy(), ev["y"].to_numpy(), polys)
    assert (got >= 0).all()
    # the point-in-polygon cell agrees with the recorded cell (points are inside cells, not on borders)
    assert (np.array(polys.ids)[got] == ev["grid_id"].to_numpy()).mean() > 0.999
    grid = IncidentPanel.from_events(ev, freq="D", area_col="grid_id", areas=sample_dir / "areas.csv")
    streets = grid.aggregate("area").counts
    daily = pd.read_csv(sample_dir / "counts_daily.csv.gz", parse_dates=["period"])
    daily = daily[daily.area_id.isin(["ZH-XZ-XW", "ZH-XZ-GB"]) & daily.category.isin(streets.category.unique())
                  & (daily.period >= "2019-01-01")]
    merged = daily.merge(streets, on=["area_id", "category", "period"], how="left", suffixes=("", "_ev"))
    assert (merged["count_ev"].fillna(0) == merged["count"]).all()
