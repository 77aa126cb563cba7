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


MAX_TOML_DEPTH = 50
"""The deepest nesting of tables and arrays a config may have (riskmodel's own configs reach 6)."""


def _depth(value: Any) -> int:  # noqa: ANN401 - a TOML value
    """How deeply tables and arrays nest in ``value`` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
        else:
            deepest = max(deepest, d)
            continue
        deepest = max(deepest, d + 1)
    return deepest


def read_toml(path: str | os.PathLike[str], what: str = "config") -> dict[str, Any]:
    """Read a TOML file.

    Raises
    ------
    ConfigError
        Naming the file when it is missing, not TOML, or nested more than
        :data:`MAX_TOML_DEPTH` tables or arrays deep (which would otherwise
        exhaust Python's recursion limit in the parser or later).
    """
    p = Path(path)
    if not p.exists():
        raise ConfigError(Problem(f"{what} does not exist", source=str(p)))
    too_deep = Problem(f"not a usable {what}: tables or arrays nested more than {MAX_TOML_DEPTH} levels deep",
                       source=str(p))
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(f"not valid TOML: {exc}", source=str(p))) from None
    except RecursionError:
        raise ConfigError(too_deep) from None
    if _depth(raw) > MAX_TOML_DEPTH:
        raise ConfigError(too_deep)
    return raw


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


__all__ = ["MAX_TOML_DEPTH", "StrictModel", "parse", "read_toml", "registry_choice"]
