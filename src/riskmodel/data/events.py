"""From event records to counts: area ids, point-in-polygon, square grid cells.

An events table has one row per incident: a timestamp, a category, and either
an area id or coordinates. Coordinates are mapped to areas by point-in-polygon
against polygons read from a shapefile (pyshp) or GeoJSON, or to square grid
cells of a given size. Coordinates and polygons must be in the same planar
coordinate system (no reprojection is done; say so rather than guess).

Every event ends in exactly one area or in the ``unmatched`` table, whose size
is reported: nothing is dropped silently. A point on the shared border of two
polygons is given to the first polygon in the file's order (and counted in
``on_border``), so that it is counted once.

Grid cells nested in streets are :mod:`riskmodel.data.grid`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.data.frequency import Frequency
from riskmodel.data.limits import Limits
from riskmodel.data.readers import why_missing
from riskmodel.errors import InputError, Problem


@dataclass
class AreaPolygons:
    """Polygons of areas, with their attributes.

    Attributes
    ----------
    ids : list of str
        The id of each polygon (from ``id_field``).
    geoms : list of shapely geometries
    attributes : DataFrame
        Every attribute of the file, one row per polygon, plus ``area_id``.
    source : str
    """

    ids: list[str]
    geoms: list
    attributes: pd.DataFrame
    source: str = ""

    merged: dict[str, int] = field(default_factory=dict)
    """Areas whose several features were merged into one (multi)polygon: id -> number of features."""

    @property
    def note(self) -> str:
        """One line saying which features were merged, or ``""``."""
        if not self.merged:
            return ""
        n = sum(self.merged.values())
        ex = ", ".join(f"{a} ({k})" for a, k in list(self.merged.items())[:3])
        return (f"note: {n} features of {self.source} share the area ids of {len(self.merged)} areas and were merged "
                f"into one (multi)polygon per area: {ex}{' ...' if len(self.merged) > 3 else ''}")

    @classmethod
    def read(cls, path: str | os.PathLike[str], id_field: str) -> AreaPolygons:
        """Read a shapefile (``.shp``) or GeoJSON (``.geojson``/``.json``).

        Features that share an id (a street drawn as several polygons) are
        merged into one geometry per area (``shapely.unary_union``, a
        MultiPolygon when the parts do not touch); :attr:`merged` and
        :attr:`note` say which. A feature with no geometry (GeoJSON
        ``"geometry": null``, a null shape) or one that is not a polygon is
        refused, naming it.
        """
        p = Path(path)
        if not p.exists():
            raise InputError(Problem(f"polygon file {why_missing(p)}", source=str(p)))
        # shapely after the check: a missing file is refused without importing it (the command's start)
        from shapely.geometry import shape

        raw_geoms: list[object]
        if p.suffix.lower() == ".shp":
            import shapefile

            try:
                r = shapefile.Reader(str(p))
                names = [f[0] for f in r.fields[1:]]
                rows = [list(rec) for rec in r.records()]
                raw_geoms = [None if s.shapeType == shapefile.NULL else s.__geo_interface__ for s in r.shapes()]
            except Exception as exc:  # pyshp raises its own types
                raise InputError(Problem(f"cannot read the shapefile: {exc}", source=str(p))) from None
            attrs = pd.DataFrame(rows, columns=names)
        elif p.suffix.lower() in (".geojson", ".json"):
            try:
                gj = json.loads(p.read_text(encoding="utf-8"))
                feats = gj["features"]
                attrs = pd.DataFrame([f.get("properties") or {} for f in feats])
                raw_geoms = [f.get("geometry") for f in feats]
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise InputError(Problem(f"not a GeoJSON FeatureCollection: {exc}", source=str(p))) from None
        else:
            raise InputError(Problem("polygon file must be .shp, .geojson or .json", source=str(p)))
        if id_field not in attrs.columns:
            raise InputError(
                Problem(
                    f"no attribute {id_field!r} in the polygons; available: {', '.join(map(str, attrs.columns))}",
                    source=str(p),
                )
            )
        ids = attrs[id_field].astype(str).str.strip().tolist()
        geoms = []
        for i, g in enumerate(raw_geoms):
            what = f"feature {i} ({id_field} {ids[i]!r})"
            if g is None:
                raise InputError(Problem(f"{what} has no geometry (null): give it a polygon or remove it",
                                         source=str(p)))
            try:
                geom = shape(g)
            except Exception as exc:  # shapely raises several types on malformed coordinates
                raise InputError(Problem(f"{what}: not a valid geometry ({exc})", source=str(p))) from None
            if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
                raise InputError(Problem(f"{what} is {'empty' if geom.is_empty else 'a ' + geom.geom_type}, "
                                         "not a polygon", source=str(p)))
            geoms.append(geom)
        attrs = attrs.assign(area_id=ids)
        counts = pd.Series(ids).value_counts(sort=False)
        merged = {str(a): int(n) for a, n in counts.items() if n > 1}
        if merged:
            import shapely

            order = list(dict.fromkeys(ids))
            parts: dict[str, list[object]] = {a: [] for a in order}
            for a, g in zip(ids, geoms, strict=True):
                parts[a].append(g)
            geoms = [shapely.unary_union([g if shapely.is_valid(g) else shapely.make_valid(g) for g in parts[a]])
                     if len(parts[a]) > 1 else parts[a][0] for a in order]
            attrs = attrs.drop_duplicates("area_id").reset_index(drop=True)
            ids = order
        return cls(ids=ids, geoms=geoms, attributes=attrs, source=str(p), merged=merged)


@dataclass
class EventMapping:
    """The result of mapping events to areas.

    Attributes
    ----------
    events : DataFrame
        The input events that matched, with ``area_id`` (and ``period``).
    unmatched : DataFrame
        Events that fell in no area, or had no usable date, category or
        coordinates, with ``reason``.
    on_border : int
        Events that touched more than one polygon and were given to the first.
    """

    events: pd.DataFrame
    unmatched: pd.DataFrame
    on_border: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def n_unmatched(self) -> int:
        return len(self.unmatched)

    @property
    def n_matched(self) -> int:
        """Events placed in an area (as :attr:`EventCounts.n_matched <riskmodel.data.eventlog.EventCounts>`)."""
        return len(self.events)


def assign_polygons(
    x: np.ndarray, y: np.ndarray, polygons: AreaPolygons
) -> tuple[np.ndarray, int]:
    """Index of the polygon containing each point (-1 if none).

    Uses shapely's STRtree (vectorised GEOS); a point covered by several
    polygons (a shared border) goes to the lowest polygon index.
    """
    import shapely
    from shapely.strtree import STRtree

    pts = shapely.points(x, y)
    tree = STRtree(polygons.geoms)
    pi, gi = tree.query(pts, predicate="intersects")
    out = np.full(len(pts), -1, dtype=np.int64)
    if len(pi):
        order = np.lexsort((gi, pi))
        pi, gi = pi[order], gi[order]
        first = np.r_[True, pi[1:] != pi[:-1]]
        out[pi[first]] = gi[first]
        multi = int((~first).sum() and len(np.unique(pi[~first])))
    else:
        multi = 0
    return out, multi


def grid_cell_ids(
    x: np.ndarray, y: np.ndarray, size: float, origin: tuple[float, float] = (0.0, 0.0), prefix: str = "G"
) -> np.ndarray:
    """Square grid cell id of each point: ``{prefix}{col}_{row}``.

    Cell (col, row) covers ``[x0 + col*size, x0 + (col+1)*size)`` by the same
    in y; units are those of the coordinates.
    """
    if not size > 0:
        raise InputError(Problem(f"grid size must be positive, got {size}"))
    col = np.floor((np.asarray(x, float) - origin[0]) / size).astype(np.int64)
    row = np.floor((np.asarray(y, float) - origin[1]) / size).astype(np.int64)
    return np.char.add(np.char.add(np.char.add(prefix, col.astype(str)), "_"), row.astype(str))


def map_events(
    events: pd.DataFrame,
    *,
    source: str = "events",
    time_col: str = "timestamp",
    category_col: str | None = "category",
    area_col: str | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    polygons: AreaPolygons | None = None,
    grid_size: float | None = None,
    grid_origin: tuple[float, float] = (0.0, 0.0),
    category: str | None = None,
) -> EventMapping:
    """Give every event an ``area_id`` and a parsed ``timestamp``.

    Exactly one of ``area_col``, ``polygons`` (with ``x_col``/``y_col``) or
    ``grid_size`` (with ``x_col``/``y_col``) says how. ``category`` sets one
    category for all events when the table has no category column.
    """
    modes = sum(v is not None for v in (area_col, polygons, grid_size))
    if modes != 1:
        raise InputError(Problem("give exactly one of: an area column, polygons, or a grid size", source=source))
    needed = [time_col] + ([category_col] if category is None and category_col else [])
    needed += [area_col] if area_col else [x_col, y_col]
    missing = [c for c in needed if c is None or c not in events.columns]
    if missing:
        raise InputError(
            Problem(
                f"missing column(s) {', '.join(map(str, missing))} (found: {', '.join(map(str, events.columns))})",
                source=source,
            )
        )
    ev = events.reset_index(drop=True).copy()
    ts = pd.to_datetime(ev[time_col], errors="coerce", format="mixed")
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_localize(None)
    # an event dated 1677 or 9999 would make centuries of empty periods: refused, naming the row
    far = Limits.from_env().check_dates(ts, source=source, column=time_col, values=ev[time_col])
    if far:
        raise InputError(far)
    bad_t = ts.isna()
    ev["_line"] = np.arange(len(ev)) + 2
    ev["timestamp"] = ts
    ev["category"] = category if category is not None else ev[category_col].astype(str)
    reasons = pd.Series("", index=ev.index, dtype=object)
    reasons[bad_t] = "timestamp is not a date"
    if category is None:  # an event without a category is listed, not dropped by the count's groupby
        raw_cat = events[category_col].reset_index(drop=True)
        no_cat = raw_cat.isna() | (raw_cat.astype(str).str.strip() == "")
        reasons[no_cat.to_numpy() & (reasons == "")] = "no category"
    on_border = 0
    if area_col:
        aid = ev[area_col].astype("string").str.strip()
        reasons[(aid.fillna("") == "") & (reasons == "")] = "no area id"
        ev["area_id"] = aid.astype(object)
    else:
        x = pd.to_numeric(ev[x_col], errors="coerce").to_numpy(float)
        y = pd.to_numeric(ev[y_col], errors="coerce").to_numpy(float)
        bad_xy = ~(np.isfinite(x) & np.isfinite(y))
        reasons[bad_xy & (reasons == "")] = "coordinates missing or not numbers"
        if polygons is not None:
            idx = np.full(len(ev), -1)
            ok = ~bad_xy
            got, on_border = assign_polygons(x[ok], y[ok], polygons)
            idx[ok] = got
            reasons[(idx < 0) & (reasons == "")] = "outside every polygon"
            ids = np.array(polygons.ids, dtype=object)
            ev["area_id"] = np.where(idx >= 0, ids[np.maximum(idx, 0)], None)
        else:
            cells = np.full(len(ev), None, dtype=object)
            ok = ~bad_xy
            cells[ok] = grid_cell_ids(x[ok], y[ok], float(grid_size), grid_origin)
            ev["area_id"] = cells
    unmatched = ev[reasons != ""].assign(reason=reasons[reasons != ""])
    matched = ev[reasons == ""].copy()
    return EventMapping(events=matched, unmatched=unmatched, on_border=on_border)


def events_to_counts(mapping: EventMapping, freq: str) -> pd.DataFrame:
    """Count matched events per area, category and period (no zero rows)."""
    ev = mapping.events
    if ev.empty:
        raise InputError(Problem("no event could be placed in an area"))
    per = Frequency.of(freq).start(ev["timestamp"])
    out = (
        ev.assign(period=per.to_numpy())
        .groupby(["area_id", "category", "period"], as_index=False, sort=True)
        .size()
        .rename(columns={"size": "count"})
    )
    return out


def _polygonal(geom: object) -> object:
    """The polygonal part of a geometry (an intersection may add lines or points)."""
    import shapely

    if geom.geom_type in ("Polygon", "MultiPolygon"):  # type: ignore[attr-defined]
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()
