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

Grid cells under streets
------------------------
:class:`GridCells` cuts every street (area) polygon by a square grid: a cell
is the part of one grid square inside one street, with id
``{street}-G{col}_{row}``. A square that straddles two streets therefore
becomes two cells, one per street, each with the area of its part, so a cell
never crosses a street and cell counts add up exactly to street counts. Cells
at the edge of the study area are clipped the same way (the NIJ Real-Time
Crime Forecasting Challenge also trimmed its cells at the city boundary).
Every cell of the study area is kept, including cells that never had an
event: hotspot metrics divide by the study area, and a ranker may flag a cell
where nothing happened yet. They are all in the hierarchy of
:meth:`GridCells.panel`; by default only cells with events get count series
(``include_empty=True`` gives the others series of zeros), which changes no
total. :meth:`GridCells.squares` merges a square's cells again, for hotspot
maps.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem

if TYPE_CHECKING:
    from riskmodel.data.panel import IncidentPanel


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

    @classmethod
    def read(cls, path: str | os.PathLike[str], id_field: str) -> AreaPolygons:
        """Read a shapefile (``.shp``) or GeoJSON (``.geojson``/``.json``)."""
        from shapely.geometry import shape

        p = Path(path)
        if not p.exists():
            raise InputError(Problem("polygon file does not exist", source=str(p)))
        if p.suffix.lower() == ".shp":
            import shapefile

            try:
                r = shapefile.Reader(str(p))
            except Exception as exc:  # pyshp raises its own types
                raise InputError(Problem(f"cannot read the shapefile: {exc}", source=str(p))) from None
            names = [f[0] for f in r.fields[1:]]
            rows = [list(rec) for rec in r.records()]
            attrs = pd.DataFrame(rows, columns=names)
            geoms = [shape(s.__geo_interface__) for s in r.shapes()]
        elif p.suffix.lower() in (".geojson", ".json"):
            try:
                gj = json.loads(p.read_text(encoding="utf-8"))
                feats = gj["features"]
            except (ValueError, KeyError) as exc:
                raise InputError(Problem(f"not a GeoJSON FeatureCollection: {exc}", source=str(p))) from None
            attrs = pd.DataFrame([f.get("properties") or {} for f in feats])
            geoms = [shape(f["geometry"]) for f in feats]
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
        attrs = attrs.assign(area_id=ids)
        return cls(ids=ids, geoms=geoms, attributes=attrs, source=str(p))


@dataclass
class EventMapping:
    """The result of mapping events to areas.

    Attributes
    ----------
    events : DataFrame
        The input events that matched, with ``area_id`` (and ``period``).
    unmatched : DataFrame
        Events that fell in no area (or had no usable coordinates), with
        ``reason``.
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
    bad_t = ts.isna()
    ev["_line"] = np.arange(len(ev)) + 2
    ev["timestamp"] = ts
    ev["category"] = category if category is not None else ev[category_col].astype(str)
    reasons = pd.Series("", index=ev.index, dtype=object)
    reasons[bad_t] = "timestamp is not a date"
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
    from riskmodel.data.panel import period_start

    ev = mapping.events
    if ev.empty:
        raise InputError(Problem("no event could be placed in an area"))
    per = period_start(ev["timestamp"], freq)
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


@dataclass
class GridCells:
    """Square grid cells nested in area (street) polygons.

    Build with :meth:`build`; see the module notes for how a square that
    straddles two streets is split.

    Attributes
    ----------
    table : DataFrame
        One row per cell, in the order of the streets in the polygon file and
        then by column and row: ``area_id`` (``{street}-G{col}_{row}``),
        ``parent_id`` (the street), ``level``, ``col``, ``row`` (grid indices
        from ``origin``), ``x``, ``y`` (centroid of the cell's part, coordinate
        units), ``area`` (squared coordinate units, e.g. square feet) and
        ``whole`` (True when the cell is the full square).
    polygons : AreaPolygons
        The cells' geometries (ids = cell ids), for point-in-polygon.
    size : float
        Side of a square, in coordinate units.
    origin : (float, float)
        Lower-left corner of grid square (0, 0).
    """

    table: pd.DataFrame
    polygons: AreaPolygons
    size: float
    origin: tuple[float, float]

    @classmethod
    def build(
        cls,
        streets: AreaPolygons,
        size: float,
        origin: tuple[float, float] | None = None,
        level: str = "grid",
    ) -> GridCells:
        """Cut every street polygon by a square grid of side ``size``.

        Parameters
        ----------
        streets : AreaPolygons
            The areas the cells nest in (streets, towns, police districts), in
            planar coordinates.
        size : float
            Side of a grid square, in the coordinates' units (feet for
            Portland's State Plane coordinates, EPSG:2913).
        origin : (float, float), optional
            Lower-left corner of square (0, 0); default the lower-left corner
            of the polygons' bounding box.
        level : str
            Level name of the cells in the hierarchy.

        Notes
        -----
        Invalid polygons (self-intersecting rings, as two of Portland's
        districts have) are repaired with ``shapely.make_valid``, which keeps
        their area. Parts thinner than ``1e-9 * size**2`` (numerical dust
        where a street border runs along a grid line) are not cells.
        """
        import shapely

        size = float(size)
        if not (np.isfinite(size) and size > 0):
            raise InputError(Problem(f"cell size must be a positive number of coordinate units, got {size}"))
        geoms = [g if shapely.is_valid(g) else shapely.make_valid(g) for g in streets.geoms]
        bounds = shapely.bounds(np.array(geoms, dtype=object))
        if origin is None:
            origin = (float(np.nanmin(bounds[:, 0])), float(np.nanmin(bounds[:, 1])))
        x0, y0 = float(origin[0]), float(origin[1])
        n_squares = float(
            np.sum((np.floor((bounds[:, 2] - x0) / size) - np.floor((bounds[:, 0] - x0) / size) + 1)
                   * (np.floor((bounds[:, 3] - y0) / size) - np.floor((bounds[:, 1] - y0) / size) + 1))
        )
        if n_squares > 5_000_000:
            raise InputError(
                Problem(f"cell size {size:g} would make about {n_squares:,.0f} grid squares; "
                        "the coordinates and the size must be in the same units (use a larger size)")
            )
        dust = 1e-9 * size * size
        rows: list[pd.DataFrame] = []
        pieces: list[object] = []
        for sid, geom, b in zip(streets.ids, geoms, bounds, strict=True):
            if not np.all(np.isfinite(b)):
                continue
            c0, c1 = int(np.floor((b[0] - x0) / size)), int(np.floor((b[2] - x0) / size))
            r0, r1 = int(np.floor((b[1] - y0) / size)), int(np.floor((b[3] - y0) / size))
            cols, rws = np.meshgrid(np.arange(c0, c1 + 1), np.arange(r0, r1 + 1), indexing="ij")
            cols, rws = cols.ravel(), rws.ravel()
            squares = shapely.box(x0 + cols * size, y0 + rws * size, x0 + (cols + 1) * size, y0 + (rws + 1) * size)
            inter = shapely.intersection(squares, geom)
            mixed = ~np.isin(shapely.get_type_id(inter), (3, 6))  # not Polygon / MultiPolygon
            inter[mixed] = [_polygonal(g) for g in inter[mixed]]
            area = shapely.area(inter)
            keep = area > dust
            if not keep.any():
                continue
            inter, area, cols, rws = inter[keep], area[keep], cols[keep], rws[keep]
            cent = shapely.centroid(inter)
            ids = np.char.add(np.char.add(np.char.add(f"{sid}-G", cols.astype(str)), "_"), rws.astype(str))
            rows.append(pd.DataFrame({
                "area_id": ids.astype(object), "parent_id": sid, "level": level,
                "col": cols, "row": rws, "x": shapely.get_x(cent), "y": shapely.get_y(cent),
                "area": area, "whole": area >= size * size * (1 - 1e-9),
            }))
            pieces.extend(inter.tolist())
        if not rows:
            raise InputError(Problem("the polygons have no area: no grid cell could be made", source=streets.source))
        table = pd.concat(rows, ignore_index=True)
        polys = AreaPolygons(ids=table["area_id"].tolist(), geoms=pieces, attributes=table.copy(),
                             source=streets.source)
        return cls(table=table, polygons=polys, size=size, origin=(x0, y0))

    @property
    def ids(self) -> list[str]:
        return self.table["area_id"].tolist()

    def squares(self) -> tuple[pd.DataFrame, np.ndarray]:
        """The grid squares: the cells of one square merged across streets.

        A hotspot map flags squares (clipped only at the edge of the study
        area), as the NIJ challenge's grids did; the cells split at street
        borders are for counting up the hierarchy.

        Returns
        -------
        squares : DataFrame
            ``square_id`` (``G{col}_{row}``), ``col``, ``row``, ``x``, ``y``
            (area-weighted centroid), ``area`` (squared coordinate units),
            ``cells`` (number of cells in the square).
        index : ndarray (n_cells,) of int
            The row in ``squares`` of each cell of :attr:`table`.
        """
        t = self.table
        cr, index = np.unique(t[["col", "row"]].to_numpy(np.int64), axis=0, return_inverse=True)
        index = index.ravel()
        w = t["area"].to_numpy(float)
        area = np.bincount(index, weights=w)
        col, row = cr[:, 0], cr[:, 1]
        centre_x = self.origin[0] + (col + 0.5) * self.size
        centre_y = self.origin[1] + (row + 0.5) * self.size
        sq = pd.DataFrame({
            "square_id": grid_cell_ids(centre_x, centre_y, self.size, self.origin).astype(object),
            "col": col, "row": row,
            "x": np.bincount(index, weights=t["x"].to_numpy(float) * w) / area,
            "y": np.bincount(index, weights=t["y"].to_numpy(float) * w) / area,
            "area": area, "cells": np.bincount(index),
        })
        return sq, index

    @property
    def total_area(self) -> float:
        """Area of the study area (sum of the cells), squared coordinate units."""
        return float(self.table["area"].sum())

    def areas_table(self, areas: pd.DataFrame | None = None) -> pd.DataFrame:
        """The areas table with the cells under their streets.

        Parameters
        ----------
        areas : DataFrame, optional
            The hierarchy above the cells (``area_id``, ``parent_id``,
            ``level``...), which must list every street. Without it the
            streets are roots at level ``area``.
        """
        cells = self.table[["area_id", "parent_id", "level"]]
        streets = sorted(self.table["parent_id"].unique())
        if areas is None:
            upper = pd.DataFrame({"area_id": streets, "parent_id": None, "level": "area"})
        else:
            upper = areas.copy()
            upper["area_id"] = upper["area_id"].astype(str)
            missing = sorted(set(streets) - set(upper["area_id"]))
            if missing:
                raise InputError(
                    Problem(f"{len(missing)} polygon id(s) are not in the areas table: {', '.join(missing[:10])}",
                            column="area_id")
                )
            clash = sorted(set(cells["area_id"]) & set(upper["area_id"]))
            if clash:
                raise InputError(Problem(f"cell id(s) already used by areas: {', '.join(clash[:10])}",
                                         column="area_id"))
        return pd.concat([upper, cells], ignore_index=True)

    def map(self, events: pd.DataFrame, *, x_col: str, y_col: str, source: str = "events",
            **options: object) -> EventMapping:
        """Give every event the cell that contains it (:func:`map_events` with the cells).

        The matched events get float ``x`` and ``y`` columns (the coordinates
        used) besides ``area_id`` (the cell), ``timestamp`` and ``category``.
        A point on the border of two cells goes to the first in
        :attr:`table`'s order, hence to the first street in the polygon file,
        as :func:`map_events` does with the street polygons themselves.
        """
        m = map_events(events, source=source, x_col=x_col, y_col=y_col, polygons=self.polygons, **options)  # type: ignore[arg-type]
        ev = m.events
        m.events = ev.assign(x=pd.to_numeric(ev[x_col], errors="coerce").astype(float),
                             y=pd.to_numeric(ev[y_col], errors="coerce").astype(float))
        return m

    def panel(
        self,
        mapping: EventMapping,
        freq: str,
        areas: pd.DataFrame | None = None,
        include_empty: bool = False,
    ) -> IncidentPanel:
        """Counts per cell, category and period, with the hierarchy cell -> street -> ...

        Parameters
        ----------
        mapping : EventMapping
            From :meth:`map`.
        freq : {'D', 'W', 'M'}
        areas : DataFrame, optional
            The hierarchy above the cells (see :meth:`areas_table`).
        include_empty : bool
            Also give a series of zeros to every (cell, category) with no
            event. By default only cells with at least one event of a category
            have a series of it (zero-filled over the whole span); every cell
            is in the hierarchy either way, and the cells without a series
            add nothing to any total.

        Returns
        -------
        IncidentPanel
            ``meta`` as from :meth:`IncidentPanel.from_events`, plus
            ``cell_size``.
        """
        from riskmodel.data.panel import IncidentPanel
        from riskmodel.data.schemas import check_freq

        freq = check_freq(freq)
        counts = events_to_counts(mapping, freq)
        if include_empty:
            first = counts["period"].min()
            allc = pd.MultiIndex.from_product([self.ids, sorted(counts["category"].unique())],
                                              names=["area_id", "category"]).to_frame(index=False)
            have = counts[["area_id", "category"]].drop_duplicates()
            new = allc.merge(have, how="left", indicator=True).query("_merge == 'left_only'")
            zeros = new[["area_id", "category"]].assign(period=first, count=0)
            counts = pd.concat([counts, zeros], ignore_index=True)
        panel = IncidentPanel.from_counts(counts, freq=freq, areas=self.areas_table(areas)).complete()
        panel.meta.update({"unmatched": mapping.unmatched, "n_unmatched": mapping.n_unmatched,
                           "n_events": len(mapping.events) + mapping.n_unmatched,
                           "on_border": mapping.on_border, "cell_size": self.size})
        return panel
