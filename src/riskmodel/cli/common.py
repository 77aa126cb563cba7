"""Options and helpers shared by every ``riskmodel`` command.

A command module uses them like this::

    from riskmodel.cli.common import NoTrackOpt, OutOpt, make_tracker

    def register(app):
        @app.command("forecast")
        def forecast(counts: Path = ..., out: OutOpt = ..., no_track: NoTrackOpt = False):
            tracker = make_tracker(no_track)
            with tracker.run("forecast", params={...}) as run:
                ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskmodel.errors import InputError, Problem
from riskmodel.tracking import Tracker

NoTrackOpt = Annotated[bool, typer.Option("--no-track", help="Do not log to MLflow.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output file or folder (written whole or not at all).")]
ExperimentOpt = Annotated[
    str, typer.Option("--experiment", help="MLflow experiment name.", show_default=True)
]


def make_tracker(no_track: bool, experiment: str = "riskmodel") -> Tracker:
    """A tracker on the default store (``$MLFLOW_TRACKING_URI`` or ./mlruns.db), or off."""
    return Tracker(enabled=not no_track, experiment=experiment)


def choice(value: str, valid: list[str] | tuple[str, ...], option: str) -> str:
    """Check an option's value against its valid values; InputError listing them."""
    if value not in valid:
        raise InputError(Problem(f"unknown value {value!r} for {option}; valid: {', '.join(valid)}"))
    return value
