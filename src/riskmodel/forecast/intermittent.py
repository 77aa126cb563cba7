"""Intermittent-count models: Croston (SBA), TSB, ADIDA, IMAPA and a hurdle count model.

Sparse counts (a firearms category in one street, a notifiable disease in one
district) are mostly zeros with an occasional incident. The four point
methods below are those of statsforecast (``CrostonSBA``, ``TSB``, ``ADIDA``,
``IMAPA``, version 2.1), re-written here so that riskmodel's venv needs no
statsforecast (it pins pandas < 3) and so that they run on a
:class:`~riskmodel.data.wide.WidePanel`; their point forecasts equal
statsforecast's to 1e-6 (tests/forecast/test_intermittent.py, against
reference values made by benchmarks/forecast/intermittent_reference.py in
statsforecast's own venv).

Point forecasts (per series, from its own history: the last ``n_obs`` periods)
------------------------------------------------------------------------------
* ``croston_sba``: simple exponential smoothing (SES, alpha 0.1) of the
  non-zero counts ``z`` and of the intervals between them ``p`` (the first
  interval counted from the series' start); forecast ``0.95 z / p``.
* ``tsb``: SES of the non-zero counts (``alpha_d``) and of the occurrence
  indicator ``1[y > 0]`` (``alpha_p``, updated every period); forecast
  their product. statsforecast's ``TSB`` has no defaults; riskmodel's are
  ``alpha_d = 0.1`` and ``alpha_p = 0.1`` (fixed, not optimised: the
  smoothing weight Croston and statsforecast use for sizes and intervals).
* ``adida``: the series summed over blocks of ``k`` periods (``k`` the mean
  interval between non-zero counts, rounded; the oldest incomplete block
  dropped), SES of the block sums with alpha chosen in [0.1, 0.3] by golden
  section on the in-sample squared one-step errors, forecast divided by ``k``.
* ``imapa``: the same at every block length 1..k, forecasts averaged.

SES starts at the first value, as statsforecast's does.

Predictive distribution of the four point methods
-------------------------------------------------
The negative binomial with the point forecast ``m`` as mean and variance
``phi * m`` (Poisson when ``phi = 1``), the same for every step ahead, where
``phi >= 1`` is the quasi-Poisson dispersion of the method's in-sample
one-step errors, ``sum((y - f)^2) / sum(f)`` over the periods with a
one-step forecast ``f > 0`` (Croston, TSB); for ADIDA and IMAPA the ratio is
measured on the block sums (for independent periods the variance-to-mean
ratio of a sum of ``k`` periods is that of one period), averaged over the
block lengths for IMAPA. ``phi`` is floored at 1 (Poisson): incident counts
are rarely under-dispersed, and these intervals leave out the uncertainty of
the smoothed levels themselves. Quantiles are
whole counts (:func:`~riskmodel.forecast.distributions.nb_quantiles`).

Hurdle model (``hurdle``)
-------------------------
``P(y > 0) = pi`` and, given ``y > 0``, ``y - 1`` negative binomial (or
Poisson when the positive counts are not over-dispersed) with the mean and
variance of the positive counts (moments matched). ``pi``, the mean and the
variance of the positive counts are weighted estimates over the series'
history with weights halving every ``halflife_years`` (0: equal weights), so
the model follows the level; there is no seasonality. Its quantiles are
exact for that distribution: ``P(Y <= y) = 1 - pi + pi F(y - 1)``, so quantiles are
``0`` for ``q <= 1 - pi`` and ``1 + F^-1((q - 1 + pi) / pi)`` above, and the
mean is ``pi * mean_positive``. Forecasts are flat over the horizon.

Run time: Croston and TSB loop over series (~0.1 ms each); ADIDA and IMAPA
run their golden-section searches (~55 SES passes) for every series and block
length at once, as one loop over time on vectors.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError, Problem
from riskmodel.forecast.base import CountForecaster
from riskmodel.forecast.distributions import nb_quantiles

SBA_FACTOR = 0.95
"""Syntetos-Boylan debiasing factor ``1 - alpha / 2`` at alpha 0.1 (statsforecast's ``CrostonSBA``)."""

CROSTON_ALPHA = 0.1
"""Croston's smoothing weight for sizes and intervals (statsforecast's)."""

_GOLDEN = (np.sqrt(5.0) + 1.0) / 2.0


# --- simple exponential smoothing as statsforecast's (its C++ ses.cpp) ------------------------
def ses(x: np.ndarray, alpha: float) -> tuple[float, np.ndarray]:
    """SES one-step forecast and in-sample fitted values, started at the first value.

    Parameters
    ----------
    x : ndarray (n,), n >= 1
    alpha : float in (0, 1]

    Returns
    -------
    forecast : float
        The level after the last value (the forecast of every future step).
    fitted : ndarray (n,)
        ``fitted[i]`` the forecast of ``x[i]`` made after ``x[:i]`` (NaN at 0).
    """
    from scipy.signal import lfilter  # here: scipy.signal adds ~0.1 s to every command's start

    x = np.asarray(x, dtype=float)
    if x.size == 1:
        return float(x[0]), np.array([np.nan])
    # level_i = alpha x_i + (1 - alpha) level_{i-1}, level_{-1} = x_0: a first-order linear filter
    lev = lfilter([alpha], [1.0, alpha - 1.0], x, zi=[(1.0 - alpha) * x[0]])[0]
    return float(lev[-1]), np.concatenate([[np.nan], lev[:-1]])


def _ses_batch(X: np.ndarray, n: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SES of every row of ``X`` at its own ``alpha``, in statsforecast's order of operations.

    Parameters
    ----------
    X : ndarray (B, L)
        Rows padded at the end; row b holds ``n[b] >= 1`` values.
    n : ndarray (B,) of int
    alpha : ndarray (B,)

    Returns
    -------
    forecast, sse, fitted_sum : ndarray (B,)
        The level after each row's last value; the sum of squared one-step
        errors ``x[i] - f[i]`` (i >= 1); the sum of those one-step forecasts
        ``f[i]`` (for the dispersion).
    """
    # a loop over time with the rows in a vector: lfilter takes one alpha at a time, and this
    # keeps statsforecast's arithmetic (its ses.cpp: f = alpha x[i-1] + (1 - alpha) f, f_0 = x[0])
    comp = 1.0 - alpha
    f = X[:, 0].copy()
    sse = np.zeros(len(X))
    fsum = np.zeros(len(X))
    for i in range(1, X.shape[1] + 1):
        nf = alpha * X[:, i - 1] + comp * f
        if i < X.shape[1]:
            inside = i < n
            e = X[:, i] - nf
            sse += np.where(inside, e * e, 0.0)
            fsum += np.where(inside, nf, 0.0)
        f = np.where(i <= n, nf, f)
    return f, sse, fsum


def golden_section_alpha(X: np.ndarray, n: np.ndarray, lower: float = 0.1, upper: float = 0.3) -> np.ndarray:
    """Per row, the SES weight in [lower, upper] minimising the squared one-step errors.

    statsforecast's golden-section search (its ``golden_section_ses``), run on
    all rows at once: a row stops when its bracket is below 1e-12 wide or its
    two inner points score the same (as with fewer than 2 values).
    """
    B = len(X)
    a, b = np.full(B, float(lower)), np.full(B, float(upper))
    c, d = b - (b - a) / _GOLDEN, a + (b - a) / _GOLDEN
    fc, fd = _ses_batch(X, n, c)[1], _ses_batch(X, n, d)[1]
    active = np.abs(b - a) >= 1e-12
    while active.any():
        lt, gt = active & (fc < fd), active & (fd < fc)
        active = lt | gt
        # fc < fd: the minimum is in [a, d]; fd < fc: in [c, b]
        b, a = np.where(lt, d, b), np.where(gt, c, a)
        d_new, c_new = np.where(lt, c, d), np.where(gt, d, c)
        fd, fc = np.where(lt, fc, fd), np.where(gt, fd, fc)
        c_new = np.where(lt, b - (b - a) / _GOLDEN, c_new)
        d_new = np.where(gt, a + (b - a) / _GOLDEN, d_new)
        c, d = c_new, d_new
        if not active.any():
            break
        f_new = _ses_batch(X, n, np.where(lt, c, d))[1]
        fc, fd = np.where(lt, f_new, fc), np.where(gt, f_new, fd)
        active &= np.abs(b - a) >= 1e-12
    return (b + a) / 2.0


def aggregate_forecasts(sums: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """SES with the golden-section weight of each array of block sums, all at once.

    Returns the one-step forecasts (block totals) and the dispersions
    ``max(1, sum(e^2) / sum(f))`` of their one-step errors (1 when fewer than
    2 blocks; a single block is its own forecast, as in statsforecast).
    """
    n = np.array([len(x) for x in sums])
    X = np.zeros((len(sums), int(n.max())))
    for r, x in enumerate(sums):
        X[r, : len(x)] = x
    alpha = golden_section_alpha(X, n)
    fc, sse, fsum = _ses_batch(X, n, alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where((n > 1) & (fsum > 0), sse / fsum, 1.0)
    return fc, np.maximum(phi, 1.0)


def intervals(x: np.ndarray) -> np.ndarray:
    """Periods between non-zero values, the first counted from the start (statsforecast's ``_intervals``)."""
    nz = np.flatnonzero(x != 0)
    return np.diff(nz + 1, prepend=0).astype(float)


def block_sums(x: np.ndarray, k: int) -> np.ndarray:
    """Sums of consecutive blocks of ``k`` periods ending at the last period (the oldest remainder dropped)."""
    n = (x.size // k) * k
    return x[x.size - n:].reshape(-1, k).sum(axis=1)


def _dispersion(y: np.ndarray, f: np.ndarray) -> float:
    """Quasi-Poisson ratio ``sum((y - f)^2) / sum(f)`` over finite ``f > 0``, at least 1."""
    ok = np.isfinite(f) & (f > 0)
    if not ok.any():
        return 1.0
    return max(1.0, float(np.sum((y[ok] - f[ok]) ** 2) / np.sum(f[ok])))


def aggregate_forecast(x: np.ndarray, k: int) -> tuple[float, float]:
    """ADIDA at block length ``k``: (per-period forecast, dispersion of the block sums' one-step errors)."""
    fc, phi = aggregate_forecasts([block_sums(x, k)])
    return float(fc[0]) / k, float(phi[0])


def aggregation_level(x: np.ndarray) -> int:
    """ADIDA's block length: the mean interval between non-zero values, rounded half to even as statsforecast."""
    return max(round(float(intervals(x).mean())), 1)


# --- per-series fits: (point forecast, dispersion, one-step fitted values) ----------------------
def croston_sba_fit(x: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Croston SBA on one series (at least one non-zero value)."""
    pos = x > 0
    z = x[pos]
    zf, zfit = ses(z, CROSTON_ALPHA)
    pf, pfit = ses(intervals(x), CROSTON_ALPHA)
    mean = SBA_FACTOR * (zf / pf if pf != 0.0 else zf)
    # the levels after each demand (fitted[1:] then the forecast) hold until the next demand
    ratio = SBA_FACTOR * np.append(zfit[1:], zf) / np.append(pfit[1:], pf)
    before = np.concatenate([[0], np.cumsum(pos)[:-1]])  # demands strictly before t
    f = np.where(before > 0, ratio[np.maximum(before - 1, 0)], np.nan)
    return mean, _dispersion(x, f), f


def tsb_fit(x: np.ndarray, alpha_d: float, alpha_p: float) -> tuple[float, float, np.ndarray]:
    """TSB on one series (at least one non-zero value)."""
    pos = x > 0
    zf, zfit = ses(x[pos], alpha_d)
    pf, pfit = ses(pos.astype(float), alpha_p)
    zlev = np.append(zfit[1:], zf)
    before = np.concatenate([[0], np.cumsum(pos)[:-1]])
    f = np.where(before > 0, pfit * zlev[np.maximum(before - 1, 0)], np.nan)
    return pf * zf, _dispersion(x, f), f


def adida_fit(x: np.ndarray) -> tuple[float, float]:
    """ADIDA on one series: (forecast, dispersion)."""
    return aggregate_forecast(x, aggregation_level(x))


def imapa_fit(x: np.ndarray) -> tuple[float, float]:
    """IMAPA on one series: (forecast averaged over block lengths 1..k, mean dispersion)."""
    k = aggregation_level(x)
    fc, phi = aggregate_forecasts([block_sums(x, j) for j in range(1, k + 1)])
    return float(np.mean(fc / np.arange(1, k + 1))), float(phi.mean())


class _PointIntermittent(CountForecaster):
    """A point method per series with negative-binomial intervals (see the module notes)."""

    def _fit_one(self, x: np.ndarray) -> tuple[float, float, np.ndarray | None]:  # pragma: no cover
        raise NotImplementedError

    def _fit(self, wp: WidePanel) -> None:
        n_series = len(wp.series)
        self.level_ = np.zeros(n_series)
        self.dispersion_ = np.ones(n_series)
        assert wp.n_obs is not None
        for j in range(n_series):
            if j in self.fallback_:
                continue
            n = int(wp.n_obs[j])
            x = wp.y[-n:, j].astype(float)
            m, phi, f = self._fit_one(x)
            self.level_[j], self.dispersion_[j] = m, phi
            if f is not None:
                self.fitted_[-n:, j] = f

    def _predict(self, h: int, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = np.repeat(self.level_[None, :], h, axis=0)
        var = mean * self.dispersion_[None, :]
        return mean, nb_quantiles(mean, var, probs)


class CrostonSBA(_PointIntermittent):
    """Croston's method with the Syntetos-Boylan approximation (alpha 0.1, factor 0.95)."""

    name = "croston_sba"

    def _fit_one(self, x: np.ndarray) -> tuple[float, float, np.ndarray | None]:
        return croston_sba_fit(x)


class TSB(_PointIntermittent):
    """Teunter-Syntetos-Babai: smoothed size times smoothed probability of a non-zero count.

    Parameters
    ----------
    alpha_d : float in (0, 1]
        Smoothing weight of the non-zero counts.
    alpha_p : float in (0, 1]
        Smoothing weight of the occurrence indicator (every period).
    """

    name = "tsb"

    def __init__(self, alpha_d: float = 0.1, alpha_p: float = 0.1):
        self.alpha_d = alpha_d
        self.alpha_p = alpha_p

    def _fit(self, wp: WidePanel) -> None:
        for opt in ("alpha_d", "alpha_p"):
            a = getattr(self, opt)
            if not 0.0 < float(a) <= 1.0:
                raise InputError(Problem(f"model tsb: {opt} must be in (0, 1], got {a}", column=opt))
        super()._fit(wp)

    def _fit_one(self, x: np.ndarray) -> tuple[float, float, np.ndarray | None]:
        return tsb_fit(x, float(self.alpha_d), float(self.alpha_p))


class _Aggregating(_PointIntermittent):
    """ADIDA and IMAPA: every series' (and block length's) SES fitted at once; no one-step fitted values."""

    def _levels(self, k: int) -> list[int]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit(self, wp: WidePanel) -> None:
        n_series = len(wp.series)
        self.level_ = np.zeros(n_series)
        self.dispersion_ = np.ones(n_series)
        assert wp.n_obs is not None
        sums, owner, length = [], [], []
        for j in range(n_series):
            if j in self.fallback_:
                continue
            x = wp.y[-int(wp.n_obs[j]):, j].astype(float)
            for k in self._levels(aggregation_level(x)):
                sums.append(block_sums(x, k))
                owner.append(j)
                length.append(k)
        if not sums:
            return
        fc, phi = aggregate_forecasts(sums)
        owner_a, per_period = np.array(owner), fc / np.array(length)
        count = np.bincount(owner_a, minlength=n_series)
        has = count > 0
        self.level_[has] = (np.bincount(owner_a, per_period, n_series) / np.maximum(count, 1))[has]
        self.dispersion_[has] = (np.bincount(owner_a, phi, n_series) / np.maximum(count, 1))[has]


class ADIDA(_Aggregating):
    """Aggregate-disaggregate intermittent demand approach (block length from the mean interval)."""

    name = "adida"

    def _levels(self, k: int) -> list[int]:
        return [k]


class IMAPA(_Aggregating):
    """Intermittent multiple aggregation prediction algorithm (ADIDA averaged over block lengths 1..k)."""

    name = "imapa"

    def _levels(self, k: int) -> list[int]:
        return list(range(1, k + 1))


# --- hurdle model ------------------------------------------------------------------------------
def hurdle_quantiles(pi: np.ndarray, mean_pos: np.ndarray, var_pos: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Quantiles of the hurdle distribution: 0 with probability ``1 - pi``, else ``1 + NB``.

    Parameters
    ----------
    pi : ndarray S
        Probability of a non-zero count.
    mean_pos, var_pos : ndarray S
        Mean (>= 1) and variance of the count given it is non-zero.
    probs : ndarray (q,)

    Returns
    -------
    ndarray S + (q,)
        Whole-count quantiles.
    """
    pi = np.clip(np.asarray(pi, dtype=float), 0.0, 1.0)[..., None]
    p = np.asarray(probs, dtype=float)
    r = np.where(pi > 0, (p - (1.0 - pi)) / np.where(pi > 0, pi, 1.0), -1.0)  # level within the positive part
    shape = np.broadcast_shapes(pi.shape, p.shape)
    out = np.zeros(shape)
    inside = np.broadcast_to(r > 0, shape)
    if inside.any():
        m = np.broadcast_to(np.maximum(np.asarray(mean_pos, dtype=float) - 1.0, 0.0)[..., None], shape)[inside]
        v = np.broadcast_to(np.asarray(var_pos, dtype=float)[..., None], shape)[inside]
        rr = np.minimum(np.broadcast_to(r, shape)[inside], 1.0 - 1e-12)
        q = np.zeros(m.shape)
        nb = v > m * (1 + 1e-9)
        pois = ~nb & (m > 1e-12)
        if pois.any():
            q[pois] = stats.poisson.ppf(rr[pois], m[pois])
        if nb.any():
            size = m[nb] ** 2 / (v[nb] - m[nb])
            q[nb] = stats.nbinom.ppf(rr[nb], size, m[nb] / v[nb])
        out[inside] = 1.0 + np.nan_to_num(q, nan=0.0, posinf=0.0)
    return out


class Hurdle(CountForecaster):
    """Hurdle count model: Bernoulli occurrence times a shifted negative binomial positive count.

    Parameters
    ----------
    halflife_years : float
        Weights of past periods halve every this many years (0: all periods
        weigh the same). 2 years by default: the level of a sparse series
        moves slowly, and fewer years leave too few non-zero counts to
        estimate the positive part.
    """

    name = "hurdle"

    def __init__(self, halflife_years: float = 2.0):
        self.halflife_years = halflife_years

    def _fit(self, wp: WidePanel) -> None:
        hl = float(self.halflife_years)
        if not np.isfinite(hl) or hl < 0:
            raise InputError(Problem(f"model hurdle: halflife_years must be >= 0, got {self.halflife_years}",
                                     column="halflife_years"))
        y = wp.y
        T, n = y.shape
        assert wp.n_obs is not None
        age = (T - 1 - np.arange(T))[:, None].astype(float)  # periods before the last
        w = np.full((T, 1), 1.0) if hl == 0 else 0.5 ** (age / (hl * wp.frequency.periods_per_year))
        w = np.where(np.arange(T)[:, None] >= (T - wp.n_obs)[None, :], w, 0.0)  # each series' own history
        pos = y > 0
        wp_ = (w * pos).sum(0)
        self.pi_ = np.divide(wp_, w.sum(0), out=np.zeros(n), where=w.sum(0) > 0)
        mpos = np.divide((w * pos * y).sum(0), wp_, out=np.ones(n), where=wp_ > 0)
        vpos = np.divide((w * pos * (y - mpos) ** 2).sum(0), wp_, out=np.zeros(n), where=wp_ > 0)
        # Kish's effective number of positive counts, for the unbiased variance
        neff = np.divide(wp_**2, (w**2 * pos).sum(0), out=np.ones(n), where=wp_ > 0)
        vpos = vpos * np.where(neff > 1.5, neff / np.maximum(neff - 1, 1e-9), 1.0)
        self.mean_pos_, self.var_pos_ = np.maximum(mpos, 1.0), vpos
        self.fitted_[:] = np.where(w > 0, (self.pi_ * self.mean_pos_)[None, :], np.nan)

    def _predict(self, h: int, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = np.repeat((self.pi_ * self.mean_pos_)[None, :], h, axis=0)
        q = hurdle_quantiles(self.pi_, self.mean_pos_, self.var_pos_, probs)
        return mean, np.repeat(q[None], h, axis=0)


__all__ = ["ADIDA", "IMAPA", "TSB", "CrostonSBA", "Hurdle", "hurdle_quantiles", "ses"]
