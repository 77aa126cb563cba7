"""Scale benchmark (issue 8): forecast and detect on thousands of weekly grid-cell series.

    .venv/bin/python benchmarks/scale/run_benchmark.py [--sizes 1000,10000,50000]
        [--backends local,dask] [--workers 2] [--out benchmarks/scale]

Data: ``n`` simulated weekly grid-cell series of 5 years (260 ISO weeks from
2019-01-07), one category ("alerts"), cells of 20 streets. A cell's mean is
a street level times a cell share (gamma: most cells see a few incidents a
month, a few see several a week), times a yearly season and a Spring-Festival
dip, with negative-binomial noise (size 3). Seeded: the same ``n`` gives the
same counts.

Each run is one fresh process (``python run_benchmark.py --one ...``) that
builds the IncidentPanel from the long counts table and then, through one
backend (``local``: a process pool of ``--workers`` spawned interpreters;
``dask``: a ``LocalCluster`` of ``--workers`` single-threaded workers):

1. ``forecast_panel(panel, 13, "auto")`` -- the default model (stacked
   candidates chosen by an internal backtest), 13 weeks ahead, 80 and 95%
   intervals, in chunks of ``chunk_size`` = 5000 series (the default);
2. ``detect(panel, "forecast", start=<last 13 weeks>)`` -- the early-warning
   step's default detector (negative-binomial GLM forecasts refitted every
   4 weeks, an alarm above the 99% quantile) over the last quarter;
3. ``detect(panel, "farrington-noufaily", start=<last 13 weeks>)`` -- the
   surveillance standard, the same quarter (only up to ``--farrington-max``
   series: its cost is linear in series x monitored weeks, about 0.6 ms
   each, see benchmarks/alerts).

It reports wall seconds per stage, the backend's start-up, and the peak
memory of the whole process tree (driver plus workers, or driver plus Dask
scheduler and workers: the resident set sizes summed, sampled every 0.1 s by
psutil). A check that the forecasts are finite and the results equal across
backends is printed (the test suite checks bit-equality on small panels).

Writes ``scale.csv`` (one row per size, backend and stage) and ``results.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
WEEKS = 260
H = 13


def simulate(n: int, seed: int = 20240601) -> pd.DataFrame:
    """Long weekly counts of ``n`` grid cells (see the module notes)."""
    rng = np.random.default_rng([seed, n])
    periods = pd.date_range("2019-01-07", periods=WEEKS, freq="W-MON")
    street = rng.integers(0, 20, n)
    street_level = rng.lognormal(np.log(30), 0.5, 20)  # incidents a week in a street
    share = rng.gamma(0.6, 1.0, n)
    share /= np.bincount(street, share, 20)[street]  # shares within a street add to 1
    t = np.arange(WEEKS)
    season = np.exp(0.15 * np.sin(2 * np.pi * t / 52.18) + 0.08 * np.cos(2 * np.pi * t / 52.18))
    festival = np.where((t % 52) < 3, 0.7, 1.0)  # a Spring-Festival-like dip in the first weeks of a year
    mu = (street_level[street] * share)[None, :] * (season * festival)[:, None]
    y = rng.negative_binomial(3.0, 3.0 / (3.0 + mu))
    ids = np.array([f"S{s:02d}-C{j:05d}" for j, s in enumerate(street)])
    return pd.DataFrame({
        "area_id": np.repeat(ids, WEEKS),
        "category": "alerts",
        "period": np.tile(periods, n),
        "count": y.T.ravel(),
    })


class PeakMemory:
    """Peak of the summed RSS of this process and all its descendants."""

    def __init__(self, every: float = 0.1):
        import psutil

        self._p = psutil.Process()
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        import psutil

        total = 0
        procs = [self._p]
        try:
            procs += self._p.children(recursive=True)
        except psutil.Error:
            pass
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            time.sleep(self.every)

    def __enter__(self) -> PeakMemory:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._sample())


def one(n: int, backend: str, workers: int, stages: list[str]) -> dict:
    """One size and backend in this process; returns the measurements."""
    from riskmodel.alerts.detect import detect
    from riskmodel.data import IncidentPanel
    from riskmodel.execution import make_backend
    from riskmodel.forecast.api import forecast_panel

    out: dict = {"series": n, "backend": backend, "workers": workers}
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        panel = IncidentPanel.from_counts(simulate(n), freq="W")
        out["load_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        with make_backend(backend, workers=workers) as ex:
            out["start_s"] = time.perf_counter() - t0
            start = panel.periods[-H]
            if "forecast" in stages:
                t0 = time.perf_counter()
                fc, info = forecast_panel(panel, H, "auto", backend=ex)
                out["forecast_s"] = time.perf_counter() - t0
                out["chunks"] = info["chunks"]
                out["forecast_finite"] = bool(np.isfinite(fc[["mean", "lo_95", "hi_95"]].to_numpy()).all())
                out["forecast_sum"] = float(fc["mean"].sum())
            if "detect" in stages:
                t0 = time.perf_counter()
                det = detect(panel, "forecast", start=start, backend=ex)
                out["detect_s"] = time.perf_counter() - t0
                out["alarms"] = int(det.table["alarm"].fillna(False).astype(bool).sum())
            if "farrington" in stages:
                t0 = time.perf_counter()
                det = detect(panel, "farrington-noufaily", start=start, backend=ex)
                out["farrington_s"] = time.perf_counter() - t0
                out["farrington_alarms"] = int(det.table["alarm"].fillna(False).astype(bool).sum())
            t0 = time.perf_counter()
        out["close_s"] = time.perf_counter() - t0
    out["peak_rss_mb"] = mem.peak / 2**20
    import resource

    # CPU seconds of the driver and of its finished workers (the pool and the
    # LocalCluster's processes are joined on close): a load-independent figure
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    out["cpu_s"] = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,50000")
    ap.add_argument("--backends", default="local,dask")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--farrington-max", type=int, default=10000, help="Farrington only up to this many series")
    ap.add_argument("--dask-max", type=int, default=10000, help="the Dask run only up to this many series")
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--md-only", action="store_true", help="rewrite results.md from scale.csv")
    ap.add_argument("--note", default="", help="a sentence on the machine's load for results.md")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)  # internal: "n,backend,workers,stages"
    a = ap.parse_args()
    if a.one:
        n, backend, workers, stages = a.one.split(",", 3)
        print(json.dumps(one(int(n), backend, int(workers), stages.split("+"))), flush=True)
        return
    if a.md_only:
        df = pd.read_csv(Path(a.out) / "scale.csv")
        write_md(df, Path(a.out) / "results.md", a.note, a)
        return
    rows = []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = os.getloadavg()[0]
    for n in [int(s) for s in a.sizes.split(",")]:
        for backend in a.backends.split(","):
            if backend == "dask" and n > a.dask_max:
                continue
            stages = ["forecast", "detect"] + (["farrington"] if n <= a.farrington_max else [])
            cmd = [sys.executable, __file__, "--one", f"{n},{backend},{a.workers},{'+'.join(stages)}"]
            t0 = time.perf_counter()
            res = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if res.returncode != 0:
                print(res.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"run {n} {backend} failed")
            r = json.loads(res.stdout.strip().splitlines()[-1])
            r["process_s"] = time.perf_counter() - t0
            r["load_avg_1m"] = os.getloadavg()[0]
            print(r, flush=True)
            rows.append(r)
    df = pd.DataFrame(rows)
    outdir = Path(a.out)
    df.to_csv(outdir / "scale.csv", index=False, float_format="%.4g")
    write_md(df, outdir / "results.md", a.note or f"started {started}, 1-minute load average {load0:.1f} at the start", a)


def write_md(df: pd.DataFrame, path: Path, note: str, a: argparse.Namespace) -> None:
    cols = ["series", "backend", "workers", "chunks", "load_s", "start_s", "forecast_s", "detect_s",
            "farrington_s", "close_s", "process_s", "cpu_s", "peak_rss_mb", "forecast_finite", "alarms", "load_avg_1m"]
    t = df[[c for c in cols if c in df.columns]].copy()
    t["forecast+detect_s"] = t["forecast_s"] + t["detect_s"]
    lines = [
        "# Scale: weekly grid-cell series, forecast and detect",
        "",
        f"`.venv/bin/python benchmarks/scale/run_benchmark.py --sizes {a.sizes} --backends {a.backends} "
        f"--workers {a.workers}` on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{note}. Each row is a fresh process; see the script's docstring for the data and stages.",
        "",
        "Seconds: `load_s` builds the IncidentPanel from the long table; `start_s` starts the backend (process pool "
        "or LocalCluster); `forecast_s` = `forecast_panel(..., 13, 'auto')`; `detect_s` = `detect(..., 'forecast')` "
        "over the last 13 weeks; `farrington_s` = Farrington (Noufaily) over the same weeks; `process_s` the whole "
        "process, imports included; `cpu_s` the CPU seconds of that process and its workers (independent of the load, unlike the wall times). `peak_rss_mb` sums the resident memory of the driver and every worker "
        "(and the Dask scheduler).",
        "",
        t.to_markdown(index=False, floatfmt=".1f"),
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
