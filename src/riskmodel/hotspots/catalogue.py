"""The catalogue of hotspot rankers: one ``RANKERS.register`` call per ranker.

Each ranker is a :class:`~riskmodel.hotspots.rankers.Ranker` (made with its
options as keywords, ``fit(ctx)``, ``expected(category, h)``). A ranker
registered here is offered by ``riskmodel hotspots --ranker`` (with its
options as flags), is one of :func:`~riskmodel.hotspots.rankers.default_rankers`
and of :func:`~riskmodel.hotspots.evaluate.evaluate_hotspots`' default, and is
run by the contract test (tests/hotspots/test_registry_contract.py).
Options that several rankers declare with one flag (``--lookback``) go to
every chosen ranker that takes them. Each ranker is named by reference
(``"module:Class"``, imported on first use, so that ``hotspots --help`` imports
no model); the contract test checks the declared options against the class.
"""

from __future__ import annotations

from riskmodel.hotspots.registry import RANKERS
from riskmodel.registry import Needs, Option, by_reference

_R = "riskmodel.hotspots.rankers"

LOOKBACK = Option("window", int, None, "Use only the last N periods before each origin (default: all of them).",
                  flag="--lookback")

RANKERS.register(
    "forecast", f"{_R}:ForecastRanker",
    labels={"zh": "预测", "en": "riskmodel forecast"},
    summary="riskmodel's forecast of every cell's count, summed over the window (named forecast_<model>)",
    options=(
        Option("model", str, "auto", "Forecast model of the forecast ranker (see riskmodel forecast --help)."),
        Option("reconcile", str, "none", "Reconciliation of the forecast ranker over cell -> street -> ... "
               "(see riskmodel forecast --help)."),
        Option("params", dict, None, "Model parameters of the forecast ranker, a JSON object.",
               flag="--model-params", parse=by_reference(f"{_R}:parse_params")),
    ),
    needs=Needs(seed=True),
    contract_options={"model": "hmean"},
)
RANKERS.register(
    "kde", f"{_R}:KDERanker",
    labels={"zh": "核密度", "en": "kernel density (KDE)"},
    summary="Gaussian kernel density of past events at the cells' centroids, times the cells' areas",
    options=(
        Option("bandwidth", float, None, "KDE bandwidth in coordinate units (default: half the cell size)."),
        LOOKBACK,
    ),
)
RANKERS.register(
    "last", f"{_R}:LastCounts",
    labels={"zh": "上期计数", "en": "last counts"},
    summary="the events of the last h periods: the naive forecast of an h-period window",
)
RANKERS.register(
    "history", f"{_R}:HistoricalCounts",
    labels={"zh": "历史计数", "en": "historical counts"},
    summary="the events over the whole history (or the last --lookback periods)",
    options=(LOOKBACK,),
)

__all__ = ["RANKERS"]
