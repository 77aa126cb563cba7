"""The main job: an experiment config -> steps -> tracked results.

An experiment is a TOML file (``experiments/NAME.toml``)::

    [study]
    name = "sample"
    out = "outputs/sample"       # where the study's output files go
    seed = 20240601

    [data]
    counts = "data/sample/counts_daily.csv.gz"
    freq = "D"
    areas = "data/sample/areas.csv"
    population = "data/sample/population.csv"
    neighbours = "data/sample/neighbours.csv"

    [execution]                    # optional: where per-series fits run (docs/dask.md)
    backend = "local"              # local (processes on this machine) or dask
    workers = 2                    # default: the CPU count
    # scheduler = "tcp://HOST:8786"  # dask: join a running cluster instead
    chunk_size = 5000              # series fitted together

    [steps.validate]               # each [steps.NAME] table turns a step on
    [steps.overview]
    [steps.forecast]
    h = 3

Steps always run in the canonical order of :data:`STEP_ORDER`, whatever the
order in the file. Each analysis package registers its steps in a module
``riskmodel.<package>.steps`` with :func:`register_step`, giving a pydantic
model for the step's own keys, so that a wrong key is named in the error.

The ``[execution]`` table (:class:`ExecutionSection`) chooses where the
forecast and alerts steps fit their series (one backend for the whole study,
closed at its end); results do not depend on it, except through
``chunk_size``. It is recorded in the parent run's params and tags.

One parent MLflow run per study, one child run per step. Outputs of all steps
are written into a temporary folder and moved into ``study.out`` only when
every step succeeded: a failing step leaves no half-written outputs, and its
runs (child and parent) are marked FAILED with the error.

Relative paths in a config are taken from the working directory, or, when
nothing is there, from the folder above the config file's folder (the project
root for ``experiments/NAME.toml``).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from riskmodel.data.panel import IncidentPanel
from riskmodel.errors import ConfigError, InputError, Problem, problems_from_validation
from riskmodel.execution.backends import BACKENDS
from riskmodel.execution.chunks import DEFAULT_CHUNK_SIZE
from riskmodel.io_safety import atomic_dir
from riskmodel.tracking import RunHandle, Tracker, fingerprint

STEP_ORDER = (
    "validate",
    "overview",
    "features",
    "forecast",
    "alerts",
    "index",
    "sensitivity",
    "claims",
    "appendix",
)

STEP_MODULES = (
    "riskmodel.data.steps",
    "riskmodel.features.steps",
    "riskmodel.forecast.steps",
    "riskmodel.alerts.steps",
    "riskmodel.index.steps",
    "riskmodel.impact.steps",
    "riskmodel.report.steps",
)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class StudySection(StrictModel):
    name: str
    description: str = ""
    out: str | None = None
    seed: int = 0
    experiment: str = "riskmodel"


class DataSection(StrictModel):
    counts: str
    format: str = "counts"
    freq: str | None = None
    areas: str | None = None
    population: str | None = None
    neighbours: str | None = None
    indicators: str | None = None
    claims: str | None = None
    events: str | None = None
    truth: str | None = None


class ExecutionSection(StrictModel):
    """``[execution]``: see :mod:`riskmodel.execution` and ``docs/dask.md``."""

    backend: str = "local"
    workers: int | None = None
    scheduler: str | None = None
    chunk_size: int = DEFAULT_CHUNK_SIZE

    @field_validator("backend")
    @classmethod
    def _backend(cls, v: str) -> str:
        if v not in BACKENDS:
            raise ValueError(f"unknown value {v!r}; valid: {', '.join(BACKENDS)}")
        return v

    @field_validator("workers", "chunk_size")
    @classmethod
    def _positive(cls, v: int | None) -> int | None:
        if v is not None and v < 1:
            raise ValueError(f"must be >= 1, got {v}")
        return v

    @model_validator(mode="after")
    def _combination(self) -> ExecutionSection:
        if self.scheduler and self.backend != "dask":
            raise ValueError("scheduler needs backend = \"dask\"")
        if self.scheduler and self.workers is not None:
            raise ValueError("give either workers (start a local Dask cluster) or scheduler (join a running one), not both")
        return self

    def params(self) -> dict[str, str]:
        """For a run's params: ``execution.<key>`` of every key set."""
        return {f"execution.{k}": str(v) for k, v in self.model_dump().items() if v is not None}


StepFn = Callable[["StudyContext", Any, RunHandle], dict[str, Any] | None]


@dataclass
class Step:
    name: str
    fn: StepFn
    config: type[BaseModel]
    description: str = ""


STEPS: dict[str, Step] = {}


def register_step(name: str, config: type[BaseModel] | None = None, description: str = "") -> Callable[[StepFn], StepFn]:
    """Decorator: register ``fn(ctx, cfg, run)`` as pipeline step ``name``.

    ``cfg`` is an instance of ``config`` (a pydantic model; extra keys are
    refused) built from the ``[steps.NAME]`` table. The function writes its
    files under ``ctx.step_dir(name)``, logs to ``run`` and may return a
    dict that later steps read from ``ctx.results[name]``.
    """
    if name not in STEP_ORDER:
        raise ValueError(f"step {name!r} is not in STEP_ORDER")

    def deco(fn: StepFn) -> StepFn:
        STEPS[name] = Step(name, fn, config or StrictModel, description or (fn.__doc__ or "").strip().split("\n")[0])
        return fn

    return deco


def load_steps() -> dict[str, Step]:
    for mod in STEP_MODULES:
        try:
            found = importlib.util.find_spec(mod) is not None
        except ModuleNotFoundError:  # the parent package does not exist (yet)
            found = False
        if found:
            importlib.import_module(mod)
    return STEPS


@dataclass
class StudyContext:
    """What a step sees: the config, the data, the output folder, earlier results."""

    config_path: Path
    study: StudySection
    data: DataSection
    root: Path
    out_tmp: Path
    tracker: Tracker
    results: dict[str, Any] = field(default_factory=dict)
    _panels: dict[str, IncidentPanel] = field(default_factory=dict)
    execution: ExecutionSection = field(default_factory=ExecutionSection)
    _backend: Any = None

    @property
    def backend(self) -> Any:  # noqa: ANN401 - LocalBackend | DaskBackend
        """The study's execution backend, started on first use (closed by
        :meth:`close`, which :func:`run_experiment` calls at the end)."""
        if self._backend is None:
            from riskmodel.execution.backends import make_backend

            ex = self.execution
            self._backend = make_backend(ex.backend, ex.workers, ex.scheduler)
        return self._backend

    @property
    def chunk_size(self) -> int:
        return self.execution.chunk_size

    def close(self) -> None:
        """Close the execution backend if a step started one."""
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    def path(self, p: str | os.PathLike[str]) -> Path:
        """Resolve a path from the config (see the module notes)."""
        p = Path(p)
        if p.is_absolute() or p.exists():
            return p
        return self.root / p

    @property
    def seed(self) -> int:
        return self.study.seed

    @property
    def panel(self) -> IncidentPanel:
        """The study's panel at the data's own frequency (validated once)."""
        if "base" not in self._panels:
            self._panels["base"] = load_data_panel(self.data, self.path)
        return self._panels["base"]

    def panel_at(self, freq: str) -> IncidentPanel:
        """The panel resampled to ``freq`` (cached)."""
        if freq not in self._panels:
            self._panels[freq] = self.panel.resample(freq) if freq != self.panel.freq else self.panel
        return self._panels[freq]

    def step_dir(self, name: str) -> Path:
        d = self.out_tmp / name
        d.mkdir(parents=True, exist_ok=True)
        return d


DATA_FORMATS = ("counts", "portland")


def load_data_panel(data: DataSection, resolve: Callable[[str], Path] = Path) -> IncidentPanel:
    """Build the panel that a ``[data]`` section describes.

    ``format = "counts"`` (default): ``counts`` is a counts file, with the
    optional ``areas``, ``population`` and ``neighbours`` files.
    ``format = "portland"``: ``counts`` is the folder of the Portland reference
    data (calls for service and the police-district shapefile), turned into
    counts per district by point-in-polygon (:mod:`riskmodel.data.portland`).
    """
    if data.format == "portland":
        from riskmodel.data.portland import load_portland

        return load_portland(resolve(data.counts), freq=data.freq or "M")
    if data.format != "counts":
        raise ConfigError(Problem(f"key 'data.format': unknown value {data.format!r}; valid: {', '.join(DATA_FORMATS)}"))
    return IncidentPanel.from_counts(
        resolve(data.counts),
        freq=data.freq,
        areas=resolve(data.areas) if data.areas else None,
        population=resolve(data.population) if data.population else None,
        neighbours=resolve(data.neighbours) if data.neighbours else None,
    )


@dataclass
class Experiment:
    """A parsed and validated experiment config."""

    path: Path
    study: StudySection
    data: DataSection
    steps: dict[str, BaseModel]
    raw: dict[str, Any]
    execution: ExecutionSection = field(default_factory=ExecutionSection)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Experiment:
        p = Path(path)
        if not p.exists():
            raise ConfigError(Problem("experiment config does not exist", source=str(p)))
        try:
            raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(Problem(f"not valid TOML: {exc}", source=str(p))) from None
        problems: list[Problem] = []
        known_top = {"study", "data", "steps", "execution"}
        for k in raw:
            if k not in known_top:
                problems.append(Problem(f"key '{k}': unknown section; valid: {', '.join(sorted(known_top))}", source=str(p)))
        study = data = None
        try:
            study = StudySection(**raw.get("study", {}))
        except ValidationError as e:
            problems += problems_from_validation(e, str(p), "study")
        try:
            data = DataSection(**raw.get("data", {}))
        except ValidationError as e:
            problems += problems_from_validation(e, str(p), "data")
        execution = ExecutionSection()
        try:
            execution = ExecutionSection(**raw.get("execution", {}))
        except ValidationError as e:
            problems += problems_from_validation(e, str(p), "execution")
        except TypeError:
            problems.append(Problem("key 'execution': must be a table", source=str(p)))
        registry = load_steps()
        steps: dict[str, BaseModel] = {}
        raw_steps = raw.get("steps", {})
        if not isinstance(raw_steps, dict):
            problems.append(Problem("key 'steps': must be a table of [steps.NAME] tables", source=str(p)))
            raw_steps = {}
        for name, body in raw_steps.items():
            if name not in registry:
                problems.append(
                    Problem(
                        f"key 'steps.{name}': unknown step; available: {', '.join(s for s in STEP_ORDER if s in registry)}",
                        source=str(p),
                    )
                )
                continue
            try:
                steps[name] = registry[name].config(**(body or {}))
            except ValidationError as e:
                problems += problems_from_validation(e, str(p), f"steps.{name}")
        if problems:
            raise ConfigError(problems)
        assert study is not None and data is not None
        ordered = {n: steps[n] for n in STEP_ORDER if n in steps}
        return cls(path=p, study=study, data=data, steps=ordered, raw=raw, execution=execution)


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
    with atomic_dir(out_dir) as tmp, tracker.run(
        f"study:{exp.study.name}",
        params={"config": str(exp.path), "seed": exp.study.seed, "steps": ",".join(steps), **exp.execution.params()},
        tags={"riskmodel.study": exp.study.name, "riskmodel.backend": exp.execution.backend},
    ) as parent:
        summary["run_id"] = parent.run_id
        parent.log_text(exp.path.read_text(encoding="utf-8"), "experiment.toml")
        ctx = StudyContext(
            config_path=exp.path, study=exp.study, data=exp.data, root=root, out_tmp=tmp, tracker=tracker,
            execution=exp.execution,
        )
        with _Progress(enabled=progress, total=len(steps)) as bar, contextlib.closing(ctx):
            for name, cfg in steps.items():
                step = STEPS[name]
                bar.start(name)
                t0 = time.perf_counter()
                with tracker.run(f"{exp.study.name}:{name}", params=cfg.model_dump(), tags={"riskmodel.step": name}) as run:
                    if name == next(iter(steps)):
                        # the input fingerprint goes on the first step's run and the parent
                        fp = fingerprint(ctx.path(exp.data.counts))  # a file, or every file of a folder
                        parent.set_tags({"input.counts": fp})
                        run.set_tags({"input.counts": fp})
                    res = step.fn(ctx, cfg, run)
                    ctx.results[name] = res or {}
                    secs = time.perf_counter() - t0
                    run.log_metrics({"seconds": secs})
                summary["steps"][name] = {"seconds": round(secs, 2), "run_id": run.run_id}
                bar.done(name, secs)
        parent.log_metrics({f"seconds.{k}": v["seconds"] for k, v in summary["steps"].items()})
    summary["results"] = ctx.results
    return summary


class _Progress:
    """One progress bar for the steps (rich), or nothing when disabled."""

    def __init__(self, enabled: bool, total: int):
        self.enabled = enabled and total > 0
        self.total = total

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

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

    def done(self, name: str, secs: float) -> None:
        if self.enabled:
            self._p.advance(self._task)
            self._p.console.print(f"  {name}: done in {secs:.1f} s")

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._p.__exit__(*exc)


__all__ = [
    "STEPS",
    "STEP_ORDER",
    "Experiment",
    "InputError",
    "StudyContext",
    "register_step",
    "run_experiment",
]
