"""Peer forecasts with statsforecast (run in a separate venv: statsforecast needs pandas < 3).

Usage: python peers_statsforecast.py IN.csv OUT.csv H CUTOFFS SEASON
  IN.csv: unique_id, ds, y (complete panel); CUTOFFS: comma-separated training lengths.
Writes unique_id, ds, cutoff_index, model, mean, lo_80, hi_80, lo_95, hi_95 and a
timings file OUT.csv.times.csv (model, seconds, series) for fit + forecast, after one
warm-up call per model (numba compilation excluded, reported separately).
"""

import sys
import time

import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoARIMA, AutoETS, SeasonalNaive

src, out, h, cuts, season = sys.argv[1], sys.argv[2], int(sys.argv[3]), [int(c) for c in sys.argv[4].split(",")], int(sys.argv[5])
freq = sys.argv[6] if len(sys.argv) > 6 else "MS"
df = pd.read_csv(src, parse_dates=["ds"])
periods = sorted(df["ds"].unique())
models = {"AutoETS": lambda: AutoETS(season_length=season), "AutoARIMA": lambda: AutoARIMA(season_length=season),
          "SeasonalNaive": lambda: SeasonalNaive(season_length=season)}
parts, times = [], []
for name, mk in models.items():
    t0 = time.perf_counter()
    warm = df[df["ds"] <= periods[cuts[0] - 1]]
    StatsForecast(models=[mk()], freq=freq, n_jobs=1).forecast(df=warm[warm.unique_id == warm.unique_id.iloc[0]], h=h, level=[80, 95])
    times.append({"model": name, "what": "warmup", "seconds": time.perf_counter() - t0, "series": 1})
    for c in cuts:
        train = df[df["ds"] <= periods[c - 1]]
        t0 = time.perf_counter()
        fc = StatsForecast(models=[mk()], freq=freq, n_jobs=1).forecast(df=train, h=h, level=[80, 95])
        secs = time.perf_counter() - t0
        fc = fc.reset_index() if "unique_id" not in fc.columns else fc
        col = [c_ for c_ in fc.columns if c_ not in ("unique_id", "ds") and "-lo-" not in c_ and "-hi-" not in c_][0]
        parts.append(pd.DataFrame({"unique_id": fc["unique_id"], "ds": fc["ds"], "cutoff_index": c, "model": name,
                                   "mean": fc[col], "lo_80": fc[f"{col}-lo-80"], "hi_80": fc[f"{col}-hi-80"],
                                   "lo_95": fc[f"{col}-lo-95"], "hi_95": fc[f"{col}-hi-95"]}))
        times.append({"model": name, "what": f"cutoff {c}", "seconds": secs, "series": train["unique_id"].nunique()})
pd.concat(parts).to_csv(out, index=False)
pd.DataFrame(times).to_csv(out + ".times.csv", index=False)
