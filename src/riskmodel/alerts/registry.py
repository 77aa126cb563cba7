"""The spike detectors: the registry behind ``riskmodel detect --method`` and ``[steps.alerts] method``.

The detectors are declared in :mod:`riskmodel.alerts.detectors`, one
``DETECTORS.register(...)`` call each; this module holds the (initially
empty) registry and the default method, so that anything in the package
can use them without importing the catalogue.

A spec's ``target`` is a :class:`~riskmodel.alerts.base.Detector` (``fn(task)
-> DetectorOutput``); its ``extra`` may hold

* ``population_option``: the name of a boolean option that, when on, makes
  the run build a population matrix for the detector (``population_offset``);
* ``bound``: how ``upperbound`` relates to ``alarm`` -- ``"above"`` (an
  alarm only where the count is above the bound), ``"at"`` (the bound is the
  smallest count that would alarm: an alarm where the count reaches it), or
  ``None`` (no such rule). The contract test checks it.
"""

from __future__ import annotations

from riskmodel.alerts.base import Detector
from riskmodel.registry import Registry

DETECTORS: Registry[Detector] = Registry("spike detector", "--method")
"""Every spike detector by name (registration order is the order of every listing)."""

DEFAULT_METHOD = "forecast"
"""The detector ``riskmodel detect``, ``[steps.alerts]`` and :func:`riskmodel.alerts.detect` use when none is named.

The forecast-based detector found all 17 injected spikes of the sample city
at a 0.7% weekly false-alarm rate (benchmarks/alerts/sample_city.md)."""

__all__ = ["DEFAULT_METHOD", "DETECTORS"]
