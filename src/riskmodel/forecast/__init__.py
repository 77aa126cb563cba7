"""Per-area count forecasting: models, backtests, metrics, hierarchical reconciliation.

Every model has ``fit(panel)`` / ``predict(h, levels)`` and returns a
:class:`Forecast` (mean and quantiles per series and period, never below zero).
"""

from riskmodel.forecast.auto import Auto
from riskmodel.forecast.baselines import HistoricalMean, Naive, SeasonalNaive
from riskmodel.forecast.ets import ETS
from riskmodel.forecast.gbm import GlobalGBM
from riskmodel.forecast.glm import NegBinGLM, irls_poisson
from riskmodel.forecast.registry import MODELS, make_model
from riskmodel.forecast.result import PROBS, Forecast, probs_for

__all__ = [
    "ETS",
    "MODELS",
    "PROBS",
    "Auto",
    "Forecast",
    "GlobalGBM",
    "HistoricalMean",
    "Naive",
    "NegBinGLM",
    "SeasonalNaive",
    "irls_poisson",
    "make_model",
    "probs_for",
]
