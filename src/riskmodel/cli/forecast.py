"""``riskmodel forecast`` and ``riskmodel backtest``.

The choices and help of ``--model`` and ``--reconcile`` come from the
registries (:data:`riskmodel.forecast.MODELS`,
:data:`riskmodel.forecast.RECONCILERS`), and so does the validation (a name
registered later, e.g. by a test, is accepted with no edit here); both
commands run :class:`riskmodel.forecast.Forecaster`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from riskmodel.cli.common import (
    INPUT_TYPE,
    AlignDatesOpt,
    ColumnsOpt,
    FormatOpt,
    NoTrackOpt,
    OutOpt,
    check_format,
    make_tracker,
    table_file,
)
from riskmodel.cli.execution import (
    BackendOpt,
    ChunkSizeOpt,
    SchedulerOpt,
    WorkersOpt,
    check_execution,
    describe,
    open_backend,
)
from riskmodel.cli.progress import QuietOpt, backtest_position, bar
from riskmodel.data.calendar_choice import check_calendar, resolve_calendar
from riskmodel.data.columns import parse_columns
from riskmodel.data.loading import load_panel
from riskmodel.data.readers import write_table_atomic
from riskmodel.errors import InputError, Problem
from riskmodel.execution.chunks import DEFAULT_CHUNK_SIZE
from riskmodel.forecast import DEFAULT_RECONCILE, MODELS, RECONCILERS, Forecaster
from riskmodel.forecast.base import check_horizon
from riskmodel.forecast.registry import needs_hierarchy
from riskmodel.io_safety import redacted
from riskmodel.registry import Registry
from riskmodel.results import with_format


def registry_help(registry: Registry[Any], lead: str) -> str:
    """``lead`` then every registered name with its one-line summary (the option's help)."""
    names = "; ".join(f"{s.name}: {s.summary}" if s.summary else s.name for s in registry.specs())
    return f"{lead} One of {registry.choices_help()}. {names}."


def _check(models: list[str], reconcile: str, areas: Path | None) -> None:
    for m in models:
        MODELS.check(m)
    RECONCILERS.check(reconcile)
    if needs_hierarchy(reconcile) and areas is None:
        raise InputError(Problem("--reconcile needs --areas (the area hierarchy)"))

CountsOpt = Annotated[Path, typer.Option("--counts", **INPUT_TYPE, help="Counts file: area_id, category, period, count (CSV, CSV.gz, Parquet, Excel), or a database URL with ?table= or ?query=.")]
FreqOpt = Annotated[str | None, typer.Option("--freq", help="D, W or M; finer counts are summed to it (inferred if omitted).")]
AreasOpt = Annotated[Path | None, typer.Option("--areas", **INPUT_TYPE, help="Areas file (hierarchy; needed by --reconcile).")]
LevelOpt = Annotated[list[float] | None, typer.Option("--level", help="Central interval level in percent (repeatable; default 80 and 95).")]
ReconcileOpt = Annotated[str, typer.Option("--reconcile", help=registry_help(
    RECONCILERS, "Hierarchical reconciliation over the areas in --areas."))]
ModelOpt = Annotated[str, typer.Option("--model", help=registry_help(MODELS, "Forecast model."))]
ModelsOpt = Annotated[list[str] | None, typer.Option("--model", help=registry_help(
    MODELS, "Model(s) to test (repeatable; default auto). Seasonal naive is always added."))]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (of the models that draw random numbers: "
                                     + ", ".join(s.name for s in MODELS.specs() if s.needs.seed) + ").")]
GapsOpt = Annotated[str, typer.Option("--gaps", help="Missing periods inside the data: zero (no incident) or error.")]
CalendarOpt = Annotated[str | None, typer.Option("--calendar", help=(
    "Holiday regressors of the models that have them (" + ", ".join(s.name for s in MODELS.specs() if s.option("calendar"))
    + "): CN (Chinese statutory holidays and make-up workdays), none, or a country code of the 'holidays' package "
    "(e.g. US, if installed). Default: the data's country (CN when the data name none), said in a note."))]


def _calendar_params(models: list[str], calendar: str | None, country: object) -> dict[str, dict[str, str]]:
    """``params`` giving every model with a ``calendar`` option the calendar chosen (the data's country by
    default, said in a note on stderr)."""
    users = [m for m in models if MODELS.get(m).option("calendar") is not None]
    if not users:
        return {}
    code, note = resolve_calendar(calendar, country, option="--calendar")
    if note:
        typer.echo(note, err=True)
    return {m: {"calendar": code} for m in users}


def _zero_note(df: pd.DataFrame) -> None:
    """One line on stderr when every series of the forecast is the all-zero fallback."""
    if len(df) and df["model"].astype(str).str.startswith("zero (").all():
        typer.echo("note: every series has only zero counts: the forecast is 0 with zero-width intervals "
                   "(model 'zero (all-zero history)')", err=True)


def _summary_line(df: pd.DataFrame, what: str) -> str:
    models = df["model"].value_counts()
    shown = ", ".join(f"{m} x{n}" for m, n in models.head(4).items())
    return f"{what}: {df[['area_id', 'category']].drop_duplicates().shape[0]} series; models: {shown}"


def register(app: typer.Typer) -> None:
    @app.command("forecast")
    def forecast(
        counts: CountsOpt,
        out: OutOpt,
        h: Annotated[int, typer.Option("--h", help="Periods ahead.")] = 3,
        freq: FreqOpt = None,
        align_dates: AlignDatesOpt = False,
        columns: ColumnsOpt = None,
        model: ModelOpt = "auto",
        level: LevelOpt = None,
        reconcile: ReconcileOpt = DEFAULT_RECONCILE,
        areas: AreasOpt = None,
        seed: SeedOpt = 0,
        gaps: GapsOpt = "zero",
        calendar: CalendarOpt = None,
        backend: BackendOpt = "local",
        workers: WorkersOpt = None,
        scheduler: SchedulerOpt = None,
        chunk_size: ChunkSizeOpt = DEFAULT_CHUNK_SIZE,
        no_track: NoTrackOpt = False,
        quiet: QuietOpt = False,
        fmt: FormatOpt = None,
    ) -> None:
        """Forecast every series h periods ahead with intervals.

        Writes area_id, category, period, model, mean, lo_80, hi_80, lo_95, hi_95
        (one lo/hi pair per --level). With --reconcile, the districts and the
        city (every ancestor in --areas) are forecast too and made coherent.
        Series are fitted in chunks of --chunk-size on --backend (docs/dask.md).
        """
        _check([model], reconcile, areas)
        if calendar is not None:
            check_calendar(calendar, option="--calendar")
        out = table_file(out, fmt)  # --format against --out's suffix, before any work
        check_execution(backend, workers, scheduler, chunk_size)
        levels = level or [80.0, 95.0]
        panel = load_panel(counts, freq=freq, areas=areas, align=align_dates, columns=parse_columns(columns))
        check_horizon(h, panel.freq, option="--h")
        for line in panel.notes(redacted(counts)):
            typer.echo(line, err=True)
        mparams = _calendar_params([model], calendar, panel.meta.get("country"))
        tracker = make_tracker(no_track)
        params = {"counts": str(counts), "freq": panel.freq, "align_dates": align_dates, "h": h, "model": model, "levels": levels,
                  "reconcile": reconcile, "seed": seed, "gaps": gaps,
                  **({"calendar": mparams[model]["calendar"]} if mparams else {})}
        with open_backend(backend, workers, scheduler) as ex, \
                tracker.run("forecast", params={**params, **describe(ex, chunk_size)},
                            tags={"riskmodel.backend": ex.name}) as run:
            t0 = time.perf_counter()
            with bar(f"forecast ({model})", quiet=quiet, unit="chunks") as progress:
                res = Forecaster([model], seed=seed, reconcile=reconcile, chunk_size=chunk_size, backend=ex,
                                 gaps=gaps, params=mparams).forecast(panel, h, level=levels, progress=progress)
            secs = time.perf_counter() - t0
            arts = res.artifacts()  # forecast.csv
            df = arts[0].content
            write_table_atomic(df, out)  # by --out's suffix: csv, xlsx or parquet
            _zero_note(df)
            run.log_fingerprint("counts", counts)
            run.log_artifacts(arts)
            fb = int((~df["model"].str.startswith(model)).sum() // max(h, 1))
            run.log_metrics({"series": df[["area_id", "category"]].drop_duplicates().shape[0],
                             "seconds": secs, "fallback_series": fb, "chunks": res.chunks})
        typer.echo(_summary_line(df, f"forecast of {h} period(s) at {panel.freq} written to {out}") + f" ({secs:.1f} s)")

    @app.command("backtest")
    def backtest(
        counts: CountsOpt,
        out: OutOpt,
        h: Annotated[int, typer.Option("--h", help="Periods ahead in each window.")] = 12,
        windows: Annotated[int, typer.Option("--windows", help="Rolling origins (expanding window).")] = 1,
        step: Annotated[int | None, typer.Option("--step", help="Periods between origins (default: h).")] = None,
        freq: FreqOpt = None,
        align_dates: AlignDatesOpt = False,
        columns: ColumnsOpt = None,
        model: ModelsOpt = None,
        level: LevelOpt = None,
        reconcile: ReconcileOpt = DEFAULT_RECONCILE,
        areas: AreasOpt = None,
        seed: SeedOpt = 0,
        gaps: GapsOpt = "zero",
        calendar: CalendarOpt = None,
        backend: BackendOpt = "local",
        workers: WorkersOpt = None,
        scheduler: SchedulerOpt = None,
        chunk_size: ChunkSizeOpt = DEFAULT_CHUNK_SIZE,
        no_track: NoTrackOpt = False,
        quiet: QuietOpt = False,
        fmt: FormatOpt = None,
    ) -> None:
        """Rolling-origin backtest: DIR/forecasts.csv, DIR/metrics.csv and DIR/coverage.csv.

        metrics.csv has one row per series and model plus summary rows per
        level and overall (area_id = category = ALL): mase, rmsse, pinball,
        crps, coverage_80, coverage_95, bias, rel_mase (vs seasonal naive),
        seconds. coverage.csv has per model, area level and --level: coverage,
        n, mean_width and interval_score (lower is better; proper for the
        whole-number intervals of small counts, whose coverage cannot be
        exactly the nominal level).
        """
        models = model or ["auto"]
        _check(models, reconcile, areas)
        if calendar is not None:
            check_calendar(calendar, option="--calendar")
        check_format(fmt)
        check_execution(backend, workers, scheduler, chunk_size)
        levels = level or [80.0, 95.0]
        panel = load_panel(counts, freq=freq, areas=areas, align=align_dates, columns=parse_columns(columns))
        check_horizon(h, panel.freq, option="--h")
        for line in panel.notes(redacted(counts)):
            typer.echo(line, err=True)
        mparams = _calendar_params(models, calendar, panel.meta.get("country"))
        tracker = make_tracker(no_track)
        params = {"counts": str(counts), "freq": panel.freq, "align_dates": align_dates, "h": h, "windows": windows, "step": step,
                  "models": models, "levels": levels, "reconcile": reconcile, "seed": seed,
                  **({"calendar": next(iter(mparams.values()))["calendar"]} if mparams else {})}
        with open_backend(backend, workers, scheduler) as ex, \
                tracker.run("backtest", params={**params, **describe(ex, chunk_size)},
                            tags={"riskmodel.backend": ex.name}) as run:
            with bar("backtest", quiet=quiet, unit="fits", describe=backtest_position(models, windows)) as progress:
                res = Forecaster(models, seed=seed, reconcile=reconcile, chunk_size=chunk_size, backend=ex,
                                 gaps=gaps, params=mparams).cross_validation(panel, h, windows, step, level=levels, progress=progress)
            mt = res.metrics
            arts = res.artifacts()  # forecasts.csv and metrics.csv
            run.log_fingerprint("counts", counts)
            run.publish(with_format(arts, fmt), out)  # logs metrics.csv (the forecasts are not logged)
            overall = mt[mt["level"] == "overall"]
            run.log_metrics({f"{r.model}.{k}": getattr(r, k) for r in overall.itertuples()
                             for k in ("mase", "rmsse", "pinball", "crps", "coverage_80", "coverage_95", "seconds")})
        overall = mt[mt["level"] == "overall"].set_index("model")
        typer.echo(f"backtest ({windows} window(s), h={h}, {panel.freq}) written to {out}")
        typer.echo(overall[["mase", "rmsse", "pinball", "crps", "coverage_80", "coverage_95", "seconds"]].round(3).to_string())
        if len(res.coverage):
            typer.echo("interval coverage per area level (coverage.csv):")
            typer.echo(res.coverage_text())
