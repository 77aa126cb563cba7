"""``riskmodel grid``: event records with coordinates -> counts per grid cell, nested in streets.

The files it writes are the ordinary inputs of ``riskmodel forecast``,
``backtest`` and ``detect``: ``counts.csv`` (one series per cell and
category) and ``areas.csv`` (cell -> street -> district -> city), so that
forecasts and warnings run per cell and ``--reconcile`` makes them add up to
the streets, districts and the city.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskmodel.cli.common import INPUT_TYPE, FormatOpt, OutOpt, check_format
from riskmodel.data.grid import cells_from_files
from riskmodel.io_safety import atomic_dir
from riskmodel.results import table_bytes

# The options shared with ``riskmodel hotspots`` (one definition for both commands)
EventsOpt = Annotated[Path, typer.Option("--events", **INPUT_TYPE, help="Event records with coordinates (CSV, CSV.gz, Parquet), or a database URL.")]
PolygonsOpt = Annotated[Path, typer.Option(
    "--polygons", help="Street/area polygons (.shp, .geojson), in the events' planar coordinates.")]
IdFieldOpt = Annotated[str, typer.Option("--id-field", help="Polygon attribute holding the street's area id.")]
CellSizeOpt = Annotated[float, typer.Option(
    "--cell-size", help="Side of a grid square, in coordinate units (metres, or feet for EPSG:2913).")]
XColOpt = Annotated[str, typer.Option("--x-col", help="Column of the x coordinate.")]
YColOpt = Annotated[str, typer.Option("--y-col", help="Column of the y coordinate.")]
TimeColOpt = Annotated[str, typer.Option("--time-col", help="Column of the date or timestamp.")]
CategoryColOpt = Annotated[str, typer.Option("--category-col", help="Column of the category.")]
CategoryOpt = Annotated[str | None, typer.Option(
    "--category", help="One category for every event (when the file has no category column).")]
GridAreasOpt = Annotated[Path | None, typer.Option(
    "--areas", **INPUT_TYPE, help="Areas file: the hierarchy above the polygons (its area_id values are the --id-field values).")]


def register(app: typer.Typer) -> None:
    @app.command("grid")
    def grid(
        events: EventsOpt,
        polygons: PolygonsOpt,
        id_field: IdFieldOpt,
        cell_size: CellSizeOpt,
        out: OutOpt,
        freq: Annotated[str, typer.Option(
            "--freq", help="Period of the counts: D, W (Monday weeks), M or Y (calendar years).")] = "W",
        areas: GridAreasOpt = None,
        x_col: XColOpt = "x",
        y_col: YColOpt = "y",
        time_col: TimeColOpt = "timestamp",
        category_col: CategoryColOpt = "category",
        category: CategoryOpt = None,
        include_empty: Annotated[bool, typer.Option("--include-empty", help="Also write a series of zeros for every cell and category without events.")] = False,
        fmt: FormatOpt = None,
    ) -> None:
        """Count events per square grid cell, each cell nested in its street.

        A square that straddles two streets becomes one cell per street, so
        cell counts add up exactly to streets, districts and the city. Writes
        DIR/counts.csv (area_id, category, period, count; zero-filled), DIR/areas.csv
        (cells under their streets, and the --areas hierarchy above), DIR/cells.csv
        (each cell's street, grid column and row, centroid and area) and
        DIR/unmatched.csv (events outside every polygon or with bad
        coordinates or dates, with the reason). Features of --polygons that share
        an --id-field value (a street drawn as several polygons) are merged into
        one MultiPolygon per street, and a note says how many. Then, for example:
        riskmodel forecast --counts DIR/counts.csv --areas DIR/areas.csv --reconcile mint_shrink ...
        """
        check_format(fmt)
        cells, mapping, panel, above = cells_from_files(events, polygons, id_field, cell_size, freq, areas, x_col, y_col,
                                                 time_col, category_col, category, include_empty)
        for note in panel.notes():
            typer.echo(note, err=True)
        counts = panel.counts.assign(period=lambda d: d["period"].dt.strftime("%Y-%m-%d"))
        hierarchy = cells.areas_table(above)
        with atomic_dir(out) as tmp:
            # spreadsheet-safe: an id or category like "=cmd|..." is written "'=cmd|..." in every CSV, as text in a workbook
            for name, table in (("counts.csv", counts), ("areas.csv", hierarchy), ("cells.csv", cells.table),
                                ("unmatched.csv", mapping.unmatched)):
                # --format xlsx: counts.xlsx, areas.xlsx, ...: each a drop-in for its CSV (forecast --counts DIR/counts.xlsx)
                name = name.replace(".csv", f".{fmt}") if fmt else name
                (tmp / name).write_bytes(table_bytes(table, name))
        n_series = counts[["area_id", "category"]].drop_duplicates().shape[0]
        n_streets = cells.table["parent_id"].nunique()
        typer.echo(
            f"{mapping.n_matched:,} events in {len(cells.table):,} cells of {cell_size:g} units "
            f"under {n_streets} streets: {n_series:,} series of {panel.freq} counts; "
            f"{mapping.n_unmatched:,} events not placed (unmatched.csv); written to {out}"
        )
