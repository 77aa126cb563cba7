"""``riskmodel sample`` and ``riskmodel validate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskmodel.cli.common import INPUT_TYPE, AlignDatesOpt, ColumnsOpt, NoTrackOpt, make_tracker
from riskmodel.data.boundaries import read_boundaries
from riskmodel.data.columns import COUNTS_COLUMNS, map_columns, parse_columns
from riskmodel.data.frequency import Frequency
from riskmodel.data.loading import aligned_counts, refuse_finer
from riskmodel.data.panel import added_zeros_of
from riskmodel.data.readers import read_table
from riskmodel.data.sample_city import generate
from riskmodel.data.schemas import validate_areas, validate_counts
from riskmodel.errors import InputError, Problem
from riskmodel.io_safety import redacted


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
        counts: Annotated[Path, typer.Option("--counts", **INPUT_TYPE, help="Counts file (CSV, CSV.gz, Parquet, Excel) or database URL.")],
        areas: Annotated[Path | None, typer.Option("--areas", **INPUT_TYPE, help="Areas file or database URL.")] = None,
        freq: Annotated[str | None, typer.Option("--freq", help="D, W, M or Y (inferred if omitted).")] = None,
        align_dates: AlignDatesOpt = False,
        columns: ColumnsOpt = None,
        boundaries: Annotated[Path | None, typer.Option("--boundaries", help="Areas' polygons for maps: GeoJSON or shapefile (checked against --areas).")] = None,
        boundaries_id: Annotated[str, typer.Option("--boundaries-id", help="The polygons' id property (default area_id).")] = "area_id",
    ) -> None:
        """Check input files and report every problem at once (exit 2 if any).

        Lists the zeros riskmodel would add (periods absent from a series
        between the file's first and last date, which every model counts as
        0) by series, with their total. With --boundaries, checks the areas'
        polygons (GeoJSON or shapefile: ids against --areas, geometries valid,
        reprojected to metres) and prints the notes.
        """
        problems: list[Problem] = []
        notes: list[str] = []
        area_ids = None
        adf = None
        if areas is not None:
            try:
                adf, src = read_table(areas, what="areas")
                if src.note:
                    notes.append(f"{redacted(areas)}: {src.note}")
                adf, pa_ = validate_areas(adf, source=redacted(areas), raise_on_error=False)
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
                notes.append(f"{redacted(counts)}: {src.note}")
            cdf, mapped = map_columns(cdf, COUNTS_COLUMNS, parse_columns(columns), source=redacted(counts))
            if mapped:
                notes.append(mapped.removeprefix("note: "))
            if align_dates:
                if freq is None:
                    raise InputError(Problem("--align-dates needs --freq: the frequency whose periods the dates go to",
                                             column="--freq"))
                cdf, note = aligned_counts(cdf, Frequency.of(freq), redacted(counts))
                notes.append(note.removeprefix("note: "))
            elif freq is not None and "period" in cdf.columns:
                have = refuse_finer(cdf["period"], freq, redacted(counts))
                if have is not None and have.finer_than(freq) and have.nests_in(freq):
                    # as the loader does: finer counts are validated as they are, then summed
                    notes.append(f"{redacted(counts)}: the counts are {have.name}; --freq {freq} sums them to "
                                 f"{Frequency.of(freq).name} periods")
                    freq = have.code
            typed, pc = validate_counts(cdf, source=redacted(counts), freq=freq, area_ids=area_ids, raise_on_error=False)
            problems += pc
        except InputError as exc:
            problems += exc.problems
        bounds = None
        if boundaries is not None:
            try:
                bounds = read_boundaries(boundaries, areas=adf if area_ids is not None else None, id_column=boundaries_id)
                notes += [n.removeprefix("note: ") for n in bounds.notes]
            except InputError as exc:
                problems += exc.problems
        if problems:  # the error first and alone: notes on how the file was read are for a file that passed
            raise InputError(problems)
        for n in notes:
            typer.echo(f"note: {n}", err=True)
        n_series = typed[["area_id", "category"]].drop_duplicates().shape[0]
        typer.echo(
            f"{redacted(counts)}: OK - {len(typed):,} rows, {n_series} series, frequency {typed.attrs['freq']}, "
            f"{typed['period'].min().date()} to {typed['period'].max().date()}"
        )
        zeros = added_zeros_of(typed, typed.attrs["freq"], redacted(counts))
        if zeros.total:
            typer.echo(f"zeros riskmodel adds: {zeros.total:,} absent {zeros.unit}s counted as 0 "
                       f"in {len(zeros.by_series)} series:")
            for line in zeros.lines():
                typer.echo(line)
            typer.echo(zeros.note(), err=True)
        else:
            typer.echo("zeros riskmodel adds: none (every series has a row for every period)")
        if bounds is not None:
            typer.echo(f"{boundaries}: OK - {len(bounds)} area polygons{' (simulated)' if bounds.simulated else ''}, "
                       f"in {bounds.crs} (metres){'' if area_ids is not None else '; not checked against an areas table (give --areas)'}")
