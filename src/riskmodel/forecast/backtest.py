"""Rolling-origin backtests with an expanding window.

For ``windows`` cutoffs ``c_1 < ... < c_K`` (the last one ``h`` periods before
the end, the others ``step`` periods apart) each model is fitted on the
periods up to the cutoff and forecasts the next ``h``; the forecasts are
compared with the actuals. Seasonal naive is always run as the skill
reference (``rel_mase`` = a model's MASE over seasonal naive's, per series).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError, Problem
from riskmodel.forecast.metrics import series_metrics
from riskmodel.forecast.result import Forecast, probs_for

METRICS = ["mase", "mase_median", "rmsse", "pinball", "crps", "coverage_80", "coverage_95", "bias"]


def cutoffs(n_periods: int, h: int, windows: int, step: int | None = None, min_train: int = 2) -> list[int]:
    """Training lengths of each window (the index of the first forecast period).

    Raises InputError when the data are too short for the windows asked for.
    """
    if h < 1 or windows < 1:
        raise InputError(Problem(f"h and windows must be >= 1 (got h={h}, windows={windows})"))
    step = h if step is None else int(step)
    if step < 1:
        raise InputError(Problem(f"step must be >= 1 (got {step})"))
    last = n_periods - h
    out = [last - step * (windows - 1 - i) for i in range(windows)]
    if out[0] < min_train:
        raise InputError(
            Problem(
                f"{n_periods} periods are too few for {windows} window(s) of h={h} every {step} period(s): "
                f"the first window would train on {out[0]} period(s) (need >= {min_train}); "
                "lower --windows, --h or --step"
            )
        )
    return out


@dataclass
class WindowForecast:
    cutoff: int
    model: str
    forecast: Forecast
    seconds: float


def run_windows(
    wp: WidePanel,
    make: dict[str, Callable[[], object]],
    h: int,
    cuts: Sequence[int],
    levels: Sequence[float] = (80, 95),
    post: Callable[[Forecast, object, WidePanel], Forecast] | None = None,
    grid: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> list[WindowForecast]:
    """Fit and forecast every model at every cutoff (with the full quantile grid, for
    CRPS, when ``grid``); ``progress(done, total)`` after each model and cutoff, if given."""
    probs = probs_for(levels, grid=grid)
    out = []
    total = len(cuts) * len(make)
    for c in cuts:
        train = wp.head(c)
        for name, factory in make.items():
            t0 = time.perf_counter()
            model = factory()
            model.fit(train)  # type: ignore[attr-defined]
            fc = model.predict(h, levels=levels, probs=probs)  # type: ignore[attr-defined]
            if post is not None:
                fc = post(fc, model, train)
            out.append(WindowForecast(c, name, fc, time.perf_counter() - t0))
            if progress is not None:
                progress(len(out), total)
    return out


def window_scores(wp: WidePanel, wf: list[WindowForecast]) -> dict[str, dict[str, np.ndarray]]:
    """Per model: each metric averaged over windows, per series (arrays of length n)."""
    acc: dict[str, dict[str, list[np.ndarray]]] = {}
    for w in wf:
        h = w.forecast.h
        y = wp.y[w.cutoff : w.cutoff + h]
        fc = w.forecast
        if y.shape[0] < h:  # a window that runs past the data (not produced by cutoffs())
            fc = Forecast(fc.mean[: y.shape[0]], fc.quantiles[: y.shape[0]], fc.probs, fc.periods[: y.shape[0]], fc.series, fc.model)
        m = series_metrics(y, fc, wp.y[: w.cutoff], wp.season)
        for k, v in m.items():
            acc.setdefault(w.model, {}).setdefault(k, []).append(v)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (zero scale) stay NaN
        return {mod: {k: np.nanmean(np.vstack(v), axis=0) for k, v in d.items()} for mod, d in acc.items()}


def forecasts_frame(wp: WidePanel, wf: list[WindowForecast], levels: Sequence[float] = (80, 95)) -> pd.DataFrame:
    """All window forecasts, long, with ``cutoff`` (last training period) and ``actual``."""
    parts = []
    for w in wf:
        f = w.forecast.to_frame(levels)
        f.insert(3, "cutoff", wp.periods[w.cutoff - 1])
        act = wp.to_long(wp.y, "actual")
        f = f.merge(act, on=["area_id", "category", "period"], how="left")
        parts.append(f)
    return pd.concat(parts, ignore_index=True)


def metrics_frame(
    wp: WidePanel,
    wf: list[WindowForecast],
    level_of: dict[str, str] | None = None,
    reference: str = "snaive",
) -> pd.DataFrame:
    """One row per series and model, then per level and model, then overall per model.

    Columns: ``area_id, category, level, model, windows, mase, mase_median, rmsse, pinball,
    crps, coverage_80, coverage_95, bias, rel_mase, seconds``. Summary rows
    have ``area_id = category = "ALL"`` and ``level`` the area level (or
    ``"overall"``); their metrics are means over the series (NaN-skipping),
    ``seconds`` is the model's total fit-and-forecast time over all windows
    (series rows: that total divided by the number of series).
    """
    scores = window_scores(wp, wf)
    n = len(wp.series)
    secs: dict[str, float] = {}
    for w in wf:
        secs[w.model] = secs.get(w.model, 0.0) + w.seconds
    n_win = len({w.cutoff for w in wf})
    level_of = level_of or {}
    lv = np.array([level_of.get(a, "series") for a, _ in wp.series], dtype=object)
    ref = scores.get(reference, {}).get("mase")
    rows = []
    for mod, sc in scores.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(ref > 0, sc["mase"] / ref, np.nan) if ref is not None else np.full(n, np.nan)
        base = pd.DataFrame(
            {
                "area_id": [s[0] for s in wp.series],
                "category": [s[1] for s in wp.series],
                "level": lv,
                "model": mod,
                "windows": n_win,
                **{k: sc[k] for k in METRICS},
                "spinball": sc["spinball"],
                "rel_mase": rel,
                "seconds": secs[mod] / n,
            }
        )
        rows.append(base)
    per = pd.concat(rows, ignore_index=True)
    cols = METRICS + ["spinball"]
    ref_rows = per[per["model"] == reference].set_index(["area_id", "category"])["mase"]

    def rel_of(g: pd.DataFrame) -> float:
        # ratio of mean MASEs over the same series (a mean of ratios explodes on tiny references)
        r = ref_rows.reindex(pd.MultiIndex.from_frame(g[["area_id", "category"]])).to_numpy()
        ok = np.isfinite(r) & np.isfinite(g["mase"].to_numpy())
        return float(g["mase"].to_numpy()[ok].mean() / r[ok].mean()) if ok.any() and r[ok].mean() > 0 else np.nan

    summ = []
    for (mod, level), g in per.groupby(["model", "level"], sort=True):
        r = {"area_id": "ALL", "category": "ALL", "level": level, "model": mod, "windows": n_win}
        r.update({c: float(np.nanmean(g[c])) if np.isfinite(g[c]).any() else np.nan for c in cols})
        r["rel_mase"] = rel_of(g)
        r["seconds"] = secs[mod]
        summ.append(r)
    for mod, g in per.groupby("model", sort=True):
        r = {"area_id": "ALL", "category": "ALL", "level": "overall", "model": mod, "windows": n_win}
        r.update({c: float(np.nanmean(g[c])) if np.isfinite(g[c]).any() else np.nan for c in cols})
        r["rel_mase"] = rel_of(g)
        r["seconds"] = secs[mod]
        summ.append(r)
    return pd.concat([per, pd.DataFrame(summ)], ignore_index=True)
