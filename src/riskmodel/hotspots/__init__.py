"""Hotspots: rank grid cells and score the ranking with PAI and PEI*.

* :mod:`~riskmodel.hotspots.metrics`: PAI and PEI* of a ranked list of cells
  at a coverage, as in the NIJ Real-Time Crime Forecasting Challenge;
* :mod:`~riskmodel.hotspots.kde`: the kernel-density hotspot baseline;
* :mod:`~riskmodel.hotspots.rankers`: the :class:`~riskmodel.hotspots.rankers.Ranker`
  contract and riskmodel's per-cell forecast, the KDE, last and historical
  counts as rankers;
* :mod:`~riskmodel.hotspots.registry` and :mod:`~riskmodel.hotspots.catalogue`:
  :data:`RANKERS`, every ranker by name (one ``register`` call each), behind
  ``riskmodel hotspots --ranker``;
* :mod:`~riskmodel.hotspots.evaluate`: rolling forecast windows and the
  :class:`HotspotEvaluation` result.

The command ``riskmodel hotspots`` is :mod:`riskmodel.cli.hotspots`.

The grid itself (square cells nested in street polygons) is
:class:`riskmodel.data.grid.GridCells`.
"""

from riskmodel.hotspots import catalogue as _catalogue  # noqa: F401 - registers every ranker in RANKERS
from riskmodel.hotspots.evaluate import HotspotEvaluation, evaluate_hotspots, rank_context
from riskmodel.hotspots.kde import KDEHotspots
from riskmodel.hotspots.metrics import HotspotScore, hotspot_score, max_capture, select_hotspots
from riskmodel.hotspots.rankers import (
    ForecastRanker,
    HistoricalCounts,
    KDERanker,
    LastCounts,
    RankContext,
    Ranker,
    default_rankers,
    make_ranker,
    make_rankers,
)
from riskmodel.hotspots.registry import RANKERS

__all__ = [
    "RANKERS",
    "ForecastRanker",
    "HistoricalCounts",
    "HotspotEvaluation",
    "HotspotScore",
    "KDEHotspots",
    "KDERanker",
    "LastCounts",
    "RankContext",
    "Ranker",
    "default_rankers",
    "evaluate_hotspots",
    "hotspot_score",
    "make_ranker",
    "make_rankers",
    "max_capture",
    "rank_context",
    "select_hotspots",
]
