"""The catalogue of forecast models and reconciliation methods: one ``register`` call each.

Each model is a :class:`~riskmodel.forecast.base.CountForecaster` (the
scikit-learn estimator shape: constructor parameters, ``fit(panel)``,
``predict(h, levels)`` returning a :class:`~riskmodel.forecast.result.Forecast`).
Its options are its constructor parameters (``get_params()``). A model
registered here is offered by ``riskmodel forecast --model``, accepted by
``[steps.forecast]``, usable as an ``auto`` candidate, named in the appendix,
and run by the contract test (tests/forecast/test_registry_contract.py).

A reconciliation method registered in :data:`RECONCILERS` is offered by
``--reconcile`` and accepted by ``[steps.forecast] reconcile``; its target is
``fn(forecast, hierarchy, y, fitted) -> Forecast``
(:mod:`riskmodel.forecast.reconcile`).
"""

from __future__ import annotations

from riskmodel.forecast.auto import Auto
from riskmodel.forecast.base import CountForecaster
from riskmodel.forecast.baselines import HistoricalMean, Naive, SeasonalNaive
from riskmodel.forecast.ets import ETS
from riskmodel.forecast.gbm import GlobalGBM
from riskmodel.forecast.glm import NegBinGLM
from riskmodel.forecast.intermittent import ADIDA, IMAPA, TSB, CrostonSBA, Hurdle
from riskmodel.forecast.pooled import PooledLevel
from riskmodel.forecast.reconcile import bottom_up, mint_shrink, no_reconciliation
from riskmodel.forecast.registry import MODELS, RECONCILERS
from riskmodel.registry import Needs, Option


def _options(model: type[CountForecaster], **implied: object) -> tuple[Option, ...]:
    """A model's options: its constructor parameters with their defaults (``implied``: those its name sets)."""
    defaults = {**model().get_params(), **implied}
    return tuple(Option(k, type(v) if v is not None else str, v) for k, v in defaults.items())


MODELS.register("auto", Auto, labels={"zh": "自动选择与组合", "en": "automatic selection and stacking"},
                summary="backtest-scored choice and combination of models per category",
                options=_options(Auto), needs=Needs(seed=True))
MODELS.register("naive", Naive, labels={"zh": "朴素法", "en": "naive"},
                summary="the last value carried forward", options=_options(Naive))
MODELS.register("snaive", SeasonalNaive, labels={"zh": "季节性朴素法", "en": "seasonal naive"},
                summary="the value one season earlier", options=_options(SeasonalNaive))
MODELS.register("hmean", HistoricalMean, labels={"zh": "历史均值", "en": "historical mean"},
                summary="the mean of the history (or of a window)", options=_options(HistoricalMean))
MODELS.register("ets", ETS, labels={"zh": "指数平滑", "en": "exponential smoothing (ETS)"},
                summary="exponential smoothing state-space model, series by series", options=_options(ETS))
MODELS.register("nbglm", NegBinGLM, labels={"zh": "负二项广义线性模型", "en": "negative-binomial GLM"},
                summary="negative-binomial GLM with trend, Fourier seasonality and holidays",
                options=_options(NegBinGLM))
MODELS.register("qpglm", NegBinGLM, labels={"zh": "准泊松广义线性模型", "en": "quasi-Poisson GLM"},
                summary="the GLM with quasi-Poisson intervals", options=_options(NegBinGLM, family="quasipoisson"),
                defaults={"family": "quasipoisson"})
MODELS.register("gbm", GlobalGBM, labels={"zh": "全局梯度提升树", "en": "global gradient boosting"},
                summary="one gradient-boosted tree model over all series", options=_options(GlobalGBM),
                needs=Needs(seed=True))
MODELS.register("pooled", PooledLevel, labels={"zh": "汇总分解模型", "en": "pooled top-down model"},
                summary="each category's total forecast and split by the series' shares", options=_options(PooledLevel))
MODELS.register("croston_sba", CrostonSBA, labels={"zh": "克罗斯顿法（SBA修正）", "en": "Croston (SBA)"},
                summary="Croston's intermittent-demand method with the Syntetos-Boylan correction",
                options=_options(CrostonSBA))
MODELS.register("tsb", TSB, labels={"zh": "TSB间歇需求法", "en": "Teunter-Syntetos-Babai (TSB)"},
                summary="smoothed non-zero count times smoothed probability of a non-zero count",
                options=_options(TSB))
MODELS.register("adida", ADIDA, labels={"zh": "聚合-分解间歇需求法", "en": "ADIDA (temporal aggregation)"},
                summary="exponential smoothing of counts summed over the mean interval between incidents",
                options=_options(ADIDA))
MODELS.register("imapa", IMAPA, labels={"zh": "多层聚合间歇预测法", "en": "IMAPA (multiple aggregation)"},
                summary="ADIDA averaged over every block length up to the mean interval", options=_options(IMAPA))
MODELS.register("hurdle", Hurdle, labels={"zh": "障碍计数模型", "en": "hurdle count model"},
                summary="probability of any incident times a shifted negative-binomial count, recency-weighted",
                options=_options(Hurdle))


RECONCILERS.register("none", no_reconciliation, labels={"zh": "不协调", "en": "none"},
                     summary="no reconciliation: the series given, forecast as they are", hierarchy=False)
RECONCILERS.register("bottom_up", bottom_up, labels={"zh": "自下而上", "en": "bottom-up"},
                     summary="the bottom areas' forecasts summed up to every ancestor (needs --areas)",
                     hierarchy=True)
RECONCILERS.register("mint_shrink", mint_shrink, labels={"zh": "最小迹协调（收缩协方差）",
                                                          "en": "MinT with shrinkage"},
                     summary="every level forecast, then made coherent by MinT with the shrunk residual "
                             "covariance (needs --areas)", hierarchy=True, residuals=True)

__all__ = ["MODELS", "RECONCILERS"]
