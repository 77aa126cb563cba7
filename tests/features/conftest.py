"""Shared fixtures of the feature tests: a small monthly panel with areas, population, neighbours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.data import IncidentPanel


def _panel(n_months: int = 30, seed: int = 0) -> IncidentPanel:
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2018-01-01", periods=n_months, freq="MS")
    rows = []
    for a in ("A", "B", "C"):
        for k in ("fires", "thefts"):
            lam = {"fires": 3, "thefts": 20}[k] * (1 + 0.3 * (a == "B"))
            for p, c in zip(periods, rng.poisson(lam, n_months), strict=True):
                rows.append((a, k, p, int(c)))
    counts = pd.DataFrame(rows, columns=["area_id", "category", "period", "count"])
    areas = pd.DataFrame({"area_id": ["D", "A", "B", "C"], "parent_id": [None, "D", "D", "D"],
                          "level": ["district", "area", "area", "area"]})
    pop = pd.DataFrame({"area_id": ["A", "B", "C", "A", "B", "C"], "year": [2018] * 3 + [2019] * 3,
                        "population": [10000, 20000, 40000, 11000, 22000, 44000]})
    nb = pd.DataFrame({"area_id": ["A", "B"], "neighbour_id": ["B", "C"]})
    return IncidentPanel.from_counts(counts, freq="M", areas=areas, population=pop, neighbours=nb)



@pytest.fixture
def make_panel():
    return _panel
