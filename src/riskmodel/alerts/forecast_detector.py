"""Forecast-based spike detection: one model for forecasting and for warning.

The detector refits a count forecaster from :mod:`riskmodel.forecast`
(default ``nbglm``, the negative-binomial GLM with trend, Fourier seasonality
and holidays) at rolling origins, every ``refit`` periods, on the history
before the origin minus a ``gap`` (so that an outbreak under way does not
raise its own baseline), and forecasts the next ``gap + refit`` periods. The
upper bound of period ``t`` is the ``1 - alpha`` quantile of the forecast's
predictive distribution; an alarm when the count exceeds it.

With ``model='own'``, a model of our own is used instead: a log-linear Poisson GLM with harmonics (and
weekdays for daily data) fitted to all series at once, with a
negative-binomial dispersion by moments, and the NB quantile as the bound.

:func:`forecast_detect` works on arrays; :func:`detect_forecast` is the
registered detector (:mod:`riskmodel.alerts.base`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from riskmodel.alerts.base import (
    DAYS_PER_PERIOD,
    DAYS_PER_YEAR,
    FORECAST_FLOOR,
    HARMONIC_PERIOD,
    DetectorOutput,
    DetectTask,
    check_floor,
    expected_floor,
    mark_late,
    monitor_rows,
    score_on_count_scale,
)
from riskmodel.alerts.glrnb import fit_poisson_design, harmonic_design, moment_alpha
from riskmodel.data.frequency import Frequency
from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError, Problem
from riskmodel.forecast.registry import make_model

DEFAULT_REFIT = {"D": 28, "W": 4, "M": 1}
DEFAULT_GAP = {"D": 7, "W": 2, "M": 0}
DEFAULT_MODEL = "nbglm"
DEFAULT_ALPHA = 0.01


def forecast_detect(
    freq: str,
    y: np.ndarray,
    periods: pd.DatetimeIndex,
    series: list[tuple[str, str]],
    mon: np.ndarray,
    *,
    model: str = DEFAULT_MODEL,
    alpha: float = DEFAULT_ALPHA,
    refit: int | None = None,
    gap: int | None = None,
    floor: float = FORECAST_FLOOR,
    progress: Callable[[int, int], None] | None = None,
    **params: Any,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Run the forecast-based detector on arrays.

    Parameters
    ----------
    freq : {'D', 'W', 'M'}
    y : ndarray (T, S)
        Counts, NaN before a series starts.
    periods : DatetimeIndex (T,)
    series : list of (area_id, category)
    mon : array of int (K,)
        Rows monitored.
    model : str
        A :mod:`riskmodel.forecast` model name, or ``'own'``.
    alpha : float
        The bound is the ``1 - alpha`` quantile (0 < alpha < 0.5).
    refit, gap : int, optional
        Refit every ``refit`` periods, training on the history ``gap``
        periods before the block (defaults :data:`DEFAULT_REFIT`, :data:`DEFAULT_GAP`).
    floor : float
        Expected counts are at least ``floor`` times the series' long-run
        rate over the training rows of the block
        (:func:`~riskmodel.alerts.base.expected_floor`; 0: no floor). Where
        the floor lifts the model's mean, the bound is at least the Poisson
        ``1 - alpha`` quantile at the floor (the model's own predictive
        distribution is only known through its quantiles), and never below
        the expected count.
    progress : callable, optional
        ``progress(done, total)`` before each refit (``done`` refits of
        ``total``); it never changes the results.
    **params
        Constructor parameters of the forecast model.

    Returns
    -------
    res : dict of ndarray (K, S)
        ``expected, upperbound, alarm, score, pvalue, reason``.
    used : dict
        The options used.
    """
    if not 0 < float(alpha) < 0.5:
        raise InputError(Problem(f"forecast alpha must be in (0, 0.5) (got {alpha})", column="--alpha"))
    refit = int(refit or DEFAULT_REFIT[freq])
    gap = int(DEFAULT_GAP[freq] if gap is None else gap)
    if refit < 1 or gap < 0:
        raise InputError(Problem("forecast refit must be >= 1 and gap >= 0"))
    floor = check_floor(floor)
    K, S = len(mon), y.shape[1]
    expected = np.full((K, S), np.nan)
    upper = np.full((K, S), np.nan)
    used_model = model
    p_hi = round(1.0 - float(alpha), 6)
    level = 100.0 * (1.0 - 2.0 * float(alpha))
    seen = ~np.isnan(y)
    first = np.where(seen.any(axis=0), seen.argmax(axis=0), len(periods))
    yz = np.nan_to_num(y)
    for b0 in range(0, K, refit):
        if progress is not None:
            progress(b0 // refit, -(-K // refit))  # refits done, of all (ceil)
        block = mon[b0 : b0 + refit]
        origin = int(block[0]) - gap  # rows < origin are the training data
        if origin < 2:
            continue
        h = int(block[-1]) - origin + 1
        rows = block - origin  # positions in the forecast horizon
        if used_model == "own":
            mu, q = _own_forecast(yz[:origin], periods, origin, h, freq, p_hi)
        else:
            wp = WidePanel(y=yz[:origin], periods=periods[:origin], series=series, freq=freq,
                           n_obs=np.clip(origin - first, 0, None))
            m = make_model(model, **params)
            m.fit(wp)
            fc = m.predict(h, levels=[level])
            mu, q = fc.mean, fc.quantile(p_hi)
        fl = expected_floor(y[:origin], floor)[None, :]
        mu_b, q_b = mu[rows], q[rows]
        lifted = mu_b < fl
        if lifted.any():
            # sparse series: the model's mean (3e-6) and bound (0) are lifted to the floor
            q_b = np.where(lifted, np.maximum(q_b, stats.poisson.ppf(p_hi, np.broadcast_to(fl, mu_b.shape))), q_b)
            mu_b = np.maximum(mu_b, fl)
        expected[b0 : b0 + len(block)] = mu_b
        upper[b0 : b0 + len(block)] = q_b
    # the bound is a quantile of a count distribution, so a whole number: where it fell below the
    # (floored) expected count, the smallest count above expected is the bound (not expected itself,
    # which made the score's denominator 0 and the score -inf for every quiet period of a sparse series)
    upper = np.where(np.isfinite(expected) & np.isfinite(upper), np.maximum(upper, np.ceil(expected)), upper)
    yk = y[mon]
    score = score_on_count_scale(yk, expected, upper)
    alarm = np.nan_to_num(yk) > np.where(np.isnan(upper), np.inf, upper)
    res = {
        "expected": expected, "upperbound": upper, "alarm": alarm, "score": score,
        "pvalue": np.full((K, S), np.nan), "reason": np.full((K, S), "", dtype=object),
    }
    res["reason"][np.isnan(upper)] = "history too short for the forecast model"
    return res, {"model": used_model, "alpha": float(alpha), "refit": refit, "gap": gap, "floor": floor, **params}


def _own_forecast(y: np.ndarray, periods: pd.DatetimeIndex, origin: int, h: int, freq: str,
                  p_hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Fallback: harmonic Poisson GLM on all series at once, NB (moments) quantile."""
    season = HARMONIC_PERIOD[freq]
    step = DAYS_PER_PERIOD[freq]
    t = np.arange(origin + h, dtype=float) * step / (DAYS_PER_YEAR / season)
    X = harmonic_design(t, season, harmonics=2, trend=True)
    if freq == "D":
        dow = (periods[0].dayofweek + np.arange(origin + h)) % 7
        X = np.column_stack([X] + [(dow == d).astype(float) for d in range(1, 7)])
    beta, _ = fit_poisson_design(y.T, X[:origin])
    mu_all = np.exp(np.clip(X @ beta.T, -30, 30))
    a = moment_alpha(y.T, mu_all[:origin].T)
    mu = mu_all[origin:]
    nb = a > 0
    q = np.where(
        nb[None, :],
        stats.nbinom.ppf(p_hi, 1.0 / np.where(nb, a, 1.0)[None, :], 1.0 / (1.0 + np.where(nb, a, 1.0)[None, :] * mu)),
        stats.poisson.ppf(p_hi, mu),
    )
    return mu, q


# ---------------------------------------------------------------- the registered detector
def parse_params(text: str) -> dict[str, Any]:
    """Command-line text of a JSON object (``'{"harmonics": 2}'``) -> dict; InputError otherwise."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        value = exc
    if not isinstance(value, dict):
        raise InputError(Problem(f"--model-params {text!r} must be a JSON object, e.g. '{{\"harmonics\": 2}}'",
                                 column="--model-params"))
    return value


def detect_forecast(task: DetectTask) -> DetectorOutput:
    """The forecast-based detector on a chunk (:class:`~riskmodel.alerts.base.Detector`).

    Options: ``model`` (``nbglm``), ``alpha`` (0.01), ``refit``, ``gap``
    (per frequency: :data:`DEFAULT_REFIT`, :data:`DEFAULT_GAP`), ``floor``
    (1, see :func:`forecast_detect`) and ``params`` (a dict of the forecast model's constructor parameters). By
    default monitoring starts after two years.
    """
    year = Frequency.of(task.freq).year_lag
    mon = monitor_rows(task.periods, task.start, task.end, year * 2)
    opts = {k: v for k, v in task.options.items() if k != "params"}
    params = dict(task.options.get("params") or {})
    clash = sorted(set(params) & {"model", "alpha", "refit", "gap", "floor"})
    if clash:
        raise InputError(Problem(f"forecast params may not set {', '.join(clash)}: give them as options",
                                 column="--model-params"))
    res, used = forecast_detect(task.freq, task.y, task.periods, task.series, mon, **opts, **params,
                                progress=task.progress)
    mark_late(res, mon, task.first, year, "the forecast model needs one year of history")
    return DetectorOutput.from_arrays(res, used, mon)
