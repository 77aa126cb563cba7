"""``riskmodel sample`` and ``riskmodel validate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskmodel.cli.common import NoTrackOpt, make_tracker
from riskmodel.data.frequency import Frequency
from riskmodel.data.readers import read_table
from riskmodel.data.sample_city import generate
from riskmodel.data.schemas import validate_areas, validate_counts
from riskmodel.errors import InputError, Problem


def register(app: typer.Typer) -> None:
    @app.command("sample")
    def sample(
        out: Annotated[Path, typer.Option("--out", help="Folder to write the sample city to.")] = Path("data/sample"),
        seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same bytes).")] = 20201029,
        no_track: NoTrackOpt = False,
    ) -> None:
        """Regenerate the simulated sample city (areas, counts, indicators, claims, truth)."""
        tracker = make_tracker(no_track)
        with tracker.run("sample", params={"out": str(out), "seed": seed}) as run:
            summary = generate(out, seed=seed)
            run.log_metrics({k: v for k, v in summary.items() if isinstance(v, int | float)})
        typer.echo(
            f"sample city written to {out}: {summary['rows_daily']:,} daily counts, "
            f"{summary['spikes']} spikes, {summary['events']:,} events (seed {seed}; SIMULATED data)"
        )

    @app.command("validate")
    def validate(
        counts: Annotated[Path, typer.Option("--counts", help="Counts file (CSV, CSV.gz or Parquet).")],
        areas: Annotated[Path | None, typer.Option("--areas", help="Areas file.")] = None,
        freq: Annotated[str | None, typer.Option("--freq", help="D, W or M (inferred if omitted).")] = None,
    ) -> None:
        """Check input files and report every problem at once (exit 2 if any)."""
        problems: list[Problem] = []
        notes: list[str] = []
        area_ids = None
        if areas is not None:
            try:
                adf, src = read_table(areas, what="areas")
                if src.note:
                    notes.append(f"{areas}: {src.note}")
                adf, pa_ = validate_areas(adf, source=str(areas), raise_on_error=False)
                problems += pa_
                if not pa_:
                    area_ids = adf["area_id"]
            except InputError as exc:
                problems += exc.problems
        try:
            if freq is not None:
                freq = Frequency.of(freq).code
            cdf, src = read_table(counts, what="counts")
            if src.note:
                notes.append(f"{counts}: {src.note}")
            typed, pc = validate_counts(cdf, source=str(counts), freq=freq, area_ids=area_ids, raise_on_error=False)
            problems += pc
        except InputError as exc:
            problems += exc.problems
        for n in notes:
            typer.echo(f"note: {n}")
        if problems:
            raise InputError(problems)
        n_series = typed[["area_id", "category"]].drop_duplicates().shape[0]
        typer.echo(
            f"{counts}: OK - {len(typed):,} rows, {n_series} series, frequency {typed.attrs['freq']}, "
            f"{typed['period'].min().date()} to {typed['period'].max().date()}"
        )
