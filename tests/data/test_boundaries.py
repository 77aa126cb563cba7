"""Area boundaries: reading GeoJSON and shapefiles, reprojection, validation, the sample city's, Portland's."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
import shapefile
import shapely
from pyproj import CRS, Transformer

from riskmodel.cli import main
from riskmodel.data.boundaries import AreaBoundaries, read_boundaries, utm_crs
from riskmodel.data.sample_boundaries import LOCAL_PLANE_CRS, boundaries_geojson
from riskmodel.data.sample_city import STREETS
from riskmodel.errors import ConfigError, InputError

# --------------------------------------------------------------------------- helpers


def square(x0: float, y0: float, s: float) -> list[list[float]]:
    """A closed counter-clockwise square ring."""
    return [[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s], [x0, y0]]


def write_geojson(path, features, crs: str | None = None, **top) -> str:
    gj = {"type": "FeatureCollection", **top, "features": [
        {"type": "Feature", "properties": props, "geometry": geom} for props, geom in features]}
    if crs is not None:
        gj["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(gj), encoding="utf-8")
    return str(path)


def poly(ring) -> dict:
    return {"type": "Polygon", "coordinates": [ring]}


def write_shapefile(base, rows, prj: str | None = None, field: str = "area_id"):
    """rows: (id, [ring, ...]) with rings as lists of (x, y); pyshp writes them as given."""
    with shapefile.Writer(str(base), shapeType=shapefile.POLYGON) as w:
        w.field(field, "C", size=20)
        for rid, rings in rows:
            w.poly([[tuple(p) for p in r[::-1]] for r in rings])  # ESRI: exterior rings clockwise
            w.record(rid)
    if prj is not None:
        base.with_suffix(".prj").write_text(prj, encoding="utf-8")
    return base.with_suffix(".shp")


AREAS = pd.DataFrame({
    "area_id": ["C", "D1", "D2", "A", "B", "E", "F"],
    "parent_id": [None, "C", "C", "D1", "D1", "D2", "D2"],
    "level": ["city", "district", "district", "area", "area", "area", "area"],
})


def meridian_arc(phi_deg: float) -> float:
    """Distance (m) from the equator along a WGS84 meridian (Snyder 1987, eq. 3-21)."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    phi = math.radians(phi_deg)
    return a * ((1 - e2 / 4 - 3 * e2**2 / 64 - 5 * e2**3 / 256) * phi
                - (3 * e2 / 8 + 3 * e2**2 / 32 + 45 * e2**3 / 1024) * math.sin(2 * phi)
                + (15 * e2**2 / 256 + 45 * e2**3 / 1024) * math.sin(4 * phi)
                - (35 * e2**3 / 3072) * math.sin(6 * phi))


# --------------------------------------------------------------------------- reading, CRS


def test_utm_zone_of_known_places():
    assert utm_crs(113.55, 22.22) == "EPSG:32649"  # Zhuhai: zone 49N (105-111-117 E)
    assert utm_crs(-122.68, 45.52) == "EPSG:32610"  # Portland: zone 10N
    assert utm_crs(151.21, -33.87) == "EPSG:32756"  # Sydney: zone 56S
    assert utm_crs(180.0, 0.0) == "EPSG:32660"


def test_geojson_lonlat_is_reprojected_to_utm_against_the_closed_form(tmp_path):
    # a square whose south-west corner is on zone 49's central meridian (111 E) at 22.25 N: there the
    # easting is exactly 500,000 m and the northing 0.9996 x the meridian arc (closed form, not pyproj)
    ring = square(111.0, 22.25, 0.01)
    f = write_geojson(tmp_path / "b.geojson", [({"area_id": "A"}, poly(ring)),
                                                ({"area_id": "B"}, {"type": "MultiPolygon", "coordinates": [
                                                    [square(111.02, 22.25, 0.01)], [square(111.04, 22.25, 0.01)]]})])
    b = read_boundaries(f)
    assert b.crs == "EPSG:32649"
    x, y = shapely.get_coordinates(b.geometries["A"]).min(axis=0)
    assert x == pytest.approx(500_000.0, abs=1e-3)
    assert y == pytest.approx(0.9996 * meridian_arc(22.25), abs=1e-3)
    assert b.geometries["B"].geom_type == "MultiPolygon" and len(b.geometries["B"].geoms) == 2
    # 0.01 degree of latitude is about 1,107 m, of longitude about 1,031 m at 22.25 N
    assert b.geometries["A"].area == pytest.approx(1107 * 1031, rel=0.01)
    assert any("reprojected to the UTM zone of their centre, EPSG:32649" in n for n in b.notes)
    assert b.source == "b.geojson" and not b.simulated


def test_geojson_declared_projected_crs_in_metres_is_kept(tmp_path):
    f = write_geojson(tmp_path / "b.geojson", [({"area_id": "A"}, poly(square(500_000, 2_460_000, 1000)))],
                      crs="EPSG:32649")
    b = read_boundaries(f)
    assert CRS.from_user_input(b.crs).to_epsg() == 32649
    assert b.geometries["A"].bounds == (500_000, 2_460_000, 501_000, 2_461_000)
    assert not any("reprojected" in n for n in b.notes)


def test_geojson_without_crs_and_projected_coordinates_is_refused(tmp_path):
    f = write_geojson(tmp_path / "b.geojson", [({"area_id": "A"}, poly(square(500_000, 2_460_000, 1000)))])
    with pytest.raises(InputError, match=r"not longitude/latitude, yet the file declares no 'crs'"):
        read_boundaries(f)


def test_shapefile_with_prj_in_metres_is_read_as_it_is(tmp_path):
    shp = write_shapefile(tmp_path / "b", [("A", [square(500_000, 2_460_000, 1000)]),
                                           ("B", [square(501_000, 2_460_000, 1000)])],
                          prj=CRS.from_epsg(32649).to_wkt(version="WKT1_ESRI"))
    b = read_boundaries(shp, areas=pd.DataFrame({"area_id": ["A", "B"], "level": "area"}))
    assert CRS.from_user_input(b.crs).equals(CRS.from_epsg(32649))
    assert b.geometries["A"].area == pytest.approx(1e6)
    assert b.geometries["B"].bounds == (501_000, 2_460_000, 502_000, 2_461_000)
    assert b.notes == ()


def test_shapefile_in_us_feet_is_reprojected_to_metres(tmp_path):
    # Oregon North State Plane (international feet, as the Portland file): a 1,000 ft square is 92,903 m2
    shp = write_shapefile(tmp_path / "b", [("A", [square(7_650_000, 690_000, 1000)])],
                          prj=CRS.from_epsg(2913).to_wkt(version="WKT1_ESRI"))
    b = read_boundaries(shp)
    assert b.crs == "EPSG:32610"
    assert b.geometries["A"].area == pytest.approx(1000**2 * 0.3048**2, rel=2e-3)  # both projections' scale ~1
    assert any("foot" in n and "EPSG:32610" in n for n in b.notes)


def test_shapefile_without_prj(tmp_path):
    lonlat = write_shapefile(tmp_path / "ll", [("A", [square(113.5, 22.2, 0.01)])])
    b = read_boundaries(lonlat)
    assert b.crs == "EPSG:32649"
    assert any("has no .prj" in n and "taken as WGS84" in n for n in b.notes)
    metres = write_shapefile(tmp_path / "m", [("A", [square(500_000, 2_460_000, 1000)])])
    with pytest.raises(InputError, match=r"no \.prj .* not longitude/latitude: add the \.prj"):
        read_boundaries(metres)


def test_shapefile_attributes_in_gbk_without_cpg(tmp_path):
    with shapefile.Writer(str(tmp_path / "gbk"), shapeType=shapefile.POLYGON, encoding="gbk") as w:
        w.field("name", "C", size=20)
        w.poly([[(113.5, 22.2), (113.5, 22.21), (113.51, 22.21), (113.51, 22.2), (113.5, 22.2)]])
        w.record("拱北街道")
    b = read_boundaries(tmp_path / "gbk.shp", id_column="name")
    assert b.ids == ["拱北街道"]
    assert any("not UTF-8" in n and "GBK" in n for n in b.notes)


def test_named_id_column_and_id_format(tmp_path):
    shp = write_shapefile(tmp_path / "b", [("510", [square(113.5, 22.2, 0.01)])], field="DISTRICT")
    b = read_boundaries(shp, id_column="DISTRICT", id_format="D{}",
                        areas=pd.DataFrame({"area_id": ["D510"], "level": "district"}))
    assert b.ids == ["D510"]
    with pytest.raises(InputError, match=r"no id property 'area_id' .* available: DISTRICT"):
        read_boundaries(shp)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(("features", "message"), [
    ([({"area_id": "A"}, poly(square(113.5, 22.2, 0.01))), ({"area_id": "Z"}, poly(square(113.6, 22.2, 0.01)))],
     r"1 feature\(s\) have ids that are not in the areas table: feature #2 \(area_id 'Z'\)"),
    ([({"area_id": "A"}, poly(square(113.5, 22.2, 0.01))), ({"area_id": "A"}, poly(square(113.6, 22.2, 0.01)))],
     r"1 area id\(s\) have more than one feature .*'A' \(features #1, #2\)"),
    ([({"area_id": "A"}, poly([[113.5, 22.2], [113.6, 22.3], [113.6, 22.2], [113.5, 22.3], [113.5, 22.2]]))],
     r"invalid polygons \(riskmodel does not repair them.*feature #1 \(area_id 'A'\): Self-intersection\[113.55 22.25\]"),
    ([({"area_id": "A"}, {"type": "Point", "coordinates": [113.5, 22.2]})],
     r"are not polygons .*feature #1 \(area_id 'A'\) is a Point"),
    ([({"area_id": "A"}, None)], r"have no geometry \(null\).*feature #1 \(area_id 'A'\)"),
    ([({"area_id": ""}, poly(square(113.5, 22.2, 0.01)))], r"have an empty 'area_id': feature #1"),
    ([({"area_id": "Q"}, poly(square(113.5, 22.2, 0.01)))],
     r"none of the 1 feature ids is an area of the areas table .*is 'area_id' the right id column"),
])
def test_bad_features_are_refused_naming_the_file_and_feature(tmp_path, features, message):
    f = write_geojson(tmp_path / "bad.geojson", features)
    with pytest.raises(InputError, match=message) as exc:
        read_boundaries(f, areas=AREAS)
    assert "bad.geojson" in str(exc.value)


def test_empty_polygon_is_refused(tmp_path):
    f = write_geojson(tmp_path / "bad.geojson", [({"area_id": "A"}, {"type": "Polygon", "coordinates": []})])
    with pytest.raises(InputError, match=r"1 feature\(s\) have an empty geometry: feature #1 \(area_id 'A'\)"):
        read_boundaries(f)


def test_all_problems_are_reported_at_once(tmp_path):
    bowtie = [[113.5, 22.2], [113.6, 22.3], [113.6, 22.2], [113.5, 22.3], [113.5, 22.2]]
    f = write_geojson(tmp_path / "bad.geojson", [({"area_id": "A"}, poly(bowtie)), ({"area_id": "Z"}, None),
                                                  ({"area_id": "B"}, poly(square(113.6, 22.2, 0.01)))])
    with pytest.raises(InputError) as exc:
        read_boundaries(f, areas=AREAS)
    assert len(exc.value.problems) == 3  # invalid, null, unknown id


@pytest.mark.parametrize(("name", "text", "message"), [
    ("b.csv", "area_id\nA\n", r"must be a GeoJSON \(\.geojson, \.json\) or ESRI shapefile \(\.shp\), not '\.csv'"),
    ("b.json", "[1, 2]", r"not a GeoJSON FeatureCollection"),
    ("b.geojson", "{not json", r"not a GeoJSON file: not valid JSON"),
    ("b.geojson", '{"type": "Feature", "geometry": null}', r"not a GeoJSON FeatureCollection \(type 'Feature'\)"),
    ("b.shp", "not a shapefile", r"not a readable ESRI shapefile"),
])
def test_files_that_are_not_geojson_or_shapefiles(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(InputError, match=message):
        read_boundaries(tmp_path / name)


def test_shapefile_without_its_dbf(tmp_path):
    shp = write_shapefile(tmp_path / "b", [("A", [square(113.5, 22.2, 0.01)])])
    shp.with_suffix(".dbf").unlink()
    with pytest.raises(InputError, match=r"b\.shp: not a readable ESRI shapefile \(the \.shp with its \.shx and \.dbf\)"):
        read_boundaries(shp)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="boundaries file does not exist"):
        read_boundaries(tmp_path / "nope.geojson")


def test_ring_touching_itself_at_a_vertex_is_rebuilt_with_a_note_and_the_same_area(tmp_path):
    # ESRI's "inverted hole": the outline runs into a triangle and back through the same vertex (5, 10)
    x0, y0 = 500_000, 2_460_000
    ring = [[x0 + x, y0 + y] for x, y in [(0, 0), (10, 0), (10, 10), (5, 10), (7, 5), (3, 5), (5, 10), (0, 10), (0, 0)]]
    f = write_geojson(tmp_path / "b.geojson", [({"area_id": "A"}, poly(ring))], crs="EPSG:32649")
    b = read_boundaries(f)
    g = b.geometries["A"]
    assert g.is_valid and g.area == pytest.approx(100 - 0.5 * 4 * 5)
    assert any("touches itself at a vertex" in n and "'A'" in n for n in b.notes)


def test_areas_of_the_mapped_level_without_polygon_are_noted(tmp_path):
    f = write_geojson(tmp_path / "b.geojson", [({"area_id": "A"}, poly(square(113.5, 22.2, 0.01)))])
    b = read_boundaries(f, areas=AREAS)
    note = [n for n in b.notes if "no polygon" in n]
    assert len(note) == 1 and "3 areas of level 'area'" in note[0] and "B, E, F" in note[0]
    assert "D1" not in note[0]  # districts are not the level mapped


def test_overlapping_areas_are_noted(tmp_path):
    feats = [({"area_id": "A"}, poly(square(500_000, 2_460_000, 1000))),
             ({"area_id": "B"}, poly(square(500_500, 2_460_000, 1000))),  # half of A
             ({"area_id": "E"}, poly(square(501_500, 2_460_000, 1000))),  # touches B only
             ({"area_id": "F"}, poly(square(502_495, 2_460_000, 1000)))]  # a 5 m sliver over E: 0.5%
    b = read_boundaries(write_geojson(tmp_path / "b.geojson", feats, crs="EPSG:32649"))
    note = [n for n in b.notes if "overlap" in n]
    assert len(note) == 1 and "1 pair(s)" in note[0] and "A / B (50% of the smaller)" in note[0]


# --------------------------------------------------------------------------- subset, dissolve


def _grid_boundaries(tmp_path) -> AreaBoundaries:
    feats = [({"area_id": a}, poly(square(500_000 + 1000 * i, 2_460_000, 1000))) for i, a in enumerate("ABEF")]
    return read_boundaries(write_geojson(tmp_path / "b.geojson", feats, crs="EPSG:32649"), areas=AREAS)


def test_subset_and_dissolve(tmp_path):
    b = _grid_boundaries(tmp_path)
    assert b.subset(["F", "A", "nope"]).ids == ["F", "A"]
    d = b.dissolve(AREAS, "district")
    assert d.ids == ["D1", "D2"]
    assert d.geometries["D1"].equals(shapely.box(500_000, 2_460_000, 502_000, 2_461_000))
    assert d.geometries["D2"].area == pytest.approx(2e6)
    city = b.dissolve(AREAS, "city")
    assert city.geometries["C"].geom_type == "Polygon" and city.geometries["C"].area == pytest.approx(4e6)
    part = b.subset(["A", "B"]).dissolve(AREAS, "district")
    assert part.ids == ["D1"] and any("'D2'" not in n and "D2" in n and "no polygon" in n for n in part.notes)
    with pytest.raises(InputError, match="no areas of level 'precinct'"):
        b.dissolve(AREAS, "precinct")


def test_to_crs_round_trip(tmp_path):
    b = _grid_boundaries(tmp_path)
    ll = b.to_crs("EPSG:4326")
    assert 110 < ll.bounds[0] < 112 and 22 < ll.bounds[1] < 23
    back = ll.to_crs(b.crs)
    assert np.allclose(shapely.get_coordinates(back.geometries["A"]), shapely.get_coordinates(b.geometries["A"]),
                       atol=1e-6)


# --------------------------------------------------------------------------- the sample city


@pytest.fixture(scope="module")
def sample_boundaries(sample_dir):
    areas = pd.read_csv(sample_dir / "areas.csv")
    return read_boundaries(sample_dir / "boundaries.geojson", areas=areas), areas


def test_sample_file_is_what_the_generator_writes(sample_dir):
    grid = json.loads((sample_dir / "grid_cells.geojson").read_text(encoding="utf-8"))
    assert boundaries_geojson(STREETS, grid) == (sample_dir / "boundaries.geojson").read_text(encoding="utf-8")


def test_sample_boundaries_valid_simulated_and_without_overlaps(sample_boundaries):
    b, areas = sample_boundaries
    streets = areas.loc[areas["level"] == "area", "area_id"].tolist()
    assert sorted(b.ids) == sorted(streets) and len(b) == 25
    assert b.simulated and b.source == "simulated sample city (not official boundaries)" and b.crs == "EPSG:32649"
    assert not any("no polygon" in n for n in b.notes)
    for g in b.geometries.values():
        assert g.is_valid and not g.is_empty and g.geom_type in ("Polygon", "MultiPolygon")
    worst = max(b.geometries[p].intersection(b.geometries[q]).area for p, q in itertools.combinations(b.ids, 2))
    assert worst < 1e-3  # m2: neighbours share their vertices (none inside another's edge)


def test_sample_borders_are_neighbours_csv_pairs(sample_boundaries, sample_dir):
    # the Voronoi cells are the dual of neighbours.csv's Delaunay triangulation (same points, same plane):
    # streets sharing a border are neighbours; neighbours across water (islands, the Modaomen) share none
    b, _ = sample_boundaries
    nb = {tuple(sorted(p)) for p in pd.read_csv(sample_dir / "neighbours.csv").itertuples(index=False)}
    shared = {(p, q) for p, q in itertools.combinations(sorted(b.ids), 2)
              if b.geometries[p].intersection(b.geometries[q]).length > 1.0}
    assert shared <= nb and len(shared) == 40


def test_sample_boundaries_are_plausibly_zhuhai(sample_boundaries):
    b, areas = sample_boundaries
    ll = b.to_crs("EPSG:4326").geometries
    # each mainland street's centre (the generator's, also used for neighbours.csv) is in its own polygon
    for s in STREETS:
        if s[1] != "ZH-WS" and s[0] != "ZH-HQ-HQ":
            assert ll[s[0]].contains(shapely.Point(s[4], s[5])), s[0]
    c = {k: g.centroid for k, g in ll.items()}
    assert c["ZH-XZ-GB"].y < c["ZH-XZ-XW"].y < c["ZH-XZ-TJ"].y  # Gongbei at the Macau border, Tangjiawan north
    assert ll["ZH-XZ-GB"].bounds[1] == pytest.approx(22.2125, abs=0.001)  # Macau border
    assert max(c[k].x for k in ll if k.startswith("ZH-DM")) < min(c[k].x for k in ll if k.startswith("ZH-XZ"))
    assert c["ZH-HQ-HQ"].y < c["ZH-XZ-WZ"].y and abs(c["ZH-HQ-HQ"].x - 113.51) < 0.03  # Hengqin, west of Cotai
    assert all(c[k].x > 113.65 for k in ("ZH-WS-GS", "ZH-WS-WS", "ZH-WS-DG"))  # the islands to the south-east
    d = b.dissolve(areas, "district")
    parts = {k: len(getattr(g, "geoms", [g])) for k, g in d.geometries.items()}
    assert parts == {"ZH-XZ": 2, "ZH-JW": 1, "ZH-DM": 1, "ZH-WS": 5, "ZH-HQ": 1}  # Xiangzhou + Qi'ao island
    km2 = {k: g.area / 1e6 for k, g in d.geometries.items()}
    # real land areas (km2, rounded): Xiangzhou ~520, Jinwan ~580, Doumen ~670, Hengqin ~100, Wanshan islands ~80
    assert 200 < km2["ZH-XZ"] < 600 and 400 < km2["ZH-JW"] < 800 and 500 < km2["ZH-DM"] < 1000
    assert 40 < km2["ZH-HQ"] < 120 and 20 < km2["ZH-WS"] < 100


def test_grid_cells_and_events_nest_in_their_streets(sample_boundaries, sample_dir):
    b, _ = sample_boundaries
    cells = read_boundaries(sample_dir / "grid_cells.geojson", id_column="grid_id")
    assert CRS.from_user_input(cells.crs).equals(CRS.from_user_input(LOCAL_PLANE_CRS))
    cells = cells.to_crs(b.crs)
    gj = json.loads((sample_dir / "grid_cells.geojson").read_text(encoding="utf-8"))
    street_of = {f["properties"]["grid_id"]: f["properties"]["area_id"] for f in gj["features"]}
    assert len(street_of) == 50
    for gid, g in cells.geometries.items():
        assert b.geometries[street_of[gid]].contains(g), gid
    ev = pd.read_csv(sample_dir / "events_grid.csv.gz", usecols=["x", "y", "area_id"])
    x, y = Transformer.from_crs(LOCAL_PLANE_CRS, b.crs, always_xy=True).transform(ev["x"].to_numpy(), ev["y"].to_numpy())
    for street, ix in ev.groupby("area_id").indices.items():
        assert shapely.contains_xy(b.geometries[street], x[ix], y[ix]).all(), street


@pytest.fixture(scope="module")
def city():
    from riskmodel.datasets import load_sample_city

    return load_sample_city()


def test_sample_city_loader_has_the_boundaries(city):
    b = city.boundaries
    assert len(b) == 25 and b.simulated and b.ids[0] == "ZH-XZ-GB"


# --------------------------------------------------------------------------- Portland (real)


def test_portland_police_districts(reference_dir):
    from riskmodel.data.portland import portland_boundaries

    folder = reference_dir / "portland"
    if not (folder / "Portland_Police_Districts.shp").exists():
        pytest.skip(f"the Portland police districts' shapefile is not in {folder}")
    b = portland_boundaries(folder)
    assert len(b) == 60 and b.crs == "EPSG:32610" and all(i.startswith("D") for i in b.ids)
    assert all(g.is_valid for g in b.geometries.values())
    # the file's own areas (Shape_STAr, square international feet) against ours after reprojection
    with shapefile.Reader(str(folder / "Portland_Police_Districts.shp")) as r:
        theirs = {f"D{rec['DISTRICT']}": rec["Shape_STAr"] * 0.3048**2 for rec in r.records()}
    for k, g in b.geometries.items():
        assert g.area == pytest.approx(theirs[k], rel=2e-3), k
    assert any("touches itself at a vertex" in n and "D800" in n and "D860" in n for n in b.notes)
    assert any("foot" in n and "EPSG:32610" in n for n in b.notes)
    assert not any("overlap" in n for n in b.notes)


# --------------------------------------------------------------------------- config and CLI


def test_validate_boundaries_cli(tmp_path, sample_dir, capsys):
    args = ["validate", "--counts", str(sample_dir / "counts_monthly.csv"), "--areas", str(sample_dir / "areas.csv")]
    assert main([*args, "--boundaries", str(sample_dir / "boundaries.geojson")]) == 0
    out = capsys.readouterr()
    assert "boundaries.geojson: OK - 25 area polygons (simulated), in EPSG:32649" in out.out
    assert "reprojected to the UTM zone" in out.err
    bad = write_geojson(tmp_path / "bad.geojson", [({"area_id": "ZH-XZ-NOPE"}, poly(square(113.5, 22.2, 0.01))),
                                                    ({"area_id": "ZH-XZ-GB"}, poly(square(113.5, 22.2, 0.01)))])
    assert main([*args, "--boundaries", bad]) == 2
    assert "feature #1 (area_id 'ZH-XZ-NOPE')" in capsys.readouterr().err


def test_config_boundaries_key(tmp_path):
    from riskmodel.pipeline.config import Experiment

    cfg = tmp_path / "s.toml"
    cfg.write_text('[study]\nname = "s"\nout = "o"\n[data]\ncounts = "c.csv"\nboundaries = "b.csv"\n')
    with pytest.raises(ConfigError, match=r"key 'data.boundaries': 'b.csv' is not a GeoJSON"):
        Experiment.load(cfg)
    cfg.write_text('[study]\nname = "s"\nout = "o"\n[data]\ncounts = "c.csv"\nboundaries = "b.geojson"\n')
    assert Experiment.load(cfg).data.boundaries == "b.geojson"


def test_study_context_boundaries(tmp_path, sample_dir, city, capsys):
    from riskmodel.pipeline.context import StudyContext
    from riskmodel.pipeline.sections import DataSection, StudySection

    def ctx(**data):
        c = StudyContext(config_path=tmp_path / "s.toml", study=StudySection(name="s", out="o"),
                         data=DataSection(counts=str(sample_dir / "counts_monthly.csv"),
                                          areas=str(sample_dir / "areas.csv"), **data),
                         root=tmp_path, out_tmp=tmp_path, tracker=None)
        c._panel = city.panel  # the same files, loaded once for the module
        return c

    assert ctx().boundaries is None
    b = ctx(boundaries=str(sample_dir / "boundaries.geojson")).boundaries
    assert len(b) == 25 and b.simulated
    assert "reprojected to the UTM zone" in capsys.readouterr().err
    bad = write_geojson(tmp_path / "bad.geojson", [({"area_id": "ZH-XZ-NOPE"}, poly(square(113.5, 22.2, 0.01))),
                                                    ({"area_id": "ZH-XZ-GB"}, poly(square(113.5, 22.2, 0.01)))])
    with pytest.raises(InputError, match=r"bad.geojson.*not in the areas table: feature #1"):
        _ = ctx(boundaries=bad).boundaries


def test_portland_study_context_boundaries(tmp_path, reference_dir):
    from riskmodel.pipeline.context import StudyContext
    from riskmodel.pipeline.sections import DataSection, StudySection

    folder = reference_dir / "portland"
    if not (folder / "Portland_Police_Districts.shp").exists():
        pytest.skip(f"the Portland police districts' shapefile is not in {folder}")
    data = DataSection(counts=str(folder), format="portland", freq="M",
                       boundaries=str(folder / "Portland_Police_Districts.shp"))
    ctx = StudyContext(config_path=tmp_path / "s.toml", study=StudySection(name="s", out="o"), data=data,
                       root=tmp_path, out_tmp=tmp_path, tracker=None)
    b = ctx.boundaries  # the shapefile's DISTRICT 510 is the panel's D510 (portland_boundaries)
    assert len(b) == 60 and "D510" in b and b.crs == "EPSG:32610"
