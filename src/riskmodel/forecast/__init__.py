"""Per-area count forecasting: models, backtests, metrics, hierarchical reconciliation.

The public entry point is :class:`Forecaster` (shaped like statsforecast's)::

    from riskmodel.forecast import Forecaster
    res = Forecaster(models=["auto"], seed=0, reconcile="none").forecast(panel, h=3, level=[80, 95])
    res.summary(); res.to_frame(); res.conf_int(95); res.artifacts()
    cv = Forecaster(models=["nbglm"]).cross_validation(panel, h=3, n_windows=2)

Every model is a :class:`CountForecaster` (``fit(panel)`` / ``predict(h, levels)``,
returning a :class:`Forecast`: means and quantiles per series and period,
never below zero), registered by name in :data:`MODELS`; reconciliation
methods are registered in :data:`RECONCILERS` (both declared in
:mod:`riskmodel.forecast.models`). :func:`forecast_panel` and
:func:`backtest_panel` are the older DataFrame-returning wrappers.
"""

from typing import TYPE_CHECKING

from riskmodel.forecast import models as _models  # noqa: F401 - registers every model in MODELS (by reference)
from riskmodel.forecast.registry import DEFAULT_RECONCILE, MODELS, RECONCILERS, make_model
from riskmodel.registry import lazy_exports

# The rest is imported when first used (riskmodel.forecast.Forecaster, or `from riskmodel.forecast
# import Forecaster`): the models' modules import scipy and scikit-learn, which the command line's
# start must not (tests/cli/test_startup.py).
_LAZY = {
    "backtest_panel": "riskmodel.forecast.api", "forecast_panel": "riskmodel.forecast.api",
    "Auto": "riskmodel.forecast.auto", "CountForecaster": "riskmodel.forecast.base",
    "HistoricalMean": "riskmodel.forecast.baselines", "Naive": "riskmodel.forecast.baselines",
    "SeasonalNaive": "riskmodel.forecast.baselines", "ETS": "riskmodel.forecast.ets",
    "Forecaster": "riskmodel.forecast.forecaster", "PanelBacktest": "riskmodel.forecast.forecaster",
    "PanelForecast": "riskmodel.forecast.forecaster", "with_all_levels": "riskmodel.forecast.forecaster",
    "GlobalGBM": "riskmodel.forecast.gbm", "NegBinGLM": "riskmodel.forecast.glm",
    "irls_poisson": "riskmodel.forecast.glm", "PooledLevel": "riskmodel.forecast.pooled",
    "OUTPUT_QUANTILES": "riskmodel.forecast.result", "PROBS": "riskmodel.forecast.result",
    "Forecast": "riskmodel.forecast.result", "probs_for": "riskmodel.forecast.result",
    "quantile_column": "riskmodel.forecast.result",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

if TYPE_CHECKING:
    from riskmodel.forecast.api import backtest_panel, forecast_panel
    from riskmodel.forecast.auto import Auto
    from riskmodel.forecast.base import CountForecaster
    from riskmodel.forecast.baselines import HistoricalMean, Naive, SeasonalNaive
    from riskmodel.forecast.ets import ETS
    from riskmodel.forecast.forecaster import (
        Forecaster,
        PanelBacktest,
        PanelForecast,
        with_all_levels,
    )
    from riskmodel.forecast.gbm import GlobalGBM
    from riskmodel.forecast.glm import NegBinGLM, irls_poisson
    from riskmodel.forecast.pooled import PooledLevel
    from riskmodel.forecast.result import (
        OUTPUT_QUANTILES,
        PROBS,
        Forecast,
        probs_for,
        quantile_column,
    )

__all__ = [
    "OUTPUT_QUANTILES",
    "DEFAULT_RECONCILE",
    "ETS",
    "MODELS",
    "PROBS",
    "RECONCILERS",
    "Auto",
    "CountForecaster",
    "Forecast",
    "Forecaster",
    "GlobalGBM",
    "HistoricalMean",
    "Naive",
    "NegBinGLM",
    "PanelBacktest",
    "PanelForecast",
    "PooledLevel",
    "SeasonalNaive",
    "backtest_panel",
    "forecast_panel",
    "irls_poisson",
    "make_model",
    "probs_for",
    "quantile_column",
    "with_all_levels",
]
