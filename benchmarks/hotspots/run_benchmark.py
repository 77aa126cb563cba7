"""Hotspot benchmark on Portland: PAI and PEI* of riskmodel's forecast vs a KDE map and naive counts.

    nice .venv/bin/python benchmarks/hotspots/run_benchmark.py tune main cells scale report

(``main`` fits the forecasts first and reads the KDE chosen by ``tune`` from
tune_overall.csv only afterwards, so ``main`` may run beside ``tune cells
scale``; ``report`` prints the tables of results.md from the CSVs.)

Data: the NIJ Real-Time Crime Forecasting Challenge's Portland calls
(/work/shared/reference/portland/: 5,364 burglary and 9,842 motor vehicle
theft calls, 2012-03-01 .. 2017-05-31, Oregon State Plane North, feet,
EPSG:2913), on a square grid nested in the 60 police districts
(:func:`riskmodel.data.portland.load_portland_grid`). The challenge asked for
cells of 62,500-360,000 sq ft (250-600 ft sides), forecast periods of 1 week,
2 weeks, 1, 2 and 3 months from 2017-03-01, and a hotspot area of 0.25 to
0.75 sq mi; it scored PAI and PEI* per crime type and period.

Design (weekly counts, windows of h = 1, 2, 4, 9 and 13 weeks for the
challenge's 1 week, 2 weeks, 1, 2 and 3 months; coverages of 0.25, 0.5 and
0.75 sq mi of 500-ft grid squares):

* ``tune``: KDE bandwidth (125, 250, 500, 1000, 2000 ft) and history (all, last
  52 weeks) on 8 origins every 13 weeks from 2014-03-03 to 2015-11-30 (all
  windows end by 2016-02-28), to fix the KDE default before the 2016-2017
  windows are looked at: the highest mean PAI over all tune windows wins
  (tune_overall.csv); ``main`` and ``cells`` use that bandwidth (in cell
  sides) and history, and nothing of 2016-2017 enters the choice.
* ``main``: 8 origins every 6 weeks from 2016-05-09 to 2017-02-27 (the last
  one is the challenge's: the 13-week window ends 2017-05-28), rankers
  riskmodel's forecast (``auto``, the default, and ``gbm`` and ``nbglm``
  alone), the KDE (as tuned), last counts and historical counts;
  PAI, PEI*, wins and fitting times. ``auto`` and ``gbm`` (3-4 minutes of
  one core per origin) run on every other origin only (4 origins, 12 weeks
  apart, ending with the challenge's), to fit the time on a shared 2-core
  machine; the other rankers on all 8. Comparisons with ``auto``/``gbm``
  use the 4 common origins.
* ``cells``: the same origins with the cheap rankers at 250, 400 and 600 ft
  squares, and 500 ft ranked as street-split cells instead of squares (the
  KDE bandwidth scales with the cell side, as the package default does).
* ``scale``: seconds of ``forecast_panel(..., reconcile_method=...)`` on
  cell panels of growing size (the districts taken in file order).

Every figure in results.md comes from the CSVs this script writes beside it.
Timings are wall clock on a shared 2-core machine (noisy).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from riskmodel.data.portland import default_dir, load_portland_grid  # noqa: E402
from riskmodel.hotspots import (  # noqa: E402
    ForecastRanker,
    HistoricalCounts,
    HotspotEvaluation,
    KDERanker,
    LastCounts,
    evaluate_hotspots,
)
from riskmodel.hotspots.rankers import KDE_BANDWIDTH_CELLS  # noqa: E402

OUT = Path(__file__).resolve().parent
SQMI = 5280.0**2  # square feet per square mile
COVERAGES = [0.25 * SQMI, 0.5 * SQMI, 0.75 * SQMI]
HORIZONS = [1, 2, 4, 9, 13]
TUNE_SIDE = 500.0
TUNE_BANDWIDTHS = (125.0, 250.0, 500.0, 1000.0, 2000.0)
TUNE_ORIGINS = list(pd.date_range("2014-03-03", periods=8, freq="13W-MON"))
MAIN_ORIGINS = sorted(pd.Timestamp("2017-02-27") - pd.Timedelta(weeks=6 * k) for k in range(8))
SLOW_ORIGINS = MAIN_ORIGINS[1::2]  # 2016-06-20, 2016-09-12, 2016-12-05, 2017-02-27


def _grid(size: float):
    t0 = time.perf_counter()
    g = load_portland_grid(default_dir(), cell_size=size, freq="W")
    return g, time.perf_counter() - t0


def _run(g, rankers, origins, **kw) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    res = evaluate_hotspots(g.panel, g.cells, g.events, horizons=HORIZONS, coverages=COVERAGES,
                            origins=origins, rankers=rankers, seed=0, **kw)
    m = res.means()
    m["coverage_sqmi"] = m["coverage"] / SQMI
    return res.table, m, res.timings


def tune() -> None:
    g, secs = _grid(500.0)
    print(f"grid 500 ft: {len(g.cells.table)} cells ({secs:.1f} s)", flush=True)
    rankers = [KDERanker(bw, window=win, name=f"kde_{int(bw)}ft_{'all' if win is None else f'{win}w'}")
               for bw in TUNE_BANDWIDTHS for win in (None, 52)]
    table, means, timings = _run(g, rankers, TUNE_ORIGINS)
    assert pd.to_datetime(table["window_end"]).max() < pd.Timestamp("2016-03-01")
    table.to_csv(OUT / "tune_metrics.csv", index=False)
    means.to_csv(OUT / "tune_means.csv", index=False)
    overall = table.groupby("method", sort=False).agg(pai=("pai", "mean"), pei_star=("pei_star", "mean"),
                                                      windows=("pai", "count")).reset_index()
    overall["bandwidth_ft"] = [r.bandwidth for r in rankers]
    overall["bandwidth_cells"] = overall["bandwidth_ft"] / TUNE_SIDE
    overall["window_weeks"] = [r.window for r in rankers]
    overall["chosen"] = overall["pai"] == overall["pai"].max()
    overall.to_csv(OUT / "tune_overall.csv", index=False)
    print(overall.sort_values("pai", ascending=False).to_string(index=False), flush=True)


def _tuned_kde(size: float) -> KDERanker:
    """The KDE chosen by ``tune`` (2014-2015 windows only), its bandwidth scaled to the cell side."""
    o = pd.read_csv(OUT / "tune_overall.csv")
    if len(o) != 2 * len(TUNE_BANDWIDTHS) or "chosen" not in o:
        raise SystemExit("tune_overall.csv is missing or stale: run the tune phase first")
    best = o[o["chosen"]].iloc[0]
    win = None if pd.isna(best["window_weeks"]) else int(best["window_weeks"])
    bw = float(best["bandwidth_cells"]) * size
    if win is None and float(best["bandwidth_cells"]) != KDE_BANDWIDTH_CELLS:
        print(f"warning: tune chose {best['bandwidth_cells']:g} cell sides, the package default is "
              f"{KDE_BANDWIDTH_CELLS:g}", flush=True)
    return KDERanker(bw, window=win, name="kde")


def main() -> None:
    g, secs = _grid(500.0)
    sq, _ = g.cells.squares()
    info = pd.DataFrame([{"cell_size_ft": 500, "cells": len(g.cells.table), "squares": len(sq),
                          "whole_squares": int((sq["area"] >= 500.0**2 * (1 - 1e-9)).sum()),
                          "study_area_sqmi": g.cells.total_area / SQMI, "series": len(g.panel.series_ids),
                          "grid_and_panel_seconds": secs}])
    info.to_csv(OUT / "main_grid.csv", index=False)
    print(info.to_string(index=False), flush=True)
    # the forecasts first (the long part), then the KDE chosen by tune (which may run meanwhile)
    res1 = evaluate_hotspots(g.panel, g.cells, g.events, horizons=HORIZONS, coverages=COVERAGES,
                             origins=SLOW_ORIGINS, seed=0, rankers=[ForecastRanker("auto"), ForecastRanker("gbm")])
    res1.table.to_csv(OUT / "main_metrics_forecast_partial.csv", index=False)
    kde = _tuned_kde(500.0)
    print(f"KDE: bandwidth {kde.bandwidth:g} ft, window {kde.window}", flush=True)
    res2 = evaluate_hotspots(g.panel, g.cells, g.events, horizons=HORIZONS, coverages=COVERAGES,
                             origins=MAIN_ORIGINS, seed=0,
                             rankers=[ForecastRanker("nbglm"), kde, LastCounts(), HistoricalCounts()])
    res = HotspotEvaluation(
        table=pd.concat([res1.table, res2.table], ignore_index=True)
        .sort_values(["category", "origin", "h", "coverage"], kind="stable").reset_index(drop=True),
        timings=pd.concat([res1.timings, res2.timings], ignore_index=True),
        freq=res1.freq, cell_size=res1.cell_size, n_units=res1.n_units, total_area=res1.total_area)
    table, means, timings = res.table, res.means(), res.timings
    means["coverage_sqmi"] = means["coverage"] / SQMI
    table.to_csv(OUT / "main_metrics.csv", index=False)
    (OUT / "main_metrics_forecast_partial.csv").unlink()
    means.to_csv(OUT / "main_means.csv", index=False)
    timings.to_csv(OUT / "main_timings.csv", index=False)
    print(means.to_string(index=False), flush=True)


def cells() -> None:
    parts = []
    grids = []
    for size in (250.0, 400.0, 600.0, 500.0):
        g, secs = _grid(size)
        sq, _ = g.cells.squares()
        grids.append({"cell_size_ft": size, "cells": len(g.cells.table), "squares": len(sq),
                      "grid_and_panel_seconds": secs})
        units = ("square", "cell") if size == 500.0 else ("square",)
        for unit in units:
            _, means, timings = _run(g, [_tuned_kde(size), LastCounts(), HistoricalCounts()], MAIN_ORIGINS, unit=unit)
            means.insert(0, "unit", unit)
            means.insert(0, "cell_size_ft", size)
            parts.append(means)
            print(f"{size:g} ft {unit}: grid {secs:.1f} s, {len(g.cells.table)} cells", flush=True)
        del g
    out = pd.concat(parts, ignore_index=True)
    out.to_csv(OUT / "cells_means.csv", index=False)
    pd.DataFrame(grids).to_csv(OUT / "cells_grids.csv", index=False)


def scale() -> None:
    from riskmodel.forecast.api import forecast_panel

    g = load_portland_grid(default_dir(), cell_size=500.0, freq="W")
    panel, t = g.panel, g.cells.table
    streets = list(dict.fromkeys(t["parent_id"]))
    rows = []
    for k in (1, 2, 4, 8, 16, 32):
        keep = set(t.loc[t["parent_id"].isin(streets[:k]), "area_id"])
        sub = panel.select(areas=sorted(keep & set(panel.area_ids)), end="2016-02-22")
        for method in ("none", "bottom_up", "mint_shrink"):
            t0 = time.perf_counter()
            forecast_panel(sub, 13, model="hmean", reconcile_method=method)
            secs = time.perf_counter() - t0
            rows.append({"districts": k, "cell_series": len(sub.series_ids), "reconcile": method, "seconds": secs})
            print(rows[-1], flush=True)
            if secs > 300:
                break
        if rows[-1]["seconds"] > 300:
            break
    pd.DataFrame(rows).to_csv(OUT / "scale.csv", index=False)


def _md(df: pd.DataFrame, floatfmt: str = "{:.2f}") -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(floatfmt.format(v) if isinstance(v, float) else str(v) for v in row) + " |")
    return "\n".join(lines)


def report() -> None:
    """Print the tables of results.md (markdown) from the CSVs."""
    o = pd.read_csv(OUT / "tune_overall.csv")
    print("## tune (2014-2015 windows)\n")
    print(_md(o[["method", "windows", "pai", "pei_star", "chosen"]].sort_values("pai", ascending=False), "{:.3f}"))
    t8 = pd.read_csv(OUT / "main_metrics.csv")
    t8["cov"] = t8["coverage"] / SQMI
    slow = set(t8.loc[t8["method"] == "forecast_auto", "origin"])
    t = t8[t8["origin"].isin(slow)]  # the origins where every method ran
    methods = list(dict.fromkeys(t["method"]))
    for stat in ("pai", "pei_star"):
        print(f"\n## main ({len(slow)} common origins): mean {stat} per category, h (weeks) and coverage (sq mi); "
              "windows per mean in n\n")
        w = t.pivot_table(index=["category", "h", "cov"], columns="method", values=stat, aggfunc="mean")[methods]
        n = t[t["method"] == methods[0]].groupby(["category", "h", "cov"])[stat].count().rename("n")
        print(_md(w.join(n).reset_index(), "{:.3f}" if stat == "pei_star" else "{:.2f}"))
    print("\n## main: averaged over h and coverage, per category\n")
    a = t.groupby(["category", "method"], sort=False).agg(windows=("pai", "count"), pai=("pai", "mean"),
                                                           pei_star=("pei_star", "mean")).reset_index()
    print(_md(a, "{:.3f}"))
    print("\n## main, all 8 origins (the rankers that ran on all): averaged over h and coverage\n")
    a8 = t8[~t8["method"].isin(["forecast_auto", "forecast_gbm"])].groupby(["category", "method"], sort=False).agg(
        windows=("pai", "count"), pai=("pai", "mean"), pei_star=("pei_star", "mean")).reset_index()
    print(_md(a8, "{:.3f}"))
    print("\n## main, all 8 origins: mean PAI per category and h, over coverages\n")
    w8 = t8[~t8["method"].isin(["forecast_auto", "forecast_gbm"])].pivot_table(
        index=["category", "h"], columns="method", values="pai", aggfunc="mean")
    print(_md(w8.reset_index()))
    print("\n## main: each ranker vs the KDE on the origins where it ran, windows won / tied / lost on PAI "
          "(per category and h, all coverages)\n")
    key = ["category", "origin", "h", "coverage"]
    k = t8[t8["method"] == "kde"].set_index(key)
    rows = []
    for m in [m for m in methods if m.startswith("forecast_")] + ["last", "history"]:
        f = t8[t8["method"] == m].set_index(key).join(k[["pai", "pei_star"]].add_suffix("_kde")).dropna(subset=["pai"])
        for (cat, h), g in f.groupby(["category", "h"]):
            d = g["pai"] - g["pai_kde"]
            rows.append({"method": m, "category": cat, "h": h, "pairs": len(g), "won": int((d > 1e-9).sum()),
                         "tied": int((d.abs() <= 1e-9).sum()), "lost": int((d < -1e-9).sum()),
                         "mean_pai_diff": float(d.mean()),
                         "mean_pei_diff": float((g["pei_star"] - g["pei_star_kde"]).mean())})
    wins = pd.DataFrame(rows)
    wins.to_csv(OUT / "main_vs_kde.csv", index=False)
    print(_md(wins[wins["method"] == "forecast_auto"]))
    tot = wins.groupby("method", sort=False)[["pairs", "won", "tied", "lost"]].sum().reset_index()
    print("\n" + _md(tot))
    a = t8[t8["method"] == "forecast_auto"].set_index(key)
    d = a["pai"] - t8[t8["method"] == "history"].set_index(key).loc[a.index, "pai"]
    print(f"\nforecast_auto vs history: won {int((d > 1e-9).sum())}, tied {int((d.abs() <= 1e-9).sum())}, "
          f"lost {int((d < -1e-9).sum())} of {len(d)} windows, mean PAI difference {d.mean():.2f}")
    print("\nmean events per window (N) on the common origins:\n")
    print(_md(t[t["method"] == "history"].pivot_table(index="category", columns="h", values="N", aggfunc="mean")
              .reset_index(), "{:.1f}"))
    tm = pd.read_csv(OUT / "main_timings.csv")
    print("\n## fitting seconds per origin (fit + score every cell)\n")
    print(_md(tm.groupby("method", sort=False)["seconds"].agg(["mean", "min", "max"]).reset_index(), "{:.1f}"))
    if (OUT / "cells_means.csv").exists():
        c = pd.read_csv(OUT / "cells_means.csv")
        c["cov"] = c["coverage"] / SQMI
        print("\n## cells: mean PAI / PEI* over h, per cell size, unit, method and coverage\n")
        cc = c.groupby(["cell_size_ft", "unit", "method", "cov"], sort=False).apply(
            lambda g: pd.Series({"windows": int(g["windows"].sum()),
                                 "pai": (g["pai"] * g["windows"]).sum() / g["windows"].sum(),
                                 "pei_star": (g["pei_star"] * g["windows"]).sum() / g["windows"].sum()}),
            include_groups=False).reset_index()
        cc = cc.pivot_table(index=["cell_size_ft", "unit", "cov"], columns="method", values=["pai", "pei_star"])
        cc.columns = [f"{b} {a}" for a, b in cc.columns]
        print(_md(cc.reset_index(), "{:.3f}"))
    if (OUT / "scale.csv").exists():
        print("\n## scale\n")
        print(_md(pd.read_csv(OUT / "scale.csv"), "{:.1f}"))


if __name__ == "__main__":
    phases = sys.argv[1:] or ["tune", "main", "cells", "scale"]
    for ph in phases:
        t0 = time.perf_counter()
        {"tune": tune, "main": main, "cells": cells, "scale": scale, "report": report}[ph]()
        print(f"phase {ph}: {time.perf_counter() - t0:.0f} s", flush=True)
