"""Configuration files: one strict pydantic base and one TOML loader.

Every config riskmodel reads (a study's ``experiments/NAME.toml``, an index
config, a step's ``[steps.NAME]`` table) is a :class:`StrictModel`: an
unknown key is refused, and every wrong key is named with its full dotted
path in one :class:`~riskmodel.errors.ConfigError` (:func:`parse`).
Method names are checked against the family's registry
(:func:`registry_choice`), so a config accepts exactly what the command
line accepts.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from riskmodel.errors import ConfigError, Problem, problems_from_validation
from riskmodel.registry import Registry

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """A config table: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


def read_toml(path: str | os.PathLike[str], what: str = "config") -> dict[str, Any]:
    """Read a TOML file; :class:`ConfigError` naming the file when it is missing or not TOML."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(Problem(f"{what} does not exist", source=str(p)))
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(f"not valid TOML: {exc}", source=str(p))) from None


def parse(model: type[M], raw: Any, source: str, where: str = "") -> M:  # noqa: ANN401 - a TOML value
    """Validate ``raw`` as ``model``; :class:`ConfigError` naming every wrong key (prefixed ``where``)."""
    if not isinstance(raw, dict):
        raise ConfigError(Problem(f"key '{where}': must be a table", source=source))
    try:
        return model(**raw)
    except ValidationError as e:
        raise ConfigError(problems_from_validation(e, source, where)) from None


def registry_choice(registry: Registry[Any]):  # noqa: ANN201 - a pydantic validator function
    """A field validator accepting exactly the registry's method names."""

    def check(v: str) -> str:
        if v not in registry:
            raise ValueError(f"unknown value {v!r}; valid: {', '.join(registry.names())}")
        return v

    return check


__all__ = ["StrictModel", "parse", "read_toml", "registry_choice"]
