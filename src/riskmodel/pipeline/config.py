"""The experiment config: ``[study]``, ``[data]``, ``[execution]`` and ``[steps.NAME]`` tables.

See :mod:`riskmodel.pipeline` for the shape of a config. Every table is a
:class:`~riskmodel.config.StrictModel`, so a wrong key is named with its full
path; a step's own keys are validated by the pydantic model the step
registered (:mod:`riskmodel.pipeline.steps`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from riskmodel.config import read_toml
from riskmodel.data.boundaries import SUFFIXES as BOUNDARY_SUFFIXES
from riskmodel.errors import ConfigError, Problem, problems_from_validation
from riskmodel.pipeline.sections import DataSection, ExecutionSection, StudySection
from riskmodel.pipeline.steps import STEP_ORDER, load_steps


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
        raw = read_toml(p, "experiment config")
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
        if data is not None and data.boundaries is not None:
            problems += _boundaries_problems(p, data.boundaries)
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


def _boundaries_problems(config: Path, boundaries: str) -> list[Problem]:
    """``[data] boundaries`` names a GeoJSON or shapefile (read and checked against the areas by the study)."""
    suffix = Path(boundaries).suffix.lower()
    if suffix in BOUNDARY_SUFFIXES:
        return []
    return [Problem(f"key 'data.boundaries': {boundaries!r} is not a GeoJSON (.geojson, .json) or "
                    "shapefile (.shp)", source=str(config))]


__all__ = ["Experiment"]
