"""Panel-level entry points: forecast and backtest an IncidentPanel.

These are what the command line and the pipeline step call; they take an
IncidentPanel and return long DataFrames.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.data.panel import IncidentPanel
from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError, Problem
from riskmodel.execution.backends import Backend
from riskmodel.execution.chunks import DEFAULT_CHUNK_SIZE, check_chunk_size
from riskmodel.forecast.backtest import WindowForecast, cutoffs, forecasts_frame, metrics_frame
from riskmodel.forecast.chunked import ChunkedForecaster, backtest_chunks
from riskmodel.forecast.reconcile import METHODS, reconcile
from riskmodel.forecast.registry import MODELS


def with_all_levels(panel: IncidentPanel) -> IncidentPanel:
    """The panel plus the sums of its series at every ancestor level (district, city...)."""
    c = panel.all_levels().drop(columns="level")
    c = c.groupby(["area_id", "category", "period"], as_index=False, sort=True)["count"].sum()
    out = IncidentPanel(counts=c, freq=panel.freq, hierarchy=panel.hierarchy,
                        population=panel.population, neighbours=panel.neighbours, meta=dict(panel.meta))
    return out._replace(c)


def _check_levels(levels: Sequence[float]) -> list[float]:
    out = []
    for lv in levels:
        if not 0 < float(lv) < 100:
            raise InputError(Problem(f"interval level must be between 0 and 100 (percent), got {lv}"))
        out.append(float(lv))
    return out


def _check(model: str, method: str) -> None:
    if model not in MODELS:
        raise InputError(Problem(f"unknown value {model!r} for --model; valid: {', '.join(MODELS)}"))
    if method not in METHODS:
        raise InputError(Problem(f"unknown value {method!r} for --reconcile; valid: {', '.join(METHODS)}"))


def forecast_panel(
    panel: IncidentPanel,
    h: int,
    model: str = "auto",
    levels: Sequence[float] = (80, 95),
    reconcile_method: str = "none",
    seed: int = 0,
    gaps: str = "zero",
    params: dict[str, Any] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    backend: Backend | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Forecast every series of a panel ``h`` periods ahead.

    With ``reconcile_method`` other than ``'none'`` the ancestors' series
    (district, city, ...) are added, forecast and reconciled, and returned too.

    The series are fitted in chunks of at most ``chunk_size`` (see
    :mod:`riskmodel.execution.chunks`: models that pool across series pool
    within a chunk) through ``backend`` (default: in this process); the
    result does not depend on the backend. Reconciliation is done here, over
    all series.

    Returns
    -------
    frame : DataFrame
        ``area_id, category, period, model, mean, lo_<L>, hi_<L>`` for each level L.
    info : dict
        ``model`` (the fitted model object: the model itself when the panel
        is one chunk, else a :class:`~riskmodel.forecast.chunked.ChunkedForecaster`),
        ``forecast`` (Forecast), ``wide`` (WidePanel), ``chunks`` (number of chunks).
    """
    _check(model, reconcile_method)
    levels = _check_levels(levels)
    if int(h) < 1:
        raise InputError(Problem(f"--h must be >= 1, got {h}"))
    chunk_size = check_chunk_size(chunk_size)
    p = with_all_levels(panel) if reconcile_method != "none" else panel
    wp = WidePanel.from_panel(p, gaps=gaps)
    cf = ChunkedForecaster(model, seed=seed, params=params, chunk_size=chunk_size)
    fc = cf.fit_predict(wp, int(h), levels=levels, backend=backend)
    if reconcile_method != "none":
        fc = reconcile(fc, panel.hierarchy, reconcile_method, wp.y, cf.fitted_)
    m = cf.models_[0] if len(cf.models_) == 1 else cf
    return fc.to_frame(levels), {"model": m, "forecast": fc, "wide": wp, "chunks": len(cf.chunks_)}


def backtest_panel(
    panel: IncidentPanel,
    h: int,
    windows: int = 1,
    models: Sequence[str] = ("auto",),
    step: int | None = None,
    levels: Sequence[float] = (80, 95),
    reconcile_method: str = "none",
    seed: int = 0,
    gaps: str = "zero",
    params: dict[str, dict[str, Any]] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    backend: Backend | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling-origin backtest of ``models`` (plus seasonal naive, always).

    Chunks and backend as in :func:`forecast_panel` (each worker runs every
    window and model of its chunk); reconciliation is done here, over all
    series. The ``seconds`` column sums the chunks' fit-and-forecast times
    (plus the reconciliation), whichever worker ran them.

    Returns
    -------
    forecasts : DataFrame
        The forecast columns plus ``cutoff`` (last training period) and ``actual``.
    metrics : DataFrame
        See :func:`riskmodel.forecast.backtest.metrics_frame`.
    """
    for mname in models:
        _check(mname, reconcile_method)
    levels = _check_levels(levels)
    names = list(dict.fromkeys([*models, "snaive"]))
    p = with_all_levels(panel) if reconcile_method != "none" else panel
    wp = WidePanel.from_panel(p, gaps=gaps)
    cuts = cutoffs(wp.y.shape[0], int(h), int(windows), step)
    rec = reconcile_method != "none"
    runs = backtest_chunks(wp, names, int(h), cuts, levels, seed, params or {}, check_chunk_size(chunk_size),
                           backend, keep_fitted=rec)
    wf = []
    for c, name, fc, secs, fitted in runs:
        if rec:
            t0 = time.perf_counter()
            fc = reconcile(fc, panel.hierarchy, reconcile_method, wp.y[:c], fitted)
            secs += time.perf_counter() - t0
        wf.append(WindowForecast(c, name, fc, secs))
    level_of = dict(panel.hierarchy.level)
    fr = forecasts_frame(wp, wf, levels)
    fr["actual"] = fr["actual"].astype(float)
    mt = metrics_frame(wp, wf, level_of=level_of)
    return fr, mt


def series_table(wp: WidePanel) -> pd.DataFrame:
    """Per series: periods observed, total count, share of zeros (for summaries)."""
    return pd.DataFrame(
        {
            "area_id": [s[0] for s in wp.series],
            "category": [s[1] for s in wp.series],
            "periods": wp.n_obs,
            "total": wp.y.sum(0),
            "zero_share": (wp.y == 0).mean(0),
        }
    ).assign(mean=lambda d: d["total"] / np.maximum(d["periods"], 1))
