"""``riskmodel run``: the main job."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskmodel.cli.common import NoTrackOpt, make_tracker
from riskmodel.cli.progress import QuietOpt, enabled
from riskmodel.io_safety import (
    check_writable,
    is_database_url,
    protecting_inputs,
    refuse_overwriting_inputs,
)
from riskmodel.pipeline import Experiment, run_experiment


def study_paths(exp: Experiment, out: Path | None) -> tuple[Path, dict[str, Path]]:
    """The output folder a study writes and the input paths it reads (config key -> path).

    Paths resolve as the pipeline resolves them: a data path that is absolute or
    exists from here is taken as is, else from the config's grandparent; the
    output folder is ``out``, else ``study.out``, else ``outputs/NAME``, from the
    config's grandparent when its parent does not exist from here.
    """
    root = exp.path.resolve().parent.parent

    def resolve(p: str) -> Path:
        path = Path(p)
        return path if path.is_absolute() or path.exists() else root / path

    inputs = {"config": exp.path}
    inputs.update({f"data.{k}": resolve(v) for k, v in exp.data.model_dump().items()
                   if isinstance(v, str) and k != "format" and k != "freq" and not is_database_url(v)})
    out_dir = Path(out or exp.study.out or f"outputs/{exp.study.name}")
    if not out_dir.is_absolute() and not Path.cwd().joinpath(out_dir).parent.exists():
        out_dir = root / out_dir
    return out_dir, inputs


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        config: Annotated[Path, typer.Argument(help="Experiment config, e.g. experiments/sample.toml.")],
        out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: study.out).")] = None,
        only: Annotated[list[str] | None, typer.Option("--only", help="Run only this step (repeatable).")] = None,
        no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
        no_track: NoTrackOpt = False,
        quiet: QuietOpt = False,
    ) -> None:
        """Run a study end to end: every step the config names, tracked in MLflow."""
        exp = Experiment.load(config)
        # the data files the config names are inputs too: refuse an output folder over or inside one
        out_dir, inputs = study_paths(exp, out)
        what = "--out" if out is not None else "study.out"
        refuse_overwriting_inputs({what: out_dir}, inputs)
        check_writable(out_dir, what)
        tracker = make_tracker(no_track, experiment=exp.study.experiment)
        with protecting_inputs(inputs):
            summary = run_experiment(config, tracker=tracker, out=out, progress=not no_progress and enabled(quiet),
                                     only=only)
        typer.echo(f"study {summary['study']}: {len(summary['steps'])} step(s) done; outputs in {summary['out']}")
        for name, s in summary["steps"].items():
            typer.echo(f"  {name:<12} {s['seconds']:>8.1f} s")
        if summary.get("run_id"):
            typer.echo(f"MLflow run: {summary['run_id']} (tracking URI: {tracker.uri})")
