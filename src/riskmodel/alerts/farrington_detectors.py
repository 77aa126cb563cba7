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

What the detection table holds, beyond R's output (R's numbers themselves are
unchanged: :func:`~riskmodel.alerts.farrington.farrington_flexible` matches R
alarm for alarm):

* where ``limit54`` blocks the alarm of a fitted period, R blanks
  ``expected`` and ``upperbound``; the table keeps them (the model's mean and
  bound) with the reason ``limit54: ...``, so that a user sees how far the
  count was from the bound;
* ``score`` is on the count scale, ``(count - expected) / (upperbound -
  expected)`` (R's score for the NB thresholds is on the link scale);
* the bound is never below the expected count (R's NB quantile can be 0
  under an expected count of 0.02);
* a period whose fit diverged (expected count +inf) is not evaluated, with
  that reason;
* ``farrington-glr`` and ``farrington-window`` apply ``limit54`` (they
  ignored it) and floor the in-control means at the series' long-run rate
  (:func:`~riskmodel.alerts.base.expected_floor`);
* ``hints``: for periods without enough history, how many a smaller ``b``
  would evaluate (``riskmodel detect`` prints them).
"""

from __future__ import annotations

from dataclasses import fields
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.alerts.base import (
    DEFAULT_FLOOR,
    DetectorOutput,
    DetectTask,
    bound_not_below_expected,
    check_floor,
    expected_floor,
    monitor_rows,
    score_on_count_scale,
)
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
"""``farrington-window``: periods summed and the level of the NB test.

Why 0.005 and not Farrington's 0.05: the window test was calibrated on the
Noufaily-style simulation (benchmarks/alerts/results.md) at a goal of 0.5%
false alarms per series-period, which its NB test of a 2-period sum reaches
at alpha = 0.005; at 0.05 it would alarm in about 5% of spike-free periods.
The help of ``--alpha`` says 0.005 for this method (taken from this value)."""
GLR_DEFAULTS = {"c_arl": 6.0, "M": 8}
"""``farrington-glr``: the chart's threshold and window (periods back)."""

LIMIT54_REASON = "limit54: fewer than {0} cases in the last {1} periods"


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


@lru_cache(maxsize=64)
def _need_rows(dates: tuple[np.datetime64, ...], freq: str, b: int, w: int) -> np.ndarray:
    """Per row k: the oldest row the reference windows of ``b`` years use (``refs[-1] - w``).

    -2 where a reference date is not in the data or the window starts more
    than one row before the data (R's "history too short"); -1 where it
    starts one row before (R drops that row). Cached: the chunks of a run
    share the dates.
    """
    d = np.asarray(dates, dtype="datetime64[D]")
    year = Frequency.of(freq).year_lag
    out = np.full(len(d), -2, dtype=int)
    for k in range(max(year * b - 2, 0), len(d)):
        refs = reference_points(k, b, year, d, freq)
        if refs is not None and refs[-1] - w >= -1:
            out[k] = int(refs[-1]) - w
    return out


def _evaluable(need: np.ndarray, first: np.ndarray) -> np.ndarray:
    """(len(need), S): the reference windows exist and each series has data from their start."""
    need = need[:, None]
    return (need >= -1) & ((need < 0) | (first[None, :] <= need))


def _check_history(ctl: FarringtonControl, year: int, periods: pd.DatetimeIndex, start: Any,
                   given: dict[str, Any]) -> None:
    """Refuse settings that leave nothing to monitor or fit, naming the option and the largest value allowed (exit 2).

    ``past_weeks_not_included`` that leaves out every reference period (a huge
    one would also build huge index ranges), and, when monitoring starts by
    default, a ``b`` that needs more history than the data hold.
    """
    pw = ctl.past_weeks_not_included
    top = year * int(ctl.b) + int(ctl.w) - 1
    if pw is not None and int(pw) > top:
        whose = "" if "past_weeks_not_included" in given else " (the method's default; set it to a smaller value)"
        raise InputError(Problem(
            f"--past-weeks-not-included {pw}{whose} leaves out every reference period: with b={ctl.b} and "
            f"w={ctl.w} the oldest reference period is {year * ctl.b + ctl.w} periods back, so the largest "
            f"value allowed is {top}", column="--past-weeks-not-included"))
    T = len(periods)
    span = f"the data have {T} periods ({periods[0].date()} to {periods[-1].date()})"
    if int(ctl.w) > T - 1 - year:
        raise InputError(Problem(
            f"--w {ctl.w}: the reference windows (+-w periods around the same period {ctl.b} year(s) back) "
            f"reach before the data; {span}; the largest value allowed is {max(T - 1 - year, 0)}", column="--w"))
    need = year * int(ctl.b) + int(ctl.w)
    if start is None and need > T - 1:
        # default monitoring starts after b years and w periods: there is no such period
        # (with --start given, the periods are reported "history too short" instead)
        b_max = (T - 1 - int(ctl.w)) // year
        fix = f"the largest value the data allow is {b_max}" if b_max >= 1 else "the data are shorter than one year"
        raise InputError(Problem(
            f"--b {ctl.b}: Farrington needs {ctl.b} year(s) and w={ctl.w} periods ({need} periods) of history "
            f"before the first period it monitors, and {span}; {fix}", column="--b"))


def _farrington(task: DetectTask, ctl: FarringtonControl, window: int = 1) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Farrington on the monitored rows and the ``window - 1`` before them.

    Returns the arrays over those rows (``ext``), the monitored rows and ``ext``.
    """
    y, periods, freq = task.y, task.periods, task.freq
    year = Frequency.of(freq).year_lag
    _check_history(ctl, year, periods, task.start, task.options)
    mon = monitor_rows(periods, task.start, task.end, year * ctl.b + ctl.w)
    pop = task.population if ctl.population_offset else None
    if window < 1:
        raise InputError(Problem(f"window must be >= 1 (got {window})", column="--window"))
    ext = np.arange(max(mon[0] - (window - 1), 0), mon[-1] + 1)
    res = farrington_flexible(y, ext, ctl, freq=year, dates=periods.values, period=freq, population=pop)
    _late_series(res, ext, task.first, periods, ctl.b, ctl.w, freq)
    return res, mon, ext


def _dates(periods: pd.DatetimeIndex) -> tuple[np.datetime64, ...]:
    return tuple(periods.values.astype("datetime64[D]"))


def history_hints(task: DetectTask, ctl: FarringtonControl, mon: np.ndarray, reason: np.ndarray) -> dict[str, int]:
    """Settings of ``b`` that would evaluate series-periods now short of history, and how many.

    For each ``b' < b``: the monitored series-periods whose reason is "history
    too short" that would have their reference windows with ``b'`` years,
    plus, when monitoring starts by default (no ``start``), the series-periods
    before the first monitored one that ``b'`` would monitor and could
    evaluate. Computed with the rules of the detector (reference dates as R
    finds them, each series' first row), not estimated.
    """
    periods, freq = task.periods, task.freq
    year = Frequency.of(freq).year_lag
    dates = _dates(periods)
    short = np.char.startswith(reason.astype(str), "history too short")
    hints: dict[str, int] = {}
    for b2 in range(min(int(ctl.b) - 1, len(periods) // year), 0, -1):
        need = _need_rows(dates, freq, b2, int(ctl.w))
        n = int((short & _evaluable(need[mon], task.first)).sum())
        if task.start is None:
            extra = np.arange(year * b2 + int(ctl.w), mon[0])
            if extra.size:
                n += int(_evaluable(need[extra], task.first).sum())
        if n:
            hints[f"--b {b2}"] = n
    return hints


def _table_arrays(res: dict[str, np.ndarray], y_k: np.ndarray, limit54: tuple[int, int]) -> dict[str, np.ndarray]:
    """R's Farrington arrays -> the detection table's (module notes): bounds kept under limit54,
    bound >= expected, the count-scale score, diverged fits not evaluated."""
    out = dict(res)
    reason = np.asarray(res["reason"], dtype=object).copy()
    mu0, upper = res["mu0"], res["upper_all"]
    diverged = (reason == "") & (~np.isfinite(mu0) | ~np.isfinite(upper)) & ~np.isnan(y_k)
    reason[diverged] = "model diverged: no finite expected count or bound"
    keep = np.isfinite(mu0) & np.isfinite(upper)
    expected = np.where(keep, mu0, np.nan)
    upper = bound_not_below_expected(expected, np.where(keep, upper, np.nan))
    out["expected"], out["upperbound"] = expected, upper
    out["score"] = score_on_count_scale(y_k, expected, upper)
    # R's alarm (y > its bound, y != 0, limit54); where R's NB bound was below the expected
    # count and the count lies between the two, the lifted bound holds it back
    out["alarm"] = res["alarm"] & (reason == "") & (np.nan_to_num(y_k) > np.where(np.isnan(upper), np.inf, upper))
    out["reason"] = reason
    return out


def _preset(task: DetectTask, preset: str) -> DetectorOutput:
    ctl = farrington_control(preset, task.options)
    res, mon, ext = _farrington(task, ctl)
    res = {k: v[len(ext) - len(mon):] for k, v in res.items()}
    out = _table_arrays(res, task.y[mon], ctl.limit54)
    return DetectorOutput.from_arrays(out, ctl.as_r(), mon, history_hints(task, ctl, mon, out["reason"]))


def detect_farrington(task: DetectTask) -> DetectorOutput:
    """R's ``farringtonFlexible`` with its defaults (:data:`~riskmodel.alerts.farrington.R_DEFAULT`)."""
    return _preset(task, "farrington")


def detect_farrington_noufaily(task: DetectTask) -> DetectorOutput:
    """Noufaily et al. (2013)'s improved Farrington (:data:`~riskmodel.alerts.farrington.NOUFAILY`)."""
    return _preset(task, "farrington-noufaily")


def detect_farrington_original(task: DetectTask) -> DetectorOutput:
    """The original Farrington et al. (1996) (:data:`~riskmodel.alerts.farrington.ORIGINAL`)."""
    return _preset(task, "farrington-original")


def _floored_means(task: DetectTask, ctl: FarringtonControl, res: dict[str, np.ndarray], ext: np.ndarray,
                   floor: float) -> np.ndarray:
    """Farrington's ``mu0`` on the rows ``ext``, floored at each series' long-run rate over the
    ``b`` years (+ ``w`` periods) before the period (:func:`~riskmodel.alerts.base.expected_floor`)."""
    y = task.y
    year = Frequency.of(task.freq).year_lag
    back = year * int(ctl.b) + int(ctl.w)
    fl = np.vstack([expected_floor(y[max(int(k) - back, 0):int(k)], floor) for k in ext])
    mu0 = res["mu0"]
    return np.where(np.isfinite(mu0), np.maximum(mu0, fl), mu0)


def _limit54_block(y: np.ndarray, rows: np.ndarray, limit54: tuple[int, int]) -> np.ndarray:
    """(K, S) True where fewer than ``limit54[0]`` cases in the ``limit54[1]`` periods up to each row
    (or the window reaches before the data or holds a missing count), as R's rule."""
    cases, span = int(limit54[0]), int(limit54[1])
    out = np.zeros((len(rows), y.shape[1]), dtype=bool)
    for i, k in enumerate(rows):
        lo = int(k) - span + 1
        if lo < 0:
            out[i] = True
            continue
        win = y[lo:int(k) + 1]
        out[i] = (np.nansum(win, axis=0) < cases) | np.isnan(win).any(axis=0)
    return out


def detect_farrington_window(task: DetectTask) -> DetectorOutput:
    """NB test of the sum of the last ``window`` periods on Farrington's (Noufaily) means (see window.py).

    Options: the Farrington control options except ``alpha``, which is the
    level of the window test (:data:`WINDOW_DEFAULTS`: 0.005, see there why),
    ``window`` (2) and ``floor`` (1). ``limit54`` applies as in Farrington:
    no alarm unless ``limit54[0]`` cases in the last ``limit54[1]`` periods
    (the bound is still given, with the reason). In-control means are
    floored at the series' long-run rate (``floor`` times it).
    """
    options = task.options
    ctl = farrington_control("farrington-noufaily", {k: v for k, v in options.items() if k != "alpha"})
    win = int(options.get("window", WINDOW_DEFAULTS["window"]))
    floor = check_floor(options.get("floor", DEFAULT_FLOOR))
    res, mon, ext = _farrington(task, ctl, win)
    alpha = float(options.get("alpha", WINDOW_DEFAULTS["alpha"]))
    y = task.y
    pad = win - 1 - (mon[0] - ext[0])  # periods missing before the data start
    Y, MU, PHI = y[ext], _floored_means(task, ctl, res, ext, floor), res["phi"]
    if pad > 0:
        Y = np.vstack([np.full((pad, y.shape[1]), np.nan), Y])
        MU = np.vstack([np.full((pad, y.shape[1]), np.nan), MU])
        PHI = np.vstack([np.full((pad, y.shape[1]), np.nan), PHI])
    w = window_test(Y, MU, PHI, win, alpha)
    k0 = len(ext) - len(mon)
    reason = np.asarray(res["reason"][k0:], dtype=object).copy()
    # farrington_flexible's limit54 reason is about the per-period rule; the window
    # test applies the same rule to its own alarm below
    reason[np.char.startswith(reason.astype(str), "limit54")] = ""
    gap = (reason == "") & np.isnan(w["upperbound"])
    reason[gap] = f"no in-control mean for one of the last {win} periods"
    blocked = (reason == "") & _limit54_block(y, mon, ctl.limit54)
    reason[blocked] = LIMIT54_REASON.format(*ctl.limit54)
    y_k = y[mon]
    upper = bound_not_below_expected(w["expected"], w["upperbound"])
    alarm = w["alarm"] & (reason == "") & (np.nan_to_num(y_k) > np.where(np.isnan(upper), np.inf, upper))
    out = {**w, "upperbound": upper, "alarm": alarm, "reason": reason,
           "score": score_on_count_scale(y_k, w["expected"], upper)}
    used = {**ctl.as_r(), "alpha": alpha, "window": win, "floor": floor}
    return DetectorOutput.from_arrays(out, used, mon, history_hints(task, ctl, mon, reason))


def detect_farrington_glr(task: DetectTask) -> DetectorOutput:
    """NB GLR chart on Farrington's (Noufaily) in-control means and dispersion.

    Farrington gives, per monitored period, the predicted mean ``mu0`` from
    reweighted reference data (past outbreaks down-weighted, the last 26
    periods left out) and a quasi-Poisson dispersion ``phi``; the GLR then
    accumulates evidence over consecutive periods, which catches outbreaks
    spread over several periods that no single period's bound flags.
    Variance ``phi * mu0`` is an NB with ``alpha = (phi - 1) / mu0``.
    Options: the Farrington control options, ``c_arl`` (6), ``M`` (8) and
    ``floor`` (1: ``mu0`` floored at the series' long-run rate). ``limit54``
    holds back the chart's alarms as Farrington's (the chart itself runs on,
    without restarting where an alarm was held back). ``upperbound`` is the
    smallest count that would reach ``c_arl`` (``bound="at"``); ``score``
    is on the count scale.
    """
    options = task.options
    ctl = farrington_control("farrington-noufaily", options)
    floor = check_floor(options.get("floor", DEFAULT_FLOOR))
    res, mon, ext = _farrington(task, ctl)
    mu0 = _floored_means(task, ctl, res, ext, floor)
    res = {k: v[len(ext) - len(mon):] for k, v in res.items()}
    mu0 = mu0[len(ext) - len(mon):]
    c_arl = float(options.get("c_arl", GLR_DEFAULTS["c_arl"]))
    M = int(options.get("M", GLR_DEFAULTS["M"]))
    y = task.y
    phi = res["phi"]
    valid = np.isfinite(mu0) & (mu0 > 0) & np.isfinite(phi)
    T, S = y.shape
    MU = np.full((T, S), np.nan)
    AL = np.zeros((T, S))
    MU[mon] = np.where(valid, mu0, 1.0)
    AL[mon] = np.where(valid, np.maximum(phi - 1.0, 0.0) / np.where(valid, mu0, 1.0), 0.0)
    r = glr_nb(np.nan_to_num(y), np.nan_to_num(MU, nan=1.0), AL, mon, c_arl=c_arl, M=M)
    reason = np.asarray(res["reason"], dtype=object).copy()
    reason[np.char.startswith(reason.astype(str), "limit54")] = ""
    reason[(reason == "") & ~valid & ~np.isnan(y[mon])] = "model diverged: no finite expected count"
    blocked = (reason == "") & _limit54_block(y, mon, ctl.limit54)
    reason[blocked] = LIMIT54_REASON.format(*ctl.limit54)
    expected = np.where(valid, mu0, np.nan)
    upper = bound_not_below_expected(expected, np.where(valid, r["upperbound"], np.nan))
    y_k = y[mon]
    out = dict(res)
    out["alarm"] = r["alarm"] & valid & (reason == "")
    out["upperbound"] = upper
    out["expected"] = expected
    out["score"] = score_on_count_scale(y_k, expected, upper)
    out["reason"] = reason
    used = {**ctl.as_r(), "c_arl": c_arl, "M": M, "floor": floor}
    return DetectorOutput.from_arrays(out, used, mon, history_hints(task, ctl, mon, reason))


def _late_series(res: dict[str, np.ndarray], mon: np.ndarray, first: np.ndarray, periods: pd.DatetimeIndex,
                 b: int, w: int, freq: str) -> None:
    """No alarm where a series starts after the first reference window (named reason)."""
    need_all = _need_rows(_dates(periods), freq, int(b), int(w))
    for ki, k in enumerate(mon):
        need = int(need_all[k])
        if need < 0:  # farrington_flexible already says the history is too short
            continue
        late = first > need
        if late.any():
            for key in ("expected", "upperbound", "score", "pvalue", "mu0", "upper_all"):
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
    "history_hints",
    "parse_limit54",
]
