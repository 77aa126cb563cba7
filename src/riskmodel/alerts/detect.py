"""Spike detection on an IncidentPanel: one entry point for every method.

``detect(panel, method, start=..., **options)`` runs a detector on every
series of the panel at once and returns a :class:`Detection` whose ``table``
has one row per (area, category, monitored period):

``area_id, category, period, count, expected, upperbound, alarm, score, pvalue, reason``

* ``expected``: the in-control mean the method predicts (NaN where it gives none);
* ``upperbound``: the count above which the method raises an alarm;
* ``alarm``: True when it does;
* ``score``: the method's own statistic, scaled so that ``score > 1`` is the
  alarm rule (Farrington: R's score; EARS: (y - mean)/(bound - mean); GLR:
  statistic / c_arl; forecast: (y - mean)/(bound - mean));
* ``pvalue``: P(Y >= count) under the in-control model where defined;
* ``reason``: empty when the period was evaluated, otherwise why there is no
  alarm (history too short, limit54, no convergence...).

Frequencies: the Farrington methods need weekly or monthly counts, EARS needs
daily counts; the others take any. A panel at another frequency is refused
with the reason (resample a daily panel with ``panel.resample('W')`` first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from riskmodel.alerts.ears import ears_c
from riskmodel.alerts.farrington import PRESETS, control_from, farrington_flexible, reference_points
from riskmodel.alerts.forecast_detector import forecast_detect
from riskmodel.alerts.glrnb import fit_poisson_design, glr_nb, harmonic_design, moment_alpha
from riskmodel.alerts.window import window_test
from riskmodel.data.panel import IncidentPanel
from riskmodel.errors import InputError, Problem
from riskmodel.execution.backends import Backend, LocalBackend
from riskmodel.execution.chunks import DEFAULT_CHUNK_SIZE, check_chunk_size, plan_chunks

#: method -> frequencies it accepts
METHODS: dict[str, tuple[str, ...]] = {
    "farrington": ("W", "M"),
    "farrington-noufaily": ("W", "M"),
    "farrington-original": ("W", "M"),
    "ears-c1": ("D",),
    "ears-c2": ("D",),
    "ears-c3": ("D",),
    "glrnb": ("D", "W", "M"),
    "farrington-glr": ("W", "M"),
    "farrington-window": ("W", "M"),
    "forecast": ("D", "W", "M"),
}
SEASON = {"D": 365.25, "W": 52.0, "M": 12.0}
FREQ_NAME = {"D": "daily", "W": "weekly", "M": "monthly"}
COLUMNS = ["area_id", "category", "period", "count", "expected", "upperbound", "alarm", "score", "pvalue", "reason"]


@dataclass
class Detection:
    """What :func:`detect` returns.

    Attributes
    ----------
    table : DataFrame
        One row per series and monitored period (columns: :data:`COLUMNS`).
    method : str
    options : dict
        The options used (after defaults).
    freq : str
    """

    table: pd.DataFrame
    method: str
    options: dict[str, Any] = field(default_factory=dict)
    freq: str = "W"

    @property
    def alarms(self) -> pd.DataFrame:
        """The rows with an alarm."""
        return self.table[self.table["alarm"]].reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """Per series: periods monitored, evaluated, alarms, last alarm, main reason for gaps."""
        t = self.table
        g = t.groupby(["area_id", "category"], sort=True)
        out = pd.DataFrame({
            "monitored": g.size(),
            "evaluated": g["reason"].apply(lambda r: int((r == "").sum())),
            "alarms": g["alarm"].sum().astype(int),
            "last_alarm": t[t["alarm"]].groupby(["area_id", "category"])["period"].max(),
        })
        reasons = t[t["reason"] != ""].groupby(["area_id", "category"])["reason"].agg(lambda r: r.value_counts().index[0])
        out["main_reason"] = reasons
        out["main_reason"] = out["main_reason"].fillna("")
        return out.reset_index()

    def __repr__(self) -> str:
        n = len(self.table)
        a = int(self.table["alarm"].sum()) if n else 0
        ser = self.table[["area_id", "category"]].drop_duplicates().shape[0] if n else 0
        return f"Detection(method={self.method!r}, freq={self.freq!r}, series={ser}, rows={n}, alarms={a})"


def check_method(method: str, freq: str) -> None:
    """Refuse an unknown method or one that does not fit the data's frequency."""
    if method not in METHODS:
        raise InputError(Problem(f"unknown value {method!r} for --method; valid: {', '.join(METHODS)}", column="--method"))
    ok = METHODS[method]
    if freq not in ok:
        if method.startswith("ears"):
            why = "EARS compares a day with the 7 days before it and is meant for daily counts"
            fix = "give daily counts (--freq D)"
        else:
            why = f"{method} compares a period with the same period of past years and works on weekly or monthly counts"
            fix = "resample to weekly (--freq W) or monthly (--freq M)"
        raise InputError(
            Problem(f"method {method!r} refuses {FREQ_NAME.get(freq, freq)} data: {why}; {fix}", column="--method")
        )


def _wide(panel: IncidentPanel, gaps: str) -> tuple[np.ndarray, pd.DatetimeIndex, list[tuple[str, str]], np.ndarray]:
    """(T, S) counts with NaN before each series' first row when gaps='series'."""
    w = panel.to_wide(fill=None)
    seen = w.notna().to_numpy()
    first = np.where(seen.any(axis=0), seen.argmax(axis=0), len(w))
    y = w.to_numpy(dtype=float)
    if gaps == "series":
        y = np.where(np.arange(len(w))[:, None] >= first[None, :], np.nan_to_num(y, nan=0.0), np.nan)
    elif gaps == "zero":
        y = np.nan_to_num(y, nan=0.0)
    else:
        raise InputError(Problem(f"unknown value {gaps!r} for gaps; valid: series, zero"))
    series = [tuple(map(str, c)) for c in w.columns]
    return y, pd.DatetimeIndex(w.index), series, first


def _monitor_rows(periods: pd.DatetimeIndex, start: Any, end: Any, default_start: int) -> np.ndarray:
    T = len(periods)
    lo = default_start
    if start is not None:
        try:
            s = pd.Timestamp(start)
        except (ValueError, TypeError):
            raise InputError(Problem(f"--start {start!r} is not a date (use YYYY-MM-DD)", column="--start")) from None
        lo = int(np.searchsorted(periods.values, np.datetime64(s)))
        if lo >= T:
            raise InputError(
                Problem(f"--start {s.date()} is after the last period in the data ({periods[-1].date()})", column="--start")
            )
    hi = T - 1
    if end is not None:
        hi = int(np.searchsorted(periods.values, np.datetime64(pd.Timestamp(end)), side="right")) - 1
    if hi < lo:
        raise InputError(Problem("no period to monitor between --start and --end", column="--start"))
    return np.arange(max(lo, 0), hi + 1)


def _pop_matrix(panel: IncidentPanel, periods: pd.DatetimeIndex, series: list[tuple[str, str]]) -> np.ndarray:
    if panel.population is None:
        raise InputError(Problem("population_offset needs a population table (--population)", column="--population-offset"))
    T, S = len(periods), len(series)
    per = pd.Series(np.tile(periods.values, S))
    area = pd.Series(np.repeat([s[0] for s in series], T))
    pop = panel.population_at(per, area).reshape(S, T).T
    if np.isnan(pop).any():
        missing = sorted({series[j][0] for j in np.flatnonzero(np.isnan(pop).any(axis=0))})
        raise InputError(Problem(f"no population for area(s) {', '.join(missing[:5])}", column="population"))
    return pop


def detect(
    panel: IncidentPanel,
    method: str = "farrington",
    *,
    start: Any = None,
    end: Any = None,
    gaps: str = "series",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    backend: Backend | None = None,
    **options: Any,
) -> Detection:
    """Run a spike detector on every series of a panel.

    Parameters
    ----------
    panel : IncidentPanel
        Counts at the frequency the method needs (see :data:`METHODS`).
    method : str
        One of :data:`METHODS`.
    start, end : date-like, optional
        First and last period monitored (default: from the first period with
        enough history for the method, to the last).
    gaps : {'series', 'zero'}
        ``'series'``: a series has no data before its first row (a series that
        starts late is reported as too short); ``'zero'``: zero incidents.
    chunk_size : int
        Series per chunk (see :mod:`riskmodel.execution.chunks`). Every
        method treats each series on its own, but the vectorised fits
        (Farrington's GLMs, glrnb's baseline, the forecast model) iterate
        until every series fitted together has converged, so a different
        chunking changes results in the last digits (on the weekly sample
        city, chunks of 40 series vs one: relative differences below 1e-10
        in the expected counts, the same alarms).
    backend : Backend, optional
        Where the chunks run (:func:`riskmodel.execution.make_backend`;
        default: in this process). The result does not depend on it.
    **options
        Method options: Farrington -- the :class:`FarringtonControl` fields
        (``b, w, reweight, weights_threshold, alpha, trend, p_threshold_trend,
        limit54, powertrans, population_offset, no_periods,
        past_weeks_not_included, threshold_method``); EARS -- ``baseline,
        min_sigma, alpha``; glrnb -- ``c_arl, M, theta, alpha_nb,
        harmonics, trend``; farrington-glr -- Farrington's plus ``c_arl, M``;
        forecast -- ``model, alpha, refit, gap``.
    """
    check_method(method, panel.freq)
    y, periods, series, first = _wide(panel, gaps)
    pop = None
    if method.startswith("farrington") and _farrington_control(method, options).population_offset:
        pop = _pop_matrix(panel, periods, series)
    chunks = plan_chunks(series, check_chunk_size(chunk_size))
    tasks = [
        DetectTask(np.ascontiguousarray(y[:, c]) if len(chunks) > 1 else y, periods,
                   [series[j] for j in c], first[c], panel.freq, method, start, end, dict(options),
                   None if pop is None else np.ascontiguousarray(pop[:, c]))
        for c in chunks
    ]
    results = (backend or LocalBackend(1)).map(detect_chunk, tasks)
    res, used, mon = _assemble(results, chunks, len(series))
    table = _table(res, y, mon, periods, series)
    return Detection(table=table, method=method, options=used, freq=panel.freq)


@dataclass
class DetectTask:
    """One chunk of series to run a detector on (see :func:`detect_chunk`)."""

    y: np.ndarray
    periods: pd.DatetimeIndex
    series: list[tuple[str, str]]
    first: np.ndarray
    freq: str
    method: str
    start: Any
    end: Any
    options: dict[str, Any]
    population: np.ndarray | None = None


def _farrington_control(method: str, options: dict[str, Any]) -> Any:  # noqa: ANN401 - FarringtonControl
    fopts = {k: v for k, v in options.items() if k not in ("c_arl", "M", "window")}
    if method == "farrington-window":
        fopts.pop("alpha", None)
    preset = "farrington-noufaily" if method in ("farrington-glr", "farrington-window") else method
    bad = [k for k in fopts if k not in PRESETS[preset].__dataclass_fields__]
    if bad:
        raise InputError(Problem(f"unknown Farrington option(s) {', '.join(bad)}"))
    return control_from(preset, **fopts)


def detect_chunk(task: DetectTask) -> tuple[dict[str, np.ndarray], dict[str, Any], np.ndarray]:
    """Worker side: the detector on one chunk's series.

    Returns the method's arrays (monitored periods x chunk series), the
    options used and the monitored row positions.
    """
    y, periods, series, first, freq = task.y, task.periods, task.series, task.first, task.freq
    method, start, end, options = task.method, task.start, task.end, task.options
    if method.startswith("farrington"):
        ctl = _farrington_control(method, options)
        f = int(SEASON[freq])
        default_start = f * ctl.b + ctl.w
        mon = _monitor_rows(periods, start, end, default_start)
        pop = task.population if ctl.population_offset else None
        win = int(options.get("window", 2)) if method == "farrington-window" else 1
        if win < 1:
            raise InputError(Problem(f"window must be >= 1 (got {win})", column="--window"))
        ext = np.arange(max(mon[0] - (win - 1), 0), mon[-1] + 1)
        res = farrington_flexible(
            y, ext, ctl, freq=f, dates=periods.values, period=freq, population=pop
        )
        _late_series(res, y, ext, first, periods, ctl.b, ctl.w, f, freq)
        used: dict[str, Any] = ctl.as_r()
        if method == "farrington-window":
            res, used = _farrington_window(y, ext, mon, res, win, options, used)
        else:
            res = {k: v[len(ext) - len(mon):] for k, v in res.items()}
        if method == "farrington-glr":
            res, used = _farrington_glr(y, mon, res, options, used)
    elif method.startswith("ears"):
        m = method[-2:].upper()
        bl = int(options.get("baseline", 7))
        mx = {"C1": bl, "C2": bl + 2, "C3": bl + 4}[m]
        mon = _monitor_rows(periods, start, end, mx)
        res = ears_c(y, mon, m, baseline=bl, min_sigma=float(options.get("min_sigma", 0.0)), alpha=options.get("alpha"))
        res["pvalue"] = np.full(res["score"].shape, np.nan)
        used = {"method": m, "baseline": bl, "min_sigma": float(options.get("min_sigma", 0.0)),
                "alpha": options.get("alpha") or (0.025 if m == "C3" else 0.001)}
        _late_simple(res, y, mon, first, mx, periods, f"EARS {m} needs {mx} earlier days")
    elif method == "glrnb":
        res, used, mon = _glrnb(y, periods, freq, start, end, options)
        _late_simple(res, y, mon, first, int(SEASON[freq]), periods, "the baseline model needs one year of history")
    elif method == "forecast":
        mon = _monitor_rows(periods, start, end, int(SEASON[freq]) * 2)
        res, used = forecast_detect(_Freq(freq), y, periods, series, mon, **options)
        _late_simple(res, y, mon, first, int(SEASON[freq]), periods, "the forecast model needs one year of history")
    else:  # pragma: no cover - check_method refused it
        raise InputError(Problem(f"unknown value {method!r} for --method; valid: {', '.join(METHODS)}"))
    return res, used, mon


@dataclass(frozen=True)
class _Freq:
    """What :func:`forecast_detect` reads of a panel (its frequency): a chunk
    need not carry the whole panel."""

    freq: str


def _assemble(results: list[tuple[dict[str, np.ndarray], dict[str, Any], np.ndarray]], chunks: list[np.ndarray],
              n: int) -> tuple[dict[str, np.ndarray], dict[str, Any], np.ndarray]:
    """The chunks' arrays put back in the panel's column order."""
    if len(results) == 1:
        return results[0]
    res0, used, mon = results[0]
    out: dict[str, np.ndarray] = {}
    for key, v in res0.items():
        arr = np.empty((v.shape[0], n), dtype=v.dtype)
        for (r, _, _), cols in zip(results, chunks, strict=True):
            arr[:, cols] = r[key]
        out[key] = arr
    return out, used, mon


def _late_series(res: dict, y: np.ndarray, mon: np.ndarray, first: np.ndarray, periods: pd.DatetimeIndex,
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


def _late_simple(res: dict, y: np.ndarray, mon: np.ndarray, first: np.ndarray, need: int,
                 periods: pd.DatetimeIndex, why: str) -> None:
    for ki, k in enumerate(mon):
        late = first > k - need
        if late.any():
            for key in ("expected", "upperbound", "score", "pvalue"):
                if key in res:
                    res[key][ki, late] = np.nan
            res["alarm"][ki, late] = False
            for j in np.flatnonzero(late):
                if not res["reason"][ki, j]:
                    res["reason"][ki, j] = f"history too short: {why}"


def _table(res: dict, y: np.ndarray, mon: np.ndarray, periods: pd.DatetimeIndex,
           series: list[tuple[str, str]]) -> pd.DataFrame:
    K, S = len(mon), len(series)
    cnt = y[mon]
    tab = pd.DataFrame({
        "area_id": np.repeat([s[0] for s in series], K),
        "category": np.repeat([s[1] for s in series], K),
        "period": np.tile(periods[mon].values, S),
        "count": cnt.T.ravel(),
        "expected": res["expected"].T.ravel(),
        "upperbound": res["upperbound"].T.ravel(),
        "alarm": res["alarm"].T.ravel().astype(bool),
        "score": res["score"].T.ravel(),
        "pvalue": res.get("pvalue", np.full((K, S), np.nan)).T.ravel(),
        "reason": np.asarray(res["reason"], dtype=object).T.ravel(),
    })
    # a count missing inside a monitored span (before the series starts) stays NaN
    tab["count"] = tab["count"].astype("Float64").round().astype("Int64")
    return tab[COLUMNS]


def _baseline_means(y: np.ndarray, periods: pd.DatetimeIndex, freq: str, train: np.ndarray,
                    harmonics: int, trend: bool) -> tuple[np.ndarray, np.ndarray]:
    """In-control means from a log-linear Poisson GLM on the training rows; NB alpha by moments."""
    days = (periods - periods[0]).days.to_numpy(dtype=float)
    tt = days / (365.25 / SEASON[freq])
    X = harmonic_design(tt, SEASON[freq], harmonics, trend)
    if trend:
        # the trend column is centred on the full range in harmonic_design; keep it as is
        pass
    if freq == "D":
        dow = periods.dayofweek.to_numpy()
        X = np.column_stack([X] + [(dow == d).astype(float) for d in range(1, 7)])
    Xtr = X[train]
    Ytr = y[train].T
    prior = (~np.isnan(Ytr)).astype(float)
    beta, _ = fit_poisson_design(np.nan_to_num(Ytr), Xtr, prior)
    mu = np.exp(np.clip(X @ beta.T, -30, 30))  # (T, S)
    alpha = moment_alpha(np.nan_to_num(Ytr), mu[train].T, prior)
    return mu, alpha


def _glrnb(y: np.ndarray, periods: pd.DatetimeIndex, freq: str, start: Any, end: Any,
           options: dict[str, Any]) -> tuple[dict, dict, np.ndarray]:
    known = {"c_arl", "M", "theta", "alpha_nb", "harmonics", "trend"}
    bad = [k for k in options if k not in known]
    if bad:
        raise InputError(Problem(f"unknown glrnb option(s) {', '.join(bad)}; valid: {', '.join(sorted(known))}"))
    season = int(SEASON[freq])
    mon = _monitor_rows(periods, start, end, season * 2)
    if mon[0] < season:
        raise InputError(Problem(
            f"glrnb needs at least one year ({season} periods) of history before --start; "
            f"the data start {periods[0].date()}", column="--start"))
    c_arl = float(options.get("c_arl", 5.0))
    M = int(options.get("M", {"D": 28, "W": 13, "M": 6}[freq]))
    harmonics = int(options.get("harmonics", 1))
    trend = bool(options.get("trend", False))
    train = np.arange(0, mon[0])
    mu, alpha = _baseline_means(y, periods, freq, train, harmonics, trend)
    if options.get("alpha_nb") is not None:
        alpha = np.full(y.shape[1], float(options["alpha_nb"]))
    theta = options.get("theta")
    r = glr_nb(np.nan_to_num(y), mu, alpha, mon, c_arl=c_arl, M=M, theta=theta)
    K, S = r["alarm"].shape
    yk = y[mon]
    mk = mu[mon]
    a = alpha[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        pv = np.where(a > 0, stats.nbinom.sf(yk - 1, 1 / np.where(a > 0, a, 1), 1 / (1 + a * mk)), stats.poisson.sf(yk - 1, mk))
    res = {
        "expected": mk, "upperbound": r["upperbound"], "alarm": r["alarm"], "score": r["score"],
        "pvalue": pv, "reason": np.full((K, S), "", dtype=object), "statistic": r["statistic"],
    }
    used = {"c_arl": c_arl, "M": M, "theta": theta, "harmonics": harmonics, "trend": trend,
            "alpha_nb": "moments" if options.get("alpha_nb") is None else float(options["alpha_nb"])}
    return res, used, mon


def _farrington_window(y: np.ndarray, ext: np.ndarray, mon: np.ndarray, res: dict, win: int,
                       options: dict[str, Any], used: dict[str, Any]) -> tuple[dict, dict]:
    """NB test of the sum of the last ``win`` periods on Farrington's means (see window.py)."""
    alpha = float(options.get("alpha", 0.005))
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
    out = {**w, "reason": reason}
    return out, {**used, "alpha": alpha, "window": win}


def _farrington_glr(y: np.ndarray, mon: np.ndarray, res: dict, options: dict[str, Any],
                    used: dict[str, Any]) -> tuple[dict, dict]:
    """NB GLR chart on Farrington's (Noufaily) in-control means and dispersion.

    Farrington gives, per monitored period, the predicted mean ``mu0`` from
    reweighted reference data (past outbreaks down-weighted, the last 26
    periods left out) and a quasi-Poisson dispersion ``phi``; the GLR then
    accumulates evidence over consecutive periods, which catches outbreaks
    spread over several periods that no single period's bound flags.
    Variance ``phi * mu0`` is an NB with ``alpha = (phi - 1) / mu0``.
    """
    c_arl = float(options.get("c_arl", 6.0))
    M = int(options.get("M", 8))
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
    used = {**used, "c_arl": c_arl, "M": M}
    return out, used
