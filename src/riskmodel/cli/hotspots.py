"""``riskmodel hotspots``: grid cells, rankers and their PAI / PEI* on rolling windows."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from riskmodel.cli.common import NoTrackOpt, OutOpt, choice, make_tracker
from riskmodel.cli.grid import (
    CategoryColOpt,
    CategoryOpt,
    CellSizeOpt,
    EventsOpt,
    GridAreasOpt,
    IdFieldOpt,
    PolygonsOpt,
    TimeColOpt,
    XColOpt,
    YColOpt,
)
from riskmodel.data.frequency import Frequency
from riskmodel.data.grid import cells_from_files
from riskmodel.errors import InputError, Problem
from riskmodel.forecast.api import _check
from riskmodel.hotspots.evaluate import UNITS, evaluate_hotspots
from riskmodel.hotspots.metrics import COVERAGE_BY
from riskmodel.hotspots.rankers import default_rankers
from riskmodel.io_safety import atomic_dir


def register(app: typer.Typer) -> None:
    @app.command("hotspots")
    def hotspots(
        events: EventsOpt,
        polygons: PolygonsOpt,
        id_field: IdFieldOpt,
        cell_size: CellSizeOpt,
        coverage: Annotated[list[float], typer.Option("--coverage", help="Hotspot area in squared coordinate units (or a number of squares with --coverage-by cells); repeatable.")],
        out: OutOpt,
        x_col: XColOpt = "x",
        y_col: YColOpt = "y",
        time_col: TimeColOpt = "timestamp",
        category_col: CategoryColOpt = "category",
        category: CategoryOpt = None,
        areas: GridAreasOpt = None,
        freq: Annotated[str, typer.Option("--freq", help="Period of the windows: D, W (Monday weeks) or M.")] = "W",
        h: Annotated[list[int] | None, typer.Option("--h", help="Window length in periods (repeatable; default 1).")] = None,
        origin: Annotated[list[str] | None, typer.Option("--origin", help="First day of a forecast window, a period start (repeatable). Default: the last --windows windows.")] = None,
        windows: Annotated[int, typer.Option("--windows", help="Number of default origins, max(h) periods apart.")] = 4,
        coverage_by: Annotated[str, typer.Option("--coverage-by", help="area or cells.")] = "area",
        unit: Annotated[str, typer.Option("--unit", help="What is flagged: square (grid squares, default) or cell (squares split at street borders).")] = "square",
        model: Annotated[str, typer.Option("--model", help="Forecast model of the forecast ranker (see riskmodel forecast --help).")] = "auto",
        bandwidth: Annotated[float | None, typer.Option("--bandwidth", help="KDE bandwidth in coordinate units (default: half the cell size).")] = None,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the tie-breaking order and the seeded models.")] = 0,
        no_track: NoTrackOpt = False,
    ) -> None:
        """Rank grid squares by riskmodel's forecast, a kernel density and naive counts; score PAI and PEI*.

        Writes DIR/metrics.csv (one row per method, category, origin, h and
        coverage: n, N, n_star, a, A, pai, pei_star), DIR/means.csv,
        DIR/timings.csv, DIR/cells.csv (the grid: each square cut by the
        polygons, with its area) and DIR/summary.txt.
        """
        freq = Frequency.of(freq).code
        choice(coverage_by, COVERAGE_BY, "--coverage-by")
        choice(unit, UNITS, "--unit")
        _check(model, "none")
        hs = h or [1]
        if min(hs) < 1:
            raise InputError(Problem(f"--h must be >= 1, got {min(hs)}"))
        if windows < 1:
            raise InputError(Problem(f"--windows must be >= 1, got {windows}"))
        if bandwidth is not None and not bandwidth > 0:
            raise InputError(Problem(f"--bandwidth must be positive (coordinate units), got {bandwidth}"))
        t0 = time.perf_counter()
        cells, mapping, panel, _ = cells_from_files(events, polygons, id_field, cell_size, freq, areas, x_col, y_col,
                                                 time_col, category_col, category)
        grid_secs = time.perf_counter() - t0
        tracker = make_tracker(no_track)
        params = {"events": str(events), "polygons": str(polygons), "cell_size": cell_size, "freq": freq,
                  "h": hs, "origins": origin or f"last {windows}", "coverage": coverage, "coverage_by": coverage_by,
                  "unit": unit, "model": model, "bandwidth": bandwidth, "seed": seed}
        with tracker.run("hotspots", params=params) as run:
            res = evaluate_hotspots(panel, cells, mapping.events, horizons=hs, coverages=coverage, origins=origin,
                                    windows=windows, coverage_by=coverage_by, unit=unit,
                                    rankers=default_rankers(model, bandwidth), seed=seed)
            if mapping.n_unmatched:
                res.notes.append(f"{mapping.n_unmatched} event(s) fell in no polygon or had bad coordinates/dates")
            means = res.means()
            with atomic_dir(out) as tmp:
                res.table.to_csv(tmp / "metrics.csv", index=False, lineterminator="\n")
                means.to_csv(tmp / "means.csv", index=False, lineterminator="\n")
                res.timings.to_csv(tmp / "timings.csv", index=False, lineterminator="\n")
                cells.table.to_csv(tmp / "cells.csv", index=False, lineterminator="\n")
                (tmp / "summary.txt").write_text(res.summary() + "\n", encoding="utf-8")
            run.log_fingerprint("events", events)
            run.log_table(means, "means.csv")
            run.log_metrics({"cells": len(cells.table), "events": len(mapping.events),
                             "unmatched": mapping.n_unmatched, "grid_seconds": grid_secs})
        typer.echo(res.summary())
        typer.echo(f"written to {out}")
