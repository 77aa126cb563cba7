"""Hotspots: rank grid cells and score the ranking with PAI and PEI*.

* :mod:`~riskmodel.hotspots.metrics`: PAI and PEI* of a ranked list of cells
  at a coverage, as in the NIJ Real-Time Crime Forecasting Challenge;
* :mod:`~riskmodel.hotspots.kde`: the kernel-density hotspot baseline;
* :mod:`~riskmodel.hotspots.rankers`: riskmodel's per-cell forecast, the KDE,
  last and historical counts as rankers;
* :mod:`~riskmodel.hotspots.evaluate`: rolling forecast windows and the
  :class:`HotspotEvaluation` result;
* :mod:`~riskmodel.hotspots.commands`: ``riskmodel hotspots``.

The grid itself (square cells nested in street polygons) is
:class:`riskmodel.data.grid.GridCells`.
"""

from riskmodel.hotspots.evaluate import HotspotEvaluation, evaluate_hotspots
from riskmodel.hotspots.kde import KDEHotspots
from riskmodel.hotspots.metrics import HotspotScore, hotspot_score, max_capture, select_hotspots
from riskmodel.hotspots.rankers import (
    ForecastRanker,
    HistoricalCounts,
    KDERanker,
    LastCounts,
    default_rankers,
)

__all__ = [
    "ForecastRanker",
    "HistoricalCounts",
    "HotspotEvaluation",
    "HotspotScore",
    "KDEHotspots",
    "KDERanker",
    "LastCounts",
    "default_rankers",
    "evaluate_hotspots",
    "hotspot_score",
    "max_capture",
    "select_hotspots",
]
