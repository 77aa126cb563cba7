"""The Farrington detectors as registered: the three presets, the windowed test and the GLR on Farrington's means.

Each is a :class:`~riskmodel.alerts.base.Detector` (``fn(task) ->
DetectorOutput``) around :func:`~riskmodel.alerts.farrington.farrington_flexible`:

* ``farrington``, ``farrington-noufaily``, ``farrington-original``: R's
  ``farringtonFlexible`` with the control of the preset
  (:data:`~riskmodel.alerts.farrington.PRESETS`) and the options given;
* ``farrington-window``: Noufaily's in-control means and dispersions, then an
  NB test of the sum of the last ``window`` periods (:mod:`riskmodel.alerts.window`);
* ``farrington-glr``: Noufaily's means and dispersions, then an NB GLR chart
  (:func:`~riskmodel.alerts.glrnb.glr_nb`).

Weekly or monthly counts: the reference periods are the same period in past
years (``Frequency.year_lag`` periods back, matched by date as R does).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.alerts.base import DetectorOutput, DetectTask, monitor_rows
from riskmodel.alerts.farrington import (
    FarringtonControl,
    control_from,
    farrington_flexible,
    reference_points,
)
from riskmodel.alerts.glrnb import glr_nb
from riskmodel.alerts.window import window_test
from riskmodel.data.frequency import Frequency
from riskmodel.errors import InputError, Problem

CONTROL_OPTIONS = tuple(f.name for f in fields(FarringtonControl))
"""The Farrington control options (R's ``control`` list, snake case)."""

WINDOW_DEFAULTS = {"window": 2, "alpha": 0.005}
"""``farrington-window``: periods summed and the level of the NB test."""
GLR_DEFAULTS = {"c_arl": 6.0, "M": 8}
"""``farrington-glr``: the chart's threshold and window (periods back)."""


def parse_limit54(text: str) -> tuple[int, int]:
    """Command-line text ``"CASES,WEEKS"`` (e.g. ``"5,4"``) -> ``(5, 4)``; InputError otherwise."""
    try:
        a, b = (int(x) for x in str(text).split(","))
    except ValueError:
        raise InputError(Problem(f"--limit54 {text!r} must be CASES,WEEKS (two integers, e.g. 5,4)",
                                 column="--limit54")) from None
    return (a, b)


def farrington_control(preset: str, options: dict[str, Any]) -> FarringtonControl:
    """The control of ``preset`` with the Farrington options among ``options`` (others ignored)."""
    return control_from(preset, **{k: v for k, v in options.items() if k in CONTROL_OPTIONS})


def _farrington(task: DetectTask, ctl: FarringtonControl, window: int = 1) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Farrington on the monitored rows and the ``window - 1`` before them.

    Returns the arrays over those rows (``ext``), the monitored rows and ``ext``.
    """
    y, periods, freq = task.y, task.periods, task.freq
    year = Frequency.of(freq).year_lag
    mon = monitor_rows(periods, task.start, task.end, year * ctl.b + ctl.w)
    pop = task.population if ctl.population_offset else None
    if window < 1:
        raise InputError(Problem(f"window must be >= 1 (got {window})", column="--window"))
    ext = np.arange(max(mon[0] - (window - 1), 0), mon[-1] + 1)
    res = farrington_flexible(y, ext, ctl, freq=year, dates=periods.values, period=freq, population=pop)
    _late_series(res, ext, task.first, periods, ctl.b, ctl.w, year, freq)
    return res, mon, ext


def _preset(task: DetectTask, preset: str) -> DetectorOutput:
    ctl = farrington_control(preset, task.options)
    res, mon, ext = _farrington(task, ctl)
    res = {k: v[len(ext) - len(mon):] for k, v in res.items()}
    return DetectorOutput.from_arrays(res, ctl.as_r(), mon)


def detect_farrington(task: DetectTask) -> DetectorOutput:
    """R's ``farringtonFlexible`` with its defaults (:data:`~riskmodel.alerts.farrington.R_DEFAULT`)."""
    return _preset(task, "farrington")


def detect_farrington_noufaily(task: DetectTask) -> DetectorOutput:
    """Noufaily et al. (2013)'s improved Farrington (:data:`~riskmodel.alerts.farrington.NOUFAILY`)."""
    return _preset(task, "farrington-noufaily")


def detect_farrington_original(task: DetectTask) -> DetectorOutput:
    """The original Farrington et al. (1996) (:data:`~riskmodel.alerts.farrington.ORIGINAL`)."""
    return _preset(task, "farrington-original")


def detect_farrington_window(task: DetectTask) -> DetectorOutput:
    """NB test of the sum of the last ``window`` periods on Farrington's (Noufaily) means (see window.py).

    Options: the Farrington control options except ``alpha``, which is the
    level of the window test (0.005), and ``window`` (2).
    """
    options = task.options
    ctl = farrington_control("farrington-noufaily", {k: v for k, v in options.items() if k != "alpha"})
    win = int(options.get("window", WINDOW_DEFAULTS["window"]))
    res, mon, ext = _farrington(task, ctl, win)
    alpha = float(options.get("alpha", WINDOW_DEFAULTS["alpha"]))
    y = task.y
    pad = win - 1 - (mon[0] - ext[0])  # periods missing before the data start
    Y, MU, PHI = y[ext], res["mu0"], res["phi"]
    if pad > 0:
        Y = np.vstack([np.full((pad, y.shape[1]), np.nan), Y])
        MU = np.vstack([np.full((pad, y.shape[1]), np.nan), MU])
        PHI = np.vstack([np.full((pad, y.shape[1]), np.nan), PHI])
    w = window_test(Y, MU, PHI, win, alpha)
    k0 = len(ext) - len(mon)
    reason = np.asarray(res["reason"][k0:], dtype=object).copy()
    gap = (reason == "") & np.isnan(w["upperbound"])
    reason[gap] = f"no in-control mean for one of the last {win} periods"
    used = {**ctl.as_r(), "alpha": alpha, "window": win}
    return DetectorOutput.from_arrays({**w, "reason": reason}, used, mon)


def detect_farrington_glr(task: DetectTask) -> DetectorOutput:
    """NB GLR chart on Farrington's (Noufaily) in-control means and dispersion.

    Farrington gives, per monitored period, the predicted mean ``mu0`` from
    reweighted reference data (past outbreaks down-weighted, the last 26
    periods left out) and a quasi-Poisson dispersion ``phi``; the GLR then
    accumulates evidence over consecutive periods, which catches outbreaks
    spread over several periods that no single period's bound flags.
    Variance ``phi * mu0`` is an NB with ``alpha = (phi - 1) / mu0``.
    Options: the Farrington control options, ``c_arl`` (6) and ``M`` (8).
    """
    options = task.options
    ctl = farrington_control("farrington-noufaily", options)
    res, mon, ext = _farrington(task, ctl)
    res = {k: v[len(ext) - len(mon):] for k, v in res.items()}
    c_arl = float(options.get("c_arl", GLR_DEFAULTS["c_arl"]))
    M = int(options.get("M", GLR_DEFAULTS["M"]))
    y = task.y
    mu0 = res["mu0"]
    phi = res["phi"]
    valid = np.isfinite(mu0) & (mu0 > 0)
    T, S = y.shape
    MU = np.full((T, S), np.nan)
    AL = np.zeros((T, S))
    MU[mon] = np.where(valid, mu0, 1.0)
    AL[mon] = np.where(valid, np.maximum(phi - 1.0, 0.0) / np.where(valid, mu0, 1.0), 0.0)
    r = glr_nb(np.nan_to_num(y), np.nan_to_num(MU, nan=1.0), AL, mon, c_arl=c_arl, M=M)
    out = dict(res)
    out["alarm"] = r["alarm"] & valid
    out["score"] = np.where(valid, r["score"], np.nan)
    out["upperbound"] = np.where(valid, r["upperbound"], np.nan)
    out["expected"] = np.where(valid, mu0, np.nan)
    return DetectorOutput.from_arrays(out, {**ctl.as_r(), "c_arl": c_arl, "M": M}, mon)


def _late_series(res: dict[str, np.ndarray], mon: np.ndarray, first: np.ndarray, periods: pd.DatetimeIndex,
                 b: int, w: int, f: int, freq: str) -> None:
    """No alarm where a series starts after the first reference window (named reason)."""
    for ki, k in enumerate(mon):
        refs = reference_points(int(k), b, f, periods.values.astype("datetime64[D]"), freq)
        if refs is None:
            continue
        need = refs[-1] - w
        if need < 0:  # farrington_flexible already says the history is too short
            continue
        late = first > need
        if late.any():
            for key in ("expected", "upperbound", "score", "pvalue", "mu0"):
                if key in res:
                    res[key][ki, late] = np.nan
            res["alarm"][ki, late] = False
            for j in np.flatnonzero(late):
                fj = periods[first[j]].date() if first[j] < len(periods) else "never"
                res["reason"][ki, j] = (
                    f"history too short: series starts {fj}, needs data from {periods[need].date()} ({b} years back)"
                )


__all__ = [
    "CONTROL_OPTIONS",
    "GLR_DEFAULTS",
    "WINDOW_DEFAULTS",
    "detect_farrington",
    "detect_farrington_glr",
    "detect_farrington_noufaily",
    "detect_farrington_original",
    "detect_farrington_window",
    "farrington_control",
    "parse_limit54",
]
