"""``pooled``: a top-down local-level count model (group total x long-run share).

Sparse series (a few incidents per area and month) make each series' own
level noisy: a 12-month mean of a series with 2 incidents a month has a
relative standard error of ~20%. The total of a group of series (here: all
series of one category) is far less noisy and carries the recent level;
each series' share of its group total changes slowly. So, per group g::

    X_gt      = sum of y_jt over the series j of g               (group total)
    z_gt      = X_gt / f_g(season position of t)                 (seasonally adjusted)
    F_g,T+k   = (l_T + (phi + ... + phi^k) b_T) f_g(pos(T+k))     (damped Holt / SES on z)
    mean_j,k  = s_j F_g,T+k
    s_j       = (1 - lambda_g) r_j + lambda_g p_j
    r_j       = sum_t w_t y_jt / sum_t w_t X_gt                   (over j's observed periods)

with weights ``w_t = 0.5 ** (age / (share_halflife * season))`` (recent years
count more; all periods equally when ``share_halflife`` is None). ``p_j`` is
the area prior of the share (``share_prior='area'``): the same ratio pooled
over the other series of j's area (its other categories), i.e. how busy the
area is for the other crime types. A share from ~2 incidents a month is
noisy; areas busy for one category tend to be busy for the others, so the
prior carries information (a shrinkage estimator of the mean, in the spirit
of empirical Bayes). The weight ``lambda_g`` (0, 0.1, ..., 1) is chosen per
group on the training data: shares and priors estimated before the last
``horizon`` periods, scored by the Poisson deviance of ``s_j X_gt`` (the
actual group totals, so only the shares are judged) over those periods;
ties go to the smaller weight, and 0 without other series in the area or
without a season before the scoring periods.

Choices made on the training data only (never on a holdout), per group:
the smoothing parameters (alpha; beta and phi for the damped trend) and
whether to use the seasonal factors are chosen on a grid by the mean squared
error of the group total's own 1..``horizon``-step-ahead forecasts from every
origin of the training data (a rolling-origin backtest of the total, cheap
because a group has one series). The grid search is written here with numpy,
vectorised over the grid and the groups, because statsmodels fits one series
and one parameter set at a time and optimises the one-step likelihood, not
the multi-step error the forecasts are used for.

Optionally (``origin_halflife``) recent backtest origins weigh more in that
choice, with the half-life itself chosen per group by a nested backtest of
the total over the last season of the training data.

Seasonal factors: the group total over its centred moving average (2 x m MA
for even m), averaged per position (month of year, week of year, weekday),
normalised to mean 1 and clipped to [0.1, 10]; only with two full seasons.

Predictive distribution (counts): negative binomial with the mean above and
variance ``mean + alpha_j mean^2 + max(v_k - v_1, 0) mean^2``, where
``alpha_j`` is series j's moment estimate of overdispersion around its
one-step in-sample means ``s_j F_g,t`` (Cameron-Trivedi, >= 0) and ``v_k``
the group total's extra relative variance of k-step errors (moment estimate
``(sum e^2 - sum F) / sum F^2`` over the backtest origins), so the intervals
widen with the horizon as the total's own errors did. Quantiles are counts
(:func:`~riskmodel.forecast.distributions.nb_quantiles`).

Assumptions: series of one category move together in level (shares change
slowly); a series that starts late gets its share of the total over its own
periods. A group whose total is zero in every period of a series' span gives
that series a share of 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.data.wide import WidePanel
from riskmodel.forecast.base import CountForecaster
from riskmodel.forecast.distributions import nb_quantiles

ALPHAS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.8)
"""Level smoothing parameters of the grid."""
BETAS = (0.05, 0.15)
"""Trend smoothing parameters of the damped-trend part of the grid."""
PHIS = (0.8, 0.9, 0.98)
"""Damping parameters of the damped-trend part of the grid."""
SHARE_LAMBDAS = tuple(np.round(np.arange(0.0, 1.01, 0.1), 1))
"""Weights of the area prior in a series' share that ``share_prior='area'`` chooses from."""
ORIGIN_HALFLIVES = (None, 2.0, 1.0, 0.5)
"""Half-lives (in seasons) of the backtest-origin weights that ``origin_halflife='auto'`` chooses from
(None: all origins weigh the same)."""


def season_position(periods: pd.DatetimeIndex, freq: str) -> tuple[np.ndarray, int]:
    """Position of each period in its season and the number of positions.

    Month of year (0-11) for monthly data, week of year (0-51, the 53rd week
    counted as the 52nd) for weekly data, weekday (0-6) for daily data.
    """
    periods = pd.DatetimeIndex(periods)
    if freq == "M":
        return periods.month.to_numpy() - 1, 12
    if freq == "W":
        return np.minimum((periods.day_of_year.to_numpy() - 1) // 7, 51), 52
    return periods.day_of_week.to_numpy(), 7


def seasonal_factors(x: np.ndarray, pos: np.ndarray, m: int, shrink: bool = True) -> np.ndarray:
    """Multiplicative seasonal factors of each column of ``x`` (T, G): shape (m, G).

    Ratio to the centred moving average (2 x m for even m), averaged per
    position, normalised to mean 1, clipped to [0.1, 10]; 1 where a position
    has no ratio (fewer than two seasons of data give all ones). With
    ``shrink``, the deviations from 1 are multiplied by
    ``max(0, 1 - noise / spread)``: ``spread`` is their variance over the
    positions, ``noise`` the mean squared standard error of a position's mean
    ratio (from the spread of its ratios over the years), so factors that
    are mostly sampling noise are pulled to 1.
    """
    T, G = x.shape
    f = np.ones((m, G))
    if T < 2 * m:
        return f
    k = np.ones(m + 1) / m if m % 2 == 0 else np.ones(m) / m
    if m % 2 == 0:
        k[0] = k[-1] = 0.5 / m
    half = len(k) // 2
    for g in range(G):
        ma = np.full(T, np.nan)
        ma[half : T - half] = np.convolve(x[:, g], k, mode="valid")
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(ma > 0, x[:, g] / ma, np.nan)
        d = np.zeros(m)
        noise = []
        for p in range(m):
            v = r[(pos == p) & np.isfinite(r)]
            if len(v):
                d[p] = v.mean() - 1.0
            if len(v) > 1:
                noise.append(v.var(ddof=1) / len(v))
        if shrink and noise and d.var() > 0:
            # James-Stein shrinkage toward no seasonality (Miller & Williams 2003): keep the share of
            # the factors' spread that exceeds their sampling noise
            d *= max(0.0, 1.0 - float(np.mean(noise)) / float(d.var()))
        f[:, g] = 1.0 + d
        f[:, g] /= f[:, g].mean()
    return np.clip(f, 0.1, 10.0)


def _shares(
    y: np.ndarray, Xj: np.ndarray, obs: np.ndarray, series: list[tuple[str, str]], halflife: float | None, m: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each series' share of its group total and the area prior of that share.

    ``y`` (T, n) counts, ``Xj`` (T, n) the total of each series' group,
    ``obs`` (T, n) the periods each series is observed. The share is
    ``sum_t w_t y_jt / sum_t w_t X_gt`` over j's observed periods with
    ``w_t = 0.5 ** (age / (halflife * m))``. The prior of series j (area a,
    category g) pools the same ratio over the *other* series of area a (its
    other categories): how busy the area is for the other crime types. A series
    whose area has no other series gets its own share as prior.
    """
    T = y.shape[0]
    age = T - 1 - np.arange(T)
    w = np.ones(T) if halflife is None else 0.5 ** (age / (float(halflife) * m))
    num = (w[:, None] * np.where(obs, y, 0.0)).sum(0)
    den = (w[:, None] * np.where(obs, Xj, 0.0)).sum(0)
    own = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    _, aidx = np.unique(np.array([s[0] for s in series], dtype=object), return_inverse=True)
    a_num = np.bincount(aidx, weights=num)[aidx] - num  # the area's other series
    a_den = np.bincount(aidx, weights=den)[aidx] - den
    prior = np.where(a_den > 0, a_num / np.where(a_den > 0, a_den, 1.0), own)
    return own, prior


def _grid(trend: bool) -> np.ndarray:
    """(P, 3) array of (alpha, beta, phi); beta = 0 and phi = 1 is simple exponential smoothing."""
    rows = [(a, 0.0, 1.0) for a in ALPHAS]
    if trend:
        rows += [(a, b, p) for a in ALPHAS for b in BETAS for p in PHIS]
    return np.array(rows)


def _smooth(z: np.ndarray, grid: np.ndarray, init: int) -> tuple[np.ndarray, np.ndarray]:
    """Damped-Holt recursions for every parameter set and column at once.

    z : (S, T, G) adjusted totals (S seasonal variants); grid : (P, 3).
    Returns level and trend after seeing the first t periods, each (T + 1, S, P, G).
    """
    S, T, G = z.shape
    a, b, phi = (grid[:, i][None, :, None] for i in range(3))
    lv = np.empty((T + 1, S, len(grid), G))
    tr = np.zeros_like(lv)
    lv[0] = z[:, :init].mean(axis=1)[:, None, :]
    for t in range(T):
        prev_l, prev_b = lv[t], tr[t]
        pred = prev_l + phi * prev_b
        new_l = a * z[:, t][:, None, :] + (1 - a) * pred
        tr[t + 1] = b * (new_l - prev_l) + (1 - b) * phi * prev_b
        lv[t + 1] = new_l
    return lv, tr


class PooledLevel(CountForecaster):
    """Group total by exponential smoothing times each series' long-run share (see module notes).

    Parameters
    ----------
    trend : bool
        Include damped-trend smoothing in the grid (otherwise simple exponential smoothing only).
    seasonal : {'auto', True, False}
        ``'auto'``: use seasonal factors for a group when the backtest of its
        total prefers them (needs two full seasons); ``True``: always (with two
        seasons); ``False``: never.
    share_halflife : float, optional
        Half-life of the share weights, in seasons (default 2: a share is
        mostly the last few years); None weighs all periods equally.
    horizon : int, optional
        Forecast horizon the smoothing parameters are chosen for (default one
        season: 12 months, 52 weeks capped at 13, 7 days).
    shrink_seasonal : bool
        Shrink the seasonal factors toward 1 by the share of their spread that
        is sampling noise (James-Stein; see :func:`seasonal_factors`).
    share_prior : {'area', None}
        Shrink each series' share toward its area's share of the other
        categories, with the weight chosen on the training data (module
        notes); None: the plain shares.
    origin_halflife : float, 'auto' or None
        Weights of the backtest origins in the grid search: ``0.5 ** (age /
        (origin_halflife * season))`` with ``age`` the periods from an origin
        to the end of the training data; None (default) weighs every origin
        the same. ``'auto'``: per group, the half-life from
        :data:`ORIGIN_HALFLIVES` whose grid choice forecast the total best in
        a nested backtest (each origin of the last season that leaves
        ``horizon`` periods: parameters chosen on the errors known at that
        origin, scored by the sum of squared 1..``horizon``-step errors from
        it; ties go to None). Off by default: on Portland it helped the
        rolling-origin design and not the holdout (benchmarks/forecast/results.md).
    """

    name = "pooled"

    def __init__(
        self,
        trend: bool = True,
        seasonal: bool | str = "auto",
        share_halflife: float | None = 2.0,
        horizon: int | None = None,
        shrink_seasonal: bool = True,
        origin_halflife: float | str | None = None,
        share_prior: str | None = "area",
    ):
        self.share_prior = share_prior
        self.origin_halflife = origin_halflife
        self.shrink_seasonal = shrink_seasonal
        self.trend = trend
        self.seasonal = seasonal
        self.share_halflife = share_halflife
        self.horizon = horizon

    def min_periods(self, wp: WidePanel) -> int:
        return 4

    def _fit(self, wp: WidePanel) -> None:
        y = wp.y
        T, n = y.shape
        assert wp.n_obs is not None
        cats = np.array([s[1] for s in wp.series], dtype=object)
        self.groups_, gidx = np.unique(cats, return_inverse=True)
        G = len(self.groups_)
        onehot = np.zeros((n, G))
        onehot[np.arange(n), gidx] = 1.0
        X = y @ onehot  # (T, G) group totals
        pos, m = season_position(wp.periods, wp.freq)
        # seasonal variants: 0 = none, 1 = factors (when allowed)
        use_seas = self.seasonal is True or self.seasonal == "auto"
        fac = [np.ones((m, G))]
        if use_seas and T >= 2 * m:
            fac.append(seasonal_factors(X, pos, m, shrink=self.shrink_seasonal))
        fac_arr = np.stack(fac)  # (S, m, G)
        S = len(fac)
        z = X[None] / fac_arr[:, pos, :]  # (S, T, G)
        grid = _grid(self.trend)
        init = int(min(m, max(1, T // 3)))
        lv, tr = _smooth(z, grid, init)
        H = int(self.horizon or min(m, 13))
        H = max(1, min(H, T - init))
        # backtest of each group total: k-step forecasts from every origin t >= init
        P = len(grid)
        e2 = np.zeros((H, T + 1, S, P, G))  # squared k-step error from origin t (training length t)
        have = np.zeros((H, T + 1), dtype=bool)
        sq_k, f_k, f2_k = [], [], []
        damp = np.cumsum(grid[:, 2:3] ** np.arange(1, H + 1)[None, :], axis=1)  # (P, H): phi + ... + phi^k
        for k in range(1, H + 1):
            t0 = np.arange(init, T - k + 1)  # origins with an actual k steps ahead
            tgt = t0 + k - 1
            F = (lv[t0] + damp[:, k - 1][None, None, :, None] * tr[t0]) * fac_arr[:, pos[tgt], :].transpose(1, 0, 2)[:, :, None, :]
            F = np.maximum(F, 0.0)
            e = X[tgt][:, None, None, :] - F
            e2[k - 1, t0] = e**2
            have[k - 1, t0] = True
            sq_k.append((e**2).sum(0))
            f_k.append(F.sum(0))
            f2_k.append((F**2).sum(0))
        tt = np.arange(T + 1)
        last_target = tt[None, :] + np.arange(H)[:, None]  # index of the period each (k, origin) error is about

        def pick(o: int, hl: float | None) -> tuple[np.ndarray, np.ndarray]:
            """Best (seasonal variant x parameter set) per group from the errors observed before period ``o``."""
            ok = have & (last_target <= o - 1)
            w = np.ones(T + 1) if hl is None else 0.5 ** (np.maximum(o - 1 - tt, 0) / (float(hl) * m))
            wk = np.where(ok, w[None, :], 0.0)
            score = np.tensordot(wk, e2, axes=([0, 1], [0, 1])) / max(float(wk.sum()), 1e-12)  # (S, P, G)
            if self.seasonal is True and S == 2:
                score[0] = np.inf
            flat = score.transpose(2, 0, 1).reshape(G, -1)  # per group: (S * P)
            return np.argmin(flat, axis=1), flat

        gi = np.arange(G)
        options: list[float | None] = list(ORIGIN_HALFLIVES) if self.origin_halflife == "auto" else [self.origin_halflife]
        chosen = np.zeros(G, dtype=int)
        if len(options) > 1:
            # nested backtest: from each origin of the last season (that leaves H periods to score), choose the
            # parameters with each weighting on the errors known at that origin, then score its 1..H-step errors
            origins = np.arange(max(T - H - m + 1, init + H), T - H + 1)
            if len(origins):
                nested = np.zeros((len(options), G))
                for i, hl in enumerate(options):
                    for o in origins:
                        b, _ = pick(int(o), hl)
                        sb, pb = np.divmod(b, P)
                        nested[i] += e2[:, o, sb, pb, gi].sum(0)
                chosen = np.argmin(nested, axis=0)  # ties: the first option (no weighting)
        picks = [pick(T, hl) for hl in options]
        best = np.array([picks[chosen[g]][0][g] for g in range(G)])
        flat = np.stack([picks[chosen[g]][1][g] for g in range(G)])
        self.origin_halflife_ = np.array([options[c] for c in chosen], dtype=object)
        s_best, p_best = np.divmod(best, len(grid))
        self.params_ = pd.DataFrame(
            {
                "group": self.groups_,
                "seasonal": s_best == 1,
                "alpha": grid[p_best, 0],
                "beta": grid[p_best, 1],
                "phi": grid[p_best, 2],
                "mse": flat[gi, best],
            }
        )
        self.fac_ = fac_arr[s_best, :, gi].T  # (m, G)
        self.level_ = lv[T, s_best, p_best, gi]
        self.slope_ = tr[T, s_best, p_best, gi]
        self.phi_ = grid[p_best, 2]
        # extra relative variance of the total's k-step errors (moment estimate), per k and group
        v = []
        for k in range(H):
            sq, f1, f2 = (a[k][s_best, p_best, gi] for a in (sq_k, f_k, f2_k))
            with np.errstate(divide="ignore", invalid="ignore"):
                v.append(np.where(f2 > 0, (sq - f1) / f2, 0.0))
        v_arr = np.maximum(np.nan_to_num(np.array(v)), 0.0)  # (H, G)
        self.rel_var_ = np.maximum(v_arr - v_arr[:1], 0.0)
        # shares over each series' own periods, recent years weighted more, shrunk toward the area's share
        # of the other categories by the weight chosen on the last ``horizon`` periods (see share_prior)
        obs = np.arange(T)[:, None] >= (T - wp.n_obs)[None, :]
        own, prior = _shares(y, X[:, gidx], obs, wp.series, self.share_halflife, m)
        self.share_lambda_ = np.zeros(G)
        o = T - H
        if self.share_prior == "area" and (prior != own).any() and o >= m:
            own_o, prior_o = _shares(y[:o], X[:o, gidx], obs[:o], wp.series, self.share_halflife, m)
            lam = np.asarray(SHARE_LAMBDAS)
            s_o = (1 - lam[:, None]) * own_o[None, :] + lam[:, None] * prior_o[None, :]  # (L, n)
            mu_v = X[o:, gidx][None] * s_o[:, None, :]  # (L, H, n)
            yv = y[o:][None]
            with np.errstate(divide="ignore", invalid="ignore"):
                dev = 2 * (np.where(yv > 0, yv * np.log(yv / np.maximum(mu_v, 1e-12)), 0.0) - (yv - mu_v))
            dev = np.where(obs[o:][None], dev, 0.0).sum(1) @ onehot  # (L, G) Poisson deviance per group
            self.share_lambda_ = lam[np.argmin(dev, axis=0)]  # ties: the smaller weight
        lam_j = self.share_lambda_[gidx]
        self.share_ = (1 - lam_j) * own + lam_j * prior
        self.gidx_ = gidx
        # one-step in-sample means and each series' overdispersion around them
        Ft = (lv[:T] + grid[:, 2][None, None, :, None] * tr[:T])[:, s_best, p_best, gi] * self.fac_[pos]
        mu = np.maximum(Ft, 0.0)[:, gidx] * self.share_[None, :]
        ok = obs & (np.arange(T)[:, None] >= init)
        self.fitted_[ok] = mu[ok]
        with np.errstate(divide="ignore", invalid="ignore"):
            a_j = np.where(ok, (y - mu) ** 2 - y, 0.0).sum(0) / np.where(ok, mu**2, 0.0).sum(0)
        self.alpha_ = np.clip(np.nan_to_num(a_j, nan=0.0, posinf=0.0), 0.0, 50.0)

    def _predict(self, h: int, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = np.arange(1, h + 1)
        damp = np.cumsum(self.phi_[None, :] ** k[:, None], axis=0)  # (h, G)
        pos_fut, _ = season_position(self.wide_.future(h), self.wide_.freq)
        F = (self.level_[None, :] + damp * self.slope_[None, :]) * self.fac_[pos_fut]
        F = np.maximum(F, 0.0)
        mean = F[:, self.gidx_] * self.share_[None, :]
        H = self.rel_var_.shape[0]
        rv = self.rel_var_[np.minimum(k - 1, H - 1)]  # beyond the backtest horizon: the last one
        var = mean + (self.alpha_[None, :] + rv[:, self.gidx_]) * mean**2
        self.pred_var_ = var
        return mean, nb_quantiles(mean, var, probs)
