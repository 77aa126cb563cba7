"""The standard Theta method (``theta``), as statsforecast's ``Theta`` fits it, with count intervals.

The method (Assimakopoulos and Nikolopoulos 2000; Hyndman and Billah 2003:
simple exponential smoothing with drift equal to half the slope of the
linear trend) in the state-space form of Fiorucci et al. (2016), "standard
theta model" (STM, theta = 2), exactly as statsforecast 2.1's ``Theta``
computes it:

* seasonality: when the season ``m`` (12 months, 52 weeks, 7 days) is at
  least 4, the series spans two seasons and its lag-``m`` autocorrelation is
  significant (``|r_m| > 1.645 sqrt((1 + 2 sum_{k<m} r_k^2) / n)``), the series
  is divided by the multiplicative seasonal indices of statsmodels'
  classical ``seasonal_decompose`` (additive when the series has a zero or
  an index is below 0.01), and the forecasts are re-seasonalised with the
  last season of indices;
* the deseasonalised series ``y_1..y_n`` gives the trend line's
  coefficients ``B = 6 (2 mean(t y) - (n + 1) mean(y)) / (n^2 - 1)`` and
  ``A = mean(y) - (n + 1) B / 2``; the one-step forecast at period ``i``
  (0-based) is ``mu_i = l_{i-1} + (A (1 - a)^i + B (1 - (1 - a)^{i+1}) / a) / 2``
  and the level ``l_i = a y_i + (1 - a) l_{i-1}``, ``l_{-1}`` the initial
  level; forecasts continue the recursion with ``y`` = ``mu``;
* the smoothing weight ``a`` (in [0.1, 0.99]) and the initial level
  minimise the sum of squared one-step errors from the fourth period on.

statsforecast finds the two parameters with Nelder-Mead, series by
series; here the errors are linear in the initial level, which is solved in
closed form for every weight, and the weight is found on a grid of 90
values then refined on finer grids, all series of one length at once
(numpy over series and candidate weights). That is why the numerics are our own: one vectorised
fit serves thousands of series, and it reaches the true minimum (the tests
check, on 36 simulated series against statsforecast, that with
statsforecast's parameters the forecasts agree to 1e-9, and that the
objective here is never worse than statsforecast's).

Predictive distribution: the negative binomial (Poisson when not
over-dispersed) with the point forecast (clipped at 0) as mean and the
variance ``s^2 (1 + (k - 1) a^2)`` at ``k`` periods ahead (the SES forecast
variance), ``s^2`` the variance of the in-sample one-step errors from the
fourth period on, on the counts' scale
(:func:`~riskmodel.forecast.distributions.nb_quantiles`).
"""

from __future__ import annotations

import warnings

import numpy as np

from riskmodel.data.wide import WidePanel
from riskmodel.forecast.base import CountForecaster
from riskmodel.forecast.distributions import nb_quantiles

ALPHA_BOUNDS = (0.1, 0.99)
"""statsforecast's bounds of the smoothing weight."""

BURN_IN = 3
"""One-step errors of the first periods left out of the objective and the error variance (statsforecast's)."""


def trend_coefficients(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The linear trend ``A + B t`` (t = 1..n) fitted by least squares to every column of ``y`` (n, k)."""
    n = y.shape[0]
    t = np.arange(1, n + 1, dtype=float)[:, None]
    b = 6 * (2 * (t * y).mean(0) - (1 + n) * y.mean(0)) / (n**2 - 1)
    a = y.mean(0) - (n + 1) * b / 2
    return a, b


def _drift(i: np.ndarray | int, alpha: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The drift term of the one-step forecast at period ``i``: ``(A (1-a)^i + B (1 - (1-a)^(i+1)) / a) / 2``."""
    q = 1 - alpha
    return 0.5 * (a * q**i + b * (1 - q ** (np.asarray(i) + 1)) / alpha)


def _sums(y: np.ndarray, alpha: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The best initial level and the sum of squared one-step errors from period BURN_IN on, per weight.

    The one-step error at period ``i >= 1`` is ``e_i = r_i - g_i l0``: ``l0`` the
    initial level, ``g_i = (1 - a)^i``, ``r_i = y_i - S_{i-1} - drift_i`` with
    ``S`` simple exponential smoothing started at 0 (so that
    ``l_{i-1} = S_{i-1} + (1 - a)^i l0``). The sums of ``r^2``, ``r g`` and
    ``g^2`` are accumulated over periods, so that the best ``l0`` is their
    least-squares ratio without storing the errors.

    Parameters
    ----------
    y : ndarray (n, k)
    alpha : ndarray (k, c)
        ``c`` candidate weights per series.
    a, b : ndarray (k,)
        The trend line's coefficients.

    Returns
    -------
    (l0, sse), each (k, c).
    """
    n = y.shape[0]
    q = 1 - alpha
    aa, bb = a[:, None], b[:, None]
    s = alpha * y[0][:, None]
    qi = q.copy()  # (1 - a)^i at period i
    srr = np.zeros_like(alpha)
    srg = np.zeros_like(alpha)
    sgg = np.zeros_like(alpha)
    for i in range(1, n):
        qn = qi * q  # (1 - a)^(i + 1)
        yi = y[i][:, None]
        if i >= BURN_IN:
            r = yi - s - 0.5 * (aa * qi + bb * (1 - qn) / alpha)
            srr += r * r
            srg += r * qi
            sgg += qi * qi
        s = alpha * yi + q * s
        qi = qn
    l0 = np.where(sgg > 0, srg / np.where(sgg > 0, sgg, 1.0), 0.0)
    return l0, np.maximum(srr - l0 * srg, 0.0)


def fit_stm(y: np.ndarray, grid: int = 90, stages: int = 6, points: int = 21) -> dict[str, np.ndarray]:
    """Fit the standard theta model to every column of ``y`` (n, k), n >= 5 (see module notes).

    The weight is chosen on a grid of ``grid`` values over :data:`ALPHA_BOUNDS`,
    then ``stages`` times on ``points`` values across the two grid cells around
    the best (each stage's cell a tenth of the last: 1e-8 after six).

    Returns
    -------
    dict with ``alpha``, ``level0`` (initial level), ``A``, ``B`` (k,), ``mse``
    (the statsforecast objective: squared errors from the 4th period on over
    mean |y|), ``level`` (the last level, k), ``fitted`` (n, k: one-step
    forecasts, the first the initial state's).
    """
    y = np.asarray(y, dtype=float)
    n, k = y.shape
    a, b = trend_coefficients(y)
    lo, hi = ALPHA_BOUNDS
    cand = np.broadcast_to(np.linspace(lo, hi, grid), (k, grid)).copy()
    step = (hi - lo) / (grid - 1)
    _, sse = _sums(y, cand, a, b)
    best = cand[np.arange(k), np.argmin(sse, axis=1)]
    best_sse = sse.min(axis=1)
    for _ in range(stages):
        cand = np.clip(best[:, None] + np.linspace(-step, step, points)[None, :], lo, hi)
        _, sse = _sums(y, cand, a, b)
        i = np.argmin(sse, axis=1)
        better = sse[np.arange(k), i] < best_sse
        best = np.where(better, cand[np.arange(k), i], best)
        best_sse = np.where(better, sse[np.arange(k), i], best_sse)
        step = step / 10
    alpha = best
    l0, sse = _sums(y, alpha[:, None], a, b)
    l0, sse = l0[:, 0], sse[:, 0]
    q = 1 - alpha
    fitted = np.empty((n, k))
    level = l0
    for i in range(n):  # one-step forecasts, then the level update
        fitted[i] = level + _drift(i, alpha, a, b)
        level = alpha * y[i] + q * level
    scale = np.maximum(np.abs(y).mean(0), 1e-10)
    return {"alpha": alpha, "level0": l0, "A": a, "B": b, "mse": sse / scale, "level": level, "fitted": fitted}


def forecast_stm(fit: dict[str, np.ndarray], n: int, h: int) -> np.ndarray:
    """Point forecasts (h, k) of a :func:`fit_stm` result fitted on ``n`` periods."""
    alpha, a, b, lev = fit["alpha"], fit["A"], fit["B"], fit["level"].copy()
    out = np.empty((h, len(alpha)))
    for k in range(h):
        mu = lev + _drift(n + k, alpha, a, b)
        out[k] = mu
        lev = alpha * mu + (1 - alpha) * lev
    return out


def seasonal_test(y: np.ndarray, m: int) -> np.ndarray:
    """statsforecast's test for a seasonal decomposition, per column of ``y`` (n, k): ``m >= 4``, two seasons,
    a significant lag-``m`` autocorrelation (``|r_m| > 1.645 sqrt((1 + 2 sum_{k<m} r_k^2) / n)``).

    The autocorrelations are statsmodels' ``acf(fft=False)`` (``sum(d_t d_{t+k}) / sum(d_t^2)``, ``d``
    the deviations from the mean), computed here for all columns at once.
    """
    from scipy.stats import norm

    y = np.asarray(y, dtype=float)
    n, k = y.shape
    if m < 4 or n < 2 * m:
        return np.zeros(k, dtype=bool)
    d = y - y.mean(0)
    c0 = (d * d).sum(0)
    ok = c0 > 0
    c0 = np.where(ok, c0, 1.0)
    r = np.array([(d[: n - lag] * d[lag:]).sum(0) / c0 for lag in range(1, m + 1)])  # (m, k)
    stat = np.sqrt((1 + 2 * (r[:-1] ** 2).sum(0)) / n)
    return ok & (np.abs(r[-1]) / stat > norm.ppf(0.95))


def classical_seasonal(y: np.ndarray, m: int, kind: str) -> np.ndarray:
    """statsmodels' ``seasonal_decompose(..., period=m).seasonal`` for every column of ``y`` (n, k).

    The trend is the centred moving average (2 x m for even m) with NaN at the ends, the
    indices are the means of the detrended values per position in the season (ignoring
    NaN), normalised to mean 1 (multiplicative) or 0 (additive), repeated over the series.
    Written here (not statsmodels, series by series) to do all series at once.
    """
    y = np.asarray(y, dtype=float)
    n, k = y.shape
    filt = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.full(m, 1.0 / m)
    half = len(filt) // 2
    trend = np.full((n, k), np.nan)
    acc = np.zeros((n - 2 * half, k))
    for i, w in enumerate(filt):
        acc += w * y[i : n - 2 * half + i]
    trend[half : n - half] = acc
    with np.errstate(divide="ignore", invalid="ignore"):
        det = y / trend if kind == "multiplicative" else y - trend
    avg = np.array([np.nanmean(det[i::m], axis=0) for i in range(m)])  # (m, k)
    avg = avg / avg.mean(0) if kind == "multiplicative" else avg - avg.mean(0)
    return np.tile(avg, (n // m + 1, 1))[:n]


def deseasonalise(y: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray | None, str]:
    """``(y adjusted, indices of the whole series or None, 'multiplicative' | 'additive' | '')`` for one
    series, as statsforecast does (:func:`deseasonalise_all` of one column)."""
    ya, s, kinds = deseasonalise_all(np.asarray(y, dtype=float)[:, None], m)
    return ya[:, 0], (s[:, 0] if kinds[0] else None), kinds[0]


def deseasonalise_all(y: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every column of ``y`` (n, k) seasonally adjusted as statsforecast's Theta does.

    A column passing :func:`seasonal_test` is divided by its multiplicative indices
    (:func:`classical_seasonal`), or less them when it has a count <= 0 or an index below 0.01
    (additive). Returns the adjusted columns, the indices (n, k; 1 or 0 where not
    decomposed) and each column's decomposition (``""`` for none).
    """
    y = np.asarray(y, dtype=float)
    n, k = y.shape
    out, seas = y.copy(), np.zeros((n, k))
    kinds = [""] * k
    test = seasonal_test(y, m)
    if not test.any():
        return out, seas, kinds
    cols = np.flatnonzero(test)
    pos = cols[(y[:, cols] > 0).all(0)]
    if len(pos):
        s = classical_seasonal(y[:, pos], m, "multiplicative")
        good = ~(s < 0.01).any(0)
        for c, j in enumerate(pos):
            if good[c]:
                seas[:, j], kinds[j] = s[:, c], "multiplicative"
                out[:, j] = y[:, j] / s[:, c]
    add = np.array([j for j in cols if not kinds[j]], dtype=int)
    if len(add):
        s = classical_seasonal(y[:, add], m, "additive")
        for c, j in enumerate(add):
            seas[:, j], kinds[j] = s[:, c], "additive"
            out[:, j] = y[:, j] - s[:, c]
    return out, seas, kinds


class Theta(CountForecaster):
    """The standard Theta method per series (statsforecast's ``Theta``) with count intervals (see module notes).

    Parameters
    ----------
    seasonal : {'auto', None}
        ``'auto'``: statsforecast's seasonality test and classical
        decomposition; None: never deseasonalise.
    """

    name = "theta"

    def __init__(self, seasonal: str | None = "auto"):
        self.seasonal = seasonal

    def min_periods(self, wp: WidePanel) -> int:
        return 6

    def _fit(self, wp: WidePanel) -> None:
        assert wp.n_obs is not None
        n_series = len(wp.series)
        m = wp.season
        self.alpha_ = np.full(n_series, np.nan)
        self.decomposition_ = np.array([""] * n_series, dtype=object)
        self.sigma2_ = np.zeros(n_series)
        self._seas: dict[int, np.ndarray] = {}
        self._fits: list[tuple[np.ndarray, int, dict[str, np.ndarray]]] = []
        todo = [j for j in range(n_series) if j not in self.fallback_]
        adjusted = {}
        for n in sorted({int(wp.n_obs[j]) for j in todo}):
            cols = [j for j in todo if int(wp.n_obs[j]) == n]
            Y = wp.y[-n:, cols]
            if self.seasonal == "auto":
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ya, s, kinds = deseasonalise_all(Y, m)
            else:
                ya, s, kinds = Y, None, [""] * len(cols)
            for i, j in enumerate(cols):
                adjusted[j] = ya[:, i]
                if kinds[i]:
                    assert s is not None
                    self._seas[j] = s[:, i]
                    self.decomposition_[j] = kinds[i]
        for n in sorted({int(wp.n_obs[j]) for j in todo}):
            cols = np.array([j for j in todo if int(wp.n_obs[j]) == n])
            Y = np.column_stack([adjusted[j] for j in cols])
            fit = fit_stm(Y)
            self._fits.append((cols, n, fit))
            self.alpha_[cols] = fit["alpha"]
            fitted = fit["fitted"].copy()
            for i, j in enumerate(cols):
                if j in self._seas:
                    s = self._seas[j]
                    fitted[:, i] = fitted[:, i] * s if self.decomposition_[j] == "multiplicative" else fitted[:, i] + s
            self.fitted_[-n:, cols] = fitted
            err = wp.y[-n:, cols][BURN_IN:] - fitted[BURN_IN:]
            self.sigma2_[cols] = err.var(axis=0, ddof=1) if err.shape[0] > 1 else 0.0

    def point_forecast(self, h: int) -> np.ndarray:
        """The statsforecast-equivalent point forecasts (h, n), not clipped (NaN for fallback series)."""
        wp = self.wide_
        out = np.full((h, len(wp.series)), np.nan)
        m = wp.season
        for cols, n, fit in self._fits:
            f = forecast_stm(fit, n, h)
            for i, j in enumerate(cols):
                if j in self._seas:
                    last = self._seas[j][-m:]
                    seas = np.resize(last, h)  # the last season's indices, repeated
                    f[:, i] = f[:, i] * seas if self.decomposition_[j] == "multiplicative" else f[:, i] + seas
            out[:, cols] = f
        return out

    def _predict(self, h: int, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = np.nan_to_num(np.maximum(self.point_forecast(h), 0.0), nan=0.0)
        steps = np.arange(h)[:, None]
        alpha = np.nan_to_num(self.alpha_, nan=0.0)[None, :]
        var = self.sigma2_[None, :] * (1 + steps * alpha**2)
        return mean, nb_quantiles(mean, var, probs)
