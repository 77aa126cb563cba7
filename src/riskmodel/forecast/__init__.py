"""Per-area count forecasting: models, backtests, metrics, hierarchical reconciliation.

Every model is a :class:`CountForecaster` (``fit(panel)`` / ``predict(h, levels)``,
returning a :class:`Forecast`: means and quantiles per series and period,
never below zero), registered by name in :data:`MODELS`
(:mod:`riskmodel.forecast.models`). :func:`forecast_panel` and
:func:`backtest_panel` run a model on every series of a panel, in chunks,
with reconciliation over the area hierarchy.
"""

from riskmodel.forecast import models as _models  # noqa: F401 - registers every model in MODELS
from riskmodel.forecast.api import backtest_panel, forecast_panel, with_all_levels
from riskmodel.forecast.auto import Auto
from riskmodel.forecast.base import CountForecaster
from riskmodel.forecast.baselines import HistoricalMean, Naive, SeasonalNaive
from riskmodel.forecast.ets import ETS
from riskmodel.forecast.gbm import GlobalGBM
from riskmodel.forecast.glm import NegBinGLM, irls_poisson
from riskmodel.forecast.pooled import PooledLevel
from riskmodel.forecast.registry import MODELS, make_model
from riskmodel.forecast.result import PROBS, Forecast, probs_for

__all__ = [
    "ETS",
    "MODELS",
    "PROBS",
    "Auto",
    "CountForecaster",
    "Forecast",
    "GlobalGBM",
    "HistoricalMean",
    "Naive",
    "NegBinGLM",
    "PooledLevel",
    "SeasonalNaive",
    "backtest_panel",
    "forecast_panel",
    "irls_poisson",
    "make_model",
    "probs_for",
    "with_all_levels",
]
