"""Intermittent-count models in a rolling backtest: sparse sample-city categories and simulated series.

Usage::

    nice .venv/bin/python benchmarks/forecast/intermittent_check.py

Two designs, each a rolling-origin backtest through
``riskmodel.forecast.Forecaster(models=[...]).cross_validation(panel, h, n_windows)``
(expanding window; seasonal naive added by the backtest itself):

* ``sample``: the sample city's weekly counts (data/sample/counts_weekly.csv),
  the three sparse categories (gun_cases 98% zeros, production_safety 66%,
  fires 50%), 25 areas each (75 series x 418 weeks); h = 13 weeks, 4 windows
  13 weeks apart.
* ``simulated``: 150 weekly series of 156 weeks (seed 11), each week non-zero
  with probability ``p`` (0.03 to 0.5, per series), the non-zero counts
  ``1 + NB(mean 0.2 to 3, size 2)``; in a third of the series ``p`` halves or
  doubles at week 104 (an intermittent series whose rate moves). Same h and
  windows.

Scores per series and window, from riskmodel.forecast.metrics (the scales of
MASE and scaled CRPS: mean absolute seasonal-naive (m = 52) difference of the
window's training data): MASE of the mean, MASE of the median, CRPS / scale
(scaled CRPS), 80% and 95% coverage; then averaged over windows and series
(series with a zero scale, all-zero training data, are left out and counted),
over all series of a design and, for the sample city, per category.

Writes benchmarks/forecast/intermittent_results.csv and prints a markdown
table (copied into intermittent_results.md with the comments).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from riskmodel.data.panel import IncidentPanel  # noqa: E402
from riskmodel.forecast import Forecaster  # noqa: E402
from riskmodel.forecast.metrics import scales, series_metrics  # noqa: E402

MODELS = ["croston_sba", "tsb", "adida", "imapa", "hurdle", "hmean", "auto"]
SPARSE = ["gun_cases", "production_safety", "fires"]
H, WINDOWS = 13, 4


def sample_panel() -> IncidentPanel:
    c = pd.read_csv(ROOT / "data" / "sample" / "counts_weekly.csv")
    return IncidentPanel.from_counts(c[c["category"].isin(SPARSE)], freq="W")


def simulated_panel(seed: int = 11, n: int = 150, T: int = 156) -> IncidentPanel:
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2021-01-04", periods=T, freq="W-MON")
    rows = []
    for j in range(n):
        p = np.full(T, rng.uniform(0.03, 0.5))
        if j % 3 == 0:
            p[104:] *= 0.5 if rng.random() < 0.5 else 2.0
        excess = rng.uniform(0.2, 3.0)
        y = np.where(rng.random(T) < np.minimum(p, 0.95), 1 + rng.negative_binomial(2.0, 2.0 / (2.0 + excess), T), 0)
        rows.append(pd.DataFrame({"area_id": f"sim{j:03d}", "category": "sim", "period": periods, "count": y}))
    return IncidentPanel.from_counts(pd.concat(rows, ignore_index=True), freq="W")


def score(design: str, panel: IncidentPanel) -> pd.DataFrame:
    t0 = time.perf_counter()
    cv = Forecaster(models=MODELS, seed=0).cross_validation(panel, H, n_windows=WINDOWS, step_size=H)
    wall = time.perf_counter() - t0
    wp = cv.wide
    season = wp.season
    per: dict[str, list[dict[str, np.ndarray]]] = {}
    secs: dict[str, float] = {}
    for w in cv.windows:
        y_train, y = wp.y[: w.cutoff], wp.y[w.cutoff: w.cutoff + H]
        m = series_metrics(y, w.forecast, y_train, season)
        mae_s = scales(y_train, season)[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            m["scrps"] = m["crps"] / mae_s
        per.setdefault(w.model, []).append(m)
        secs[w.model] = secs.get(w.model, 0.0) + w.seconds
    cats = np.array([c for _, c in wp.series])
    groups = [(design, np.ones(len(cats), bool))]
    if len(set(cats)) > 1:  # each category too
        groups += [(f"{design}/{c}", cats == c) for c in dict.fromkeys(cats)]
    rows = []
    for name, sel in groups:
        for model, ms in per.items():
            r = {"design": name, "model": model, "series": int(sel.sum()), "windows": len(ms)}
            for k, out in (("mase", "mase"), ("mase_median", "mase_median"), ("scrps", "scaled_crps"),
                           ("coverage_80", "coverage_80"), ("coverage_95", "coverage_95")):
                a = np.stack([m[k][sel] for m in ms])  # (windows, series)
                s = np.nanmean(np.where(np.isfinite(a), a, np.nan), axis=0)
                r[out] = float(np.nanmean(s))
                if k == "mase":
                    r["series_scored"] = int(np.isfinite(s).sum())
            r["seconds"] = secs[model]
            rows.append(r)
    print(f"{design}: {len(wp.series)} series, backtest {wall:.1f} s", file=sys.stderr)
    return pd.DataFrame(rows)


def main() -> int:
    import warnings

    warnings.simplefilter("ignore", RuntimeWarning)
    out = pd.concat([score("sample", sample_panel()), score("simulated", simulated_panel())], ignore_index=True)
    out.to_csv(Path(__file__).with_name("intermittent_results.csv"), index=False, float_format="%.4f")
    for design, g in out.groupby("design", sort=False):
        print(f"\n{design} ({g['series'].iloc[0]} series, {g['series_scored'].iloc[0]} with a non-zero scale; "
              "seconds: all windows, whole design)\n")
        print("| model | MASE (mean) | MASE (median) | scaled CRPS | coverage 80% | coverage 95% | seconds |")
        print("|---|---|---|---|---|---|---|")
        for _, r in g.sort_values("scaled_crps").iterrows():
            print(f"| {r['model']} | {r['mase']:.3f} | {r['mase_median']:.3f} | {r['scaled_crps']:.3f} | "
                  f"{r['coverage_80']:.2f} | {r['coverage_95']:.2f} | {r['seconds']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
