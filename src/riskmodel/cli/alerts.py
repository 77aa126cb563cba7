"""``riskmodel detect``: spike warnings per area and category."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from riskmodel.alerts.detect import METHODS, check_method, detect
from riskmodel.alerts.episodes import episodes
from riskmodel.cli.common import NoTrackOpt, OutOpt, choice, make_tracker
from riskmodel.cli.execution import (
    BackendOpt,
    ChunkSizeOpt,
    SchedulerOpt,
    WorkersOpt,
    check_execution,
    describe,
    open_backend,
)
from riskmodel.data.loading import load_panel
from riskmodel.data.readers import write_table_atomic
from riskmodel.errors import InputError, Problem
from riskmodel.execution.chunks import DEFAULT_CHUNK_SIZE

HELP = (
    "Flag spikes in every series: farrington (R farringtonFlexible defaults), farrington-noufaily, "
    "farrington-original, farrington-window, ears-c1|c2|c3 (daily), glrnb, farrington-glr, forecast."
)


def _limit54(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        a, b = (int(x) for x in text.split(","))
    except ValueError:
        raise InputError(Problem(f"--limit54 {text!r} must be CASES,WEEKS (two integers, e.g. 5,4)", column="--limit54")) from None
    return (a, b)


def _powertrans(text: str | None) -> str | None:
    if text is None:
        return None
    return choice(text, ["2/3", "1/2", "none"], "--powertrans")


def register(app: typer.Typer) -> None:
    @app.command("detect", help=HELP)
    def detect_cmd(
        counts: Annotated[Path, typer.Option("--counts", help="Counts: area_id, category, period, count.")],
        out: OutOpt,
        method: Annotated[str, typer.Option("--method", help="Detector (see above).")] = "farrington",
        freq: Annotated[str | None, typer.Option("--freq", help="D, W or M (daily counts are summed to W or M).")] = None,
        start: Annotated[str | None, typer.Option("--start", help="First period monitored (default: first with enough history).")] = None,
        end: Annotated[str | None, typer.Option("--end", help="Last period monitored.")] = None,
        population: Annotated[Path | None, typer.Option("--population", help="area_id, year, population (for --population-offset).")] = None,
        gaps: Annotated[str, typer.Option("--gaps", help="series: no data before a series' first row; zero: zero incidents.")] = "series",
        b: Annotated[int | None, typer.Option("--b", help="Farrington: years back (R default 5).")] = None,
        w: Annotated[int | None, typer.Option("--w", help="Farrington: half window in periods (3).")] = None,
        no_periods: Annotated[int | None, typer.Option("--no-periods", help="Farrington: seasonal factor levels (1; Noufaily 10).")] = None,
        weights_threshold: Annotated[float | None, typer.Option("--weights-threshold", help="Farrington: Anscombe residual threshold (2.58).")] = None,
        past_weeks_not_included: Annotated[int | None, typer.Option("--past-weeks-not-included", help="Farrington: recent periods left out (w).")] = None,
        p_threshold_trend: Annotated[float | None, typer.Option("--p-threshold-trend", help="Farrington: trend p-value threshold (0.05).")] = None,
        trend: Annotated[bool | None, typer.Option("--trend/--no-trend", help="Farrington: try a time trend (yes).")] = None,
        reweight: Annotated[bool | None, typer.Option("--reweight/--no-reweight", help="Farrington: down-weight past outbreaks (yes).")] = None,
        threshold_method: Annotated[str | None, typer.Option("--threshold-method", help="Farrington: delta, nbPlugin or muan (delta).")] = None,
        alpha: Annotated[float | None, typer.Option("--alpha", help="Level of the bound (Farrington 0.05, EARS 0.001/0.025, forecast 0.01).")] = None,
        limit54: Annotated[str | None, typer.Option("--limit54", help="Farrington: CASES,WEEKS minimum for an alarm (5,4).")] = None,
        population_offset: Annotated[bool | None, typer.Option("--population-offset/--no-population-offset", help="Farrington: model rates (needs --population).")] = None,
        powertrans: Annotated[str | None, typer.Option("--powertrans", help="Farrington delta bound: 2/3, 1/2 or none (2/3).")] = None,
        baseline: Annotated[int | None, typer.Option("--baseline", help="EARS: baseline days (7).")] = None,
        min_sigma: Annotated[float | None, typer.Option("--min-sigma", help="EARS: minimum sd (0).")] = None,
        c_arl: Annotated[float | None, typer.Option("--c-arl", help="glrnb / farrington-glr: alarm threshold of the statistic.")] = None,
        window: Annotated[int | None, typer.Option("--window", help="glrnb / farrington-glr: change points at most this many periods back; farrington-window: periods summed (2).")] = None,
        theta: Annotated[float | None, typer.Option("--theta", help="glrnb: known log rate ratio -> NB CUSUM.")] = None,
        model: Annotated[str | None, typer.Option("--model", help="forecast: riskmodel.forecast model (nbglm) or own.")] = None,
        refit: Annotated[int | None, typer.Option("--refit", help="forecast: refit every N periods.")] = None,
        backend: BackendOpt = "local",
        workers: WorkersOpt = None,
        scheduler: SchedulerOpt = None,
        chunk_size: ChunkSizeOpt = DEFAULT_CHUNK_SIZE,
        no_track: NoTrackOpt = False,
    ) -> None:
        choice(method, list(METHODS), "--method")
        choice(gaps, ["series", "zero"], "--gaps")
        check_execution(backend, workers, scheduler, chunk_size)
        panel = load_panel(counts, freq=freq, population=population)
        check_method(method, panel.freq)
        opts: dict[str, Any] = {}
        farr = {
            "b": b, "w": w, "no_periods": no_periods, "weights_threshold": weights_threshold,
            "past_weeks_not_included": past_weeks_not_included, "p_threshold_trend": p_threshold_trend,
            "trend": trend, "reweight": reweight, "threshold_method": threshold_method,
            "limit54": _limit54(limit54), "population_offset": population_offset, "powertrans": _powertrans(powertrans),
        }
        given = {k: v for k, v in farr.items() if v is not None}
        if method.startswith("farrington"):
            opts.update(given)
            if alpha is not None:
                opts["alpha"] = alpha
            if method == "farrington-glr":
                opts.update({k: v for k, v in {"c_arl": c_arl, "M": window}.items() if v is not None})
            if method == "farrington-window" and window is not None:
                opts["window"] = window
        else:
            if given:
                raise InputError(Problem(
                    f"option(s) {', '.join('--' + k.replace('_', '-') for k in given)} apply to the Farrington methods only, "
                    f"not to {method}", column="--method"))
            if method.startswith("ears"):
                opts.update({k: v for k, v in {"baseline": baseline, "min_sigma": min_sigma, "alpha": alpha}.items() if v is not None})
            elif method == "glrnb":
                opts.update({k: v for k, v in {"c_arl": c_arl, "M": window, "theta": theta}.items() if v is not None})
            elif method == "forecast":
                opts.update({k: v for k, v in {"model": model, "alpha": alpha, "refit": refit}.items() if v is not None})
        with open_backend(backend, workers, scheduler) as ex:
            execution = describe(ex, chunk_size)
            t0 = time.perf_counter()
            det = detect(panel, method, start=start, end=end, gaps=gaps, chunk_size=chunk_size, backend=ex, **opts)
            secs = time.perf_counter() - t0
        table = det.table
        write_table_atomic(table, out)
        eps = episodes(table, det.freq)
        tracker = make_tracker(no_track)
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
            run.log_table(table, "detections.csv")
            run.log_table(eps, "episodes.csv")
        n_ser = table[["area_id", "category"]].drop_duplicates().shape[0]
        typer.echo(
            f"detect {method} ({det.freq}): {n_ser} series, {len(table)} series-periods, "
            f"{int(table['alarm'].sum())} alarms in {len(eps)} episodes; wrote {out} ({secs:.1f} s)"
        )
        reasons = table.loc[table["reason"] != "", "reason"].value_counts()
        for r, n in reasons.head(3).items():
            typer.echo(f"  no alarm possible in {n} series-periods: {r}")
