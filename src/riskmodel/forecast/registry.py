"""The forecast registries: models (``--model``) and reconciliation methods (``--reconcile``).

The models and the reconciliation methods are declared in
:mod:`riskmodel.forecast.models`, one ``register(...)`` call each; this
module holds the (initially empty) registries, the one reconciliation
default and :func:`make_model`, so that a model that builds other models
(``auto``) or the reconciliation code can use them without importing the
catalogue.
"""

from __future__ import annotations

from typing import Any

from riskmodel.errors import InputError, Problem
from riskmodel.registry import Registry

MODELS: Registry[Any] = Registry("forecast model", "--model")
"""Every forecast model by name; a spec's ``extra["defaults"]`` are constructor arguments its name implies."""

RECONCILERS: Registry[Any] = Registry("reconciliation method", "--reconcile")
"""Every hierarchical reconciliation method by name.

A spec's target is ``fn(forecast, hierarchy, y, fitted) -> Forecast`` (see
:func:`riskmodel.forecast.reconcile.reconcile`); ``extra["hierarchy"]``
says it needs the ancestors' series (and so an areas file), and
``extra["residuals"]`` that it needs in-sample residuals."""

DEFAULT_RECONCILE = "none"
"""The one reconciliation default: of :class:`~riskmodel.forecast.Forecaster`,
``riskmodel forecast`` / ``backtest --reconcile`` and ``[steps.forecast] reconcile``.
``none`` works on any counts (no areas file needed) and forecasts exactly the
series given; a study that wants coherent district and city forecasts says
``reconcile = "mint_shrink"`` (experiments/sample.toml does)."""


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


def needs_hierarchy(method: str) -> bool:
    """Whether reconciliation ``method`` forecasts the ancestors' series too (and needs an areas file)."""
    return bool(RECONCILERS.get(method).extra.get("hierarchy", False))


__all__ = ["DEFAULT_RECONCILE", "MODELS", "RECONCILERS", "make_model", "needs_hierarchy"]
