"""``run_experiment``: every step of a study, tracked, outputs written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from riskmodel.execution.backends import Progress as ProgressFn
from riskmodel.io_safety import atomic_dir, is_database_url, redacted
from riskmodel.pipeline.config import Experiment
from riskmodel.pipeline.context import StudyContext
from riskmodel.pipeline.debris import mark_temp_dir, remove_stale_temp_dirs
from riskmodel.pipeline.steps import STEPS
from riskmodel.tracking import Tracker, fingerprint
from riskmodel.tracking.cleanup import cleanup_runs, remove_stale_upload_dirs
from riskmodel.tracking.pyfunc import register_forecaster


def run_experiment(
    path: str | os.PathLike[str],
    *,
    tracker: Tracker | None = None,
    out: str | os.PathLike[str] | None = None,
    progress: bool = True,
    only: list[str] | None = None,
) -> dict[str, Any]:
    """Run every step of an experiment; return a summary (run ids, timings, results).

    Parameters
    ----------
    path : path
        The experiment TOML.
    tracker : Tracker, optional
        Default: a :class:`~riskmodel.tracking.Tracker` on the default store,
        experiment ``study.experiment``.
    out : path, optional
        Overrides ``study.out``.
    progress : bool
        Show a progress bar per step (rich).
    only : list of str, optional
        Run only these steps (with the ones they read from, if the caller lists them).
    """
    exp = Experiment.load(path)
    tracker = tracker or Tracker(experiment=exp.study.experiment)
    root = exp.path.resolve().parent.parent
    out_dir = Path(out or exp.study.out or f"outputs/{exp.study.name}")
    if not out_dir.is_absolute() and not Path.cwd().joinpath(out_dir).parent.exists():
        out_dir = root / out_dir
    steps = {k: v for k, v in exp.steps.items() if only is None or k in only}
    summary: dict[str, Any] = {"study": exp.study.name, "steps": {}, "out": str(out_dir)}
    # what killed studies left: their temp folders beside the outputs, their runs left RUNNING
    summary["removed_temp"] = remove_stale_temp_dirs(out_dir) + remove_stale_upload_dirs()
    summary["killed_runs"] = cleanup_runs(tracker, local_only=True) if tracker.enabled else None
    _say_cleanup(summary["removed_temp"], summary["killed_runs"])
    # the parent run opens first: a refused password (team server) stops the study before any work
    with tracker.run(
        f"study:{exp.study.name}",
        params={"config": str(exp.path), "seed": exp.study.seed, "steps": ",".join(steps), **exp.execution.params()},
        tags={"riskmodel.study": exp.study.name, "riskmodel.backend": exp.execution.backend},
    ) as parent:
        summary["run_id"] = parent.run_id
        parent.log_text(exp.path.read_text(encoding="utf-8"), "experiment.toml")
        with atomic_dir(out_dir) as tmp:
            owner = mark_temp_dir(tmp)
            ctx = StudyContext(
                config_path=exp.path, study=exp.study, data=exp.data, root=root, out_tmp=tmp, tracker=tracker,
                execution=exp.execution,
            )
            ctx.study_run = parent
            with _Progress(enabled=progress, total=len(steps)) as bar, contextlib.closing(ctx):
                for name, cfg in steps.items():
                    step = STEPS[name]
                    bar.start(name)
                    ctx.progress = bar.step_progress()
                    t0 = time.perf_counter()
                    with tracker.run(f"{exp.study.name}:{name}", params=cfg.model_dump(),
                                     tags={"riskmodel.step": name}) as run:
                        if name == next(iter(steps)):
                            # the input fingerprint goes on the first step's run and the parent
                            fp = (f"not fingerprinted: database {redacted(exp.data.counts)}"
                                  if is_database_url(exp.data.counts)  # rows can change under one URL
                                  else fingerprint(ctx.path(exp.data.counts)))  # a file, or every file of a folder
                            parent.set_tags({"input.counts": fp})
                            run.set_tags({"input.counts": fp})
                        res = step.fn(ctx, cfg, run)
                        ctx.results[name] = res or {}
                        ctx.runs[name] = run
                        secs = time.perf_counter() - t0
                        run.log_metrics({"seconds": secs})
                    summary["steps"][name] = {"seconds": round(secs, 2), "run_id": run.run_id}
                    bar.done(name, secs)
            owner.unlink()  # the marker is not an output
        # the outputs are in place: only now may a model version point at this study
        registered = [register_forecaster(uri, reg_name, tracker.uri) for uri, reg_name in ctx.to_register]
        if registered:
            parent.set_tags({"riskmodel.registered_models": ", ".join(f"{n}/{v}" for n, v in registered)})
        summary["registered"] = registered
        parent.log_metrics({f"seconds.{k}": v["seconds"] for k, v in summary["steps"].items()})
    summary["results"] = ctx.results
    return summary


def _say_cleanup(removed: list[tuple[Path, int, int]], killed: pd.DataFrame | None) -> None:
    """One line on stderr per kind of debris a killed study left and this start removed."""
    if removed:
        files = sum(n for _, n, _ in removed)
        size = sum(b for _, _, b in removed)
        print(f"note: removed {len(removed)} temporary folder(s) left by killed riskmodel processes "
              f"({files} files, {size / 1e6:.1f} MB): {', '.join(p.name for p, _, _ in removed)}", file=sys.stderr)
    if killed is not None and len(killed):
        print(f"note: marked {len(killed)} MLflow run(s) of killed studies KILLED "
              f"(their process is gone): {', '.join(killed['run_id'])}", file=sys.stderr)


class _Progress:
    """One progress bar for the steps (rich), or nothing when disabled."""

    def __init__(self, enabled: bool, total: int):
        self.enabled = enabled and total > 0
        self.total = total

    def __enter__(self) -> _Progress:
        if self.enabled:
            self._p = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(), transient=False,
            )
            self._p.__enter__()
            self._task = self._p.add_task("study", total=self.total)
        return self

    def start(self, name: str) -> None:
        if self.enabled:
            self._p.update(self._task, description=f"step {name}")
            self._sub = self._p.add_task(f"  {name}", total=None, visible=False)

    def step_progress(self) -> ProgressFn | None:
        """The running step's inner bar as a ``progress(done, total)`` callback (None when disabled),
        updated at most every 0.1 s (and at the end)."""
        if not self.enabled:
            return None
        last = [0.0]

        def update(done: int, total: int) -> None:
            now = time.monotonic()
            if done < total and now - last[0] < 0.1:
                return
            last[0] = now
            self._p.update(self._sub, completed=done, total=total, visible=True)

        return update

    def done(self, name: str, secs: float) -> None:
        if self.enabled:
            self._p.remove_task(self._sub)
            self._p.advance(self._task)
            self._p.console.print(f"  {name}: done in {secs:.1f} s")

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._p.__exit__(*exc)


__all__ = ["run_experiment"]
