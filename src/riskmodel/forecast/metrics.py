"""Forecast accuracy metrics per series (vectorised), from a Forecast and the actuals.

Scale-free errors follow Hyndman & Koehler (2006) and the M5 competition:

* ``mase``  = mean |y - mean| / mean |y_t - y_{t-m}| over the training data;
* ``mase_median`` = the same with the predictive median (quantile 0.5) as the
  point forecast: MASE is an absolute-error score, and the point forecast
  that minimises expected absolute error is the median of the predictive
  distribution, not its mean (Gneiting 2011, "Making and evaluating point
  forecasts", JASA 106:746). For skewed low counts the two differ (a
  Poisson(1.4) has mean 1.4 and median 1). NaN when the forecast has no 0.5
  quantile;
* ``rmsse`` = sqrt(mean (y - mean)^2 / mean (y_t - y_{t-m})^2);

with m the season (12, 52, 7) when the training data are longer than a
season, else m = 1; a series whose scale is 0 (constant history) gets NaN.
``pinball`` is the mean quantile (pinball) loss over the quantiles 0.025,
0.1, 0.5, 0.9 and 0.975 (counts); ``crps`` is twice the mean pinball loss over
the 39-level grid 0.025..0.975 (a quantile approximation of the CRPS,
counts); ``coverage_80``/``coverage_95`` are the shares of actuals inside the
central intervals (0-1); ``bias`` = mean (forecast - actual) (counts; > 0
over-forecasts).
"""

from __future__ import annotations

import numpy as np

from riskmodel.forecast.result import PROBS, Forecast

PINBALL_PROBS = np.array([0.025, 0.1, 0.5, 0.9, 0.975])


def scales(y_train: np.ndarray, season: int) -> tuple[np.ndarray, np.ndarray]:
    """(MAE scale, MSE scale) of each column of ``y_train`` (T, n) for MASE/RMSSE."""
    T = y_train.shape[0]
    m = season if T > season else 1
    d = y_train[m:] - y_train[:-m]
    if d.shape[0] == 0:
        return np.full(y_train.shape[1], np.nan), np.full(y_train.shape[1], np.nan)
    mae = np.abs(d).mean(0)
    mse = (d**2).mean(0)
    return np.where(mae > 0, mae, np.nan), np.where(mse > 0, mse, np.nan)


def pinball(y: np.ndarray, q: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Pinball loss per (h, n, q): y (h, n), q (h, n, q)."""
    diff = y[..., None] - q
    return np.maximum(probs * diff, (probs - 1) * diff)


def _pick(fc: Forecast, probs: np.ndarray) -> np.ndarray | None:
    idx = []
    for p in probs:
        hit = np.flatnonzero(np.isclose(fc.probs, p))
        if not len(hit):
            return None
        idx.append(hit[0])
    return np.array(idx)


def series_metrics(y: np.ndarray, fc: Forecast, y_train: np.ndarray, season: int) -> dict[str, np.ndarray]:
    """Metrics of each series (arrays of length n) for one forecast window.

    Parameters
    ----------
    y : ndarray (h, n)
        Actual counts of the forecast periods.
    fc : Forecast
    y_train : ndarray (T, n)
        The training data (for the MASE and RMSSE scales).
    season : int
    """
    mae_s, mse_s = scales(y_train, season)
    e = fc.mean - y
    out = {
        "mase": np.abs(e).mean(0) / mae_s,
        "rmsse": np.sqrt((e**2).mean(0) / mse_s),
        "bias": e.mean(0),
        "mae": np.abs(e).mean(0),
    }
    im = _pick(fc, np.array([0.5]))
    out["mase_median"] = np.abs(fc.quantiles[:, :, im[0]] - y).mean(0) / mae_s if im is not None else np.full(y.shape[1], np.nan)
    ip = _pick(fc, PINBALL_PROBS)
    out["pinball"] = pinball(y, fc.quantiles[:, :, ip], PINBALL_PROBS).mean(axis=(0, 2)) if ip is not None else np.full(y.shape[1], np.nan)
    out["spinball"] = out["pinball"] / mae_s
    gp = _pick(fc, PROBS)
    out["crps"] = 2 * pinball(y, fc.quantiles[:, :, gp], PROBS).mean(axis=(0, 2)) if gp is not None else np.full(y.shape[1], np.nan)
    for lv in (80, 95):
        try:
            lo, hi = fc.interval(lv)
            out[f"coverage_{lv}"] = ((y >= lo) & (y <= hi)).mean(0)
        except KeyError:
            out[f"coverage_{lv}"] = np.full(y.shape[1], np.nan)
    return out
