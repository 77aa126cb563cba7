"""The kernel-density baseline: a simulated hotspot comes first; densities and bandwidth rules."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.data.grid import GridCells
from riskmodel.errors import InputError
from riskmodel.hotspots.kde import KDEHotspots
from riskmodel.hotspots.metrics import rank_order

from .conftest import toy_streets


def test_simulated_hotspot_is_ranked_first():
    grid = GridCells.build(toy_streets(), 1.0)  # 170 cells of 1 m2
    rng = np.random.default_rng(0)
    # background: 300 uniform events; hotspot: 60 events around (13.5, 6.5), inside cell B-G13_6
    x = np.r_[rng.uniform(0, 17, 300), rng.normal(13.5, 0.25, 60)]
    y = np.r_[rng.uniform(0, 10, 300), rng.normal(6.5, 0.25, 60)]
    kde = KDEHotspots(bandwidth=1.0).fit(x, y)
    t = grid.table
    d = kde.density(t["x"], t["y"])
    top = rank_order(d)[0]
    assert t["area_id"].iloc[top] == "B-G13_6"
    # the same data give the same densities, byte for byte
    again = KDEHotspots(bandwidth=1.0).fit(x, y).density(t["x"], t["y"])
    assert d.tobytes() == again.tobytes()


def test_density_integrates_to_one_and_scott_rule():
    rng = np.random.default_rng(1)
    x, y = rng.normal(0, 3.0, 500), rng.normal(0, 4.0, 500)
    kde = KDEHotspots().fit(x, y)
    sigma = np.sqrt((np.var(x, ddof=1) + np.var(y, ddof=1)) / 2)
    assert kde.bandwidth_ == pytest.approx(sigma * 500 ** (-1 / 6))
    g = np.arange(-40, 40, 0.5) + 0.25
    gx, gy = np.meshgrid(g, g)
    mass = kde.density(gx.ravel(), gy.ravel()).sum() * 0.25
    assert mass == pytest.approx(1.0, abs=2e-3)
    # weighted: all weight on one point is a Gaussian of sd = bandwidth around it
    w = np.zeros(500)
    w[0] = 1.0
    k1 = KDEHotspots(bandwidth=2.0).fit(x, y, weights=w)
    assert k1.density([x[0]], [y[0]])[0] == pytest.approx(1 / (2 * np.pi * 4.0), rel=1e-3)


def test_bad_kde_inputs():
    with pytest.raises(InputError, match="positive"):
        KDEHotspots(bandwidth=0).fit([1.0], [1.0])
    with pytest.raises(InputError, match="unknown bandwidth rule"):
        KDEHotspots(bandwidth="wide").fit([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(InputError, match="no past event"):
        KDEHotspots(bandwidth=1.0).fit([], [])
    with pytest.raises(InputError, match="not fitted"):
        KDEHotspots().density([0.0], [0.0])


def test_default_bandwidth_is_the_one_the_benchmark_tuned():
    """KDE_BANDWIDTH_CELLS claims to be the tune phase's choice: keep the two in step."""
    from pathlib import Path

    import pandas as pd

    from riskmodel.hotspots.rankers import KDE_BANDWIDTH_CELLS

    tune = Path(__file__).resolve().parents[2] / "benchmarks" / "hotspots" / "tune_overall.csv"
    if not tune.exists():
        pytest.skip("benchmarks/hotspots/tune_overall.csv not in this checkout")
    o = pd.read_csv(tune)
    best = o.loc[o["pai"].idxmax()]
    assert bool(best["chosen"])
    assert pd.isna(best["window_weeks"])  # the default KDE uses all the history
    assert best["bandwidth_cells"] == KDE_BANDWIDTH_CELLS
