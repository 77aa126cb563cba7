"""Early warning (预警): spike detectors for count series, outbreak simulation, evaluation.

* :func:`detect` -- any registered detector on an :class:`~riskmodel.data.IncidentPanel`
  (a :class:`Detection` out: ``summary()``, ``to_frame()``, ``artifacts()``);
* :data:`DETECTORS` -- the registry of detectors (declared in
  :mod:`riskmodel.alerts.detectors`; the contract in :mod:`riskmodel.alerts.base`);
* :func:`farrington_flexible` -- R's ``surveillance::farringtonFlexible``
  (Noufaily 2013 and original Farrington settings), vectorised across series;
* :func:`ears_c` -- EARS C1/C2/C3 as R's ``earsC``;
* :func:`glr_nb` -- negative-binomial GLR / CUSUM charts (R's ``glrnb``);
* :func:`simulate` -- Noufaily-style outbreak simulation;
* :func:`outbreak_metrics`, :func:`tune_threshold` -- FPR, POD, sensitivity, timeliness;
* :func:`evaluate_spikes` -- a detection table scored against known spikes (POD, delay, FPR);
* :func:`episodes` -- consecutive alarms merged into episodes with a severity;
* :func:`nowcast`, :func:`nowcast_panel` -- reporting-delay nowcast of the latest, incomplete
  periods (R's ``surveillance::nowcast`` "bayes.trunc"), and a panel with them for any detector.
"""

from typing import TYPE_CHECKING

from riskmodel.alerts.base import Detector, DetectorOutput, DetectTask
from riskmodel.alerts.detect import Detection, check_method, detect
from riskmodel.alerts.detectors import DETECTORS
from riskmodel.alerts.episodes import episodes, severity
from riskmodel.alerts.nowcast import (  # not lazy: the function nowcast has its module's name (numpy, pandas only)
    Nowcast,
    ReportingTriangle,
    nowcast,
    nowcast_panel,
    reporting_triangle,
)
from riskmodel.alerts.registry import DEFAULT_METHOD
from riskmodel.registry import lazy_exports

# Imported when first used: these modules import scipy, which the command line's start must not
# (tests/cli/test_startup.py); the detectors themselves are registered by reference.
_LAZY = {
    "ears_c": "riskmodel.alerts.ears",
    **dict.fromkeys(["evaluate_spikes", "metrics_table", "outbreak_metrics", "tune_threshold"],
                    "riskmodel.alerts.evaluate"),
    **dict.fromkeys(["NOUFAILY", "ORIGINAL", "PRESETS", "R_DEFAULT", "FarringtonControl", "control_from",
                     "farrington_flexible"], "riskmodel.alerts.farrington"),
    "glr_nb": "riskmodel.alerts.glrnb",
    **dict.fromkeys(["SCENARIOS", "Scenario", "SimulatedSet", "simulate"], "riskmodel.alerts.simulate"),
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

if TYPE_CHECKING:
    from riskmodel.alerts.ears import ears_c
    from riskmodel.alerts.evaluate import (
        evaluate_spikes,
        metrics_table,
        outbreak_metrics,
        tune_threshold,
    )
    from riskmodel.alerts.farrington import (
        NOUFAILY,
        ORIGINAL,
        PRESETS,
        R_DEFAULT,
        FarringtonControl,
        control_from,
        farrington_flexible,
    )
    from riskmodel.alerts.glrnb import glr_nb
    from riskmodel.alerts.simulate import SCENARIOS, Scenario, SimulatedSet, simulate

__all__ = [
    "DEFAULT_METHOD",
    "DETECTORS",
    "NOUFAILY",
    "ORIGINAL",
    "PRESETS",
    "R_DEFAULT",
    "SCENARIOS",
    "DetectTask",
    "Detection",
    "Detector",
    "DetectorOutput",
    "FarringtonControl",
    "Nowcast",
    "ReportingTriangle",
    "Scenario",
    "SimulatedSet",
    "check_method",
    "control_from",
    "detect",
    "ears_c",
    "episodes",
    "evaluate_spikes",
    "farrington_flexible",
    "glr_nb",
    "metrics_table",
    "nowcast",
    "nowcast_panel",
    "outbreak_metrics",
    "reporting_triangle",
    "severity",
    "simulate",
    "tune_threshold",
]
