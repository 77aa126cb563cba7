"""Square grid cells nested in streets, and the event counts per cell.

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

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.data.eventlog import EventCounts, count_events
from riskmodel.data.events import (
    AreaPolygons,
    EventMapping,
    _polygonal,
    events_to_counts,
    grid_cell_ids,
    map_events,
)
from riskmodel.data.frequency import Frequency
from riskmodel.data.panel import IncidentPanel
from riskmodel.data.readers import read_table
from riskmodel.data.schemas import validate_areas
from riskmodel.errors import InputError, Problem


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
        mapping: EventMapping | EventCounts,
        freq: str,
        areas: pd.DataFrame | None = None,
        include_empty: bool = False,
    ) -> IncidentPanel:
        """Counts per cell, category and period, with the hierarchy cell -> street -> ...

        Parameters
        ----------
        mapping : EventMapping or EventCounts
            From :meth:`map`, or from :func:`riskmodel.data.eventlog.count_events`
            with these cells (the out-of-core path; the same counts).
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
        freq = Frequency.of(freq).code
        if isinstance(mapping, EventCounts):
            counts, n_events = mapping.counts, mapping.n_events
        else:
            counts, n_events = events_to_counts(mapping, freq), len(mapping.events) + mapping.n_unmatched
        if include_empty:
            first = counts["period"].min()
            allc = pd.MultiIndex.from_product([self.ids, sorted(counts["category"].unique())],
                                              names=["area_id", "category"]).to_frame(index=False)
            have = counts[["area_id", "category"]].drop_duplicates()
            new = allc.merge(have, how="left", indicator=True).query("_merge == 'left_only'")
            zeros = new[["area_id", "category"]].assign(period=first, count=0)
            counts = pd.concat([counts, zeros], ignore_index=True)
        panel = IncidentPanel.from_counts(counts, freq=freq, areas=self.areas_table(areas), source="events")
        panel.meta["origin"] = "events"  # counted from an event log: its zeros are true zeros
        panel = panel.complete()
        panel.meta.update({"unmatched": mapping.unmatched, "n_unmatched": mapping.n_unmatched,
                           "n_events": n_events,
                           "on_border": mapping.on_border, "cell_size": self.size})
        return panel


def cells_from_files(events: str | os.PathLike[str], polygons: str | os.PathLike[str], id_field: str,
                     cell_size: float, freq: str, areas: str | os.PathLike[str] | None = None, x_col: str = "x",
                     y_col: str = "y", time_col: str = "timestamp", category_col: str = "category",
                     category: str | None = None, include_empty: bool = False, engine: str = "duckdb",
                     keep_events: bool = False) -> tuple[GridCells, EventMapping | EventCounts, IncidentPanel, pd.DataFrame | None]:
    """Read the files and count the events per grid cell.

    Returns ``(cells, mapping, panel, above)``: the :class:`GridCells`, the
    :class:`EventMapping` (matched and unmatched events; ``engine="pandas"``)
    or :class:`~riskmodel.data.eventlog.EventCounts` (counts and unmatched
    events; ``engine="duckdb"``, out of core, the same counts and unmatched
    events), the cell :class:`IncidentPanel` with the hierarchy cell -> street
    -> ``areas``, and the validated ``areas`` table (None without one).
    ``events`` may also be a database URL (``engine="duckdb"``). With
    ``keep_events=True`` the DuckDB path also returns the counted events
    (``mapping.events``: timestamp, category, area_id, x, y), as the hotspot
    rankers need; the pandas path always does.
    Bad input raises InputError naming the file, column or option.
    """
    if engine not in ("duckdb", "pandas"):
        raise InputError(Problem(f"engine must be duckdb or pandas, got {engine!r}"))
    freq = Frequency.of(freq).code
    area_df = None
    if areas is not None:
        raw, _ = read_table(areas, what="areas")
        area_df, _ = validate_areas(raw, source=str(areas))
    streets = AreaPolygons.read(polygons, id_field=id_field)
    cells = GridCells.build(streets, cell_size)
    notes = []
    mapping: EventMapping | EventCounts
    if engine == "duckdb":
        mapping = count_events(events, freq=freq, polygons=streets, cells=cells, time_col=time_col, x_col=x_col,
                               y_col=y_col, category_col=None if category is not None else category_col,
                               category=category, keep_events=keep_events)
        notes = mapping.notes
    else:
        ev, _ = read_table(events, what="events")
        mapping = cells.map(ev, x_col=x_col, y_col=y_col, source=str(events), time_col=time_col,
                            category_col=None if category is not None else category_col, category=category)
    panel = cells.panel(mapping, freq, areas=area_df, include_empty=include_empty)
    for note in ([streets.note] if streets.note else []) + notes:
        panel.meta.setdefault("notes", []).append(note)
    return cells, mapping, panel, area_df


__all__ = ["GridCells", "cells_from_files"]
