"""The step registry: :func:`register_step`, :data:`STEPS` and the canonical :data:`STEP_ORDER`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from riskmodel.config import StrictModel

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
"""Steps always run in this order, whatever the order in the config file."""

StepFn = Callable[[Any, Any, Any], dict[str, Any] | None]
"""``fn(ctx: StudyContext, cfg: the step's config model, run: RunHandle)``."""


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
    files under ``ctx.step_dir(name)``, logs to ``run`` and returns what
    later steps read from ``ctx.results[name]`` (result objects, in memory).
    """
    if name not in STEP_ORDER:
        raise ValueError(f"step {name!r} is not in STEP_ORDER")

    def deco(fn: StepFn) -> StepFn:
        STEPS[name] = Step(name, fn, config or StrictModel, description or (fn.__doc__ or "").strip().split("\n")[0])
        return fn

    return deco


__all__ = ["STEPS", "STEP_ORDER", "Step", "StepFn", "register_step"]
