"""Farrington flexible (Noufaily et al. 2013) and the original Farrington (1996) detector.

A port of R's ``surveillance::farringtonFlexible`` (version 1.20.3), vectorised
across series that share a calendar. For each monitored period ``k`` and every
series at once:

1. reference periods: the same period 1..b years back, each with a window of
   +-w periods (level ``noPeriods`` of the seasonal factor); with
   ``noPeriods > 1`` the gaps between windows are cut into ``noPeriods - 1``
   further levels (Noufaily's 10-level factor); the last
   ``pastWeeksNotIncluded`` periods before ``k`` (and ``k``) are left out;
2. a quasi-Poisson GLM with the factor and a linear trend (optionally a
   log-population offset), refitted without trend when it does not converge;
3. reweighting: observations with a scaled Anscombe residual above
   ``weightsThreshold`` get weight ``s^-2`` (rescaled so the weights average
   1) and the model is refitted;
4. the trend is kept only with >= 3 years back, a trend p-value below
   ``pThresholdTrend`` and a prediction not above the largest reference count;
5. an upper bound: Farrington's delta-method bound on a power scale
   (``thresholdMethod='delta'``), or Noufaily's negative-binomial quantile at
   the predicted mean (``'nbPlugin'``) or at the upper ``1-alpha`` quantile of
   the mean (``'muan'``);
6. an alarm when the count exceeds the bound (score > 1), the count is not zero
   and at least ``limit54[0]`` cases occurred in the last ``limit54[1]`` periods.

Where R does what no paper says, this port follows R (parity fixtures in
tests/alerts/fixtures); each such place is marked ``R:`` in a comment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from riskmodel.alerts.glm import CellTrendFit, fit_cells_trend
from riskmodel.errors import InputError, Problem

THRESHOLD_METHODS = ("delta", "nbPlugin", "muan")
POWERTRANS = ("2/3", "1/2", "none")


@dataclass(frozen=True)
class FarringtonControl:
    """The control options of R's ``farringtonFlexible``, with R's defaults.

    Parameters
    ----------
    b : int
        Years back of reference data (>= 1).
    w : int
        Half-width of the reference window, in periods.
    reweight : bool
        Down-weight past outbreaks by their Anscombe residuals.
    weights_threshold : float
        Residual above which an observation is down-weighted (R: 2.58;
        original Farrington: 1).
    alpha : float
        One-sided level of the upper bound (0 < alpha < 0.5).
    trend : bool
        Try a linear time trend.
    p_threshold_trend : float
        Keep the trend only when its p-value is below this (1: always, as
        Noufaily recommends, subject to the other two conditions).
    limit54 : (int, int)
        No alarm unless at least ``limit54[0]`` cases in the last
        ``limit54[1]`` periods.
    powertrans : {'2/3', '1/2', 'none'}
        Power transformation of the delta-method bound.
    population_offset : bool
        Model rates: ``offset(log(population))``.
    no_periods : int
        Levels of the seasonal factor (1: windows only, as Farrington 1996;
        10 as Noufaily 2013).
    past_weeks_not_included : int or None
        Periods before the monitored one left out of the fit (None: ``w``).
    threshold_method : {'delta', 'nbPlugin', 'muan'}
    """

    b: int = 5
    w: int = 3
    reweight: bool = True
    weights_threshold: float = 2.58
    alpha: float = 0.05
    trend: bool = True
    p_threshold_trend: float = 0.05
    limit54: tuple[int, int] = (5, 4)
    powertrans: str = "2/3"
    population_offset: bool = False
    no_periods: int = 1
    past_weeks_not_included: int | None = None
    threshold_method: str = "delta"

    @property
    def pwni(self) -> int:
        """``pastWeeksNotIncluded`` with R's default (``w``)."""
        return self.w if self.past_weeks_not_included is None else self.past_weeks_not_included

    def check(self, source: str = "farrington options") -> FarringtonControl:
        """Raise InputError listing every invalid option."""
        p: list[str] = []
        if int(self.b) < 1:
            p.append(f"b must be >= 1 (got {self.b})")
        if int(self.w) < 0:
            p.append(f"w must be >= 0 (got {self.w})")
        if int(self.no_periods) < 1:
            p.append(f"no_periods must be >= 1 (got {self.no_periods})")
        if not 0 < float(self.alpha) < 0.5:
            p.append(f"alpha must be in (0, 0.5) (got {self.alpha})")
        if self.threshold_method not in THRESHOLD_METHODS:
            p.append(f"threshold_method {self.threshold_method!r} unknown; valid: {', '.join(THRESHOLD_METHODS)}")
        if self.powertrans not in POWERTRANS:
            p.append(f"powertrans {self.powertrans!r} unknown; valid: {', '.join(POWERTRANS)}")
        if len(self.limit54) != 2 or not (self.limit54[0] >= 0 and self.limit54[1] > 0):
            # R: "The limit54 arguments are out of bounds: cases >= 0 and period > 0."
            p.append(f"limit54 must be (cases >= 0, periods > 0) (got {self.limit54})")
        if self.past_weeks_not_included is not None and int(self.past_weeks_not_included) < 0:
            p.append(f"past_weeks_not_included must be >= 0 (got {self.past_weeks_not_included})")
        if self.weights_threshold <= 0:
            p.append(f"weights_threshold must be > 0 (got {self.weights_threshold})")
        if p:
            raise InputError([Problem(m, source=source) for m in p])
        return self

    def as_r(self) -> dict[str, object]:
        """The options under R's names (for logging)."""
        d = asdict(self)
        names = {
            "weights_threshold": "weightsThreshold",
            "p_threshold_trend": "pThresholdTrend",
            "population_offset": "populationOffset",
            "no_periods": "noPeriods",
            "past_weeks_not_included": "pastWeeksNotIncluded",
            "threshold_method": "thresholdMethod",
        }
        out = {names.get(k, k): v for k, v in d.items()}
        out["pastWeeksNotIncluded"] = self.pwni
        out["limit54"] = f"{self.limit54[0]},{self.limit54[1]}"
        return out


#: R's defaults (``farringtonFlexible(sts)``).
R_DEFAULT = FarringtonControl()
#: Noufaily et al. (2013)'s recommended improved algorithm.
NOUFAILY = FarringtonControl(
    no_periods=10, weights_threshold=2.58, past_weeks_not_included=26, p_threshold_trend=1.0,
    threshold_method="nbPlugin",
)
#: The original Farrington et al. (1996) algorithm as farringtonFlexible expresses it.
ORIGINAL = FarringtonControl(
    no_periods=1, weights_threshold=1.0, past_weeks_not_included=None, p_threshold_trend=0.05,
    threshold_method="delta", powertrans="2/3",
)
PRESETS = {"farrington": R_DEFAULT, "farrington-noufaily": NOUFAILY, "farrington-original": ORIGINAL}


# ---------------------------------------------------------------- reference periods
def _minus_years(d: np.datetime64, years: int) -> np.datetime64:
    """R's ``seq(d, by = "-1 year")``: same month and day; 29 Feb -> 1 Mar."""
    ts = pd.Timestamp(d)
    y = ts.year - years
    try:
        return np.datetime64(pd.Timestamp(year=y, month=ts.month, day=ts.day).date(), "D")
    except ValueError:  # 29 February in a common year: POSIXlt normalisation gives 1 March
        return np.datetime64(pd.Timestamp(year=y, month=3, day=1).date(), "D")


def reference_points(
    k: int, b: int, freq: int, dates: np.ndarray | None, period: str | None
) -> np.ndarray | None:
    """Indices of the monitored period and its b references, newest first; None if missing.

    Index mode (``dates`` None, R's ``epochAsDate = FALSE``): ``k - freq*j``.
    Date mode: the same date j years back (R's ``seq(by = "-1 year")``), for
    weekly data moved to the nearest date with the monitored period's weekday
    (R's ``algo.farrington.referencetimepoints``), then looked up among the
    dates; a reference date that is not in the data -> None (R stops with
    "Some reference time points did not exist").
    """
    if dates is None:
        refs = k - freq * np.arange(b + 1)
        return refs if refs[-1] >= 0 else None
    d0 = dates[k]
    out = [k]
    for j in range(1, b + 1):
        r = _minus_years(d0, j)
        if period == "W":
            # R: %w weekday (Sunday = 0); A in the same Sunday-based week, B a week away
            wd = lambda x: (int((x - np.datetime64("1970-01-04", "D")).astype(int)) % 7)  # noqa: E731
            a = r - np.timedelta64(wd(r) - wd(d0), "D")
            bb = a + np.timedelta64(-7 if a > r else 7, "D")
            r = a if abs(int((a - r).astype(int))) <= abs(int((bb - r).astype(int))) else bb
        pos = int(np.searchsorted(dates, r))
        if pos >= len(dates) or dates[pos] != r:
            return None
        out.append(pos)
    return np.asarray(out)


def _rcolon(a: int, b: int) -> np.ndarray:
    """R's ``a:b`` (descending when b < a)."""
    return np.arange(a, b + 1) if b >= a else np.arange(a, b - 1, -1)


def blocks(refs: np.ndarray, n_time: int, w: int, p: int) -> np.ndarray:
    """R's ``blocks()``: the seasonal factor level of every period (NaN: not used).

    ``refs`` are 0-based indices, newest (the monitored period) first.
    """
    f = np.full(n_time, np.nan)

    def put(idx: np.ndarray, value: float) -> None:
        # R drops index 0 (our -1) in an assignment and fails on negative ones; the
        # caller has checked that no window starts below R's index 0
        idx = idx[(idx >= 0) & (idx < n_time)]
        f[idx] = value

    now = int(refs[0])
    put(_rcolon(now - w, now), p)
    for i in range(1, len(refs)):
        ref = int(refs[i])
        put(_rcolon(ref - w, ref + w), p)
        if p != 1:
            period = int(refs[i - 1]) - 2 * w - 1 - ref
            if period < p - (2 * w + 1):
                raise ValueError("Number of factors too big!")
            lens = np.full(p - 1, period // (p - 1))
            lens[: period % (p - 1)] += 1
            cs = np.concatenate([[0], np.cumsum(lens)])
            for j in range(1, p):
                # R: (refWeek+w+1+cs[j]):(refWeek+w+1+cs[j+1]-1) -- a zero-length block
                # is R's x:(x-1), which assigns two periods; kept as R does it.
                put(_rcolon(ref + w + 1 + cs[j - 1], ref + w + 1 + cs[j] - 1), j)
    return f


# ---------------------------------------------------------------------- the fits
@dataclass
class _Model:
    fit: CellTrendFit
    phi: np.ndarray  # max(dispersion, 1)
    ok: np.ndarray  # converged (R: model not NULL)
    disp_summary: np.ndarray  # what summary.glm(model)$dispersion returns afterwards (see _fit_fun)


def _anscombe(fit: CellTrendFit, y: np.ndarray, phi: np.ndarray, level: np.ndarray, t: np.ndarray) -> np.ndarray:
    """surveillance's anscombe.residuals: 3/2 (y^(2/3) mu^(-1/6) - mu^(1/2)) / sqrt(phi (1 - h))."""
    mu = fit.mu
    h = fit.hat(level, t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = 1.5 * (y ** (2.0 / 3.0) * mu ** (-1.0 / 6.0) - np.sqrt(mu))
        return a / np.sqrt(phi[:, None] * (1.0 - h))


def _assign_weights(s: np.ndarray, present: np.ndarray, thr: float) -> np.ndarray:
    """algo.farrington.assign.weights over the observations present in each series."""
    with np.errstate(divide="ignore", invalid="ignore"):
        big = s > thr
        inv2 = np.where(big, s**-2.0, 1.0)
        n = present.sum(axis=1)
        gamma = n / np.where(present, inv2, 0.0).sum(axis=1)
        omega = gamma[:, None] * inv2
    # R: a residual of +Inf (h = 1) gets weight 0 and so leaves the refit.
    omega = np.where(present, omega, 0.0)
    return np.where(np.isfinite(omega), omega, 0.0)


def _merge(a: CellTrendFit, b: CellTrendFit, sel: np.ndarray) -> CellTrendFit:
    """Take series ``sel`` (bool (S,)) from ``b`` (fitted on those series only), others from a."""
    out = {}
    for name in a.__dataclass_fields__:
        va, vb = getattr(a, name), getattr(b, name)
        va = np.array(va, copy=True)
        va[sel] = vb
        out[name] = va
    return CellTrendFit(**out)


def _fit_fun(
    y: np.ndarray,
    present: np.ndarray,
    level: np.ndarray,
    n_levels: int,
    t: np.ndarray,
    offset: np.ndarray | None,
    trend: np.ndarray,
    ctl: FarringtonControl,
) -> _Model:
    """algo.farrington.fitGLM.flexible for every series (``trend`` per series)."""
    prior = present.astype(float)
    fit = fit_cells_trend(y, prior, level, n_levels, t, offset, trend=trend)
    retry = ~fit.converged & trend
    if retry.any():
        # R: no convergence with the trend -> the formula without trend, also for the refit
        sub = fit_cells_trend(
            y[retry], prior[retry], level, n_levels, t,
            None if offset is None else offset[retry], trend=False,
        )
        fit = _merge(fit, sub, retry)
    ok = fit.converged.copy()
    phi = np.maximum(fit.dispersion, 1.0)  # R: max(NaN, 1) is NaN, as np.maximum
    disp_summary = fit.dispersion
    if ctl.reweight:
        s = _anscombe(fit, np.where(present, y, 0.0), phi, level, t)
        omega = _assign_weights(s, present, ctl.weights_threshold)
        # R: the reweighted refit's convergence is not checked
        fit = fit_cells_trend(y, omega, level, n_levels, t, offset, trend=fit.trend)
        phi = np.maximum(fit.dispersion, 1.0)
        # R: fitGLM.flexible then sets model$weights <- omega, overwriting the IRLS
        # working weights (omega * mu) with the prior weights. Every later
        # summary.glm(model) -- the trend's t-test and predict.glm's se.fit -- thus
        # uses the dispersion sum(omega * ((y - mu)/mu)^2) / df instead of the Pearson
        # estimate (phi itself was taken before the overwrite). Reproduced for parity.
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(omega > 0, (y - fit.mu) / fit.mu, 0.0)
            disp_summary = np.where(
                fit.df_resid > 0, (np.where(omega > 0, omega * r**2, 0.0)).sum(axis=1) / fit.df_resid, np.nan
            )
    return _Model(fit=fit, phi=phi, ok=ok, disp_summary=disp_summary)


def _qnbinom(p: float, size: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """R's qnbinom(p, size, prob), guarded: scipy's (boost's) ppf aborts the process
    on some extreme inputs (size ~1e-10), where the answer is 0 anyway."""
    size = np.asarray(size, dtype=float)
    prob = np.broadcast_to(np.asarray(prob, dtype=float), size.shape)
    out = np.full(size.shape, np.nan)
    ok = np.isfinite(size) & (size > 0) & np.isfinite(prob) & (prob > 0) & (prob <= 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        p0 = np.exp(size * np.log(prob))  # P(X = 0)
    zero = ok & (p0 >= p)
    out[zero] = 0.0
    # boost also aborts for astronomically large sizes (muan with a huge se): there
    # the NB is normal to many digits; such bounds are far beyond any count.
    huge = ok & ~zero & (size > 1e12)
    if huge.any():
        m = size[huge] * (1 - prob[huge]) / prob[huge]
        out[huge] = np.ceil(m + stats.norm.ppf(p) * np.sqrt(m / prob[huge]))
    rest = ok & ~zero & ~huge
    if rest.any():
        out[rest] = stats.nbinom.ppf(p, size[rest], prob[rest])
    return out


def _qpois(p: float, mu: np.ndarray) -> np.ndarray:
    """R's qpois; beyond 1e12 (muan with a huge se) the normal approximation."""
    mu = np.asarray(mu, dtype=float)
    big = np.isfinite(mu) & (mu > 1e12)
    out = stats.poisson.ppf(p, np.where(big, 1.0, mu))
    return np.where(big, np.ceil(mu + stats.norm.ppf(p) * np.sqrt(np.where(big, mu, 1.0))), out)


def farrington_flexible(
    y: np.ndarray,
    monitor: np.ndarray,
    control: FarringtonControl = R_DEFAULT,
    *,
    freq: int = 52,
    dates: np.ndarray | pd.DatetimeIndex | None = None,
    period: str | None = "W",
    population: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Farrington flexible on many series at once (arrays in, arrays out).

    Parameters
    ----------
    y : ndarray (T, S)
        Counts per period (rows) and series (columns); NaN = missing.
    monitor : array of int
        0-based row indices of the periods to monitor.
    control : FarringtonControl
    freq : int
        Periods per year (52 weekly, 12 monthly) for index mode.
    dates : array of datetime64 (T,), optional
        Period start dates; when given, reference periods are found by date as
        R does for an ``sts`` with ``epochAsDate = TRUE``. Without them, by
        index (``k - freq*j``) as R does for ``epochAsDate = FALSE``.
    period : {'W', 'M', 'D'}
        Frequency of ``dates`` ('W' snaps references to the weekday).
    population : ndarray (T, S), optional
        Needed when ``control.population_offset``.

    Returns
    -------
    dict of ndarray (K, S)
        ``expected, upperbound, alarm (bool), score, pvalue, phi, trend (bool),
        coeff_time`` as R's (R blanks ``expected`` and ``upperbound`` where
        limit54 blocks the alarm: ``farringtonFlexible`` sets
        ``upperbound <- ifelse(enoughCases, lu$upper, NA)`` and
        ``expected <- ifelse(enoughCases, pred$fit, NA)``, keeping score,
        pvalue, mu0 and phi in ``control``), ``mu0`` (the predicted mean even
        where limit54 hides ``expected``), ``upper_all`` (the upper bound
        even where limit54 hides it), ``limit54`` (bool, the rule blocked the
        alarm of a fitted period) and ``reason`` (str, '' when the period was
        evaluated and the alarm rule applied), one row per monitored period.
    """
    ctl = control.check()
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    T, S = y.shape
    monitor = np.asarray(monitor, dtype=int)
    K = len(monitor)
    if ctl.population_offset:
        if population is None:
            raise InputError(Problem("population_offset needs a population for every series and period"))
        pop = np.asarray(population, dtype=float).reshape(T, S)
        bad = ~(pop > 0) & ~np.isnan(y)
        if bad.any():
            raise InputError(Problem("population_offset needs a positive population wherever a count is present"))
        logpop = np.log(np.where(pop > 0, pop, 1.0))
    if dates is not None:
        dates = np.asarray(pd.DatetimeIndex(dates).values.astype("datetime64[D]"))
        days = (dates - dates[0]).astype(float)
    out = {
        name: np.full((K, S), np.nan)
        for name in ("expected", "upperbound", "score", "pvalue", "phi", "coeff_time", "mu0", "upper_all")
    }
    out["alarm"] = np.zeros((K, S), dtype=bool)
    out["limit54"] = np.zeros((K, S), dtype=bool)
    out["trend"] = np.zeros((K, S), dtype=bool)
    reason = np.full((K, S), "", dtype=object)
    p = int(ctl.no_periods)
    z = stats.norm.ppf(1 - ctl.alpha)
    for ki, k in enumerate(monitor):
        refs = reference_points(int(k), ctl.b, freq, dates, period)
        # R (1-based) tolerates a window reaching index 0 (dropped), not below
        if refs is None or refs[-1] - ctl.w < -1:
            reason[ki, :] = f"history too short: needs {ctl.b} year(s) of reference periods (+-{ctl.w}) before this period"
            continue
        try:
            f = blocks(refs, T, ctl.w, p)
        except ValueError:
            reason[ki, :] = f"no_periods={p} is too many for the gaps between reference windows"
            continue
        # R: blocksID[(k - pastWeeksNotIncluded):k] <- NA (rows before the data are none:
        # start at row 0, so that a huge pastWeeksNotIncluded builds no huge index)
        f[max(int(k) - ctl.pwni, 0) : int(k) + 1] = np.nan
        idx = np.flatnonzero(~np.isnan(f))
        lv_values = f[idx]
        uniq = np.unique(lv_values)  # R: as.factor() levels, numeric order
        level = np.searchsorted(uniq, lv_values)
        cur = int(np.searchsorted(uniq, p))
        if cur >= len(uniq) or uniq[cur] != p:
            # every reference window (the level of this period) is among the periods left
            # out: nothing to predict from (R fails here)
            reason[ki, :] = (f"history too short: no reference period left after leaving out the last "
                             f"{ctl.pwni} periods (past_weeks_not_included)")
            continue
        if dates is None:
            t = (idx - k) / float(freq)
            scale = 1.0 / freq  # R's wtime unit (one period) in our t units
        else:
            t = (days[idx] - days[k]) / 365.25
            scale = float(days[1] - days[0]) / 365.25 if T > 1 else 1.0
        Y = y[idx].T  # (S, n)
        present = ~np.isnan(Y)
        Yz = np.where(present, Y, 0.0)
        off = logpop[idx].T if ctl.population_offset else None
        off0 = logpop[k] if ctl.population_offset else np.zeros(S)
        no_data = ~present.any(axis=1)

        trend0 = np.full(S, bool(ctl.trend))
        m = _fit_fun(Yz, present, level, len(uniq), t, off, trend0, ctl)
        fit, phi, ok, dsum = m.fit, m.phi, m.ok, m.disp_summary
        do_trend = np.zeros(S, dtype=bool)
        has = fit.trend & ok
        if has.any():
            eta0 = fit.eta(cur, 0.0) + off0
            # a diverged fit (a level with one huge count) can give eta0 > 709: exp is then
            # +inf as in R, where the comparison with ymax below is False; no warning
            with np.errstate(over="ignore"):
                pred = np.exp(eta0)
            with np.errstate(divide="ignore", invalid="ignore"):
                se_g = np.sqrt(dsum / fit.stt)
                tstat = fit.gamma / se_g
                pval = 2 * stats.t.sf(np.abs(tstat), fit.df_resid)
            significant = pval < ctl.p_threshold_trend
            ymax = np.where(present, Y, -np.inf).max(axis=1)
            no_extrapolation = pred <= ymax
            do_trend = has & (ctl.b >= 3) & significant & no_extrapolation
            refit = has & ~do_trend
            if refit.any():
                sub = _fit_fun(
                    Yz[refit], present[refit], level, len(uniq), t,
                    None if off is None else off[refit], np.zeros(int(refit.sum()), bool), ctl,
                )
                fit = _merge(fit, sub.fit, refit)
                phi, ok, dsum = phi.copy(), ok.copy(), dsum.copy()
                phi[refit], ok[refit], dsum[refit] = sub.phi, sub.ok, sub.disp_summary
        eta0 = fit.eta(cur, 0.0) + off0
        # R: predict.glm(..., newdata = data.frame(..., dispersion = model$phi)) puts the
        # dispersion into newdata, not into predict's argument, so se.fit uses the
        # unbounded summary dispersion, while the threshold uses phi = max(disp, 1).
        se_link = np.sqrt(fit.var_link(cur, 0.0) * dsum)
        yk = y[k]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # +inf where the fit diverged (eta0 > 709), as R's exp; the detectors
            # (farrington_detectors.py) report those periods as not evaluated
            mu0 = np.exp(eta0)
            if ctl.threshold_method == "delta":
                se_resp = se_link * mu0
                tau = phi + se_resp**2 / mu0
                if ctl.powertrans == "none":
                    se_t, e = np.sqrt(mu0 * tau), 1.0
                elif ctl.powertrans == "1/2":
                    se_t, e = np.sqrt(0.25 * tau), 0.5
                else:
                    se_t, e = np.sqrt(4.0 / 9.0 * mu0 ** (1.0 / 3.0) * tau), 2.0 / 3.0
                upper = (mu0**e + z * se_t) ** (1.0 / e)
                prob = stats.norm.sf(yk**e, loc=mu0**e, scale=se_t)
                score = (yk - mu0) / (upper - mu0)
            else:
                mu_q = mu0 if ctl.threshold_method == "nbPlugin" else np.exp(eta0 + z * se_link)
                nb = phi > 1
                size = mu_q / (phi - 1.0)
                upper = np.where(
                    nb,
                    _qnbinom(1 - ctl.alpha, np.where(nb, size, 1.0), 1.0 / phi),
                    _qpois(1 - ctl.alpha, mu_q),
                )
                prob = np.where(
                    phi != 1,
                    stats.nbinom.sf(yk - 1, np.where(nb, size, 1.0), 1.0 / phi),
                    stats.poisson.sf(yk - 1, mu_q),
                )
                inf = ~np.isfinite(mu_q)
                upper = np.where(inf, np.nan, upper)
                prob = np.where(inf, np.nan, prob)
                # R: the score of the NB thresholds is (y - eta0)/(U - eta0) with eta0 the
                # prediction on the *link* scale (algo.farrington.threshold.noufaily reuses
                # predFit, which is on the link scale for these methods). Kept for parity;
                # the alarm (score > 1) is then y > U whenever U > eta0.
                score = (yk - eta0) / (upper - eta0)
        lo, hi = int(k) - ctl.limit54[1] + 1, int(k)
        window = y[max(lo, 0) : hi + 1]
        enough = window.sum(axis=0) >= ctl.limit54[0] if lo >= 0 else np.zeros(S, bool)
        enough &= ~np.isnan(window).any(axis=0) if lo >= 0 else False
        good = ok & ~no_data
        alarm = good & enough & ~np.isnan(score) & (score > 1) & (yk != 0)
        out["alarm"][ki] = alarm
        out["upperbound"][ki] = np.where(good & enough, upper, np.nan)
        out["expected"][ki] = np.where(good & enough & ~np.isnan(upper), mu0, np.nan)
        out["score"][ki] = np.where(good, score, np.nan)
        out["pvalue"][ki] = np.where(good, prob, np.nan)
        out["phi"][ki] = np.where(good, phi, np.nan)
        out["mu0"][ki] = np.where(good, mu0, np.nan)
        out["upper_all"][ki] = np.where(good, upper, np.nan)
        out["limit54"][ki] = good & ~enough
        out["trend"][ki] = good & do_trend
        out["coeff_time"][ki] = np.where(good & do_trend, fit.gamma * scale, np.nan)
        r = reason[ki]
        r[~good] = "model did not converge with or without trend"
        r[no_data] = "no counts in the reference periods"
        lim = good & ~enough
        r[lim] = f"limit54: fewer than {ctl.limit54[0]} cases in the last {ctl.limit54[1]} periods"
        r[good & enough & np.isnan(yk)] = "count missing"
    out["reason"] = reason
    return out


def control_from(method: str = "farrington", **overrides: object) -> FarringtonControl:
    """A preset (``farrington``, ``farrington-noufaily``, ``farrington-original``) with overrides."""
    if method not in PRESETS:
        raise InputError(Problem(f"unknown Farrington preset {method!r}; valid: {', '.join(PRESETS)}"))
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(PRESETS[method], **given).check()
