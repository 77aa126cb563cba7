"""Area boundaries: the polygons of the areas, for maps.

An optional areas geometry file gives each area (street, town, district,
police district ...) a polygon or multipolygon. It is joined to the areas
table by ``area_id`` (or by a named id column of the file, e.g. the Portland
shapefile's ``DISTRICT``) and validated like every other input: unknown ids,
duplicate ids, invalid, empty or non-polygon geometries are refused with an
:class:`~riskmodel.errors.InputError` naming the file and the feature; areas
of the level mapped that have no polygon are listed in a note (maps show them
as "no data").

Formats and coordinate systems
------------------------------
* GeoJSON (``.geojson``/``.json``, a FeatureCollection): WGS84 longitude /
  latitude (RFC 7946) unless the file declares a ``crs`` member (the 2008
  GeoJSON form, e.g. ``{"type": "name", "properties": {"name": "EPSG:32649"}}``).
* ESRI shapefile (``.shp`` with its ``.dbf``; ``.prj`` read with
  ``pyproj.CRS.from_wkt``). A shapefile without ``.prj`` is refused unless
  its coordinates are plausibly longitude/latitude; it is then taken as WGS84
  and a note says so.

The geometries are kept in a projected CRS in metres, so that areas, lengths
and the maps' scale bars mean something: geographic coordinates (and a
projected CRS in other units, e.g. US feet) are reprojected with pyproj to the
UTM zone of the data's centre (a note says which); a projected CRS in metres
is kept as it is.

Libraries, chosen on purpose: shapely 2 (geometry, validity, union), pyshp
(shapefiles, pure Python) and pyproj (CRS and reprojection). Not geopandas /
GDAL / fiona: they add large binary dependencies for what three small
libraries do here, and riskmodel's tables stay pandas DataFrames.

Geometries are never "fixed" silently: an invalid polygon (a self-
intersection, a bow-tie) is refused with shapely's ``explain_validity``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from riskmodel.data.areas import AreaHierarchy
from riskmodel.data.readers import why_missing
from riskmodel.errors import InputError, Problem

MAX_SHOWN = 5
WGS84 = "EPSG:4326"
SUFFIXES = (".geojson", ".json", ".shp")


@dataclass(frozen=True)
class AreaBoundaries:
    """The polygons of areas, in a projected CRS in metres.

    Attributes
    ----------
    geometries : dict of str to shapely Polygon or MultiPolygon
        ``area_id`` -> geometry, coordinates in metres in :attr:`crs`.
    crs : str
        pyproj-readable projected CRS of the geometries (``"EPSG:32649"``, a
        PROJ string or WKT).
    source : str
        A label for the maps' source lines: the file's name, or what the
        file says it is (its top-level ``"source"`` member).
    simulated : bool
        True for the sample city's boundaries (simulated, not real ones):
        every map drawn from them says so.
    notes : tuple of str
        What riskmodel decided for the user: CRS assumed, reprojection, areas
        without a polygon, encoding.
    """

    geometries: dict[str, Any]
    crs: str
    source: str
    simulated: bool = False
    notes: tuple[str, ...] = ()
    id_column: str = field(default="area_id", compare=False)

    @property
    def ids(self) -> list[str]:
        """The area ids, in the file's order."""
        return list(self.geometries)

    def __len__(self) -> int:
        return len(self.geometries)

    def __contains__(self, area_id: object) -> bool:
        return area_id in self.geometries

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` of all geometries, metres."""
        import shapely

        return tuple(float(v) for v in shapely.total_bounds(list(self.geometries.values())))  # type: ignore[return-value]

    def subset(self, area_ids: Iterable[str]) -> AreaBoundaries:
        """The boundaries of the given areas only (in the order given).

        Ids without a polygon are left out (a map shows them as missing);
        the notes are kept.
        """
        keep = [str(a) for a in area_ids]
        return replace(self, geometries={a: self.geometries[a] for a in dict.fromkeys(keep) if a in self.geometries})

    def dissolve(self, areas: pd.DataFrame | AreaHierarchy, level: str) -> AreaBoundaries:
        """Polygons of the areas of ``level``, each the union of its descendants' polygons.

        Districts from streets: ``b.dissolve(areas, "district")`` unions
        (``shapely.union_all``) the polygons of every area under each district
        (by the areas table's ``parent_id``). An area of ``level`` that has a
        polygon of its own keeps it. Areas of ``level`` with no polygon under
        them are left out, with a note; an error if none has one.

        Parameters
        ----------
        areas : DataFrame or AreaHierarchy
            The areas table (``area_id``, ``parent_id``, ``level``).
        level : str
            The level to dissolve to, e.g. ``"district"`` or ``"city"``.
        """
        import shapely

        h = areas if isinstance(areas, AreaHierarchy) else AreaHierarchy(areas)
        targets = [a for a in h.table["area_id"] if h.level.get(a) == level]
        if not targets:
            levels = sorted(set(h.level.values()))
            raise InputError(Problem(f"no areas of level {level!r} to dissolve to; levels: {', '.join(levels)}"))
        out: dict[str, Any] = {}
        missing: list[str] = []
        for t in targets:
            if t in self.geometries:
                out[t] = self.geometries[t]
                continue
            parts = [self.geometries[d] for d in _descendants(h, t) if d in self.geometries]
            if not parts:
                missing.append(t)
                continue
            g = shapely.union_all(parts)
            out[t] = _polygonal(g)
        if not out:
            raise InputError(Problem(f"no area of level {level!r} has polygons under it in {self.source}"))
        notes = list(self.notes)
        notes.append(f"boundaries of the {len(out)} areas of level {level!r} are the union of their children's polygons")
        if missing:
            notes.append(_missing_note(missing, level, self.source))
        return replace(self, geometries=out, notes=tuple(notes))

    def to_crs(self, crs: str) -> AreaBoundaries:
        """The same boundaries in another CRS (for the web: ``"EPSG:4326"``, lon/lat degrees)."""
        from pyproj import CRS, Transformer

        tr = Transformer.from_crs(CRS.from_user_input(self.crs), CRS.from_user_input(crs), always_xy=True)
        return replace(self, geometries={k: _transform(g, tr) for k, g in self.geometries.items()}, crs=crs)


def _descendants(h: AreaHierarchy, area_id: str) -> list[str]:
    out: list[str] = []
    stack = list(h.children.get(area_id, []))
    while stack:
        a = stack.pop()
        out.append(a)
        stack.extend(h.children.get(a, []))
    return out


def _polygonal(g: Any) -> Any:  # noqa: ANN401 - a shapely geometry
    """Keep the polygon parts of a union (unions of touching polygons may carry stray lines)."""
    from shapely.geometry import MultiPolygon

    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    polys = [p for p in getattr(g, "geoms", []) if p.geom_type == "Polygon"]
    polys += [q for p in getattr(g, "geoms", []) if p.geom_type == "MultiPolygon" for q in p.geoms]
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def _self_touching(geom: Any, reason: str) -> Any:  # noqa: ANN401 - shapely geometries
    """The valid form of a polygon whose only fault is a ring touching itself at a point, else None.

    ESRI's shapefile model allows a ring that touches itself at a vertex (an
    "inverted" hole or a pinched outline); OGC's (GEOS, shapely) does not. Such
    a polygon is accepted when ``shapely.make_valid`` turns it into a polygonal
    geometry covering the same points (the symmetric difference has no area):
    only the ring structure changes, not the ground covered. Anything else
    (a crossing, a bow-tie, a spike) is refused.
    """
    import shapely

    if not reason.startswith("Ring Self-intersection"):
        return None
    try:
        fixed = _polygonal(shapely.make_valid(geom))
        if not fixed.is_valid or fixed.is_empty:
            return None
        moved = shapely.symmetric_difference(shapely.make_valid(geom), fixed).area
    except (shapely.errors.GEOSException, ValueError):
        return None
    if abs(fixed.area - geom.area) > 1e-9 * max(geom.area, 1.0) or moved > 1e-9 * max(geom.area, 1.0):
        return None
    return fixed


def _transform(g: Any, tr: Any) -> Any:  # noqa: ANN401
    import numpy as np
    import shapely

    def f(c: np.ndarray) -> np.ndarray:
        x, y = tr.transform(c[:, 0], c[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(g, f)


def _missing_note(missing: Sequence[str], level: str, source: str) -> str:
    shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
    return (f"note: {len(missing)} area{'s' if len(missing) != 1 else ''} of level {level!r} "
            f"{'have' if len(missing) != 1 else 'has'} no polygon in {source} (maps show them as 'no data'): {shown}")


def _listing(items: Sequence[str]) -> str:
    shown = "; ".join(items[:MAX_SHOWN])
    return shown + (f"; and {len(items) - MAX_SHOWN} more" if len(items) > MAX_SHOWN else "")


def utm_crs(lon: float, lat: float) -> str:
    """The WGS84 UTM zone (``"EPSG:326zz"`` north, ``"EPSG:327zz"`` south) containing a point.

    Zone = floor((lon + 180) / 6) + 1 (the standard 6-degree zones; the
    Norway/Svalbard exceptions are not applied).
    """
    zone = min(60, max(1, int(math.floor((lon + 180.0) / 6.0)) + 1))
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def _plausibly_lonlat(bounds: Sequence[float]) -> bool:
    minx, miny, maxx, maxy = bounds
    return -180.0 <= minx <= maxx <= 180.0 and -90.0 <= miny <= maxy <= 90.0


# ---------------------------------------------------------------- reading


class _Raw:
    """Features as read: ids, GeoJSON-like geometries, the CRS (or None), notes."""

    def __init__(self) -> None:
        self.props: list[dict[str, Any]] = []
        self.geoms: list[Any] = []
        self.crs: Any = None
        self.crs_said: str = ""
        self.notes: list[str] = []
        self.source_label: str | None = None
        self.simulated = False


def _read_geojson(p: Path) -> _Raw:
    raw = _Raw()
    try:
        gj = json.loads(p.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(Problem("not a GeoJSON file: not UTF-8 text (RFC 7946 requires UTF-8)", source=str(p))) from None
    except ValueError as exc:
        raise InputError(Problem(f"not a GeoJSON file: not valid JSON ({exc})", source=str(p))) from None
    if not isinstance(gj, dict) or gj.get("type") != "FeatureCollection" or not isinstance(gj.get("features"), list):
        what = gj.get("type") if isinstance(gj, dict) else type(gj).__name__
        raise InputError(Problem(f"not a GeoJSON FeatureCollection (type {what!r}): give a FeatureCollection of "
                                 "Polygon/MultiPolygon features with an id property", source=str(p)))
    for i, f in enumerate(gj["features"]):
        if not isinstance(f, dict):
            raise InputError(Problem(f"feature #{i + 1} is not a GeoJSON Feature object", source=str(p)))
        props = dict(f.get("properties") or {}) if isinstance(f.get("properties"), dict) else {}
        if "id" in f and "id" not in props:  # RFC 7946's feature id, usable as id_column="id"
            props["id"] = f["id"]
        raw.props.append(props)
        raw.geoms.append(f.get("geometry"))
    crs = gj.get("crs")
    if crs is not None:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
        try:
            raw.crs = CRS.from_user_input(name if name is not None else crs)
        except (CRSError, TypeError) as exc:
            raise InputError(Problem(f"the 'crs' member {crs!r} is not a coordinate reference system pyproj knows "
                                     f"({exc})", source=str(p))) from None
        raw.crs_said = f"its 'crs' member ({name or raw.crs.name})"
    if isinstance(gj.get("source"), str):
        raw.source_label = gj["source"]
    raw.simulated = bool(gj.get("simulated")) or any(bool(pr.get("simulated")) for pr in raw.props)
    return raw


def _read_shapefile(p: Path) -> _Raw:
    import shapefile

    raw = _Raw()
    cpg = p.with_suffix(".cpg")
    encoding = "utf-8"
    if cpg.exists():
        encoding = cpg.read_text(encoding="ascii", errors="replace").strip() or "utf-8"
    polygon_types = {shapefile.POLYGON, shapefile.POLYGONZ, shapefile.POLYGONM}

    def read(enc: str) -> tuple[list[str], list[list[Any]], list[Any]]:
        with shapefile.Reader(str(p), encoding=enc) as r:
            names = [f[0] for f in r.fields[1:]]
            rows = [list(rec) for rec in r.records()]
            geoms: list[Any] = []
            for k, s in enumerate(r.shapes()):
                if s.shapeType == shapefile.NULL:
                    geoms.append(None)
                elif s.shapeType not in polygon_types:
                    geoms.append(("not-polygon", f"a {s.shapeTypeName} shape", k))
                else:
                    geoms.append(s.__geo_interface__)
        return names, rows, geoms

    try:
        try:
            names, rows, geoms = read(encoding)
        except Exception as exc:  # pyshp wraps a UnicodeDecodeError in its own exception type
            if cpg.exists() or "decode" not in str(exc).lower():
                raise
            names, rows, geoms = read("gb18030")  # GBK's superset: Chinese GIS files without a .cpg
            raw.notes.append(f"note: the attributes of {p.name} are not UTF-8 and it has no .cpg file "
                             "(its encoding): read as GBK (GB18030)")
    except InputError:
        raise
    except Exception as exc:  # pyshp raises its own exception types (and OSError, struct.error)
        raise InputError(Problem(f"not a readable ESRI shapefile (the .shp with its .shx and .dbf): {exc}",
                                 source=str(p))) from None
    raw.props = [dict(zip(names, row, strict=False)) for row in rows]
    raw.geoms = geoms
    prj = p.with_suffix(".prj")
    if prj.exists():
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            raw.crs = CRS.from_wkt(prj.read_text(encoding="utf-8", errors="replace"))
        except CRSError as exc:
            raise InputError(Problem(f"the projection file is not a coordinate reference system pyproj can read "
                                     f"({exc})", source=str(prj))) from None
        raw.crs_said = f"{prj.name} ({raw.crs.name})"
    return raw


def read_boundaries(
    path: str | os.PathLike[str],
    *,
    areas: pd.DataFrame | None = None,
    id_column: str = "area_id",
    id_format: str = "{}",
) -> AreaBoundaries:
    """Read an areas geometry file (GeoJSON or ESRI shapefile), validate it, reproject it to metres.

    Parameters
    ----------
    path : path
        ``.geojson``/``.json`` (a FeatureCollection) or ``.shp`` (with its
        ``.shx``, ``.dbf`` and, unless the coordinates are lon/lat, ``.prj``).
    areas : DataFrame, optional
        The study's areas table (``area_id``, ``parent_id``, ``level``). When
        given, every id of the file must be an area of it (else an error
        listing the features), and the areas of the levels mapped that have no
        polygon are listed in a note.
    id_column : str
        The property (attribute) holding the area id: ``"area_id"``, or the
        file's own, e.g. ``"DISTRICT"`` for the Portland police districts.
    id_format : str
        How a file id becomes an area id, e.g. ``"D{}"`` turns ``510`` into
        ``D510``. Default: unchanged.

    Returns
    -------
    AreaBoundaries
        In metres: the file's CRS when it is projected in metres, else the
        UTM zone of the data's centre.

    Raises
    ------
    InputError
        The file is missing or not GeoJSON/shapefile; the id column is absent;
        ids are empty, duplicated or unknown; a geometry is missing, empty,
        not a (multi)polygon or invalid (with shapely's reason); coordinates
        are not lon/lat where no CRS is declared.
    """
    import shapely
    from shapely.geometry import shape

    p = Path(path)
    src = str(p)
    if not p.exists():
        raise InputError(Problem(f"boundaries file {why_missing(p)}", source=src))
    if p.is_dir():
        raise InputError(Problem("boundaries file is a folder: give a .geojson or .shp file", source=src))
    suffix = p.suffix.lower()
    if suffix in (".geojson", ".json"):
        raw = _read_geojson(p)
    elif suffix == ".shp":
        raw = _read_shapefile(p)
    else:
        raise InputError(Problem(f"boundaries must be a GeoJSON (.geojson, .json) or ESRI shapefile (.shp), "
                                 f"not {suffix or 'a file without extension'!r}", source=src))
    if not raw.props:
        raise InputError(Problem("the boundaries file has no features", source=src))
    columns = list(dict.fromkeys(k for pr in raw.props for k in pr))
    if id_column not in columns:
        raise InputError(Problem(f"no id property {id_column!r} in the features; available: "
                                 f"{', '.join(map(str, columns)) or 'none'} (name the id column)", source=src))

    problems: list[Problem] = []
    no_id: list[str] = []
    ids: list[str] = []
    for i, pr in enumerate(raw.props):
        v = pr.get(id_column)
        s = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()
        if s == "":
            no_id.append(f"feature #{i + 1}")
        ids.append(id_format.format(s) if s else "")
    if no_id:
        problems.append(Problem(f"{len(no_id)} feature(s) have an empty {id_column!r}: {_listing(no_id)}",
                                source=src, column=id_column))

    def what(i: int) -> str:
        return f"feature #{i + 1} ({id_column} {ids[i]!r})"

    geoms: list[Any] = []
    rebuilt: list[str] = []
    bad: dict[str, list[str]] = {"null": [], "type": [], "empty": [], "invalid": [], "malformed": []}
    for i, g in enumerate(raw.geoms):
        geom = None
        if g is None:
            bad["null"].append(what(i))
        elif isinstance(g, tuple) and g and g[0] == "not-polygon":
            bad["type"].append(f"{what(i)} is {g[1]}")
        else:
            try:
                geom = shapely.force_2d(shape(g))
            except Exception as exc:  # shapely raises several types on malformed coordinates
                bad["malformed"].append(f"{what(i)}: {exc}")
            else:
                if geom.geom_type not in ("Polygon", "MultiPolygon"):
                    bad["type"].append(f"{what(i)} is a {geom.geom_type}")
                    geom = None
                elif geom.is_empty:
                    bad["empty"].append(what(i))
                    geom = None
                elif not geom.is_valid:
                    reason = shapely.is_valid_reason(geom)
                    touched = _self_touching(geom, reason)
                    if touched is None:
                        bad["invalid"].append(f"{what(i)}: {reason}")
                    else:
                        rebuilt.append(f"{what(i)} at {reason.split('[', 1)[-1].rstrip(']')}")
                    geom = touched
        geoms.append(geom)
    msgs = {
        "null": "have no geometry (null): give each a polygon or remove it",
        "type": "are not polygons (boundaries must be Polygon or MultiPolygon)",
        "empty": "have an empty geometry",
        "malformed": "have malformed coordinates",
        "invalid": ("are invalid polygons (riskmodel does not repair them: fix them in a GIS, e.g. QGIS "
                    "'Fix geometries' or shapely.make_valid, and check the result)"),
    }
    for k, items in bad.items():
        if items:
            problems.append(Problem(f"{len(items)} feature(s) {msgs[k]}: {_listing(items)}", source=src))

    seen: dict[str, list[int]] = {}
    for i, a in enumerate(ids):
        if a:
            seen.setdefault(a, []).append(i)
    dups = [f"{a!r} (features {', '.join(f'#{i + 1}' for i in ix)})" for a, ix in seen.items() if len(ix) > 1]
    if dups:
        problems.append(Problem(f"{len(dups)} area id(s) have more than one feature (one (multi)polygon per "
                                f"area: merge the parts into a MultiPolygon): {_listing(dups)}",
                                source=src, column=id_column))

    known: set[str] | None = None
    if areas is not None:
        known = set(areas["area_id"].astype(str))
        unknown = [f"{what(i)}" for i, a in enumerate(ids) if a and a not in known]
        if unknown and len(unknown) == sum(1 for a in ids if a):
            sample = ", ".join(sorted(known)[:5])
            problems.append(Problem(
                f"none of the {len(unknown)} feature ids is an area of the areas table (e.g. {ids[0]!r}; "
                f"area ids look like {sample}): is {id_column!r} the right id column?", source=src, column=id_column))
        elif unknown:
            problems.append(Problem(f"{len(unknown)} feature(s) have ids that are not in the areas table: "
                                    f"{_listing(unknown)}", source=src, column=id_column))
    if problems:
        raise InputError(problems)

    notes = list(raw.notes)
    if rebuilt:
        notes.append(f"note: {len(rebuilt)} polygon(s) of {p.name} have a ring that touches itself at a vertex "
                     "(allowed by ESRI shapefiles, invalid for OGC/shapely); rebuilt as valid polygons with "
                     f"shapely.make_valid, covering exactly the same ground (same area): {_listing(rebuilt)}")
    geometries = dict(zip(ids, geoms, strict=True))
    bounds = shapely.total_bounds(list(geometries.values()))
    if raw.crs is None:
        if not _plausibly_lonlat(bounds):
            rng = f"x {bounds[0]:,.0f} to {bounds[2]:,.0f}, y {bounds[1]:,.0f} to {bounds[3]:,.0f}"
            if suffix == ".shp":
                msg = (f"the shapefile has no .prj (coordinate system) and its coordinates ({rng}) are not "
                       "longitude/latitude: add the .prj file that came with it")
            else:
                msg = (f"the coordinates ({rng}) are not longitude/latitude, yet the file declares no 'crs': "
                       "GeoJSON is WGS84 lon/lat (RFC 7946); reproject it or declare its crs")
            raise InputError(Problem(msg, source=src))
        from pyproj import CRS

        raw.crs = CRS.from_user_input(WGS84)
        if suffix == ".shp":
            notes.append(f"note: {p.name} has no .prj; its coordinates are plausibly longitude/latitude and "
                         "were taken as WGS84 (EPSG:4326)")
    crs_in = raw.crs
    unit = crs_in.axis_info[0].unit_name if crs_in.axis_info else ""
    if crs_in.is_projected and unit in ("metre", "meter"):
        crs_out = crs_in.to_string()
    else:
        from pyproj import Transformer

        if crs_in.is_geographic:
            lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
        else:
            to_ll = Transformer.from_crs(crs_in, WGS84, always_xy=True)
            lon, lat = to_ll.transform((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
        crs_out = utm_crs(lon, lat)
        tr = Transformer.from_crs(crs_in, crs_out, always_xy=True)
        geometries = {k: _transform(g, tr) for k, g in geometries.items()}
        said = raw.crs_said or ("GeoJSON's default, WGS84, RFC 7946" if suffix != ".shp" else "assumed WGS84")
        why = "in longitude/latitude" if crs_in.is_geographic else f"in {unit or 'non-metre'} units"
        notes.append(f"note: the boundaries in {p.name} are {why} ({said}); reprojected to the UTM zone of "
                     f"their centre, {crs_out} (metres)")
        bad_after = [k for k, g in geometries.items() if not g.is_valid]
        if bad_after:
            raise InputError(Problem(f"{len(bad_after)} polygon(s) become invalid when reprojected to {crs_out}: "
                                     f"{_listing(bad_after)}", source=src))
    overlap = _overlap_note(geometries, p.name)
    if overlap:
        notes.append(overlap)
    if areas is not None and known is not None:
        notes.extend(_coverage_notes(areas, geometries, p.name))
    return AreaBoundaries(
        geometries=geometries,
        crs=crs_out,
        source=raw.source_label or p.name,
        simulated=raw.simulated,
        notes=tuple(notes),
        id_column=id_column,
    )


def _overlap_note(geometries: Mapping[str, Any], name: str, share: float = 0.01) -> str:
    """A note naming the pairs of areas that overlap by more than ``share`` of the smaller one.

    Neighbours drawn by hand or simplified separately overlap by slivers;
    these are not errors (the map paints one over the other), but larger
    overlaps usually mean two levels or two versions mixed in one file. One
    polygon inside another (a street inside its district) is not an overlap.
    """
    import shapely

    ids = list(geometries)
    geoms = list(geometries.values())
    if len(geoms) < 2:
        return ""
    left, right = shapely.STRtree(geoms).query(geoms, predicate="overlaps")
    found = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j:
            a = geoms[i].intersection(geoms[j]).area
            smaller = min(geoms[i].area, geoms[j].area)
            if smaller > 0 and a > share * smaller:
                found.append(f"{ids[i]} / {ids[j]} ({100 * a / smaller:.0f}% of the smaller)")
    if not found:
        return ""
    return (f"note: {len(found)} pair(s) of areas in {name} overlap by more than {share:.0%} of the smaller one "
            f"(maps paint one over the other; check the file): {_listing(found)}")


def _coverage_notes(areas: pd.DataFrame, geometries: Mapping[str, Any], name: str) -> list[str]:
    """A note per level mapped listing the areas of that level without a polygon."""
    if "level" not in areas.columns:
        missing = [a for a in areas["area_id"].astype(str) if a not in geometries]
        return [_missing_note(missing, "area", name)] if missing else []
    lev = dict(zip(areas["area_id"].astype(str), areas["level"].astype(str), strict=False))
    out = []
    for level in dict.fromkeys(lev[a] for a in geometries if a in lev):
        missing = [a for a, v in lev.items() if v == level and a not in geometries]
        if missing:
            out.append(_missing_note(missing, level, name))
    return out
