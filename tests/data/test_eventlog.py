"""Event logs counted out of core (DuckDB + the raster/STRtree locator) == the pandas path, row for row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from riskmodel.data.eventlog import PointLocator, count_events
from riskmodel.data.events import AreaPolygons, assign_polygons, events_to_counts, map_events
from riskmodel.data.grid import GridCells, cells_from_files
from riskmodel.errors import InputError
from riskmodel.io_safety import csv_text


@pytest.fixture(scope="module")
def streets(sample_dir):
    return AreaPolygons.read(sample_dir / "grid_cells.geojson", id_field="area_id")


@pytest.fixture(scope="module")
def events(sample_dir):
    """3,000 of the sample city's events plus every kind of bad or awkward row, as strings (a CSV's view)."""
    ev = pd.read_csv(sample_dir / "events_grid.csv.gz", dtype=str).iloc[::24].head(3000).reset_index(drop=True)
    odd = pd.DataFrame({
        "event_id": [f"X{i}" for i in range(12)],
        "timestamp": ["2019-02-30 10:00:00", "", "2019/03/05 10:00", "5 March 2019", "2019-03-04T23:59:59",
                      "2019-12-30 00:00:00", "2020-12-31 23:59:59.5", "2021-01-01", "2019-06-01 08:00:00",
                      "2019-06-01 08:00:00", "2019-06-01 08:00:00", "2019-06-01 24:00:00"],
        "category": ["alerts"] * 9 + ["fires", "", "disputes"],
        # outside, missing, not a number, on a grid line, on a cell corner, on the street's edge, 1_000
        "x": ["4500", "4500", "4500", "4500", "4500", "4500", "4500", "99999", "", "4500.0", "1_000", "5000"],
        "y": ["6100", "6100", "6100", "6100", "6100", "6100", "6100", "6100", "6100", "abc", "6100", "6500"],
        "area_id": "", "grid_id": "",
    })
    odd.loc[5, ["x", "y"]] = ["4500", "6500"]   # a 500 m grid line (origin 4000, 0)
    odd.loc[6, ["x", "y"]] = ["5000", "6000"]   # a grid corner on the street's lower edge
    return pd.concat([ev, odd], ignore_index=True)


def _write_csv(df, path, encoding="utf-8"):
    path.write_bytes(df.to_csv(index=False).encode(encoding))
    return path


def _same_unmatched(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert csv_text(a) == csv_text(b)


@pytest.mark.parametrize("freq", ["W", "Y"])
def test_grid_cells_identical_to_the_pandas_path(tmp_path, sample_dir, events, freq):
    f = _write_csv(events, tmp_path / "events.csv")
    poly = sample_dir / "grid_cells.geojson"
    c1, m1, p1, _ = cells_from_files(f, poly, "area_id", 500, freq, engine="pandas")
    c2, m2, p2, _ = cells_from_files(f, poly, "area_id", 500, freq, engine="duckdb", keep_events=True)
    pd.testing.assert_frame_equal(p1.counts, p2.counts)
    assert csv_text(p1.counts) == csv_text(p2.counts)
    _same_unmatched(m1.unmatched, m2.unmatched)
    assert m1.n_unmatched == m2.n_unmatched == 7  # 3 bad dates, outside, missing x, 'abc', no category
    assert m1.on_border == m2.on_border > 0      # the grid line and the corner
    assert p1.meta["n_events"] == p2.meta["n_events"] == len(events)
    cols = ["timestamp", "category", "area_id", "x", "y"]  # what the hotspot rankers read
    pd.testing.assert_frame_equal(m1.events[cols].reset_index(drop=True), m2.events[cols])
    assert m2.reasons == {"timestamp is not a date": 3, "outside every polygon": 1, "no category": 1,
                          "coordinates missing or not numbers": 2}


def test_periods_follow_monday_weeks_months_and_years(tmp_path, streets):
    ev = pd.DataFrame({"timestamp": ["2019-12-29 23:59:59", "2019-12-30 00:00:00", "2020-01-05", "2020-02-29 12:00",
                                     "2020-12-31 23:59:59", "2021-01-01 00:00:00"],
                       "category": "c", "x": "4100", "y": "6100"})
    f = _write_csv(ev, tmp_path / "e.csv")
    got = {q: count_events(f, freq=q, polygons=streets).counts for q in "DWMY"}
    assert got["W"]["period"].dt.strftime("%Y-%m-%d").tolist() == ["2019-12-23", "2019-12-30", "2020-02-24",
                                                                  "2020-12-28"]
    assert got["W"]["count"].tolist() == [1, 2, 1, 2]
    assert got["M"]["period"].dt.strftime("%Y-%m").tolist() == ["2019-12", "2020-01", "2020-02", "2020-12", "2021-01"]
    assert got["Y"]["count"].tolist() == [2, 3, 1]
    for q in "DWMY":
        ref = events_to_counts(map_events(ev, x_col="x", y_col="y", polygons=streets), q)
        pd.testing.assert_frame_equal(got[q], ref)


def test_area_id_column_instead_of_coordinates(tmp_path, events):
    f = _write_csv(events, tmp_path / "events.csv")  # the odd rows have no area id
    ref = map_events(events.assign(area_id=events["area_id"].replace("", None)), source=str(f), area_col="area_id")
    got = count_events(f, freq="M", area_col="area_id")
    pd.testing.assert_frame_equal(got.counts, events_to_counts(ref, "M"))
    _same_unmatched(ref.unmatched, got.unmatched)
    assert got.reasons["no area id"] == 12 - 3 - 1  # the odd rows with a good date and a category


def test_street_counts_and_unmatched_identical(tmp_path, streets, events):
    f = _write_csv(events, tmp_path / "events.csv")
    ref = map_events(events, source=str(f), x_col="x", y_col="y", polygons=streets)
    got = count_events(f, freq="D", polygons=streets)
    pd.testing.assert_frame_equal(got.counts, events_to_counts(ref, "D"))
    _same_unmatched(ref.unmatched, got.unmatched)
    assert got.n_matched == len(ref.events)


def test_parquet_input(tmp_path, streets, events):
    typed = events.assign(x=pd.to_numeric(events["x"], errors="coerce"), y=pd.to_numeric(events["y"], errors="coerce"),
                          timestamp=pd.to_datetime(events["timestamp"], errors="coerce", format="mixed"))
    f = tmp_path / "events.parquet"
    typed.to_parquet(f)
    ref = map_events(pd.read_parquet(f), source=str(f), x_col="x", y_col="y", polygons=streets)
    got = count_events(f, freq="W", polygons=streets)
    pd.testing.assert_frame_equal(got.counts, events_to_counts(ref, "W"))
    assert got.n_unmatched == ref.n_unmatched == 7


def test_gbk_csv_with_chinese_headers(tmp_path, streets, events):
    ev = events.assign(category=events["category"].map({"alerts": "报警", "fires": "火灾"}).fillna("纠纷"))
    utf = _write_csv(ev, tmp_path / "events.csv")
    zh = ev.rename(columns={"timestamp": "警情时间", "x": "经度", "y": "纬度", "category": "类别"})
    gbk = _write_csv(zh, tmp_path / "events_gbk.csv", encoding="gbk")
    got = count_events(gbk, freq="M", polygons=streets)
    want = count_events(utf, freq="M", polygons=streets)
    pd.testing.assert_frame_equal(got.counts, want.counts)
    assert set(got.counts["category"]) == {"报警", "火灾", "纠纷"}
    assert any("GB18030" in n for n in got.notes)
    assert any("read 警情时间 as timestamp" in n and "经度 as x" in n for n in got.notes)


def test_gbk_beyond_the_sniffed_start_is_transcoded(tmp_path, streets, events, monkeypatch):
    from riskmodel.data import eventlog

    monkeypatch.setattr(eventlog, "_SNIFF", 2048)  # the first 2 KiB are ASCII, Chinese categories come later
    ev = events.assign(category=np.where(np.arange(len(events)) < 500, "alerts", "纠纷"))
    gbk = _write_csv(ev, tmp_path / "late.csv", encoding="gbk")
    got = count_events(gbk, freq="Y", polygons=streets)
    want = count_events(_write_csv(ev, tmp_path / "utf8.csv"), freq="Y", polygons=streets)
    pd.testing.assert_frame_equal(got.counts, want.counts)
    assert any("GB18030" in n for n in got.notes)


def test_gzip_csv_and_missing_columns(tmp_path, streets, events):
    f = tmp_path / "events.csv.gz"
    f.write_bytes(__import__("gzip").compress(events.to_csv(index=False).encode()))
    assert count_events(f, freq="M", polygons=streets).n_events == len(events)
    with pytest.raises(InputError, match=r"missing column\(s\) lon"):
        count_events(f, freq="M", polygons=streets, x_col="lon")
    both = _write_csv(events.assign(经度=events["x"], lon=events["x"]).drop(columns="x"), tmp_path / "two.csv")
    with pytest.raises(InputError, match="several headers"):
        count_events(both, freq="M", polygons=streets)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("timestamp,category,x,y\n2019-01-01,a,4100,6100\n2019-01-02,a,4100\n", encoding="utf-8")
    short = count_events(ragged, freq="D", polygons=streets)  # a short row: missing values, as pandas reads it
    assert short.reasons == {"coordinates missing or not numbers": 1} and short.unmatched["_line"].tolist() == [3]
    ragged.write_text("timestamp,category,x,y\n2019-01-01,a,4100,6100\n2019-01-02,a,4100,6100,9\n")
    with pytest.raises(InputError, match="cannot parse as CSV: CSV Error on Line: 3.*Expected Number of Columns: 4"):
        count_events(ragged, freq="D", polygons=streets)


def test_sqlite_database_input(tmp_path, streets, events):
    import sqlite3

    db = tmp_path / "city.db"
    with sqlite3.connect(db) as con:
        events.assign(x=pd.to_numeric(events["x"], errors="coerce")).to_sql("events", con, index=False)
    url = f"sqlite:///{db}?table=events"
    got = count_events(url, freq="W", polygons=streets, batch_rows=1000)  # 4 chunks of the database's rows
    csv = count_events(_write_csv(events, tmp_path / "events.csv"), freq="W", polygons=streets)
    pd.testing.assert_frame_equal(got.counts, csv.counts)
    assert got.n_unmatched == csv.n_unmatched == 7
    assert got.unmatched["_line"].tolist() == csv.unmatched["_line"].tolist()


def test_far_dates_refused_like_the_pandas_path(tmp_path, streets, events):
    ev = events.copy()
    ev.loc[10, "timestamp"] = "1901-01-01"
    ev.loc[1500, "timestamp"] = "2199-01-01 08:00"  # beyond today + 10 years: the other refusal
    f = _write_csv(ev, tmp_path / "events.csv")
    with pytest.raises(InputError) as ref:
        map_events(ev, source=str(f), x_col="x", y_col="y", polygons=streets)
    with pytest.raises(InputError) as got:
        count_events(f, freq="D", polygons=streets, batch_rows=500)
    assert str(got.value) == str(ref.value)
    assert "line 12 ('1901-01-01')" in str(got.value) and "line 1502 ('2199-01-01 08:00')" in str(got.value)


def test_unmatched_table_capped_with_a_note(tmp_path, streets, events):
    f = _write_csv(events, tmp_path / "events.csv")
    got = count_events(f, freq="D", polygons=streets, max_unmatched_rows=2, batch_rows=1000)
    assert got.n_unmatched == 7 and len(got.unmatched) == 2
    assert any("lists the first 2" in n for n in got.notes)
    nothing = _write_csv(events.assign(x="1e9"), tmp_path / "far.csv")
    with pytest.raises(InputError, match="no event could be placed"):
        count_events(nothing, freq="D", polygons=streets)


def test_locator_exact_on_borders_and_invalid_polygons():
    """The raster shortcut answers exactly as assign_polygons: shared borders, vertices, a bow-tie, holes."""
    rng = np.random.default_rng(5)
    squares = [shapely.box(i * 10, j * 10, (i + 1) * 10, (j + 1) * 10) for i in range(4) for j in range(4)]
    bowtie = shapely.Polygon([(40, 0), (50, 10), (50, 0), (40, 10)])  # invalid
    ring = shapely.Point(20, 20).buffer(6).difference(shapely.Point(20, 20).buffer(2))
    geoms = [*squares, bowtie, ring]
    polys = AreaPolygons(ids=[str(i) for i in range(len(geoms))], geoms=geoms, attributes=pd.DataFrame())
    x = np.r_[rng.uniform(-5, 55, 20000), rng.integers(0, 6, 2000) * 10.0, np.full(50, 20.0)]
    y = np.r_[rng.uniform(-5, 45, 20000), rng.uniform(0, 40, 2000), np.linspace(14, 26, 50)]
    want, n_border = assign_polygons(x, y, polys)
    got, multi = PointLocator(geoms, max_cells=4096).locate(x, y)
    np.testing.assert_array_equal(got, want)
    assert int(multi.sum()) == n_border > 1000


def test_grid_cells_on_portland_identical(reference_dir, tmp_path):
    """Real districts (two invalid polygons, calls on shared borders) cut by 2,000 ft squares."""
    d = reference_dir / "portland"
    streets = AreaPolygons.read(d / "Portland_Police_Districts.shp", id_field="DISTRICT")
    cells = GridCells.build(streets, 2000.0)
    ev = pd.read_csv(d / "crimes_bur.csv", dtype=str)
    ref = cells.map(ev, x_col="x_coordina", y_col="y_coordina", time_col="occ_date", category="burglary")
    got = count_events(d / "crimes_bur.csv", freq="W", polygons=streets, cells=cells, time_col="occ_date",
                       x_col="x_coordina", y_col="y_coordina", category_col=None, category="burglary")
    pd.testing.assert_frame_equal(got.counts, events_to_counts(ref, "W"))
    assert got.on_border == ref.on_border and got.n_unmatched == ref.n_unmatched
    street = count_events(d / "crimes_bur.csv", freq="M", polygons=streets, time_col="occ_date",
                          x_col="x_coordina", y_col="y_coordina", category_col=None, category="burglary")
    sref = map_events(ev, x_col="x_coordina", y_col="y_coordina", time_col="occ_date", category="burglary",
                      category_col=None, polygons=streets)
    pd.testing.assert_frame_equal(street.counts, events_to_counts(sref, "M"))
    assert street.on_border == sref.on_border


def test_cli_grid_on_the_sample_city_byte_identical(tmp_path, sample_dir):
    from typer.testing import CliRunner

    from riskmodel.cli import app

    out = tmp_path / "grid"
    r = CliRunner().invoke(app, ["grid", "--events", str(sample_dir / "events_grid.csv.gz"), "--polygons",
                                 str(sample_dir / "grid_cells.geojson"), "--id-field", "area_id",
                                 "--cell-size", "500", "--freq", "D", "--out", str(out)])
    assert r.exit_code == 0, r.output
    cells, mapping, panel, above = cells_from_files(sample_dir / "events_grid.csv.gz", sample_dir / "grid_cells.geojson",
                                                    "area_id", 500, "D", engine="pandas")
    counts = panel.counts.assign(period=lambda d: d["period"].dt.strftime("%Y-%m-%d"))
    assert (out / "counts.csv").read_text(encoding="utf-8") == csv_text(counts)
    assert (out / "cells.csv").read_text(encoding="utf-8") == csv_text(cells.table)
    assert (out / "unmatched.csv").read_text(encoding="utf-8") == csv_text(mapping.unmatched)
    assert "73,315 events in 36 cells" in r.output
