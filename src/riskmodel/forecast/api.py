"""Panel-level functions kept for their callers: thin wrappers of :class:`~riskmodel.forecast.Forecaster`.

New code uses :class:`riskmodel.forecast.Forecaster` (``forecast`` and
``cross_validation``, returning result objects). :func:`forecast_panel` and
:func:`backtest_panel` keep their signatures and return values (DataFrames)
for the hotspot ranker, the benchmarks and older scripts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from riskmodel.data.panel import IncidentPanel
from riskmodel.execution.backends import Backend
from riskmodel.execution.chunks import DEFAULT_CHUNK_SIZE
from riskmodel.forecast.forecaster import Forecaster, series_table, with_all_levels
from riskmodel.forecast.registry import DEFAULT_RECONCILE, MODELS, RECONCILERS


def _check(model: str, method: str) -> None:
    """Refuse an unknown model or reconciliation method (InputError listing the valid names).

    Kept for ``riskmodel hotspots``; new code checks names with the
    registries (``MODELS.check(name)``, ``RECONCILERS.check(name)``).
    """
    MODELS.check(model)
    RECONCILERS.check(method)


def forecast_panel(
    panel: IncidentPanel,
    h: int,
    model: str = "auto",
    levels: Sequence[float] = (80, 95),
    reconcile_method: str = DEFAULT_RECONCILE,
    seed: int = 0,
    gaps: str = "zero",
    params: dict[str, Any] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    backend: Backend | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Forecast every series of a panel ``h`` periods ahead with one model.

    ``Forecaster([model], ...).forecast(panel, h, levels)``, as a frame. With
    ``reconcile_method`` other than ``'none'`` the ancestors' series
    (district, city, ...) are added, forecast and reconciled, and returned too.

    Returns
    -------
    frame : DataFrame
        ``area_id, category, period, model, mean, lo_<L>, hi_<L>`` for each level L.
    info : dict
        ``model`` (the fitted model object: the model itself when the panel
        is one chunk, else a :class:`~riskmodel.forecast.chunked.ChunkedForecaster`),
        ``forecast`` (Forecast), ``wide`` (WidePanel), ``chunks`` (number of chunks).
    """
    fc = Forecaster([model], seed=seed, reconcile=reconcile_method, chunk_size=chunk_size, backend=backend,
                    params={model: params} if params else None, gaps=gaps)
    res = fc.forecast(panel, h, level=levels)
    return res.to_frame(), {"model": res.model, "forecast": res.forecast, "wide": res.wide, "chunks": res.chunks}


def backtest_panel(
    panel: IncidentPanel,
    h: int,
    windows: int = 1,
    models: Sequence[str] = ("auto",),
    step: int | None = None,
    levels: Sequence[float] = (80, 95),
    reconcile_method: str = DEFAULT_RECONCILE,
    seed: int = 0,
    gaps: str = "zero",
    params: dict[str, dict[str, Any]] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    backend: Backend | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling-origin backtest of ``models`` (plus seasonal naive, always).

    ``Forecaster(models, ...).cross_validation(panel, h, windows, step, levels)``.

    Returns
    -------
    forecasts : DataFrame
        The forecast columns plus ``cutoff`` (last training period) and ``actual``.
    metrics : DataFrame
        See :func:`riskmodel.forecast.backtest.metrics_frame`.
    """
    fc = Forecaster(models, seed=seed, reconcile=reconcile_method, chunk_size=chunk_size, backend=backend,
                    params=params, gaps=gaps)
    res = fc.cross_validation(panel, h, windows, step, level=levels)
    return res.forecasts, res.metrics


__all__ = ["backtest_panel", "forecast_panel", "series_table", "with_all_levels"]
