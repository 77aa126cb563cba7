"""Evaluate reported declines: is "incidents fell 35.4%" real, and how much is the programme?

Methods (each returns an :class:`EffectResult` with ``summary()``, ``to_frame()`` and intervals):

* :func:`rate_ratio` -- two periods, exact Poisson / quasi-Poisson / NB intervals, exposure;
* :class:`InterruptedTimeSeries` -- segmented quasi-Poisson / NB regression;
* :class:`StructuralCounterfactual` (CausalImpact design) and
  :class:`StructuralIntervention` (full sample, level-shift regressor);
* :func:`ratio_of_ratios`, :func:`difference_in_differences`, :class:`SyntheticControl`
  -- comparison with untreated areas;
* :func:`placebo_in_time`, :func:`regression_to_mean` -- checks.

:func:`evaluate` runs the registered methods (:data:`METHODS`, declared in
:mod:`riskmodel.impact.methods`; each an adapter ``method(design, options)``
on the :class:`StudyDesign`) for one claim and writes the verdict;
:func:`read_claims` / :func:`observed_change` handle the claims table.
"""

from typing import TYPE_CHECKING

from riskmodel.impact import methods as _catalogue  # noqa: F401 - registers the methods (by reference)
from riskmodel.impact.claims import Claim, ObservedChange, observed_change, read_claims
from riskmodel.impact.design import EvaluationOptions, StudyDesign, build_design
from riskmodel.impact.evaluate import Evaluation, evaluate

# imported here, not lazily: the function rate_ratio shares its module's name, and importing the module
# later (the adapters do) would otherwise rebind the package's attribute to the module
from riskmodel.impact.rate_ratio import exact_poisson_ratio, rate_ratio
from riskmodel.impact.registry import METHODS, expand_choices, method_groups
from riskmodel.impact.results import EffectResult, effects_table
from riskmodel.impact.series import StudySeries, study_series
from riskmodel.registry import lazy_exports

# The methods' modules are imported when a name of theirs is first used: they import scipy and
# statsmodels, which the command line's and a study's start must not (tests/cli/test_startup.py).
__getattr__, __dir__ = lazy_exports(__name__, {
    "placebo_in_time": "riskmodel.impact.checks", "regression_to_mean": "riskmodel.impact.checks",
    "difference_in_differences": "riskmodel.impact.comparison", "ratio_of_ratios": "riskmodel.impact.comparison",
    "InterruptedTimeSeries": "riskmodel.impact.its",
    "StructuralCounterfactual": "riskmodel.impact.structural", "StructuralIntervention": "riskmodel.impact.structural",
    "SyntheticControl": "riskmodel.impact.synthetic", "simplex_weights": "riskmodel.impact.synthetic",
})

if TYPE_CHECKING:
    from riskmodel.impact.checks import placebo_in_time, regression_to_mean
    from riskmodel.impact.comparison import difference_in_differences, ratio_of_ratios
    from riskmodel.impact.its import InterruptedTimeSeries
    from riskmodel.impact.structural import StructuralCounterfactual, StructuralIntervention
    from riskmodel.impact.synthetic import SyntheticControl, simplex_weights

__all__ = [
    "METHODS",
    "Claim",
    "EffectResult",
    "Evaluation",
    "EvaluationOptions",
    "InterruptedTimeSeries",
    "ObservedChange",
    "StructuralCounterfactual",
    "StructuralIntervention",
    "StudyDesign",
    "StudySeries",
    "SyntheticControl",
    "build_design",
    "difference_in_differences",
    "effects_table",
    "evaluate",
    "exact_poisson_ratio",
    "expand_choices",
    "method_groups",
    "observed_change",
    "placebo_in_time",
    "rate_ratio",
    "ratio_of_ratios",
    "read_claims",
    "regression_to_mean",
    "simplex_weights",
    "study_series",
]
