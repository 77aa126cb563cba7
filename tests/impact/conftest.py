"""Shared fixtures: a small simulated city with a known programme effect, the reference data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference" / "impact"
SAMPLE = ROOT / "data" / "sample"


def simulate_city(seed: int = 7, multiplier: float = 0.75, n_areas: int = 12, theta: float = 300.0,
                  level: float = 200.0) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Monthly counts of ``n_areas`` areas 2014-2021 sharing season, trend and a 2020 shock;
    area A00 has a programme from 2019-07 (ramp 6 months) with ``multiplier``.

    Returns (counts long, population, true relative effect over 2020).
    """
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2014-01-01", "2021-12-01", freq="MS")
    T = len(periods)
    t = np.arange(T)
    pop = rng.lognormal(np.log(1e5), 0.3, n_areas)[:, None] * (1.01 ** (t / 12))[None, :]
    eff = rng.lognormal(0, 0.3, n_areas)
    eff *= level / (pop[0, 0] * eff[0])
    season = np.exp(0.2 * np.cos(2 * np.pi * t / 12))
    trend = np.exp(-0.04 * t / 12)
    shock = np.where(periods.year == 2020, 0.85, 1.0)
    ramp = np.clip((t - periods.get_loc(pd.Timestamp("2019-07-01"))) / 6, 0, 1)
    mu = pop * eff[:, None] * (season * trend * shock)[None, :]
    mu0 = mu.copy()
    mu[0] *= 1 + (multiplier - 1) * ramp
    y = rng.poisson(rng.gamma(theta, mu / theta))
    ids = [f"A{i:02d}" for i in range(n_areas)]
    counts = pd.DataFrame({"area_id": np.repeat(ids, T), "category": "alerts",
                           "period": np.tile(periods, n_areas), "count": y.ravel()})
    years = periods.year.to_numpy()
    popt = pd.DataFrame([(a, yr, float(pop[i, years == yr].mean())) for i, a in enumerate(ids)
                         for yr in range(2014, 2022)], columns=["area_id", "year", "population"])
    sel = years == 2020
    truth = mu[0, sel].sum() / mu0[0, sel].sum() - 1
    return counts, popt, float(truth)


@pytest.fixture(scope="session")
def city():
    return simulate_city()


@pytest.fixture(scope="session")
def city_files(tmp_path_factory, city):
    d = tmp_path_factory.mktemp("city")
    counts, popt, truth = city
    c = counts.copy()
    c["period"] = c["period"].dt.strftime("%Y-%m-%d")
    c.to_csv(d / "counts.csv", index=False)
    popt.to_csv(d / "population.csv", index=False)
    return d, truth


@pytest.fixture(scope="session")
def sicily() -> pd.DataFrame:
    p = REFERENCE / "sicily.csv"
    if not p.exists():
        pytest.skip("reference data ../shared/reference/impact not present")
    return pd.read_csv(p)


@pytest.fixture(scope="session")
def smoking() -> pd.DataFrame:
    p = REFERENCE / "smoking_prop99.csv"
    if not p.exists():
        pytest.skip("reference data ../shared/reference/impact not present")
    d = pd.read_csv(p)
    d["year"] = d["year"].astype(int)
    return d
