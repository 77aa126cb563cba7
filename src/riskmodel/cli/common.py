"""Options and helpers shared by every ``riskmodel`` command.

A command module uses them like this::

    from riskmodel.cli.common import NoTrackOpt, OutOpt, make_tracker

    def register(app):
        @app.command("forecast")
        def forecast(counts: Path = ..., out: OutOpt = ..., no_track: NoTrackOpt = False):
            tracker = make_tracker(no_track)
            with tracker.run("forecast", params={...}) as run:
                ...

:func:`~riskmodel.cli.guard.check_options` runs before every command (``riskmodel.cli`` wraps each
command's callback with it): a ``--seed`` outside 0..2**32-1, an output path
(``--out``, ``--out-*``) that is one of the command's input files or lies inside
an input folder, or one that cannot be written, is refused (exit 2) before any
work, in every command, including commands added later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from riskmodel.cli.guard import SEED_MAX, check_options, check_seed, is_output
from riskmodel.errors import InputError, Problem
from riskmodel.io_safety import is_database_url
from riskmodel.tracking import Tracker

NoTrackOpt = Annotated[bool, typer.Option("--no-track", help="Do not log to MLflow.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output file or folder (written whole or not at all).")]
SeedOpt = Annotated[int, typer.Option("--seed", help=f"Random seed, 0 to {SEED_MAX}.")]
"""The ``--seed`` option (checked, in every command, by :func:`~riskmodel.cli.guard.check_options`)."""
AlignDatesOpt = Annotated[bool, typer.Option(
    "--align-dates",
    help="With --freq: count each row in the period (ISO week, month, year) that contains its date, e.g. weekly "
         "counts dated on the Sunday that ends each week; rows of a series landing in one period are summed.")]
"""The ``--align-dates`` option (shared: every command that reads counts can take it)."""

ColumnsOpt = Annotated[str | None, typer.Option(
    "--columns",
    help="The counts file's headers as riskmodel's columns, e.g. 街道=area_id,类别=category,日期=period,数量=count; "
         "common Chinese headers (街道, 类别, 日期, 数量, ...) are recognised without it, and a note says so.")]
"""The ``--columns`` option (shared: every command that reads counts takes it; :mod:`riskmodel.data.columns`)."""


def input_path(value: str | Path) -> Path | str:
    """An input option's value: a database URL stays text (``Path`` would fold ``postgresql://`` into
    ``postgresql:/``), anything else is a :class:`~pathlib.Path` (so the output checks still see files)."""
    text = str(value)
    return text if is_database_url(text) else Path(text)


INPUT_TYPE: dict[str, Any] = {"parser": input_path, "metavar": "<path|url>"}
"""Keyword arguments of ``typer.Option`` for an option that reads a table: a file or a database URL
(``typer.Option("--counts", **INPUT_TYPE, help=...)``; :mod:`riskmodel.data.sql`)."""


ExperimentOpt = Annotated[
    str, typer.Option("--experiment", help="MLflow experiment name.", show_default=True)
]

FormatOpt = Annotated[str | None, typer.Option(
    "--format",
    help="Tables as csv, xlsx (an Excel workbook: header frozen, numbers formatted, dates as dates, text never run "
         "as a formula) or parquet. A file --out must end in the format's suffix (default: by that suffix); a "
         "folder --out gets one file per table, e.g. metrics.xlsx (default: csv).")]
"""The ``--format`` option of every command that writes tables (:func:`table_file`,
:func:`riskmodel.results.with_format`)."""

_SUFFIX = {"csv": (".csv", ".csv.gz"), "xlsx": (".xlsx",), "parquet": (".parquet",)}


def check_format(fmt: str | None) -> str | None:
    """A ``--format`` value checked (csv, xlsx, parquet; None: the command's default), before any work."""
    return fmt if fmt is None else choice(fmt, list(_SUFFIX), "--format")


def table_file(out: Path, fmt: str | None) -> Path:
    """A file ``--out`` checked against ``--format``: ``out`` itself, whose suffix says the format.

    No ``--format``: the suffix decides (.xlsx, .parquet; anything else is CSV). With ``--format``,
    an ``--out`` ending otherwise is refused rather than renamed (the name is the user's).
    """
    if fmt is None:
        return out
    check_format(fmt)
    name = out.name.lower()
    if not name.endswith(_SUFFIX[fmt]):
        raise InputError(Problem(f"--format {fmt} writes a {fmt} file, but --out {out} does not end in "
                                 f"{' or '.join(_SUFFIX[fmt])}: name it {out.name.split('.')[0]}{_SUFFIX[fmt][0]}",
                                 column="--out"))
    return out


def make_tracker(no_track: bool, experiment: str = "riskmodel") -> Tracker:
    """A tracker on the default store (``$MLFLOW_TRACKING_URI`` or ./mlruns.db), or off.

    The store is checked now (:meth:`Tracker.check`): a team server that refuses
    the credentials stops the command here, before its work and its outputs.
    """
    return Tracker(enabled=not no_track, experiment=experiment).check()


def choice(value: str, valid: list[str] | tuple[str, ...], option: str) -> str:
    """Check an option's value against its valid values; InputError listing them."""
    if value not in valid:
        raise InputError(Problem(f"unknown value {value!r} for {option}; valid: {', '.join(valid)}"))
    return value


__all__ = ["INPUT_TYPE", "SEED_MAX", "ExperimentOpt", "FormatOpt", "input_path", "NoTrackOpt", "OutOpt", "SeedOpt", "check_options", "check_seed", "choice",
           "is_output", "check_format", "make_tracker", "table_file"]
