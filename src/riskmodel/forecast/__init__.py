"""Per-area count forecasting: models, backtests, metrics, hierarchical reconciliation.

Every model has ``fit(panel)`` / ``predict(h, levels)`` and returns a
:class:`Forecast` (mean and quantiles per series and period, never below zero).
"""

# Exports are loaded on first use (PEP 562), so that `riskmodel --help` and
# commands that never forecast do not pay for importing scikit-learn.
_EXPORTS = {
    "Auto": "riskmodel.forecast.auto",
    "HistoricalMean": "riskmodel.forecast.baselines",
    "Naive": "riskmodel.forecast.baselines",
    "SeasonalNaive": "riskmodel.forecast.baselines",
    "ETS": "riskmodel.forecast.ets",
    "GlobalGBM": "riskmodel.forecast.gbm",
    "NegBinGLM": "riskmodel.forecast.glm",
    "irls_poisson": "riskmodel.forecast.glm",
    "MODELS": "riskmodel.forecast.registry",
    "make_model": "riskmodel.forecast.registry",
    "PROBS": "riskmodel.forecast.result",
    "Forecast": "riskmodel.forecast.result",
    "probs_for": "riskmodel.forecast.result",
}


def __getattr__(name: str):  # noqa: ANN202
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'riskmodel.forecast' has no attribute {name!r}")


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
