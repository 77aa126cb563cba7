"""The forecast models: the registry behind ``--model``, ``[steps.forecast] model`` and ``auto``'s candidates.

The models themselves are declared in :mod:`riskmodel.forecast.models`, one
``MODELS.register(...)`` call each; this module holds the (initially empty)
registry and :func:`make_model`, so that a model that builds other models
(``auto``) can use it without importing the catalogue.
"""

from __future__ import annotations

from typing import Any

from riskmodel.errors import InputError, Problem
from riskmodel.registry import Registry

MODELS: Registry[Any] = Registry("forecast model", "--model")
"""Every forecast model by name; a spec's ``extra["defaults"]`` are constructor arguments its name implies."""


def make_model(name: str, seed: int = 0, **params: Any) -> Any:  # noqa: ANN401 - a CountForecaster
    """A fresh, unfitted model by name; ``seed`` goes to the models that draw random numbers."""
    spec = MODELS.get(name)
    kw = {**spec.extra.get("defaults", {}), **params}
    if spec.needs.seed:
        kw.setdefault("random_state", seed)
    try:
        return spec.target(**kw)
    except TypeError as exc:
        raise InputError(Problem(f"bad parameters for model {name!r}: {exc}")) from None


__all__ = ["MODELS", "make_model"]
