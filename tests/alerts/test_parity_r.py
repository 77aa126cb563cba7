"""Parity with R's surveillance 1.20.3 (fixtures made by fixtures/make_fixtures.R).

farringtonFlexible under 16 control settings on four shipped data sets
(weekly without dates, weekly with dates incl. ISO 53-week years, monthly with
dates, 90%-zero district data, a population offset) and earsC C1/C2/C3:
alarms must match exactly, upper bounds to 1e-6 relative.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.alerts import FarringtonControl, ears_c, farrington_flexible

FIX = Path(__file__).parent / "fixtures"
# data set -> (freq per year, mode)
MODE = {"ha": (52, None), "flu": (52, None), "momo": (52, "W"), "rota": (12, "M")}


@cache
def _data(name: str) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray | None]:
    d = pd.read_csv(FIX / f"data_{name}.csv.gz", dtype={"unit": str})
    units = list(dict.fromkeys(d["unit"].astype(str)))
    y = d.pivot(index="t", columns="unit", values="observed")[units].to_numpy(float)
    pop = d.pivot(index="t", columns="unit", values="population")[units].to_numpy(float)
    dates = None
    if d["date"].notna().all():
        dates = pd.to_datetime(d[d["unit"] == units[0]]["date"]).to_numpy()
    return y, pop, units, dates


@cache
def _ref(kind: str) -> pd.DataFrame:
    return pd.read_csv(FIX / f"ref_{kind}.csv.gz", na_values=["NA"], dtype={"unit": str})


def _settings() -> list[tuple[str, str, str]]:
    s = pd.read_csv(FIX / "ref_settings.csv", keep_default_na=False)
    return [tuple(r) for r in s.itertuples(index=False) if not r.setting.startswith("ears_")]


_NAMES = {
    "weightsThreshold": ("weights_threshold", float),
    "pastWeeksNotIncluded": ("past_weeks_not_included", int),
    "pThresholdTrend": ("p_threshold_trend", float),
    "thresholdMethod": ("threshold_method", str),
    "noPeriods": ("no_periods", int),
    "populationOffset": ("population_offset", lambda v: v == "TRUE"),
    "reweight": ("reweight", lambda v: v == "TRUE"),
    "trend": ("trend", lambda v: v == "TRUE"),
    "b": ("b", int),
    "w": ("w", int),
    "alpha": ("alpha", float),
    "powertrans": ("powertrans", str),
    "limit54": ("limit54", lambda v: tuple(int(x) for x in v.split("/"))),
}


def _control(text: str) -> FarringtonControl:
    kw = {}
    for part in filter(None, text.split(";")):
        k, v = part.split("=", 1)
        name, conv = _NAMES[k]
        kw[name] = conv(v)
    return FarringtonControl(**kw)


@pytest.mark.parametrize("dataset,setting,control", _settings(), ids=lambda v: str(v)[:20])
def test_farrington_matches_r(dataset: str, setting: str, control: str) -> None:
    ref = _ref("farrington")
    ref = ref[(ref["dataset"] == dataset) & (ref["setting"] == setting)]
    y, pop, units, dates = _data(dataset)
    freq, mode = MODE[dataset]
    ctl = _control(control)
    t = np.sort(ref["t"].unique())
    res = farrington_flexible(
        y, t - 1, ctl, freq=freq, dates=dates if mode else None, period=mode, population=pop
    )
    for j, u in enumerate(units):
        r = ref[ref["unit"] == u].sort_values("t")
        ub_r = r["upperbound"].to_numpy(float)
        ub = res["upperbound"][:, j]
        assert np.array_equal(np.isnan(ub_r), np.isnan(ub)), f"{u}: upper bound missing in different weeks"
        ok = ~np.isnan(ub_r)
        np.testing.assert_allclose(ub[ok], ub_r[ok], rtol=1e-6, atol=0, err_msg=f"{dataset}/{setting}/{u}")
        assert np.array_equal(res["alarm"][:, j], r["alarm"].to_numpy() == 1), f"{dataset}/{setting}/{u}: alarms"
        # R leaves expected at its initial 0 where no model converged (it sets every
        # other output to NA there); we give NaN. Compare where R gives a bound.
        ex_r = r["expected"].to_numpy(float)
        ok = ~np.isnan(ex_r) & ~np.isnan(ub_r)
        np.testing.assert_allclose(res["expected"][:, j][ok], ex_r[ok], rtol=1e-6)
        # the score R stores where the period was evaluated (where limit54 hides the
        # bound, R still stores a score; for 'muan' with a near-empty seasonal level it
        # rests on a quantile of an NB with size ~1e100, which scipy cannot compute and
        # we approximate: those hidden scores are compared for 95% of rows only)
        sc_r = r["score"].to_numpy(float)
        hidden = np.isfinite(sc_r) & np.isnan(ub_r)
        close = np.isclose(res["score"][:, j][hidden], sc_r[hidden], rtol=1e-6, atol=1e-9)
        assert close.mean() >= 0.95 if close.size else True, f"{dataset}/{setting}/{u}: hidden scores {close.mean():.3f}"
        ok = np.isfinite(sc_r) & ~np.isnan(ub_r)
        np.testing.assert_allclose(res["score"][:, j][ok], sc_r[ok], rtol=1e-6, atol=1e-9)
        # The trend decision: with pThresholdTrend = 1 it hinges on "p < 1", and a
        # fitted trend of ~1e-17 (a flat series) gives p = 1 - 1e-16 in R and 1.0
        # here (or the reverse): floating-point noise that changes no bound (the
        # bounds above matched); so the flags must agree in all but a few weeks.
        agree = res["trend"][:, j] == (r["trend"].to_numpy() == 1)
        assert agree.mean() >= 0.97, f"{dataset}/{setting}/{u}: trend decisions differ in {int((~agree).sum())} weeks"


@pytest.mark.parametrize("dataset,setting", [
    ("ha", "C1"), ("ha", "C2"), ("ha", "C3"), ("momo", "C1"), ("momo", "C2"), ("momo", "C3"),
    ("ha", "C1_b10"), ("ha", "C3_b5"),
])
def test_ears_matches_r(dataset: str, setting: str) -> None:
    ref = _ref("ears")
    ref = ref[(ref["dataset"] == dataset) & (ref["setting"] == setting)]
    y, _, units, _ = _data(dataset)
    opts = {"C1_b10": dict(baseline=10, min_sigma=0.5, alpha=0.01), "C3_b5": dict(baseline=5, min_sigma=0.3, alpha=0.05)}
    method = setting[:2]
    t = np.sort(ref["t"].unique())
    res = ears_c(y, t - 1, method, **opts.get(setting, {}))
    for j, u in enumerate(units):
        r = ref[ref["unit"] == u].sort_values("t")
        ub_r = r["upperbound"].to_numpy(float)
        ub = res["upperbound"][:, j]
        assert np.array_equal(np.isnan(ub_r), np.isnan(ub))
        ok = ~np.isnan(ub_r)
        np.testing.assert_allclose(ub[ok], ub_r[ok], rtol=1e-6, atol=1e-12)
        al_r = r["alarm"].to_numpy(float)
        known = ~np.isnan(al_r)
        assert np.array_equal(res["alarm"][:, j][known], al_r[known] == 1)


def test_default_range_matches_r() -> None:
    """R's default range starts at freq*b + w + 1 (1-based); ours is the same row."""
    ref = _ref("farrington")
    r = ref[(ref["dataset"] == "ha") & (ref["setting"] == "default")]
    assert r["t"].min() == 52 * 5 + 3 + 1
