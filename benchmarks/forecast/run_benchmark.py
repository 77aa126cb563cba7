"""Forecast benchmark: riskmodel against statsforecast on Portland; sample-city coverage; scale.

    nice .venv/bin/python benchmarks/forecast/run_benchmark.py portland sample scale

Portland: monthly burglary and vehicle-crime counts per police district (60
districts x 2 categories = 120 series, 2012-03 .. 2017-05, 63 months), built
here from /work/shared/reference/portland/ by point-in-polygon (pyshp +
shapely; the projections of the points and the districts are the same, Oregon
North state plane in feet). Two designs: a 12-month holdout (train 51
months) and a 6-window rolling origin (h = 12, origins one month apart,
expanding window). statsforecast (AutoETS, AutoARIMA, SeasonalNaive, season
12) runs in its own venv (it needs pandas < 3; riskmodel's venv has pandas 3):

    python -m venv /tmp/rm-bench-venv && /tmp/rm-bench-venv/bin/pip install "statsforecast>=1.7"

and every model is scored by the same code (riskmodel.forecast.metrics). The
peers' quantiles are Gaussian (their own 80/95 intervals; the CRPS grid from
the normal with that sd), clipped at 0 like ours. MASE/RMSSE scales: the
in-sample seasonal-naive (m = 12) errors of each window's training data.

Two point forecasts are scored by MASE: ``mase`` uses each model's mean,
``mase_median`` its predictive median (quantile 0.5), the point forecast
that minimises expected absolute error (Gneiting 2011). For the peers the
median is that of their own (Gaussian) predictive distribution, i.e. their
mean. As a sensitivity check, ``peer_count_median`` also scores the peers
with the median of the negative binomial (Poisson when not overdispersed)
that has their mean and their variance (from their 95% interval), i.e. with
the same count-median step our count models take.

Writes benchmarks/forecast/results.md and the tables beside it.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from riskmodel.data.wide import WidePanel  # noqa: E402
from riskmodel.forecast.backtest import (  # noqa: E402
    WindowForecast,
    cutoffs,
    metrics_frame,
    run_windows,
    window_scores,
)
from riskmodel.forecast.distributions import nb_quantiles  # noqa: E402
from riskmodel.forecast.registry import make_model  # noqa: E402
from riskmodel.forecast.result import Forecast, probs_for  # noqa: E402

HERE = Path(__file__).resolve().parent
REF = Path(os.environ.get("PORTLAND_DIR", ROOT.parent / "shared" / "reference" / "portland"))
PEER_PY = os.environ.get("PEER_PYTHON", "/tmp/rm-bench-venv/bin/python")
REFERENCE = {"SeasonalNaive": 1.237, "AutoETS": 1.069, "AutoARIMA": 1.050}


def to_md(df: pd.DataFrame, index: bool = True) -> str:
    """Markdown table: pandas' (needs tabulate, the ``bench`` extra) or a plain one without it."""
    try:
        return df.to_markdown(index=index)
    except ImportError:
        d = df.reset_index() if index else df
        rows = [[("" if pd.isna(v) else f"{v:g}") if isinstance(v, float) else str(v) for v in r] for r in d.itertuples(index=False)]
        return "\n".join(["| " + " | ".join(map(str, d.columns)) + " |", "|" + "|".join("---:" for _ in d.columns) + "|"]
                         + ["| " + " | ".join(r) + " |" for r in rows])


# ----------------------------------------------------------------- data
def portland_monthly() -> pd.DataFrame:
    import shapefile
    from shapely import STRtree, points
    from shapely.geometry import shape

    r = shapefile.Reader(str(REF / "Portland_Police_Districts.shp"))
    geoms = [shape(s.__geo_interface__) for s in r.shapes()]
    names = [rec["DISTRICT"] for rec in r.records()]
    tree = STRtree(geoms)
    parts = []
    for cat, f in (("burglary", "crimes_bur.csv"), ("vehicle", "crimes_veh.csv")):
        ev = pd.read_csv(REF / f)
        pts = points(ev["x_coordina"].to_numpy(float), ev["y_coordina"].to_numpy(float))
        pi, gi = tree.query(pts, predicate="within")
        dist = np.full(len(ev), None, dtype=object)
        dist[pi] = np.array(names, dtype=object)[gi]
        ev["area_id"] = dist
        ev["period"] = pd.to_datetime(ev["occ_date"]).dt.to_period("M").dt.to_timestamp()
        ev["category"] = cat
        parts.append(ev.dropna(subset=["area_id"])[["area_id", "category", "period"]])
        print(f"{cat}: {len(ev)} events, {int(pd.isna(dist).sum())} outside every district")
    ev = pd.concat(parts)
    counts = ev.groupby(["area_id", "category", "period"]).size().rename("count").reset_index()
    periods = pd.date_range(counts.period.min(), counts.period.max(), freq="MS")
    full = pd.MultiIndex.from_product([sorted(set(names)), ["burglary", "vehicle"], periods], names=["area_id", "category", "period"])
    return counts.set_index(["area_id", "category", "period"]).reindex(full, fill_value=0).reset_index()


def wide_of(counts: pd.DataFrame, freq: str = "M") -> WidePanel:
    w = counts.pivot_table(index="period", columns=["area_id", "category"], values="count", aggfunc="sum").fillna(0)
    return WidePanel(w.to_numpy(float), pd.DatetimeIndex(w.index), [tuple(map(str, c)) for c in w.columns], freq)


# ----------------------------------------------------------------- peers
def run_peers(wp: WidePanel, h: int, cuts: list[int], season: int, freq: str = "MS") -> tuple[list[WindowForecast], pd.DataFrame]:
    with tempfile.TemporaryDirectory() as d:
        src, out = Path(d) / "in.csv", Path(d) / "out.csv"
        uid = ["/".join(s) for s in wp.series]
        pd.DataFrame({"unique_id": np.repeat(uid, len(wp.periods)), "ds": np.tile(wp.periods, len(uid)),
                      "y": wp.y.T.ravel()}).to_csv(src, index=False)
        subprocess.run([PEER_PY, str(HERE / "peers_statsforecast.py"), str(src), str(out), str(h),
                        ",".join(map(str, cuts)), str(season), freq], check=True)
        fc = pd.read_csv(out, parse_dates=["ds"])
        times = pd.read_csv(str(out) + ".times.csv")
    probs = probs_for((80, 95), grid=True)
    z = stats.norm.ppf(probs)
    col = {u: j for j, u in enumerate(uid)}
    wf = []
    for (model, c), g in fc.groupby(["model", "cutoff_index"]):
        g = g.assign(j=g["unique_id"].map(col)).sort_values(["j", "ds"])
        mean = g["mean"].to_numpy().reshape(len(uid), h).T
        sd = ((g["hi_95"] - g["lo_95"]).to_numpy() / (2 * 1.959964)).reshape(len(uid), h).T
        q = mean[:, :, None] + sd[:, :, None] * z
        for lv in (80, 95):  # their own interval ends exactly
            for side, sign in (("lo", -1), ("hi", 1)):
                p = 0.5 + sign * lv / 200
                k = int(np.flatnonzero(np.isclose(probs, p))[0])
                q[:, :, k] = g[f"{side}_{lv}"].to_numpy().reshape(len(uid), h).T
        secs = float(times[(times.model == model) & (times.what == f"cutoff {c}")]["seconds"].iloc[0])
        f = Forecast(mean, q, probs, wp.periods[c : c + h] if c + h <= len(wp.periods) else wp.future(h), wp.series, np.array([model] * len(uid)))
        wf.append(WindowForecast(int(c), model, f, secs))
    return wf, times


def ours(wp: WidePanel, h: int, cuts: list[int], names: list[str]) -> list[WindowForecast]:
    return run_windows(wp, {n: (lambda n=n: make_model(n, seed=0, **({"holidays": False} if n in ("nbglm",) else {}))) for n in names}, h, cuts)


def summary(wp: WidePanel, wf: list[WindowForecast], reference: str = "SeasonalNaive") -> pd.DataFrame:
    mt = metrics_frame(wp, wf, reference=reference)
    o = mt[mt.level == "overall"].set_index("model")
    o["sec_per_series"] = o["seconds"] / len(wp.series) / o["windows"]
    sc = window_scores(wp, wf)
    o["mase_median"] = [float(np.nanmean(sc[m]["mase_median"])) for m in o.index]
    return o[["mase", "mase_median", "rmsse", "pinball", "spinball", "crps", "coverage_80", "coverage_95", "bias", "rel_mase",
              "seconds", "sec_per_series"]]


def peer_count_median(wp: WidePanel, pw: list[WindowForecast]) -> pd.Series:
    """Sensitivity: the peers' MASE with the NB (or Poisson) median at their mean and variance as point forecast."""
    out = []
    for w in pw:
        f = w.forecast
        var = ((f.quantile(0.975) - f.mean) / 1.959964) ** 2  # their sd, from the upper end (never clipped at 0)
        med = nb_quantiles(f.mean, var, np.array([0.5]))[..., 0]
        g = Forecast(med, np.repeat(med[..., None], len(f.probs), axis=2), f.probs, f.periods, f.series, f.model)
        out.append(WindowForecast(w.cutoff, w.model, g, w.seconds))
    sc = window_scores(wp, out)
    return pd.Series({m: float(np.nanmean(v["mase"])) for m, v in sc.items()}, name="mase_count_median")


def portland(lines: list[str]) -> None:
    counts = portland_monthly()
    counts.to_csv(HERE / "portland_monthly_district_counts.csv", index=False)
    wp = wide_of(counts)
    keep = wp.y.sum(0) > 0
    wp = wp.subset(np.flatnonzero(keep))
    T = len(wp.periods)
    lines += ["## Portland: monthly counts per police district", "",
              f"{len(wp.series)} series (districts x burglary/vehicle with any event), {T} months "
              f"{wp.periods[0]:%Y-%m}..{wp.periods[-1]:%Y-%m}, mean {wp.y.mean():.2f} incidents per series-month, "
              f"{(wp.y == 0).mean():.0%} zero months.", ""]
    # holdout uses the riskmodel baselines too, for comparison of implementations
    our_names = ["auto", "pooled", "nbglm", "gbm", "hmean", "snaive", "ets"]
    for title, cuts in (("12-month holdout (train 51 months)", cutoffs(T, 12, 1)),
                        ("6-window rolling origin (h = 12, origins 1 month apart)", cutoffs(T, 12, 6, step=1))):
        names = our_names if len(cuts) == 1 else [n for n in our_names if n != "ets"]
        wf = ours(wp, 12, cuts, names)
        pw, times = run_peers(wp, 12, cuts, 12)
        tab = summary(wp, wf + pw)
        tab.to_csv(HERE / f"portland_{'holdout' if len(cuts) == 1 else 'rolling6'}.csv")
        peers = ["SeasonalNaive", "AutoETS", "AutoARIMA"]
        cm = peer_count_median(wp, pw)
        verdict = []
        for col, what in (("mase", "mean"), ("mase_median", "median")):
            best_peer = tab.loc[peers, col].min()
            verdict.append(f"MASE of the {what}: auto {tab.loc['auto', col]:.3f} vs best peer {best_peer:.3f}: "
                           f"{100 * (1 - tab.loc['auto', col] / best_peer):+.1f}% (target: >= +5%)")
        lines += [f"### {title}", "", to_md(tab.round(3)), "", *[v + "; " for v in verdict],
                  f"auto pinball {tab.loc['auto', 'pinball']:.3f} vs peers "
                  + ", ".join(f"{m} {tab.loc[m, 'pinball']:.3f}" for m in peers), "",
                  "Sensitivity: peers' MASE with the median of the count distribution (NB) at their mean and variance: "
                  + ", ".join(f"{m} {cm[m]:.3f}" for m in peers)
                  + f" (best {cm[peers].min():.3f}; auto's median {tab.loc['auto', 'mase_median']:.3f}: "
                  f"{100 * (1 - tab.loc['auto', 'mase_median'] / cm[peers].min()):+.1f}%)", "",
                  "statsforecast warm-up (numba compilation, excluded above): "
                  + ", ".join(f"{r.model} {r.seconds:.1f} s" for r in times[times.what == "warmup"].itertuples()), ""]
        print(tab.round(3).to_string())


def sample(lines: list[str]) -> None:
    from riskmodel.data import load_panel_dir

    panel = load_panel_dir(ROOT / "data" / "sample", counts="counts_monthly.csv", freq="M")
    wp = WidePanel.from_panel(panel)
    T = len(wp.periods)
    cuts = cutoffs(T, 3, 8, step=3)
    wf = ours(wp, 3, cuts, ["auto", "pooled", "nbglm", "gbm", "snaive"])
    tab = summary(wp, wf, reference="snaive")
    tab.to_csv(HERE / "sample_city_coverage.csv")
    lines += ["## Sample city: interval coverage (street x category, monthly)", "",
              f"{len(wp.series)} series, 8 rolling origins 3 months apart (h = 3, the forecast step's horizon), "
              f"last origin {wp.periods[cuts[-1] - 1]:%Y-%m}. Target: coverage within 5 points of 80% and 95%.", "",
              to_md(tab.round(3)), ""]
    print(tab.round(3).to_string())


def scale(lines: list[str], sizes=(100, 1000, 10000)) -> None:
    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        T = 260
        t = np.arange(T)
        level = rng.lognormal(1.5, 1.0, n)
        mu = level[None, :] * np.exp(0.3 * np.sin(2 * np.pi * t[:, None] / 52.18 + rng.uniform(0, 6, n)[None, :]))
        y = rng.poisson(rng.gamma(10, mu / 10)).astype(float)
        wp = WidePanel(y, pd.date_range("2016-01-04", periods=T, freq="W-MON"), [(f"A{j:05d}", f"c{j % 9}") for j in range(n)], "W")
        code = (  # noqa: UP031
            "import sys,time,resource,numpy as np,pandas as pd;sys.path.insert(0,%r);"
                "from riskmodel.data.wide import WidePanel;from riskmodel.forecast.registry import make_model;"
                "d=np.load(sys.argv[1]);wp=WidePanel(d['y'],pd.date_range('2016-01-04',periods=d['y'].shape[0],freq='W-MON'),"
                "[('A%%05d'%%j,'c%%d'%%(j%%9)) for j in range(d['y'].shape[1])],'W');"
                "t=time.perf_counter();f=make_model(sys.argv[2]).fit(wp).predict(13);s=time.perf_counter()-t;"
                "print(s, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024, np.isfinite(f.mean).all())") % str(ROOT / "src")
        with tempfile.TemporaryDirectory() as d:
            np.savez(Path(d) / "y.npz", y=wp.y)
            for model in ("auto", "pooled", "nbglm", "snaive"):
                res = subprocess.run([sys.executable, "-c", code, str(Path(d) / "y.npz"), model], capture_output=True, text=True,
                                     env={**os.environ, "OMP_NUM_THREADS": "2"})
                if res.returncode:
                    print(res.stderr[-2000:])
                    rows.append({"series": n, "model": model, "seconds": np.nan, "peak_rss_mb": np.nan})
                    continue
                s, mem, ok = res.stdout.split()
                rows.append({"series": n, "model": model, "seconds": float(s), "peak_rss_mb": float(mem), "finite": ok})
                print(rows[-1], flush=True)
    tab = pd.DataFrame(rows)
    tab.to_csv(HERE / "scale.csv", index=False)
    lines += ["## Scale: weekly series of 5 years (260 weeks), fit + 13-week forecast with 80/95% intervals", "",
              "Simulated NB counts with yearly seasonality; each run in a fresh process (peak RSS of that process); "
              "2 cores shared with other jobs. Target: 10,000 series in < 10 min and < 4 GB.", "",
              to_md(tab, index=False), ""]


if __name__ == "__main__":
    which = sys.argv[1:] or ["portland", "sample", "scale"]
    for w in which:
        lines = [f"<!-- generated by benchmarks/forecast/run_benchmark.py {w} on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} -->", ""]
        t0 = time.perf_counter()
        {"portland": portland, "sample": sample, "scale": scale}[w](lines)
        lines += [f"(section run time {time.perf_counter() - t0:.0f} s; peak RSS of the driver "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)", ""]
        (HERE / f"results_{w}.md").write_text("\n".join(lines), encoding="utf-8")
