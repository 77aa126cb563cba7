"""The catalogue of forecast models and reconciliation methods: one ``register`` call each.

Each model is a :class:`~riskmodel.forecast.base.CountForecaster` (the
scikit-learn estimator shape: constructor parameters, ``fit(panel)``,
``predict(h, levels)`` returning a :class:`~riskmodel.forecast.result.Forecast`).
Its options are its constructor parameters (``get_params()``), declared here
with their defaults, and the model named by reference (``"module:Class"``,
imported when first used: listing the models for ``--help`` imports none of
them, nor scipy or scikit-learn); the contract test checks that the declared
options are exactly ``Model().get_params()``. A model
registered here is offered by ``riskmodel forecast --model``, accepted by
``[steps.forecast]``, usable as an ``auto`` candidate, named in the appendix,
and run by the contract test (tests/forecast/test_registry_contract.py).

A reconciliation method registered in :data:`RECONCILERS` is offered by
``--reconcile`` and accepted by ``[steps.forecast] reconcile``; its target is
``fn(forecast, hierarchy, y, fitted) -> Forecast``
(:mod:`riskmodel.forecast.reconcile`).
"""

from __future__ import annotations

from riskmodel.forecast.registry import MODELS, RECONCILERS
from riskmodel.registry import Needs, Option


def _options(**defaults: object) -> tuple[Option, ...]:
    """A model's options: its constructor parameters with their defaults, in ``get_params()`` order
    (sorted); the type is the default's (``str`` for a ``None`` default: the model decides)."""
    return tuple(Option(k, type(v) if v is not None else str, v) for k, v in sorted(defaults.items()))


_GLM = {"calendar": "CN", "exog": None, "family": "nb", "fourier": None, "holidays": True, "ridge": 0.001, "trend": True,
        "window": None}

MODELS.register("auto", "riskmodel.forecast.auto:Auto",
                labels={"zh": "自动选择与组合", "en": "automatic selection and stacking"},
                summary="backtest-scored choice and combination of models per category",
                options=_options(calendar="CN", candidates=("snaive", "hmean", "nbglm", "gbm", "pooled", "theta"),
                                 h=None,
                                 max_models=3,
                                 min_group=5, params=None, random_state=0, weight_step=0.1, windows=2),
                needs=Needs(seed=True))
MODELS.register("naive", "riskmodel.forecast.baselines:Naive", labels={"zh": "朴素法", "en": "naive"},
                summary="the last value carried forward", options=_options())
MODELS.register("snaive", "riskmodel.forecast.baselines:SeasonalNaive",
                labels={"zh": "季节性朴素法", "en": "seasonal naive"},
                summary="the value one season earlier", options=_options(season=None))
MODELS.register("hmean", "riskmodel.forecast.baselines:HistoricalMean",
                labels={"zh": "历史均值", "en": "historical mean"},
                summary="the mean of the history (or of a window)", options=_options(window=None))
MODELS.register("ets", "riskmodel.forecast.ets:ETS", labels={"zh": "指数平滑", "en": "exponential smoothing (ETS)"},
                summary="exponential smoothing state-space model, series by series",
                options=_options(damped=True, maxiter=200, seasonal="auto", trend="add"))
MODELS.register("nbglm", "riskmodel.forecast.glm:NegBinGLM",
                labels={"zh": "负二项广义线性模型", "en": "negative-binomial GLM"},
                summary="negative-binomial GLM with trend, Fourier seasonality and holidays",
                options=_options(**_GLM))
MODELS.register("qpglm", "riskmodel.forecast.glm:NegBinGLM",
                labels={"zh": "准泊松广义线性模型", "en": "quasi-Poisson GLM"},
                summary="the GLM with quasi-Poisson intervals", options=_options(**{**_GLM, "family": "quasipoisson"}),
                defaults={"family": "quasipoisson"})
MODELS.register("gbm", "riskmodel.forecast.gbm:GlobalGBM",
                labels={"zh": "全局梯度提升树", "en": "global gradient boosting"},
                summary="one gradient-boosted tree model over all series",
                options=_options(calendar="CN", calibrate=True, learning_rate=0.05, max_iter=150, max_leaf_nodes=15,
                                 max_rows=400000, min_samples_leaf=20, n_threads=1, random_state=0),
                needs=Needs(seed=True))
MODELS.register("pooled", "riskmodel.forecast.pooled:PooledLevel",
                labels={"zh": "汇总分解模型", "en": "pooled top-down model"},
                summary="each category's total forecast and split by the series' shares",
                options=_options(horizon=None, origin_halflife=None, seasonal="auto", share_halflife=2.0,
                                 share_prior="area", shrink_seasonal=True, trend=True))
MODELS.register("croston_sba", "riskmodel.forecast.intermittent:CrostonSBA",
                labels={"zh": "克罗斯顿法（SBA修正）", "en": "Croston (SBA)"},
                summary="Croston's intermittent-demand method with the Syntetos-Boylan correction",
                options=_options())
MODELS.register("tsb", "riskmodel.forecast.intermittent:TSB",
                labels={"zh": "TSB间歇需求法", "en": "Teunter-Syntetos-Babai (TSB)"},
                summary="smoothed non-zero count times smoothed probability of a non-zero count",
                options=_options(alpha_d=0.1, alpha_p=0.1))
MODELS.register("adida", "riskmodel.forecast.intermittent:ADIDA",
                labels={"zh": "聚合-分解间歇需求法", "en": "ADIDA (temporal aggregation)"},
                summary="exponential smoothing of counts summed over the mean interval between incidents",
                options=_options())
MODELS.register("imapa", "riskmodel.forecast.intermittent:IMAPA",
                labels={"zh": "多层聚合间歇预测法", "en": "IMAPA (multiple aggregation)"},
                summary="ADIDA averaged over every block length up to the mean interval", options=_options())
MODELS.register("hurdle", "riskmodel.forecast.intermittent:Hurdle",
                labels={"zh": "障碍计数模型", "en": "hurdle count model"},
                summary="probability of any incident times a shifted negative-binomial count, recency-weighted",
                options=_options(halflife_years=2.0))
MODELS.register("theta", "riskmodel.forecast.theta:Theta",
                labels={"zh": "Theta法", "en": "Theta method"},
                summary="the standard Theta method (SES with half the trend's drift), as statsforecast's Theta",
                options=_options(seasonal="auto"))
MODELS.register("mstl", "riskmodel.forecast.mstl:MSTL",
                labels={"zh": "多季节分解预测", "en": "MSTL (multiple seasonal decomposition)"},
                summary="STL over every seasonal period, seasonal naive seasons, Theta (or drift, ETS) for the rest",
                options=_options(periods=None, trend="theta"))


RECONCILERS.register("none", "riskmodel.forecast.reconcile:no_reconciliation", labels={"zh": "不协调", "en": "none"},
                     summary="no reconciliation: the series given, forecast as they are", hierarchy=False)
RECONCILERS.register("bottom_up", "riskmodel.forecast.reconcile:bottom_up", labels={"zh": "自下而上", "en": "bottom-up"},
                     summary="the bottom areas' forecasts summed up to every ancestor (needs --areas)",
                     hierarchy=True)
RECONCILERS.register("mint_shrink", "riskmodel.forecast.reconcile:mint_shrink",
                     labels={"zh": "最小迹协调（收缩协方差）", "en": "MinT with shrinkage"},
                     summary="every level forecast, then made coherent by MinT with the shrunk residual "
                             "covariance (needs --areas)", hierarchy=True, residuals=True)

__all__ = ["MODELS", "RECONCILERS"]
