"""The steps of the main job, one module each; each adapts one library to a study.

A step reads the study's data and earlier steps' results from the
:class:`~riskmodel.pipeline.context.StudyContext`, calls its library's
public API, publishes the result (files in its folder, artifacts in its
MLflow run) and returns the result objects for later steps.
"""

from __future__ import annotations

from riskmodel.pipeline.steps import alerts, appendix, claims, data, features, forecast, index
from riskmodel.pipeline.steps.base import STEP_ORDER, STEPS, Step, StepFn, register_step

BUILTIN: dict[str, Step] = dict(STEPS)
"""The built-in steps, as registered when this package was imported."""


def load_steps() -> dict[str, Step]:
    """The step registry, with every built-in step that was removed put back."""
    for name, step in BUILTIN.items():
        STEPS.setdefault(name, step)
    return STEPS


_MODULES = (alerts, appendix, claims, data, features, forecast, index)

__all__ = ["BUILTIN", "STEPS", "STEP_ORDER", "Step", "StepFn", "load_steps", "register_step"]
