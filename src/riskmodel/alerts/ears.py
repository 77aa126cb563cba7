"""EARS C1, C2 and C3 (Hutwagner et al. 2003), as R's ``surveillance::earsC``.

For each monitored day ``k`` and every series at once:

* C1: baseline = the ``baseline`` (7) days before ``k``; upper bound
  ``mean + z * max(sd, minSigma)``, z = the ``1 - alpha`` normal quantile.
* C2: the same with a two-day guard band (days ``k-baseline-2 .. k-3``).
* C3: from the C2 statistics ``C2_j = (y_j - mean_j) / max(sd_j, minSigma)`` of
  the two previous days.

CDC designed the methods for daily counts, but nothing in them depends on the
length of a period: R's ``earsC`` works on the time points of any ``sts``
(weekly or monthly too), and so do :func:`ears_c` and the registered
detectors :func:`detect_ears_c1` (``c2``, ``c3``, :mod:`riskmodel.alerts.base`),
which take daily, weekly and monthly panels (``baseline`` is then in weeks
or months).

Where R gives NA: with ``min_sigma = 0`` a constant baseline has standard
deviation 0 and C3's C2 statistics are 0/0; R's upper bound and alarm are
then NA. Here the alarm is False, the bound NaN and the reason says why
("C3 undefined: ..."), so the period counts as not evaluated.

C3 in the detection table: R's C3 alarm depends only on the C2 statistics of
the two previous periods (``upperbound = y + sd (z - lag terms)``: the
alarm ``y > upperbound`` is "lag terms > z" whatever the count). No count of
the current period is a threshold, so C3 is registered with ``bound=None``;
the table's bound is R's, raised to the expected count where it is below it
(:func:`~riskmodel.alerts.base.bound_not_below_expected`), and ``score`` is
on the count scale like every detector's.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats

from riskmodel.alerts.base import (
    DetectorOutput,
    DetectTask,
    bound_not_below_expected,
    mark_late,
    monitor_rows,
    score_on_count_scale,
)
from riskmodel.errors import InputError, Problem

EARS_METHODS = ("C1", "C2", "C3")
DEFAULT_BASELINE = 7
"""Baseline days (R's earsC default)."""


def default_alpha(method: str) -> float:
    """R's earsC: 0.001 for C1 and C2, 0.025 for C3 (when no alpha is given)."""
    return 0.025 if method == "C3" else 0.001


def _ref_stats(y: np.ndarray, ks: np.ndarray, lag: int, baseline: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd (n-1) of ``y[k-lag-baseline+1 .. k-lag]`` for each k, shape (len(ks), S)."""
    win = sliding_window_view(y, baseline, axis=0)  # (T-baseline+1, S, baseline); win[i] = y[i:i+b]
    start = ks - lag - baseline + 1
    w = win[start]
    return w.mean(axis=2), w.std(axis=2, ddof=1)


def ears_c(
    y: np.ndarray,
    monitor: np.ndarray | None = None,
    method: str = "C1",
    *,
    baseline: int = 7,
    min_sigma: float = 0.0,
    alpha: float | None = None,
) -> dict[str, np.ndarray]:
    """EARS C1/C2/C3 on many series (arrays in, arrays out).

    Parameters
    ----------
    y : ndarray (T, S)
        Counts, rows are days.
    monitor : array of int, optional
        0-based rows to monitor; default as R: from ``baseline`` (C1),
        ``baseline + 2`` (C2) or ``baseline + 4`` (C3) to the end.
    method : {'C1', 'C2', 'C3'}
    baseline : int
        Days in the baseline (>= 3).
    min_sigma : float
        Lower bound of the baseline standard deviation (>= 0).
    alpha : float, optional
        Default: 0.001 (C1, C2), 0.025 (C3).

    Returns
    -------
    dict of ndarray (K, S)
        ``expected`` (baseline mean), ``upperbound``, ``alarm``, ``score``
        (alarm when score > 1) and ``reason``.
    """
    if method not in EARS_METHODS:
        raise InputError(Problem(f"unknown EARS method {method!r}; valid: {', '.join(EARS_METHODS)}"))
    if baseline < 3:
        raise InputError(Problem(f"EARS baseline must be >= 3 periods (got {baseline}); R: 'Minimum baseline to use is 3.'"))
    if min_sigma < 0:
        raise InputError(Problem(f"EARS min_sigma must be >= 0 (got {min_sigma})"))
    alpha = default_alpha(method) if alpha is None else alpha
    if not 0 < alpha < 0.5:
        raise InputError(Problem(f"EARS alpha must be in (0, 0.5) (got {alpha})"))
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    T, S = y.shape
    max_lag = {"C1": baseline, "C2": baseline + 2, "C3": baseline + 4}[method]
    if monitor is None:
        monitor = np.arange(max_lag, T)
    monitor = np.asarray(monitor, dtype=int)
    K = len(monitor)
    z = stats.norm.ppf(1 - alpha)
    ok = monitor - max_lag >= 0
    ks = np.where(ok, monitor, max_lag)  # placeholder rows for the too-early ones
    if T < max_lag + 1:
        nan = np.full((K, S), np.nan)
        reason = np.full((K, S), f"history too short: EARS {method} needs {max_lag} earlier periods", dtype=object)
        return {"expected": nan, "upperbound": nan.copy(), "alarm": np.zeros((K, S), bool), "score": nan.copy(), "reason": reason}
    yk = y[ks]
    with np.errstate(divide="ignore", invalid="ignore"):
        if method in ("C1", "C2"):
            lag = 1 if method == "C1" else 3
            m, sd = _ref_stats(y, ks, lag, baseline)
            sig = np.maximum(sd, min_sigma)
            upper = m + z * sig
            score = (yk - m) / (upper - m)
            expected = m
        else:
            def c2(kk: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
                m_, sd_ = _ref_stats(y, kk, 3, baseline)
                s_ = np.maximum(sd_, min_sigma)
                return (y[kk] - m_) / s_, s_, m_

            c2_2, _, _ = c2(ks - 2)
            c2_1, _, _ = c2(ks - 1)
            _, sig, m = c2(ks)
            lagterms = np.maximum(0.0, c2_2 - 1) + np.maximum(0.0, c2_1 - 1)
            # R: upperbound = y_k + sd_k * (z - lag terms), floored at 0. The alarm
            # y_k > upperbound is then "lag terms > z": R's C3 does not use the
            # current day's C2 (the published C3 adds max(0, C2_k - 1)). Kept for parity.
            upper = np.maximum(0.0, yk + sig * (z - lagterms))
            score = lagterms / z
            expected = m
        alarm = yk > upper
    alarm = np.where(np.isnan(upper) | np.isnan(yk), False, alarm) & ok[:, None]
    reason = np.full((K, S), "", dtype=object)
    reason[~ok, :] = f"history too short: EARS {method} needs {max_lag} earlier periods"
    reason[ok[:, None] & np.isnan(yk)] = "count missing"
    # R: NA (0/0 C2 statistics of a constant baseline with minSigma = 0)
    undefined = ok[:, None] & ~np.isnan(yk) & np.isnan(upper)
    reason[undefined] = (f"{method} undefined: a baseline standard deviation is 0 (constant counts) "
                         "and min_sigma is 0; R gives NA; set min_sigma (e.g. 0.5)")
    bad = ~ok[:, None]
    return {
        "expected": np.where(bad, np.nan, expected),
        "upperbound": np.where(bad, np.nan, upper),
        "alarm": alarm,
        "score": np.where(bad, np.nan, score),
        "reason": reason,
    }


# ---------------------------------------------------------------- the registered detectors
def _ears_detector(task: DetectTask, method: str) -> DetectorOutput:
    """EARS ``method`` on a chunk: from the first day with a full baseline (or ``start``)."""
    opts = task.options
    bl = int(opts.get("baseline", DEFAULT_BASELINE))
    max_lag = {"C1": bl, "C2": bl + 2, "C3": bl + 4}[method]
    mon = monitor_rows(task.periods, task.start, task.end, max_lag)
    min_sigma = float(opts.get("min_sigma", 0.0))
    res = ears_c(task.y, mon, method, baseline=bl, min_sigma=min_sigma, alpha=opts.get("alpha"))
    used = {"method": method, "baseline": bl, "min_sigma": min_sigma,
            "alpha": opts.get("alpha") or default_alpha(method)}
    mark_late(res, mon, task.first, max_lag, f"EARS {method} needs {max_lag} earlier periods")
    # the table's bound is never below the expected count and the score is on the count
    # scale (riskmodel.alerts.base); for C1 and C2 this is R's bound and R's score
    res["upperbound"] = bound_not_below_expected(res["expected"], res["upperbound"])
    res["score"] = score_on_count_scale(task.y[mon], res["expected"], res["upperbound"])
    return DetectorOutput.from_arrays(res, used, mon)


def detect_ears_c1(task: DetectTask) -> DetectorOutput:
    """EARS C1 on a chunk of daily series (:class:`~riskmodel.alerts.base.Detector`)."""
    return _ears_detector(task, "C1")


def detect_ears_c2(task: DetectTask) -> DetectorOutput:
    """EARS C2 on a chunk of daily series (:class:`~riskmodel.alerts.base.Detector`)."""
    return _ears_detector(task, "C2")


def detect_ears_c3(task: DetectTask) -> DetectorOutput:
    """EARS C3 on a chunk of daily series (:class:`~riskmodel.alerts.base.Detector`)."""
    return _ears_detector(task, "C3")
