"""The ESSENCE detectors: EWMA, adaptive multiple regression and the switch between them.

ESSENCE (the US National Syndromic Surveillance Program's system) runs these on
daily counts; CDC's R package Rnssp (``alert_ewma``, ``alert_regression``,
``alert_switch``) is its published implementation, and riskmodel's numbers
equal Rnssp's (tests/alerts/test_essence.py, reference outputs made by
tests/alerts/data/essence_reference.R). For each monitored day ``i``:

* **baseline**: the ``baseline`` (B = 28) days ending ``guard + 1`` (3) days
  before ``i`` (a guard band of ``guard`` = 2 days keeps an outbreak's first
  days out of its own baseline); while a series is younger, all of its days so
  far (at least 7 for EWMA, 11 for the regression).
* **EWMA** (Burkom's version, as ESSENCE): two exponentially weighted moving
  averages of the counts, ``z = w y_i + (1 - w) z_{i-1}`` with w1 = 0.4
  (gradual rises) and w2 = 0.9 (sudden ones, close to EARS C2); each gives
  ``t = (z - mean) / sigma_w`` with the baseline's mean and
  ``sigma_w = max(sigma_min(w), sd * c(w, L) + k(w))``, where ``c(w, L)`` is the
  standard deviation of ``z`` minus the baseline mean for independent counts
  and ``k``/``sigma_min`` are ESSENCE's small-count corrections; the p-value is
  Student's t with L - 1 degrees of freedom, the smaller of the two p-values
  is the day's. A smoothed value beyond the 1% bound is pulled back to it
  before the next day (an outbreak does not inflate the next days' EWMA).
* **Adaptive multiple regression**: ordinary least squares of the baseline
  counts on an intercept, a linear trend and six day-of-week indicators
  (Sunday the reference); the day's expected count is the fit's prediction
  (floored at 0), ``t = (y - expected) / sigma`` with the standard error of
  the regression widened for prediction (ESSENCE's closed form
  ``sqrt(mse) sqrt((L + 7)(L - 4) / (L (L - 7)))``), Student's t with L - 8
  degrees of freedom; also the fit's adjusted R^2.
* **Switch**: the regression where its adjusted R^2 >= 0.60 (the baseline is
  explained by trend and weekday), EWMA elsewhere (sparse and irregular
  series, and the first days, before the regression has 11 baseline days).

ESSENCE colours p < 0.01 red (alert) and 0.01 <= p < 0.05 yellow (warning);
``alarm`` here is p < ``alpha`` (default 0.01, the red alert), ``pvalue`` is
the day's p-value, and ``upperbound`` the smallest count that would have
alarmed (for EWMA the count that puts the larger of the two statistics on the
bound), so that the detection table reads like every other detector's. EWMA's
alarm also depends on the days before it (after a high day, a count below the
baseline mean can alarm): its bound is raised to the expected count where it
is below it, and EWMA and the switch are registered with ``bound=None`` (their
alarm is the p-value's, not "count above the bound"); the regression's bound
is exact.

Where riskmodel differs from Rnssp, and why: Rnssp rescales a series whose
every value is below 1 (percentages) by the median of its positive values;
counts below 1 are all zero, where Rnssp's rescaling gives NA throughout, and
riskmodel evaluates the series unscaled (no alarm, p-values defined). Rnssp
treats a missing count as an error; riskmodel starts each series at its first
observed day, as its other detectors do.

The loops run over days, vectorised over series (the EWMA's recursion and the
pull-back are sequential in time; each day's regression is one least-squares
solve for all series with the same baseline), written here because no
maintained Python package implements ESSENCE's detectors.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from riskmodel.alerts.base import (
    DetectorOutput,
    DetectTask,
    bound_not_below_expected,
    monitor_rows,
    score_on_count_scale,
)
from riskmodel.errors import InputError, Problem

DEFAULTS = {"baseline": 28, "guard": 2, "w1": 0.4, "w2": 0.9, "alpha": 0.01, "r2_threshold": 0.60}
"""ESSENCE's settings (Rnssp's defaults)."""
EWMA_MIN_BASELINE = 7
REGRESSION_MIN_BASELINE = 11
RED, YELLOW = 0.01, 0.05
"""ESSENCE's alert (red) and warning (yellow) p-value limits."""


def _check(baseline: int, guard: int, w1: float = 0.4, w2: float = 0.9, alpha: float = 0.01,
           regression: bool = False) -> None:
    if baseline < EWMA_MIN_BASELINE:
        raise InputError(Problem(f"ESSENCE baseline must be >= 7 days (got {baseline})"))
    if regression and baseline % 7:
        raise InputError(Problem(f"the ESSENCE regression's baseline must be a multiple of 7 days, so that each "
                                 f"weekday appears equally often (got {baseline})"))
    if guard < 0:
        raise InputError(Problem(f"ESSENCE guard band cannot be negative (got {guard})"))
    for name, w in (("w1", w1), ("w2", w2)):
        if not 0 < w <= 1:
            raise InputError(Problem(f"EWMA smoothing coefficient {name} must be in (0, 1] (got {w})"))
    if not 0 < alpha < 0.5:
        raise InputError(Problem(f"alpha must be in (0, 0.5) (got {alpha})"))


def _t_bound(p: float, dof: np.ndarray) -> np.ndarray:
    """``round(qt(1 - p, dof), 5)``: ESSENCE rounds its t bounds to 5 decimals."""
    with np.errstate(invalid="ignore"):
        return np.round(stats.t.ppf(1 - p, np.where(dof > 0, dof, np.nan)), 5)


def _first_rows(y: np.ndarray, first: np.ndarray | None) -> np.ndarray:
    if first is not None:
        return np.asarray(first, dtype=int)
    obs = ~np.isnan(y)
    return np.where(obs.any(axis=0), obs.argmax(axis=0), y.shape[0])


def _baseline(y: np.ndarray, i: int, first: np.ndarray, B: int, g: int) -> tuple[np.ndarray, np.ndarray]:
    """The baseline rows' values, (B, S) with NaN outside each series' baseline, and their count L (S,)."""
    hi = i - g  # exclusive
    lo = hi - B
    rows = np.arange(lo, hi)
    win = y[np.clip(rows, 0, None)]
    win = np.where((rows[:, None] >= first[None, :]) & (rows[:, None] >= 0), win, np.nan)
    return win, (~np.isnan(win)).sum(axis=0)


def ewma(y: np.ndarray, *, first: np.ndarray | None = None, baseline: int = 28, guard: int = 2,
         w1: float = 0.4, w2: float = 0.9, alpha: float = 0.01) -> dict[str, np.ndarray]:
    """ESSENCE's EWMA detector on many daily series (arrays in, arrays out; see the module notes).

    Parameters
    ----------
    y : ndarray (T, S)
        Counts per day; NaN before a series' first day.
    first : ndarray (S,) of int, optional
        Each series' first observed row (default: its first non-NaN row).
    baseline, guard : int
        Days (B >= 7, g >= 0).
    w1, w2 : float
        Smoothing coefficients of the gradual and the sudden EWMA.
    alpha : float
        Level of ``bound``.

    Returns
    -------
    dict of ndarray (T, S)
        ``expected`` (baseline mean), ``stat`` (the chosen t statistic),
        ``pvalue`` (the smaller p-value), ``bound`` (the smallest count whose
        p-value would be below ``alpha``: the smaller of the counts that put
        either statistic on ``t(1 - alpha, dof)``), ``sigma1``, ``sigma2``,
        ``dof``; NaN where not evaluated (fewer than 7 baseline days).
    """
    _check(baseline, guard, w1, w2, alpha)
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    T, S = y.shape
    first = _first_rows(y, first)
    out = {k: np.full((T, S), np.nan) for k in ("expected", "stat", "pvalue", "bound", "sigma1", "sigma2", "dof")}
    ws = np.array([w1, w2])
    z = np.full((2, S), np.nan)  # the two EWMAs of each series, as of the previous row
    for i in range(T):
        yi = y[i]
        started = first == i
        z[:, started] = yi[started]  # each series' EWMA starts at its first count
        win, L = _baseline(y, i, first, baseline, guard)
        ok = (L >= EWMA_MIN_BASELINE) & (i > first) & ~np.isnan(yi)
        later = (i > first) & ~ok & ~np.isnan(yi)
        z[:, later] = ws[:, None] * yi[later] + (1 - ws[:, None]) * z[:, later]
        if not ok.any():
            continue
        Lk = L[ok].astype(float)
        w_ = win[:, ok]
        mu = np.nanmean(w_, axis=0)
        sd = np.nanstd(w_, axis=0, ddof=1)
        dof = Lk - 1
        ucl_alert, ucl_warn = _t_bound(RED, dof), _t_bound(YELLOW, dof)
        crit = stats.t.isf(alpha, dof)
        stat_w, sig_w, bound_w = [], [], []
        for j, w in enumerate(ws):
            corr = np.sqrt(w / (2 - w) + 1 / Lk - 2 * (1 - w) ** (guard + 1) * (1 - (1 - w) ** Lk) / Lk)
            min_sigma = (w / ucl_warn) * (0.01 + 0.05 * (1 - w) ** 2)
            constant = (0.1289 - (0.2414 - 0.1826 * (1 - w) ** 4) * np.log(10 * 0.05)) * (w / ucl_warn)
            sigma = np.maximum(min_sigma, sd * corr + constant)
            zi = w * yi[ok] + (1 - w) * z[j, ok]
            t = (zi - mu) / sigma
            bound_w.append((mu + crit * sigma - (1 - w) * z[j, ok]) / w)
            # an outlying smoothed value is pulled back to the alert bound before the next day
            z[j, ok] = np.where(np.abs(t) > ucl_alert, mu + np.sign(t) * ucl_alert * sigma, zi)
            stat_w.append(t)
            sig_w.append(sigma)
        p1, p2 = (stats.t.sf(t, dof) for t in stat_w)
        use1 = p1 < p2
        out["expected"][i, ok] = mu
        out["stat"][i, ok] = np.where(use1, stat_w[0], stat_w[1])
        out["pvalue"][i, ok] = np.where(use1, p1, p2)
        out["bound"][i, ok] = np.fmin(*bound_w)  # may be < 0 after a pulled-back outbreak: then any count alarms
        out["sigma1"][i, ok], out["sigma2"][i, ok] = sig_w
        out["dof"][i, ok] = dof
    return out


def regression(y: np.ndarray, periods: np.ndarray, *, first: np.ndarray | None = None, baseline: int = 28,
               guard: int = 2) -> dict[str, np.ndarray]:
    """ESSENCE's adaptive multiple regression on many daily series (see the module notes).

    Parameters
    ----------
    y : ndarray (T, S)
        Counts per day; NaN before a series' first day.
    periods : array of datetime64 (T,)
        The days (for the day-of-week indicators).
    first : ndarray (S,) of int, optional
    baseline, guard : int
        Days (B >= 7 and a multiple of 7, g >= 0).

    Returns
    -------
    dict of ndarray (T, S)
        ``expected``, ``stat``, ``pvalue``, ``sigma``, ``r2adj`` (adjusted R^2
        of the baseline fit, 0 where undefined), ``dof``; NaN where not
        evaluated (fewer than 11 baseline days).
    """
    _check(baseline, guard, regression=True)
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    T, S = y.shape
    first = _first_rows(y, first)
    dow = np.asarray(periods, dtype="datetime64[D]").astype("int64")
    dow = (dow + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    out = {k: np.full((T, S), np.nan) for k in ("expected", "stat", "pvalue", "sigma", "r2adj", "dof")}
    for i in range(T):
        hi = i - guard
        L = np.clip(np.minimum(baseline, hi - first), 0, None)
        ok = (L >= REGRESSION_MIN_BASELINE) & ~np.isnan(y[i])
        for Lv in np.unique(L[ok]):
            cols = np.flatnonzero(ok & (L == Lv))
            rows = np.arange(hi - Lv, hi)
            X = np.zeros((Lv, 8))
            X[:, 0] = 1.0
            X[:, 1] = np.arange(1, Lv + 1)
            d = dow[rows]
            for k in range(6):  # Monday..Saturday; Sunday is the reference
                X[:, 2 + k] = d == k
            Y = y[rows][:, cols]
            beta, *_ = np.linalg.lstsq(X, Y, rcond=None)
            fit = X @ beta
            res = Y - fit
            dof = Lv - 8
            rss = (res**2).sum(axis=0)
            mss = ((fit - fit.mean(axis=0)) ** 2).sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                r2 = mss / (rss + mss)
                r2adj = 1 - (1 - r2) * (Lv - 1) / dof
            r2adj = np.where(np.isnan(r2adj), 0.0, r2adj)
            min_sigma = 0.01 / _t_bound(YELLOW, np.array([dof]))[0]
            sigma = np.maximum(np.sqrt(rss / dof) * np.sqrt((Lv + 7) * (Lv - 4) / (Lv * (Lv - 7))), min_sigma)
            x_test = np.zeros(8)
            x_test[0], x_test[1] = 1.0, Lv + guard + 1
            if dow[i] < 6:
                x_test[2 + dow[i]] = 1.0
            expected = np.maximum(0.0, x_test @ beta)
            t = (y[i, cols] - expected) / sigma
            out["expected"][i, cols] = expected
            out["stat"][i, cols] = t
            out["pvalue"][i, cols] = stats.t.sf(t, dof)
            out["sigma"][i, cols] = sigma
            out["r2adj"][i, cols] = r2adj
            out["dof"][i, cols] = dof
    return out


def switch(ewma_res: dict[str, np.ndarray], reg_res: dict[str, np.ndarray],
           r2_threshold: float = DEFAULTS["r2_threshold"]) -> np.ndarray:
    """Where the switch uses the regression: its adjusted R^2 is at least ``r2_threshold``, (T, S) bool."""
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(reg_res["r2adj"], nan=-np.inf) >= r2_threshold


# ---------------------------------------------------------------- the registered detectors
def _options(task: DetectTask) -> dict[str, float]:
    o = {k: task.options.get(k) for k in DEFAULTS}
    return {k: DEFAULTS[k] if v is None else v for k, v in o.items()}


def _output(task: DetectTask, res: dict[str, np.ndarray], mon: np.ndarray, used: dict, need: str) -> DetectorOutput:
    y = task.y[mon]
    exp, p = res["expected"][mon], res["pvalue"][mon]
    # EWMA's alarm depends on the days before (the smoothed value): after a high day a count below the
    # baseline mean can alarm, so its exact bound can lie below the expected count. The table's bound is
    # never below the expected count (every detector's rule); EWMA and the switch are registered with
    # bound=None (no "alarm iff count > bound" rule), the regression's bound is exact (expected + t sigma).
    bound = bound_not_below_expected(exp, res["bound"][mon])
    evaluated = np.isfinite(p)
    reason = np.full(p.shape, "", dtype=object)
    reason[~evaluated] = f"history too short: {need}"
    reason[np.isnan(y)] = "count missing"
    alarm = evaluated & (p < used["alpha"])
    return DetectorOutput.from_arrays({"expected": exp, "upperbound": bound, "alarm": alarm, "pvalue": p,
                                       "score": score_on_count_scale(y, exp, bound), "reason": reason}, used, mon)


def _run(task: DetectTask, which: str) -> DetectorOutput:
    o = _options(task)
    B, g = int(o["baseline"]), int(o["guard"])
    first_row = (EWMA_MIN_BASELINE if which != "regression" else REGRESSION_MIN_BASELINE) + g
    mon = monitor_rows(task.periods, task.start, task.end, first_row)
    used = {"baseline": B, "guard": g, "alpha": float(o["alpha"])}
    if which != "regression":
        used |= {"w1": float(o["w1"]), "w2": float(o["w2"])}
        e = ewma(task.y, first=task.first, baseline=B, guard=g, w1=used["w1"], w2=used["w2"], alpha=used["alpha"])
    if which != "ewma":
        r = regression(task.y, task.periods.to_numpy(), first=task.first, baseline=B, guard=g)
        with np.errstate(invalid="ignore"):
            r["bound"] = r["expected"] + stats.t.isf(used["alpha"], r["dof"]) * r["sigma"]
    if which == "ewma":
        return _output(task, e, mon, used, f"ESSENCE EWMA needs {EWMA_MIN_BASELINE} baseline periods before a "
                                           f"{g}-period guard band")
    if which == "regression":
        return _output(task, r, mon, used, f"the ESSENCE regression needs {REGRESSION_MIN_BASELINE} baseline days "
                                           f"before a {g}-day guard band")
    used["r2_threshold"] = float(o["r2_threshold"])
    use_reg = switch(e, r, used["r2_threshold"])
    both = {k: np.where(use_reg, r[k], e[k]) for k in ("expected", "bound", "pvalue")}
    return _output(task, both, mon, used, f"ESSENCE's switch needs {EWMA_MIN_BASELINE} baseline days before a "
                                          f"{g}-day guard band")


def detect_essence_ewma(task: DetectTask) -> DetectorOutput:
    """ESSENCE's EWMA on a chunk of series (:class:`~riskmodel.alerts.base.Detector`)."""
    return _run(task, "ewma")


def detect_essence_regression(task: DetectTask) -> DetectorOutput:
    """ESSENCE's adaptive multiple regression on a chunk of daily series."""
    return _run(task, "regression")


def detect_essence_switch(task: DetectTask) -> DetectorOutput:
    """ESSENCE's regression/EWMA switch on a chunk of daily series."""
    return _run(task, "switch")


__all__ = ["DEFAULTS", "detect_essence_ewma", "detect_essence_regression", "detect_essence_switch", "ewma",
           "regression", "switch"]
