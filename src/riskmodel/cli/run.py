"""``riskmodel run``: the main job."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskmodel.cli.common import NoTrackOpt, make_tracker
from riskmodel.pipeline import Experiment, run_experiment


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        config: Annotated[Path, typer.Argument(help="Experiment config, e.g. experiments/sample.toml.")],
        out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: study.out).")] = None,
        only: Annotated[list[str] | None, typer.Option("--only", help="Run only this step (repeatable).")] = None,
        no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
        no_track: NoTrackOpt = False,
    ) -> None:
        """Run a study end to end: every step the config names, tracked in MLflow."""
        exp = Experiment.load(config)
        tracker = make_tracker(no_track, experiment=exp.study.experiment)
        summary = run_experiment(config, tracker=tracker, out=out, progress=not no_progress, only=only)
        typer.echo(f"study {summary['study']}: {len(summary['steps'])} step(s) done; outputs in {summary['out']}")
        for name, s in summary["steps"].items():
            typer.echo(f"  {name:<12} {s['seconds']:>8.1f} s")
        if summary.get("run_id"):
            typer.echo(f"MLflow run: {summary['run_id']} (tracking URI: {tracker.uri})")
