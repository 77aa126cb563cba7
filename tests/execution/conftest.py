"""Small simulated panels for the execution tests (seasonal negative-binomial counts)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.data import IncidentPanel
from riskmodel.data.wide import WidePanel


def nb_counts(n: int, T: int, season: float, seed: int) -> np.ndarray:
    """(T, n) NB2 counts (alpha 0.1) around a_j * exp(0.3 sin(2 pi t / season)), a_j ~ U(0.5, 20)."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    mu = rng.uniform(0.5, 20, n)[None, :] * np.exp(0.3 * np.sin(2 * np.pi * t / season))[:, None]
    return rng.poisson(rng.gamma(10.0, mu / 10.0)).astype(float)


@pytest.fixture
def sim():
    """``sim(n, T, cats)`` -> (monthly WidePanel, None): series A000.. in categories c0..c{cats-1}."""

    def make(n: int = 30, T: int = 48, cats: int = 1, seed: int = 0):
        y = nb_counts(n, T, 12, seed)
        series = sorted((f"A{j // cats:03d}", f"c{j % cats}") for j in range(n))
        return WidePanel(y, pd.date_range("2015-01-01", periods=T, freq="MS"), series, "M"), None

    return make


def long_panel(freq: str, T: int, areas: int = 8, cats: int = 3, seed: int = 0, district: bool = False) -> IncidentPanel:
    """An IncidentPanel of ``areas x cats`` series; with ``district`` the areas sum to two districts."""
    periods = pd.date_range("2016-01-04", periods=T, freq="W-MON" if freq == "W" else "MS")
    y = nb_counts(areas * cats, T, 52.18 if freq == "W" else 12, seed)
    keys = [(f"A{a:02d}", f"c{k}") for a in range(areas) for k in range(cats)]
    counts = pd.DataFrame({
        "area_id": np.repeat([a for a, _ in keys], T),
        "category": np.repeat([k for _, k in keys], T),
        "period": np.tile(periods, len(keys)),
        "count": y.T.ravel().astype(int),
    })
    area_tab = None
    if district:
        area_tab = pd.DataFrame({
            "area_id": ["D1", "D2"] + [f"A{a:02d}" for a in range(areas)],
            "parent_id": ["", ""] + ["D1" if a < areas // 2 else "D2" for a in range(areas)],
            "level": ["district", "district"] + ["area"] * areas,
        })
    return IncidentPanel.from_counts(counts, freq=freq, areas=area_tab)
