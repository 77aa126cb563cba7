"""Model names (the values of ``--model``) and how to build them."""

from __future__ import annotations

from typing import Any

from riskmodel.errors import InputError, Problem
from riskmodel.forecast.auto import Auto
from riskmodel.forecast.base import CountForecaster
from riskmodel.forecast.baselines import HistoricalMean, Naive, SeasonalNaive
from riskmodel.forecast.ets import ETS
from riskmodel.forecast.gbm import GlobalGBM
from riskmodel.forecast.glm import NegBinGLM
from riskmodel.forecast.pooled import PooledLevel

MODELS: dict[str, type[CountForecaster]] = {
    "auto": Auto,
    "naive": Naive,
    "snaive": SeasonalNaive,
    "hmean": HistoricalMean,
    "ets": ETS,
    "nbglm": NegBinGLM,
    "qpglm": NegBinGLM,
    "gbm": GlobalGBM,
    "pooled": PooledLevel,
}
"""``qpglm`` is the GLM with quasi-Poisson intervals."""

_SEEDED = {"auto", "gbm"}


def make_model(name: str, seed: int = 0, **params: Any) -> CountForecaster:
    """A fresh, unfitted model by name; ``seed`` goes to the models that draw random numbers."""
    if name not in MODELS:
        raise InputError(Problem(f"unknown model {name!r}; valid: {', '.join(MODELS)}"))
    kw = dict(params)
    if name == "qpglm":
        kw.setdefault("family", "quasipoisson")
    if name in _SEEDED:
        kw.setdefault("random_state", seed)
    try:
        return MODELS[name](**kw)
    except TypeError as exc:
        raise InputError(Problem(f"bad parameters for model {name!r}: {exc}")) from None
