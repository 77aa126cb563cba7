"""Simulated street and town boundaries of the sample city (``data/sample/boundaries.geojson``).

SIMULATED BOUNDARIES, NOT REAL ONES. The sample city carries the names of
Zhuhai's (珠海市) 25 streets and towns; its polygons are made here from public,
approximate facts so that maps look like the place, but no line is an
official boundary:

* the land: a hand-made, simplified outline (a few dozen lon/lat vertices
  each) of the two parts of Zhuhai's mainland -- Xiangzhou east of the
  Modaomen waterway, from Tangjiawan in the north-east to the Macau border
  at Gongbei and Wanzai, and Doumen/Jinwan west of it, down to Sanzao and
  Gaolan (Nanshui) on the Huangmao Sea -- and of the main islands: Hengqin
  (west of Macau's Cotai), Qi'ao (Tangjiawan), the Guishan, Wanshan and
  Dangan islands of the Wanshan archipelago to the south-east;
* the streets and towns of each part of the mainland: the Voronoi cells
  (``shapely.voronoi_polygons``) of the street centres of
  :data:`riskmodel.data.sample_city.STREETS` (the same points, in the same
  local kilometre plane, as the Delaunay neighbours of ``neighbours.csv``),
  clipped to that part's land outline; each island town is its island(s);
* the two gridded streets (Xiangwan, Gongbei) also take the ground of their
  grid cells (``grid_cells.geojson``), plus a 100 m margin, from their
  neighbours, so that every cell nests in its street.

The grid cells' "local plane, metres" is the transverse Mercator projection
:data:`LOCAL_PLANE_CRS`, whose origin (0, 0) puts the Gongbei cells on
Gongbei, north of the Macau border, and the Xiangwan cells 6 km north of them.

No random step: the same inputs give the same bytes (coordinates rounded to
1e-6 degree, about 0.1 m).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

LOCAL_PLANE_CRS = ("+proj=tmerc +lat_0=22.2148 +lon_0=113.4966 +k=1 +x_0=0 +y_0=0 +ellps=WGS84 "
                   "+towgs84=0,0,0,0,0,0,0 +units=m +no_defs +type=crs")
"""The sample city's "local plane, metres" (grid cells, grid events' x/y) as a projected CRS:
a transverse Mercator whose origin is at 113.4966 E, 22.2148 N, just south-west of Gongbei."""

SOURCE = "simulated sample city (not official boundaries)"

# Hand-made, simplified outlines (lon, lat), from public maps; approximate to a few hundred metres.
XIANGZHOU_LAND = [
    (113.5640, 22.2125), (113.5700, 22.2200), (113.5790, 22.2300), (113.5950, 22.2420), (113.5900, 22.2550),
    (113.5850, 22.2650), (113.5920, 22.2780), (113.5850, 22.2920), (113.5900, 22.3100), (113.6050, 22.3350),
    (113.6000, 22.3600), (113.6150, 22.3850), (113.6000, 22.4100), (113.5800, 22.4300), (113.5400, 22.4250),
    (113.5100, 22.4050), (113.4900, 22.3650), (113.4800, 22.3300), (113.4900, 22.3000), (113.4700, 22.2750),
    (113.4650, 22.2500), (113.4700, 22.2200), (113.4800, 22.2000), (113.5050, 22.1930), (113.5200, 22.1880),
    (113.5300, 22.1950), (113.5330, 22.2050), (113.5350, 22.2125),
]
"""Xiangzhou's mainland: east coast on the Pearl River estuary, the Macau border at 22.2125 N (Gongbei),
Wanzai facing Macau's inner harbour, the Zhongshan border to the west and north."""

DOUMEN_JINWAN_LAND = [
    (113.4000, 22.4400), (113.4150, 22.4000), (113.4250, 22.3500), (113.4300, 22.3000), (113.4350, 22.2500),
    (113.4400, 22.2000), (113.4500, 22.1600), (113.4350, 22.1200), (113.4550, 22.0850), (113.4450, 22.0400),
    (113.4200, 21.9950), (113.3700, 21.9800), (113.3300, 22.0000), (113.3000, 21.9700), (113.2900, 21.9200),
    (113.2500, 21.8950), (113.2050, 21.9100), (113.1950, 21.9600), (113.2100, 22.0000), (113.1650, 22.0350),
    (113.1300, 22.0800), (113.1150, 22.1400), (113.1200, 22.2000), (113.1400, 22.2600), (113.1600, 22.3200),
    (113.1900, 22.3800), (113.2300, 22.4300), (113.2900, 22.4600), (113.3500, 22.4650),
]
"""Doumen and Jinwan: west of the Modaomen waterway, Sanzao and Gaolan (Nanshui) to the south,
the Huangmao Sea and the Yamen waterway to the west."""

ISLANDS: dict[str, list[list[tuple[float, float]]]] = {
    "ZH-HQ-HQ": [[  # Hengqin island, west of Macau's Cotai
        (113.4700, 22.1500), (113.4900, 22.1600), (113.5150, 22.1650), (113.5350, 22.1600), (113.5480, 22.1450),
        (113.5520, 22.1200), (113.5450, 22.0950), (113.5250, 22.0820), (113.5000, 22.0850), (113.4780, 22.0950),
        (113.4650, 22.1200),
    ]],
    "ZH-WS-GS": [  # Guishan island and Niutou island
        [(113.8180, 22.1300), (113.8280, 22.1430), (113.8420, 22.1400), (113.8460, 22.1280), (113.8350, 22.1180),
         (113.8220, 22.1200)],
        [(113.7700, 22.1500), (113.7800, 22.1620), (113.7950, 22.1580), (113.7930, 22.1450), (113.7780, 22.1420)],
    ],
    "ZH-WS-WS": [  # Wanshan island and Dong'ao island
        [(113.7000, 21.9300), (113.7120, 21.9420), (113.7350, 21.9400), (113.7420, 21.9280), (113.7250, 21.9180),
         (113.7070, 21.9200)],
        [(113.6950, 22.0050), (113.7020, 22.0180), (113.7180, 22.0170), (113.7220, 22.0050), (113.7080, 21.9990)],
    ],
    "ZH-WS-DG": [[  # Dangan island, south of Hong Kong's Lamma
        (114.2000, 22.0300), (114.2300, 22.0450), (114.2700, 22.0500), (114.3000, 22.0450), (114.3050, 22.0350),
        (114.2700, 22.0300), (114.2350, 22.0250), (114.2050, 22.0220),
    ]],
}
"""The island towns (and Hengqin): area id -> outlines (lon, lat), each a simplified island."""

EXTRA_ISLANDS: dict[str, list[list[tuple[float, float]]]] = {
    "ZH-XZ-TJ": [[(113.6250, 22.4100), (113.6500, 22.4250), (113.6650, 22.4150), (113.6550, 22.3950),
                  (113.6350, 22.3900), (113.6220, 22.3980)]],  # Qi'ao island, part of Tangjiawan
}
"""Islands that belong to a mainland street or town."""

GRID_MARGIN_KM = 0.1
"""A gridded street takes its cells' ground plus this margin from its neighbours (km)."""

LAT0, LON0 = 22.2, 113.5
"""Origin of the kilometre plane of :func:`riskmodel.data.sample_city.generate`'s neighbours."""


def _to_km(lon: Any, lat: Any) -> tuple[Any, Any]:  # noqa: ANN401 - floats or arrays
    """sample_city's kilometre plane (equirectangular at 22.2 N): the Voronoi cells are the Delaunay neighbours' dual."""
    import numpy as np

    return (np.asarray(lon) - LON0) * 111.32 * np.cos(np.radians(LAT0)), (np.asarray(lat) - LAT0) * 110.57


def _to_lonlat(x: Any, y: Any) -> tuple[Any, Any]:  # noqa: ANN401
    import numpy as np

    return np.asarray(x) / (111.32 * np.cos(np.radians(LAT0))) + LON0, np.asarray(y) / 110.57 + LAT0


def _km_geom(g: Any) -> Any:  # noqa: ANN401 - shapely geometries
    import numpy as np
    import shapely

    return shapely.transform(g, lambda c: np.column_stack(_to_km(c[:, 0], c[:, 1])))


def _lonlat_geom(g: Any) -> Any:  # noqa: ANN401
    import numpy as np
    import shapely

    return shapely.transform(g, lambda c: np.column_stack(_to_lonlat(c[:, 0], c[:, 1])))


def street_polygons(streets: Sequence[tuple], grid_cells: dict | None = None) -> dict[str, Any]:
    """The simulated polygons (lon/lat degrees) of the streets and towns, in the order of ``streets``.

    Parameters
    ----------
    streets : sequence of tuples
        :data:`riskmodel.data.sample_city.STREETS` rows: ``(id, district, zh, en, lon, lat, ...)``.
    grid_cells : dict, optional
        The grid cells' GeoJSON (:data:`LOCAL_PLANE_CRS` coordinates, property ``area_id``): each
        gridded street takes its cells plus :data:`GRID_MARGIN_KM`.

    Returns
    -------
    dict of str to shapely Polygon or MultiPolygon
        Valid, non-overlapping, lon/lat on a 1e-6 degree grid.

    Notes
    -----
    The Voronoi cells are computed in sample_city's kilometre plane and taken to lon/lat by
    its inverse (an affine map, so straight edges stay straight); every later overlay runs
    with ``grid_size=1e-6`` (snap-rounding), so that neighbours share exactly the same
    vertices on the 1e-6 degree grid written to the file and do not overlap.
    """
    import numpy as np
    import shapely
    from shapely.geometry import MultiPoint, MultiPolygon, Polygon, box

    grid = 1e-6
    geoms: dict[str, Any] = {}
    seeds_of: dict[str, Any] = {}
    for outline in (XIANGZHOU_LAND, DOUMEN_JINWAN_LAND):
        land = Polygon(outline)
        seeds = [s for s in streets if s[0] not in ISLANDS and land.contains(shapely.Point(s[4], s[5]))]
        xs, ys = _to_km([s[4] for s in seeds], [s[5] for s in seeds])
        frame = box(*_km_geom(land).buffer(10.0).bounds)
        cells = shapely.voronoi_polygons(MultiPoint(np.column_stack([xs, ys])), extend_to=frame, ordered=True)
        for s, cell in zip(seeds, cells.geoms, strict=True):
            ll = shapely.set_precision(_lonlat_geom(cell), grid)
            geoms[s[0]] = shapely.intersection(ll, land, grid_size=grid)
            seeds_of[s[0]] = shapely.Point(s[4], s[5])
    for aid, rings in {**ISLANDS, **EXTRA_ISLANDS}.items():
        parts = [Polygon(r) for r in rings]
        geoms[aid] = shapely.union_all([geoms[aid], *parts] if aid in geoms else parts, grid_size=grid)
    if grid_cells is not None:
        from pyproj import Transformer

        tr = Transformer.from_crs(LOCAL_PLANE_CRS, "EPSG:4326", always_xy=True)
        by_street: dict[str, list[Any]] = {}
        for f in grid_cells["features"]:
            ring = np.asarray(f["geometry"]["coordinates"][0], dtype=float)
            lon, lat = tr.transform(ring[:, 0], ring[:, 1])
            by_street.setdefault(f["properties"]["area_id"], []).append(Polygon(np.column_stack(_to_km(lon, lat))))
        for aid, polys in by_street.items():
            block_km = shapely.union_all(polys).buffer(GRID_MARGIN_KM, join_style="mitre")
            block = shapely.set_precision(_lonlat_geom(block_km), grid)
            taken = [block]
            for other in list(geoms):
                if other == aid or not geoms[other].intersects(block):
                    continue
                rest = shapely.difference(geoms[other], block, grid_size=grid)
                pieces = list(getattr(rest, "geoms", [rest]))
                # a neighbour cut in two by the block keeps the piece with its centre; the others go with the block
                keep = [q for q in pieces if other not in seeds_of or q.contains(seeds_of[other])] or pieces
                taken += [q for q in pieces if not any(q.equals(k) for k in keep)]
                geoms[other] = shapely.union_all(keep, grid_size=grid)
            geoms[aid] = shapely.union_all([geoms[aid], *taken], grid_size=grid)
    # a vertex of one polygon lying on an edge of its neighbour (a "T" where the grid block cut a cell) would open
    # a sliver of overlap or gap once reprojected (straight lines in lon/lat are not straight in metres): put the
    # neighbours' vertices in each polygon's edges (shapely.snap adds the reference's vertices within tolerance)
    ids = list(geoms)
    for a in ids:
        near = [geoms[b] for b in ids if b != a and geoms[b].distance(geoms[a]) < 1e-6]
        if near:
            geoms[a] = shapely.snap(geoms[a], shapely.union_all(near), 0.75 * grid)
    out: dict[str, Any] = {}
    for s in streets:
        g = geoms[s[0]]
        polys = [p for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon" and p.area > 0]
        out[s[0]] = polys[0] if len(polys) == 1 else MultiPolygon(polys)
    return out


def _coords(g: Any) -> list:  # noqa: ANN401 - a shapely Polygon or MultiPolygon
    """GeoJSON coordinates, exterior counter-clockwise (RFC 7946), 6 decimals."""
    from shapely.geometry.polygon import orient

    def ring(r: Any) -> list[list[float]]:  # noqa: ANN401
        return [[round(float(x), 6), round(float(y), 6)] for x, y in r.coords]

    def poly(p: Any) -> list:  # noqa: ANN401
        p = orient(p, sign=1.0)
        return [ring(p.exterior), *(ring(i) for i in p.interiors)]

    return poly(g) if g.geom_type == "Polygon" else [poly(p) for p in g.geoms]


def boundaries_geojson(streets: Sequence[tuple], grid_cells: dict | None = None) -> str:
    """The text of ``boundaries.geojson``: one Feature per street/town, labelled simulated.

    Properties: ``area_id``, ``name``, ``name_en``, ``parent_id`` (the district) and
    ``simulated: true``; top-level ``simulated`` and ``source`` say the same for the file.
    WGS84 longitude/latitude (no ``crs`` member, RFC 7946). One feature per line.
    """
    geoms = street_polygons(streets, grid_cells)
    head = {
        "type": "FeatureCollection",
        "name": "sample_city_boundaries",
        "simulated": True,
        "source": SOURCE,
        "note": ("SIMULATED street and town boundaries of the riskmodel sample city: Voronoi cells of the street "
                 "centres clipped to a hand-made, simplified outline of Zhuhai's land and islands. Not official "
                 "boundaries; made by riskmodel.data.sample_boundaries (riskmodel sample)."),
    }
    lines = []
    for s in streets:
        g = geoms[s[0]]
        feat = {"type": "Feature",
                "properties": {"area_id": s[0], "name": s[2], "name_en": s[3], "parent_id": s[1], "simulated": True},
                "geometry": {"type": g.geom_type, "coordinates": _coords(g)}}
        lines.append(json.dumps(feat, ensure_ascii=False, separators=(",", ":")))
    text = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    return text + ',\n "features": [\n' + ",\n".join(lines) + "\n ]\n}\n"
