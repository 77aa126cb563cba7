"""``riskmodel detect``: spike warnings per area and category.

The detectors, their flags and their help come from the registry
(:data:`riskmodel.alerts.DETECTORS`): a detector registered there is a
``--method`` choice and its options are flags of this command, with no edit
here (:mod:`riskmodel.cli.methods`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from riskmodel.alerts import DEFAULT_METHOD, DETECTORS, check_method, detect, nowcast_panel
from riskmodel.cli.common import (
    INPUT_TYPE,
    AlignDatesOpt,
    ColumnsOpt,
    FormatOpt,
    NoTrackOpt,
    OutOpt,
    choice,
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
from riskmodel.cli.methods import route, with_method_options
from riskmodel.cli.progress import QuietOpt, bar
from riskmodel.data.columns import parse_columns
from riskmodel.data.loading import load_panel
from riskmodel.data.readers import write_table_atomic
from riskmodel.errors import InputError, Problem
from riskmodel.execution.chunks import DEFAULT_CHUNK_SIZE
from riskmodel.io_safety import redacted

HELP = (
    "Flag spikes in every series with a detector (--method), at the frequencies it takes "
    "(D daily, W weekly, M monthly); a detector's options are the flags marked with its name.\n\n\b\n"
    + "\n".join(f"  {spec.name:<20} {'/'.join(spec.needs.freqs):<6} {spec.summary}" for spec in DETECTORS.specs())
)


def register(app: typer.Typer) -> None:
    @app.command("detect", help=HELP)
    @with_method_options(DETECTORS)
    def detect_cmd(
        out: OutOpt,
        counts: Annotated[Path | None, typer.Option("--counts", **INPUT_TYPE, help="Counts: area_id, category, period, count.")] = None,
        nowcast: Annotated[Path | None, typer.Option(
            "--nowcast", **INPUT_TYPE,
            help="In place of --counts: records with their occurrence and entry dates (area_id, category, occurred, "
                 "reported[, count]); the latest periods, still incomplete, are nowcast (docs/alerts.md, Late reports).")] = None,
        nowcast_max_delay: Annotated[int | None, typer.Option(
            "--nowcast-max-delay", help="Periods a record may be entered late (default 14 days, 3 weeks, 2 months).")] = None,
        nowcast_use: Annotated[str, typer.Option(
            "--nowcast-use", help="mean, median or upper (the 95% interval's upper end) of the nowcast.")] = "mean",
        method: Annotated[str, typer.Option("--method", help=f"Detector: {DETECTORS.choices_help()} (see above).")] = DEFAULT_METHOD,
        freq: Annotated[str | None, typer.Option("--freq", help="D, W or M (daily counts are summed to W or M).")] = None,
        start: Annotated[str | None, typer.Option("--start", help="First period monitored (default: first with enough history).")] = None,
        end: Annotated[str | None, typer.Option("--end", help="Last period monitored.")] = None,
        population: Annotated[Path | None, typer.Option("--population", **INPUT_TYPE, help="area_id, year, population (for --population-offset).")] = None,
        gaps: Annotated[str, typer.Option("--gaps", help="series: no data before a series' first row; zero: zero incidents.")] = "series",
        backend: BackendOpt = "local",
        workers: WorkersOpt = None,
        scheduler: SchedulerOpt = None,
        chunk_size: ChunkSizeOpt = DEFAULT_CHUNK_SIZE,
        align_dates: AlignDatesOpt = False,
        columns: ColumnsOpt = None,
        no_track: NoTrackOpt = False,
        quiet: QuietOpt = False,
        fmt: FormatOpt = None,
        method_options: dict[str, Any] | None = None,
    ) -> None:
        DETECTORS.get(method)
        out = table_file(out, fmt)  # --format against --out's suffix, before any work
        choice(gaps, ["series", "zero"], "--gaps")
        check_execution(backend, workers, scheduler, chunk_size)
        opts = route(DETECTORS, method, method_options or {})
        tracker = make_tracker(no_track)  # a refused password stops here, before the output is written
        if (counts is None) == (nowcast is None):
            raise InputError(Problem("give --counts (counts per period) or --nowcast (records with their entry "
                                     "dates), one of them"))
        if nowcast is not None:
            choice(nowcast_use, ["mean", "median", "upper"], "--nowcast-use")
            panel = nowcast_panel(str(nowcast), freq=freq or "D", max_delay=nowcast_max_delay, now=end,
                                  use=nowcast_use, source=str(nowcast))
            counts = nowcast
        else:
            panel = load_panel(counts, freq=freq, population=population, align=align_dates,
                               columns=parse_columns(columns))
        for line in panel.notes(redacted(counts)):
            typer.echo(line, err=True)
        check_method(method, panel.freq)
        with open_backend(backend, workers, scheduler) as ex:
            execution = describe(ex, chunk_size)
            t0 = time.perf_counter()
            with bar(f"detect ({method})", quiet=quiet, unit="series") as progress:
                det = detect(panel, method, start=start, end=end, gaps=gaps, chunk_size=chunk_size, backend=ex,
                             progress=progress, **opts)
            secs = time.perf_counter() - t0
        table = det.table
        write_table_atomic(table, out)
        artifacts = det.artifacts()
        if nowcast is not None:  # the nowcast beside the detections (nowcast.csv, nowcast_delay.csv)
            artifacts = [*artifacts, *panel.meta["nowcast"].artifacts()]
        eps = next(a.content for a in artifacts if a.name == "episodes.csv")
        with tracker.run("detect", params={"method": method, "freq": det.freq, "counts": str(counts),
                                           "start": start, **{f"opt.{k}": v for k, v in det.options.items()},
                                           **execution},
                         tags={"riskmodel.backend": backend}) as run:
            run.log_fingerprint("counts", counts)
            run.log_metrics({
                "series": float(table[["area_id", "category"]].drop_duplicates().shape[0]),
                "rows": float(len(table)),
                "alarms": float(table["alarm"].sum()),
                "episodes": float(len(eps)),
                "evaluated_share": float((table["reason"] == "").mean()) if len(table) else 0.0,
                "seconds": secs,
            })
            run.log_artifacts(artifacts)
        n_ser = table[["area_id", "category"]].drop_duplicates().shape[0]
        typer.echo(
            f"detect {method} ({det.freq}): {n_ser} series, {len(table)} series-periods, "
            f"{int(table['alarm'].sum())} alarms in {len(eps)} episodes; wrote {out} ({secs:.1f} s)"
        )
        line = det.not_evaluated()
        if line:
            typer.echo(line)
        reasons = table.loc[table["reason"] != "", "reason"].value_counts()
        for r, n in reasons.head(3).items():
            typer.echo(f"  no alarm possible in {n} series-periods: {r}")
