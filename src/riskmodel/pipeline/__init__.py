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
    boundaries = "data/sample/boundaries.geojson"   # optional: the areas' polygons for maps (GeoJSON or shapefile)

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
order in the file. Each step is a module of :mod:`riskmodel.pipeline.steps`
that adapts one library to the study, registered with :func:`register_step`
with a pydantic model for the step's own keys, so that a wrong key is named
in the error. Results flow in memory: a step returns result objects that
later steps read from ``ctx.results`` (the appendix renders from them).

The package: :mod:`~riskmodel.pipeline.sections` (the ``[study]``,
``[data]``, ``[execution]`` tables), :mod:`~riskmodel.pipeline.config`
(:class:`Experiment`), :mod:`~riskmodel.pipeline.context`
(:class:`StudyContext`), :mod:`~riskmodel.pipeline.run`
(:func:`run_experiment`) and :mod:`~riskmodel.pipeline.steps`.

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

from riskmodel.errors import InputError
from riskmodel.pipeline.config import Experiment
from riskmodel.pipeline.context import StudyContext
from riskmodel.pipeline.run import run_experiment
from riskmodel.pipeline.sections import DataSection, ExecutionSection, StudySection
from riskmodel.pipeline.steps import STEP_ORDER, STEPS, load_steps, register_step

__all__ = [
    "STEPS",
    "STEP_ORDER",
    "DataSection",
    "ExecutionSection",
    "Experiment",
    "InputError",
    "StudyContext",
    "StudySection",
    "load_steps",
    "register_step",
    "run_experiment",
]
