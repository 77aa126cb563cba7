"""ESSENCE's detectors beside Farrington, glrnb and EARS, with the simulation harness (issue 18, item 10).

Two designs, each with an independent tuning set (another seed, no outbreak in the monitored
periods) on which every method's threshold is set to the same false-positive rate, so that the
methods are compared at matched FPR (POD, sensitivity, timeliness, delay: riskmodel.alerts.evaluate):

* **weekly**: the Noufaily scenarios of riskmodel.alerts.simulate (7 scenarios x ``--reps``,
  624 weeks, the last 49 monitored, one outbreak in them); methods: farrington-noufaily, glrnb,
  essence-ewma (ESSENCE's regression and switch model the day of the week: daily only).
* **daily**: 3 scenarios x ``--reps`` of 2 years of daily counts with a day-of-week pattern
  (busy: mean 40; mid: 8; sparse: 1.5 with no weekday pattern) and a yearly wave, negative
  binomial (variance 1.5 x mean), the last 120 days monitored with one outbreak (cases ~
  Poisson(k x baseline sd x 3), k = 1..5, spread over ~a week with a lognormal profile) and two
  past outbreaks; methods: essence (the switch), essence-regression, essence-ewma, ears-c2, glrnb.

Every method runs through ``riskmodel.alerts.detect`` (the registered detector, its defaults) and
is scored by its table's ``score`` (the count's place between the expected count, 0, and the
method's own bound, 1), ESSENCE's by -log10 of its p-value (its own statistic: EWMA's alarm
depends on the days before, not on the count alone; its default rule p < 0.01 is a score of 2),
the threshold tuned on the tuning set. Writes essence_results.md.

    .venv/bin/python benchmarks/alerts/essence_eval.py [--reps 30]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.alerts import detect
from riskmodel.alerts.evaluate import outbreak_metrics, tune_threshold
from riskmodel.alerts.simulate import SCENARIOS, draw_baseline, simulate
from riskmodel.data.panel import IncidentPanel

HERE = Path(__file__).parent
FPR = {"weekly": 0.005, "daily": 0.01}


def _panel(y: np.ndarray, periods: pd.DatetimeIndex, freq: str) -> IncidentPanel:
    T, R = y.shape
    df = pd.DataFrame({"area_id": np.repeat([f"s{j:04d}" for j in range(R)], T), "category": "sim",
                       "period": np.tile(periods.to_numpy(), R), "count": y.T.ravel().astype("int64")})
    return IncidentPanel.from_counts(df, freq=freq)


def _scores(y: np.ndarray, periods: pd.DatetimeIndex, freq: str, method: str, mon: np.ndarray) -> tuple[np.ndarray, float]:
    """The method's score (K, R) on the monitored rows, and CPU seconds."""
    t0 = time.process_time()
    det = detect(_panel(y, periods, freq), method=method, start=periods[mon[0]], end=periods[mon[-1]])
    cpu = time.process_time() - t0
    t = det.to_frame()
    t["period"] = pd.to_datetime(t["period"])
    if method.startswith("essence"):  # ESSENCE's statistic is its p-value (EWMA's alarm depends on past days)
        with np.errstate(divide="ignore"):
            t["score"] = -np.log10(t["pvalue"].clip(lower=1e-300))
    w = t.pivot_table(index="period", columns="area_id", values="score", aggfunc="first", dropna=False)
    w = w.reindex(periods[mon]).reindex(columns=[f"s{j:04d}" for j in range(y.shape[1])])
    return w.to_numpy(float), cpu


def daily_set(reps: int, seed: int, with_current: bool = True, n_days: int = 730, n_eval: int = 120):
    """Daily counts, the outbreak cases (all, current) and the scenario of each series."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2022-01-03", periods=n_days, freq="D")
    t = np.arange(n_days)
    dow = np.array([1.25, 1.15, 1.05, 1.0, 1.05, 0.8, 0.7])[days.day_of_week]
    season = 1 + 0.2 * np.sin(2 * np.pi * t / 365.25)
    scen = {"busy": 40 * dow * season, "mid": 8 * dow * season, "sparse": np.full(n_days, 1.5) * season}
    spread = np.diff(np.exp(-0.5 * ((np.log(np.arange(1, 12)) - np.log(3)) / 0.5) ** 2))
    spread = np.abs(spread) / np.abs(spread).sum()
    ys, outs, curs, names = [], [], [], []
    for name, mu in scen.items():
        sd = np.sqrt(1.5 * mu)
        for _ in range(reps):
            b = draw_baseline(mu, 1.5, rng)
            o = np.zeros(n_days, int)
            c = np.zeros(n_days, int)
            for s0 in rng.integers(60, n_days - n_eval - 20, size=2):
                o[s0:s0 + len(spread)] += rng.multinomial(rng.poisson(3 * 3 * sd[s0]), spread)[: n_days - s0]
            if with_current:
                s0 = int(rng.integers(n_days - n_eval, n_days - 10))
                k = int(rng.integers(1, 6))
                c[s0:s0 + len(spread)] = rng.multinomial(rng.poisson(k * 3 * sd[s0]), spread)[: n_days - s0]
            ys.append(b + o + c)
            outs.append(o + c)
            curs.append(c)
            names.append(name)
    return np.column_stack(ys), np.column_stack(outs), np.column_stack(curs), np.array(names), days, n_eval


def run(design: str, reps: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    if design == "weekly":
        ev, tu = simulate(SCENARIOS, reps, seed=1), simulate(SCENARIOS, reps, seed=2, current_k=(0,))
        sets = {"eval": (ev.y, ev.outbreak, ev.current, ev.scenario, ev.periods, ev.n_eval),
                "tune": (tu.y, tu.outbreak, tu.current, tu.scenario, tu.periods, tu.n_eval)}
        methods, freq = ["farrington-noufaily", "glrnb", "essence-ewma"], "W"
    else:
        sets = {"eval": daily_set(reps, 11), "tune": daily_set(reps, 12, with_current=False)}
        sets = {k: (v[0], v[1], v[2], v[3], v[4], v[5]) for k, v in sets.items()}
        methods, freq = ["essence", "essence-regression", "essence-ewma", "ears-c2", "glrnb"], "D"
    rows, per = [], []
    for m in methods:
        sc = {}
        cpu = 0.0
        for which, (y, _o, _c, _s, periods, n_eval) in sets.items():
            mon = np.arange(len(periods) - n_eval, len(periods))
            sc[which], c = _scores(y, periods, freq, m, mon)
            cpu += c
        y, out, cur, scen, periods, n_eval = sets["tune"]
        mon = np.arange(len(periods) - n_eval, len(periods))
        thr = tune_threshold(sc["tune"], out[mon] == 0, FPR[design])
        y, out, cur, scen, periods, n_eval = sets["eval"]
        mon = np.arange(len(periods) - n_eval, len(periods))
        alarm = np.nan_to_num(sc["eval"], nan=-np.inf) > thr
        default = np.nan_to_num(sc["eval"], nan=-np.inf) > (2 if m.startswith("essence") else 1)
        for label, a in ((f"tuned (c={thr:.3g})", alarm), ("default", default)):
            rows.append({"method": m, "threshold": label, **outbreak_metrics(a, out[mon] > 0, cur[mon] > 0),
                         "cpu_s": round(cpu, 1)})
        for g in dict.fromkeys(scen.tolist()):
            sel = scen == g
            per.append({"method": m, "scenario": g, **outbreak_metrics(alarm[:, sel], out[mon][:, sel] > 0,
                                                                      cur[mon][:, sel] > 0)})
    return pd.DataFrame(rows), pd.DataFrame(per)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=30)
    args = ap.parse_args()
    lines = ["# ESSENCE's detectors beside Farrington, glrnb and EARS (issue 18, item 10)", "",
             f"Made by `benchmarks/alerts/essence_eval.py --reps {args.reps}` (its docstring has the designs). "
             "'tuned': each method's threshold on its own score set on an independent tuning set to the design's "
             "FPR (weekly 0.005, daily 0.01), so POD and timeliness are compared at matched FPR; 'default': the "
             "method's own rule (ESSENCE: p < 0.01). Timeliness: (first alarm - start) / length, 1 if missed "
             "(0 best); delay in periods among detected outbreaks. cpu_s: both sets, through `detect`.", ""]
    for design in ("weekly", "daily"):
        t0 = time.time()
        tab, per = run(design, args.reps)
        lines += [f"## {design} ({time.time() - t0:.0f} s wall)", "", tab.round(4).to_markdown(index=False), "",
                  "Tuned, per scenario:", "", per.round(4).to_markdown(index=False), ""]
        print("\n".join(lines[-6:]))
    (HERE / "essence_results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
