"""``riskmodel hotspots``: grid cells, rankers and their PAI / PEI* on rolling windows."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from riskmodel.cli.common import FormatOpt, NoTrackOpt, OutOpt, check_format, choice, make_tracker
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
from riskmodel.cli.methods import route_each, with_method_options
from riskmodel.cli.progress import QuietOpt, bar
from riskmodel.data.frequency import Frequency
from riskmodel.data.grid import cells_from_files
from riskmodel.errors import InputError, Problem
from riskmodel.hotspots import RANKERS
from riskmodel.hotspots.evaluate import UNITS, evaluate_hotspots
from riskmodel.hotspots.metrics import COVERAGE_BY
from riskmodel.hotspots.rankers import make_ranker
from riskmodel.results import Artifact, with_format


def register(app: typer.Typer) -> None:
    @app.command("hotspots")
    @with_method_options(RANKERS)
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
        ranker: Annotated[list[str] | None, typer.Option("--ranker", help=f"Hotspot ranker: {RANKERS.choices_help()} (repeatable; default: all of them).")] = None,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the tie-breaking order and the seeded models.")] = 0,
        no_track: NoTrackOpt = False,
        fmt: FormatOpt = None,
        quiet: QuietOpt = False,
        method_options: dict[str, Any] | None = None,
    ) -> None:
        """Rank grid squares by riskmodel's forecast, a kernel density and naive counts; score PAI and PEI*.

        The rankers are those of --ranker (default: every registered ranker);
        a ranker's options (--model, --bandwidth, --lookback, ...) go to
        every chosen ranker that takes them.

        Writes DIR/metrics.csv (one row per method, category, origin, h and
        coverage: n, N, n_star, a, A, pai, pei_star), DIR/means.csv,
        DIR/timings.csv, DIR/cells.csv (the grid: each square cut by the
        polygons, with its area) and DIR/summary.txt.
        """
        check_format(fmt)
        freq = Frequency.of(freq).code
        choice(coverage_by, COVERAGE_BY, "--coverage-by")
        choice(unit, UNITS, "--unit")
        names = list(dict.fromkeys(ranker or RANKERS.names()))
        for name in names:
            RANKERS.check(name, freq=freq)
        given = method_options or {}
        rankers = [make_ranker(name, **kw) for name, kw in route_each(RANKERS, names, given).items()]
        hs = h or [1]
        if min(hs) < 1:
            raise InputError(Problem(f"--h must be >= 1, got {min(hs)}"))
        if windows < 1:
            raise InputError(Problem(f"--windows must be >= 1, got {windows}"))
        t0 = time.perf_counter()
        cells, mapping, panel, _ = cells_from_files(events, polygons, id_field, cell_size, freq, areas, x_col, y_col,
                                                 time_col, category_col, category, keep_events=True)
        grid_secs = time.perf_counter() - t0
        tracker = make_tracker(no_track)
        params = {"events": str(events), "polygons": str(polygons), "cell_size": cell_size, "freq": freq,
                  "h": hs, "origins": origin or f"last {windows}", "coverage": coverage, "coverage_by": coverage_by,
                  "unit": unit, "model": given.get("--model", "auto"), "bandwidth": given.get("--bandwidth"),
                  "seed": seed}
        if ranker:
            params["rankers"] = names
        params.update({flag.lstrip("-").replace("-", "_"): v for flag, v in given.items()
                       if flag not in ("--model", "--bandwidth")})
        with tracker.run("hotspots", params=params) as run:
            with bar("hotspots", quiet=quiet, unit="fits (ranker x origin)") as progress:
                res = evaluate_hotspots(panel, cells, mapping.events, horizons=hs, coverages=coverage, origins=origin,
                                        windows=windows, coverage_by=coverage_by, unit=unit,
                                        rankers=rankers, seed=seed, progress=progress)
            if mapping.n_unmatched:
                res.notes.append(f"{mapping.n_unmatched} event(s) fell in no polygon or had bad coordinates/dates")
            artifacts = [*res.artifacts(), Artifact("cells.csv", cells.table, log_as="")]
            run.log_fingerprint("events", events)
            run.publish(with_format(artifacts, fmt), out)
            run.log_metrics({"cells": len(cells.table), "events": len(mapping.events),
                             "unmatched": mapping.n_unmatched, "grid_seconds": grid_secs})
        typer.echo(res.summary())
        typer.echo(f"written to {out}")
