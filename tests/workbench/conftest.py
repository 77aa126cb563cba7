"""Fixtures of the workbench tests: a small study folder built in tmp_path, with known contents.

``make_study(folder)`` writes what ``riskmodel run`` would leave for a study on the sample city
(its experiment config under ``experiments/``, its outputs under ``outputs/tiny/``), but the steps'
tables are small and made here from seeded numbers, so the tests know every value:

* ``alerts/warnings.csv`` -- 3 warnings in the last week of 2021 (counts 2, 11, 6), and
  ``alerts/detections.csv`` -- 10 weekly periods of every (area, category) of the warnings;
* ``forecast/forecast.csv`` -- 2 months ahead for the city, its districts and two streets, 2 categories;
* ``claims/claims_summary.csv`` -- one claim on ZH-XZ-XW.

The index is the real sample-city Ping'an index (``experiments/pingan_sample.toml`` on
``data/sample``), and the counts are the sample city's monthly counts of 2021 (for last month's figures).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
WARNINGS = [("ZH-XZ-GB", "alerts", 2, 0.6, 2.0, "yellow"), ("ZH-JW-NS", "alerts", 11, 3.5, 9.0, "orange"),
            ("ZH-WS-WS", "traffic_accidents", 6, 0.7, 3.0, "red")]
LAST_WEEK = pd.Timestamp("2021-12-20")
FIXED = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)


def make_study(folder: Path, *, suppress_below: int | None = None, seed: int = 7, forecast: bool = True) -> Path:
    """Write the small study under ``folder``; returns its output folder (``folder/outputs/tiny``).

    ``forecast=False``: no forecast table (the appendix then draws no fan charts: seconds saved)."""
    rng = np.random.default_rng(seed)
    exp = folder / "experiments"
    exp.mkdir(parents=True, exist_ok=True)
    supp = f"suppress_below = {suppress_below}\n" if suppress_below else ""
    counts = pd.read_csv(SAMPLE / "counts_monthly.csv")
    counts[counts["period"] >= "2021-01-01"].to_csv(folder / "counts_2021.csv", index=False)  # small: fast to load
    (exp / "tiny.toml").write_text(f"""[study]
name = "tiny"
description = "small study on the simulated sample city (workbench tests)"
out = "outputs/tiny"
seed = 11

[data]
counts = "{folder / 'counts_2021.csv'}"
freq = "M"
areas = "{SAMPLE / 'areas.csv'}"
population = "{SAMPLE / 'population.csv'}"
indicators = "{SAMPLE / 'indicators_monthly.csv'}"

[steps.index]
config = "{ROOT / 'experiments' / 'pingan_sample.toml'}"

[steps.sensitivity]
n = 200

[steps.alerts]
freq = "W"

[steps.forecast]
freq = "M"
h = 2

[steps.appendix]
langs = ["zh"]
formats = ["html"]
{supp}""", encoding="utf-8")
    out = folder / "outputs" / "tiny"
    for step in ("alerts", "forecast", "claims", "index"):
        (out / step).mkdir(parents=True, exist_ok=True)
    areas = pd.read_csv(SAMPLE / "areas.csv")
    names = areas.set_index("area_id")
    w = pd.DataFrame([{"area_id": a, "category": c, "period": f"{LAST_WEEK:%Y-%m-%d}", "count": n, "expected": e,
                       "upperbound": u, "alarm": True, "score": (n - e) / max(u - e, 0.5), "pvalue": np.nan,
                       "severity": s, "episode_start": f"{LAST_WEEK:%Y-%m-%d}", "episode_alarms": 1,
                       "severity_zh": {"yellow": "黄色", "orange": "橙色", "red": "红色"}[s],
                       "name": names.loc[a, "name"], "name_en": names.loc[a, "name_en"]}
                      for a, c, n, e, u, s in WARNINGS])
    w.to_csv(out / "alerts" / "warnings.csv", index=False)
    rows = []
    for a, c, n, e, u, _ in WARNINGS:
        for k in range(10):
            p = LAST_WEEK - pd.Timedelta(weeks=9 - k)
            cnt = n if k == 9 else int(rng.poisson(e))
            rows.append({"area_id": a, "category": c, "period": f"{p:%Y-%m-%d}", "count": cnt, "expected": e,
                         "upperbound": u, "alarm": cnt > u, "score": 0.0, "pvalue": np.nan, "reason": ""})
    pd.DataFrame(rows).to_csv(out / "alerts" / "detections.csv", index=False)
    fc = []
    ids = ["ZH", *areas.loc[areas["level"] == "district", "area_id"], "ZH-XZ-GB", "ZH-JW-NS"]
    lev = names["level"].to_dict()
    for a in ids:
        for c in ("alerts", "traffic_accidents"):
            for p in ("2022-01-01", "2022-02-01"):
                m = float(rng.uniform(50, 500))
                fc.append({"area_id": a, "level": lev[a] if lev[a] != "area" else "street", "category": c,
                           "period": p, "model": "test", "mean": m, "lo_80": m * 0.8, "hi_80": m * 1.2,
                           "lo_95": m * 0.7, "hi_95": m * 1.3})
    if forecast:
        pd.DataFrame(fc).to_csv(out / "forecast" / "forecast.csv", index=False)
    pd.DataFrame([{"claim_id": "C1", "area_id": "ZH-XZ-XW", "category": "alerts", "intervention": "2019-07-01",
                   "reported_change": -0.35, "observed_change": -0.38, "reproduced": False, "method": "structural",
                   "effect": -0.32, "effect_lo95": -0.42, "effect_hi95": -0.21, "consistent": True,
                   "verdict_en": "consistent", "verdict_zh": "一致"}]).to_csv(out / "claims" / "claims_summary.csv",
                                                                               index=False)
    return out


@pytest.fixture(scope="session")
def make_tiny():
    """:func:`make_study` (a test module cannot import conftest.py under --import-mode=importlib)."""
    return make_study


@pytest.fixture(scope="session")
def tiny_study_dir(tmp_path_factory) -> Path:
    """The small study's output folder (made once per session; the tests never write into it but
    their ledgers, which they keep in their own tmp_path)."""
    return make_study(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def open_tiny(tiny_study_dir, tmp_path):
    """``open_tiny(**kwargs)``: the small study opened with a fresh SQLite ledger and a fixed clock."""
    from riskmodel.workbench import open_study

    opened = []

    def _open(**kwargs):
        kwargs.setdefault("db", f"sqlite:///{tmp_path / 'wb.sqlite'}")
        kwargs.setdefault("clock", lambda: FIXED)
        s = open_study(tiny_study_dir, **kwargs)
        opened.append(s)
        return s

    yield _open
    for s in opened:
        s.close()
