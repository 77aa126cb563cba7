"""Simulated panels with known truth for the forecast tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.data.wide import WidePanel


def seasonal_nb(n: int = 40, T: int = 72, alpha: float = 0.05, seed: int = 0, cats: int = 1):
    """NB2 series with log mean = a_j + 0.3 sin(2 pi t / 12); returns (WidePanel of all T, true means)."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    a = np.log(rng.uniform(5, 60, n))
    mu = np.exp(a[None, :] + 0.3 * np.sin(2 * np.pi * t / 12)[:, None])
    if alpha > 0:
        lam = rng.gamma(1 / alpha, alpha * mu)
    else:
        lam = mu
    y = rng.poisson(lam).astype(float)
    periods = pd.date_range("2015-01-01", periods=T, freq="MS")
    series = [(f"A{j:03d}", f"c{j % cats}") for j in range(n)]
    return WidePanel(y, periods, series, "M"), mu


@pytest.fixture
def sim():
    return seasonal_nb
