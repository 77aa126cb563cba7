"""The hotspot rankers: the registry behind ``riskmodel hotspots --ranker``.

The rankers themselves are declared in :mod:`riskmodel.hotspots.catalogue`,
one ``RANKERS.register(...)`` call each; this module holds the (initially
empty) registry, so that any module of the package can read it without
importing the catalogue. A spec's ``target`` is the ranker's class (or any
callable taking the declared options as keywords and returning a
:class:`~riskmodel.hotspots.rankers.Ranker`); ``extra["contract_options"]``
are options that keep the contract test fast (tests/hotspots/test_registry_contract.py).
"""

from __future__ import annotations

from typing import Any

from riskmodel.registry import Registry

RANKERS: Registry[Any] = Registry("hotspot ranker", "--ranker")
"""Every hotspot ranker by name, in the order of the results and of ``--ranker``'s default (all of them)."""

__all__ = ["RANKERS"]
