"""Reporting-delay nowcast: the complete counts of the latest, still incomplete periods.

An incident of day ``t`` may enter the database days later (a police alert
typed in the next morning, a hotline complaint filed after a week), so the
latest periods' counts are too low and a spike detector run on them misses
or delays real spikes. :func:`nowcast` estimates the reporting-delay
distribution from records with two dates (occurrence and report/entry) and
predicts each of the last ``D`` periods' eventual count, with a predictive
distribution; :func:`nowcast_panel` puts those predictions in place of the
incomplete counts so that any registered detector can run on them
(:func:`riskmodel.alerts.detect`, the detectors untouched).

Method (Höhle and an der Heiden 2014, R's ``surveillance::nowcast``, method
``"bayes.trunc"``)
-------------------------------------------------------------------------
Why this one: it is the published method of the peer tool our users know,
it accounts for the right-truncation of the reporting triangle when it
estimates the delays (the naive share of each delay among the reports so
far is biased toward short delays), it has a proper predictive distribution
(not a point estimate with a normal approximation, as Lawless' 1994
chain-ladder variance), it needs no MCMC, and its delay estimate can be
checked against R digit for digit. With the ``"flat"`` prior it is the
chain-ladder estimate ``reported / F`` with a negative-binomial predictive.

1. The reporting triangle ``n[t, d]``: events that occurred in period ``t``
   (``0..T``, ``T`` the period of ``now``) and were reported ``d`` periods
   later (``d = 0..D``; longer delays are counted as ``D``), observed where
   ``t + d <= T``.
2. The reverse-time discrete hazards ``g_x = P(delay = x | delay <= x)``,
   ``x = D..1``, each with a Beta(kappa-prior + ``n_x``, prior +
   ``N_x - n_x``) posterior, where ``n_x`` sums ``n[t, x]`` and ``N_x`` sums
   ``n[t, 0..x]`` over the rows ``t`` of the estimation window that are
   observed at delay ``x`` (``T - m <= t <= T - x``). Together they form a
   generalised Dirichlet posterior of the delay distribution ``p``; its
   mean gives the delay CDF ``F`` (``delay_complete_share``: the expected
   share of a period's events reported ``d`` periods after it).
3. The eventual count ``N_t`` of a period has a negative-binomial prior with
   mean ``mu`` and variance ``v``; given ``p``, the count so far ``x_t``
   is Binomial(``N_t``, ``F(T - t)``), so ``N_t - x_t`` is negative binomial
   with size ``size + x_t`` and probability ``(size/mu + F)/(size/mu + 1)``.
   The predictive mixes this over ``n_samples`` draws of ``p`` from its
   posterior (Monte Carlo, seeded) and one draw of ``N_t`` per draw of
   ``p``; the mean is the exact mean of the mixture, the median and
   interval are quantiles of the draws.

The prior of ``N_t`` (R asks the user for it): ``"empirical"`` (default) is
the mean and variance (``ddof=1``) of the series' complete counts in the
estimation window (``0.5/n`` for a series with no count there), Poisson-gamma with size
``mu^2/(v - mu)`` (at most 1e6: a series with ``v <= mu`` is near Poisson);
it pulls a sparse period's nowcast toward the series' usual level.
``"flat"`` is the improper Gamma(0, 0) prior of the rate: ``N_t - x_t`` is
negative binomial with size ``x_t`` and probability ``F``, mean
``x_t (1 - F)/F`` (chain-ladder), so the nowcast follows the reports, spikes
included (a period with nothing reported yet is nowcast as 0).

The delay distribution is pooled over series (``pool="all"``, default: the
delay is a property of the reporting system, and a street's few records per
day cannot estimate it), per category (``"category"``) or per series
(``"series"``).

Units: periods of the panel's frequency (days, ISO weeks starting Monday,
calendar months); a delay is the number of period starts between the
occurrence's period and the report's period.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.data.frequency import Frequency
from riskmodel.data.panel import IncidentPanel
from riskmodel.errors import InputError, Problem
from riskmodel.results import Artifact, level_fraction

EVENT_COLUMNS = ("area_id", "category", "occurred", "reported")
"""Required columns of an events table (``count`` is optional: 1 per row)."""

COLUMNS = ["area_id", "category", "period", "reported_so_far", "nowcast_mean", "nowcast_median", "lo_95", "hi_95",
           "delay_complete_share"]
"""The columns of :meth:`Nowcast.to_frame`."""

PRIORS = ("empirical", "flat")
POOLS = ("all", "category", "series")
USES = ("mean", "median", "upper")
MAX_SIZE = 1e6
DEFAULT_MAX_DELAY = {"D": 14, "W": 3, "M": 2}
"""Default ``max_delay`` per frequency (two weeks of days, three weeks, two months)."""


def _check_freq(freq: str) -> Frequency:
    f = Frequency.of(freq)
    if f.code not in DEFAULT_MAX_DELAY:
        raise InputError(Problem(f"a nowcast takes daily, weekly or monthly periods (D, W, M), not {f.name}",
                                 column="--freq"))
    return f


@dataclass
class ReportingTriangle:
    """Events counted by occurrence period and delay, per series.

    Attributes
    ----------
    n : ndarray (S, T+1, D+1) float
        ``n[s, t, d]``: events of series ``s`` that occurred in period ``t``
        and were reported ``d`` periods later (delays above ``D`` counted as
        ``D``); NaN where ``t + d > T`` (not observable yet).
    periods : DatetimeIndex (T+1,)
        Period starts; the last is ``now``'s period.
    series : list of (area_id, category)
    freq : {'D', 'W', 'M'}
    notes : list of str
    """

    n: np.ndarray
    periods: pd.DatetimeIndex
    series: list[tuple[str, str]]
    freq: str
    notes: list[str] = field(default_factory=list)

    @property
    def max_delay(self) -> int:
        return self.n.shape[2] - 1

    @property
    def now(self) -> pd.Timestamp:
        return self.periods[-1]

    def reported(self) -> np.ndarray:
        """(S, T+1) counts reported so far per occurrence period."""
        return np.nansum(self.n, axis=2)

    @classmethod
    def from_frame(cls, table: pd.DataFrame, *, freq: str, area_id: str = "all", category: str = "all",
                   source: str = "triangle") -> ReportingTriangle:
        """One series' triangle from a wide table: index = period starts, columns = delays 0..D.

        Cells not observable yet are NaN (or absent); the last row is ``now``.
        """
        f = _check_freq(freq)
        try:
            periods = pd.DatetimeIndex(pd.to_datetime(table.index))
            delays = [int(c) for c in table.columns]
        except (ValueError, TypeError) as exc:
            raise InputError(Problem(f"a reporting triangle has period starts as rows and delays 0..D as columns ({exc})",
                                     source=source)) from None
        if delays != list(range(len(delays))):
            raise InputError(Problem(f"the delay columns must be 0..D in order, got {delays}", source=source))
        want = f.range(periods.min(), periods.max())
        if len(want) != len(periods) or not (want == periods.sort_values()).all():
            raise InputError(Problem(f"the rows must be consecutive {f.name} period starts", source=source))
        order = np.argsort(periods.values)
        v = table.to_numpy(dtype=float)[order]
        T1, D1 = v.shape
        obs = np.arange(T1)[:, None] + np.arange(D1)[None, :] <= T1 - 1
        if (np.nan_to_num(v[obs], nan=0.0) < 0).any():
            raise InputError(Problem("counts in a reporting triangle must be >= 0", source=source))
        v = np.where(obs, np.nan_to_num(v, nan=0.0), np.nan)
        return cls(n=v[None], periods=periods[order], series=[(str(area_id), str(category))], freq=f.code)


def reporting_triangle(
    events: pd.DataFrame | str | os.PathLike[str],
    *,
    freq: str,
    max_delay: int,
    now: object | None = None,
    start: object | None = None,
    source: str | None = None,
) -> ReportingTriangle:
    """Count an events table (``area_id, category, occurred, reported[, count]``) into a reporting triangle.

    Parameters
    ----------
    events : DataFrame or path (CSV)
        One row per event (or per group of events with ``count``).
    freq : {'D', 'W', 'M'}
    max_delay : int
        ``D``, in periods; longer delays are counted as ``D`` (said in a note).
    now : date-like, optional
        The monitoring date: events reported after it are left out (not known
        yet; said in a note). Default: the latest report date.
    start : date-like, optional
        First occurrence period kept (default: the earliest occurrence).
    source : str, optional
        The table's name in messages.

    Raises
    ------
    InputError
        Missing columns, dates that cannot be read, reports before
        occurrence, counts that are not whole numbers >= 0.
    """
    f = _check_freq(freq)
    if isinstance(events, (str, os.PathLike)):
        name = source or os.fspath(events)
        try:
            df = pd.read_csv(events, dtype={"area_id": str, "category": str})
        except (OSError, ValueError) as exc:
            raise InputError(Problem(f"cannot read the events table: {exc}", source=name)) from None
    else:
        name = source or "events"
        df = events
    if int(max_delay) != max_delay or max_delay < 1:
        raise InputError(Problem(f"max_delay must be a whole number of periods >= 1 (got {max_delay})"))
    D = int(max_delay)
    notes: list[str] = []
    missing = [c for c in EVENT_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(Problem(f"missing column(s) {', '.join(missing)}; an events table has "
                                 f"{', '.join(EVENT_COLUMNS)}[, count]", source=name))
    problems: list[Problem] = []
    dates = {}
    for col in ("occurred", "reported"):
        d = pd.to_datetime(df[col], errors="coerce")
        bad = np.flatnonzero(d.isna().to_numpy())
        if bad.size:
            problems.append(Problem.at_rows("not a date", index=bad, source=name, column=col,
                                            values=df[col].iloc[bad[:5]].tolist()))
        dates[col] = d
    for col in ("area_id", "category"):
        bad = np.flatnonzero(df[col].isna().to_numpy())
        if bad.size:
            problems.append(Problem.at_rows("missing value", index=bad, source=name, column=col))
    if "count" in df.columns:
        cnt = pd.to_numeric(df["count"], errors="coerce")
        badc = np.flatnonzero((cnt.isna() | (cnt < 0) | (cnt != np.floor(cnt))).to_numpy())
        if badc.size:
            problems.append(Problem.at_rows("counts must be whole numbers >= 0", index=badc, source=name,
                                            column="count", values=df["count"].iloc[badc[:5]].tolist()))
        cnt = cnt.fillna(0).to_numpy(float)
    else:
        cnt = np.ones(len(df))
    if problems:
        raise InputError(problems)
    po = f.start(dates["occurred"]).reset_index(drop=True)
    pr = f.start(dates["reported"]).reset_index(drop=True)
    neg = np.flatnonzero((pr < po).to_numpy())
    if neg.size:
        raise InputError(Problem.at_rows("reported before it occurred", index=neg, source=name, column="reported",
                                         values=df["reported"].iloc[neg[:5]].tolist()))
    if len(df) == 0:
        raise InputError(Problem("no events", source=name))
    now_p = pr.max() if now is None else f.start(pd.Series([pd.Timestamp(now)])).iloc[0]
    later = (pr > now_p).to_numpy()
    if later.any():
        notes.append(f"{int(cnt[later].sum()):,} event(s) reported after {now_p.date()} left out (not known then)")
    first = po.min() if start is None else f.start(pd.Series([pd.Timestamp(start)])).iloc[0]
    keep = ~later & (po >= first).to_numpy() & (po <= now_p).to_numpy()
    periods = f.range(first, now_p)
    T1 = len(periods)
    if T1 < D + 2:
        raise InputError(Problem(f"{T1} {f.name} period(s) from {first.date()} to {now_p.date()}: a nowcast with "
                                 f"max_delay {D} needs at least {D + 2} (complete periods to estimate the delays)",
                                 source=name))
    pos = pd.Series(np.arange(T1), index=periods)
    ti = pos.reindex(po[keep]).to_numpy()
    ri = pos.reindex(pr[keep]).to_numpy()
    delay = ri - ti
    long = delay > D
    if long.any():
        notes.append(f"{int(cnt[keep][long].sum()):,} event(s) reported more than {D} periods late counted "
                     f"as reported after {D}")
    delay = np.minimum(delay, D)
    keys = df.loc[keep, ["area_id", "category"]].astype(str).reset_index(drop=True)
    codes, uniq = pd.MultiIndex.from_frame(keys).factorize(sort=True)
    series = [(str(a), str(c)) for a, c in uniq]
    n = np.zeros((len(series), T1, D + 1))
    np.add.at(n, (codes, ti.astype(int), delay.astype(int)), cnt[keep])
    obs = np.arange(T1)[:, None] + np.arange(D + 1)[None, :] <= T1 - 1
    n[:, ~obs] = np.nan
    return ReportingTriangle(n=n, periods=periods, series=series, freq=f.code, notes=notes)


# ---------------------------------------------------------------- the method on arrays
def hazard_counts(n: np.ndarray, window: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n_x`` and ``N_x`` (x = 0..D) of the reverse-time hazards, summed over the series given.

    ``n`` is (S, T+1, D+1) with NaN where not observable; rows ``t`` with
    ``T - window <= t <= T - x`` count for delay ``x`` (all rows when
    ``window`` is None), as R's ``m.interpretation = "hoehle_anderheiden2014"``.
    """
    _, T1, D1 = n.shape
    T = T1 - 1
    lo = 0 if window is None else max(0, T - int(window))
    z = np.nan_to_num(n[:, lo:, :], nan=0.0).sum(axis=0)  # (rows, D+1)
    cum = np.cumsum(z, axis=1)
    nx = np.zeros(D1)
    Nx = np.zeros(D1)
    for x in range(D1):
        hi = T - x - lo  # last row index (relative) observed at delay x
        if hi < 0:
            continue
        nx[x] = z[: hi + 1, x].sum()
        Nx[x] = cum[: hi + 1, x].sum()
    return nx, Nx


def posterior_params(nx: np.ndarray, Nx: np.ndarray, kappa: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Beta parameters (alpha*, beta*) of the reverse hazards of delays D, D-1, ..., 1 (R's bayes.trunc)."""
    D = len(nx) - 1
    a_prior = np.full(D, kappa)
    b_prior = np.zeros(D)
    b_prior[D - 1] = kappa
    for i in range(D - 2, -1, -1):
        b_prior[i] = a_prior[i + 1] + b_prior[i + 1]
    d = np.arange(D)
    alpha = nx[D - d]
    beta = Nx[D - d] - nx[D - d]
    return a_prior + alpha, b_prior + beta


def gd_mean(alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Mean delay PMF (delays 0..D) of the generalised Dirichlet posterior (R's ``rev(Egd(...))``)."""
    mu = alpha / (alpha + beta)
    surv = np.concatenate([[1.0], np.cumprod(1 - mu)])
    rev = np.concatenate([mu * surv[:-1], [surv[-1]]])  # delays D, D-1, ..., 0
    return rev[::-1]


def gd_draws(alpha: np.ndarray, beta: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """(size, D+1) draws of the delay PMF (delays 0..D) from the generalised Dirichlet posterior (R's ``rgd``)."""
    D = len(alpha)
    x = rng.beta(alpha[None, :], beta[None, :], size=(size, D))
    surv = np.concatenate([np.ones((size, 1)), np.cumprod(1 - x, axis=1)], axis=1)
    rev = np.concatenate([x * surv[:, :-1], surv[:, -1:]], axis=1)
    return rev[:, ::-1]


def prior_moments(reported: np.ndarray, D: int, window: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per series (mean, size) of the empirical negative-binomial prior of a period's complete count.

    From the complete rows ``t <= T - D`` of the window (``ddof=1`` variance);
    a series without any count gets the mean ``0.5/rows`` (a Jeffreys
    continuity correction: a prior mean of 0 would rule out any event); size ``mean^2/(var - mean)``,
    at most :data:`MAX_SIZE`.
    """
    _, T1 = reported.shape
    T = T1 - 1
    lo = 0 if window is None else max(0, T - int(window))
    comp = reported[:, lo: T - D + 1]
    k = comp.shape[1]
    tot = comp.sum(axis=1)
    mean = np.where(tot > 0, tot, 0.5) / k
    var = comp.var(axis=1, ddof=1) if k > 1 else mean.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        size = np.where(var > mean, mean**2 / (var - mean), MAX_SIZE)
    return mean, np.minimum(size, MAX_SIZE)


def _groups(series: list[tuple[str, str]], pool: str) -> np.ndarray:
    if pool == "all":
        return np.zeros(len(series), dtype=int)
    keys = [s[1] for s in series] if pool == "category" else [f"{a}\x00{c}" for a, c in series]
    return pd.factorize(pd.Series(keys))[0]


def nowcast_arrays(
    n: np.ndarray,
    *,
    groups: np.ndarray | None = None,
    window: int | None = None,
    prior: str = "empirical",
    kappa: float = 0.1,
    n_samples: int = 1000,
    draws: bool = True,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """The method on a (S, T+1, D+1) triangle: delay CDFs, predictive means and draws of the last D periods.

    Parameters
    ----------
    n : ndarray (S, T+1, D+1)
        Triangle (NaN where not observable).
    groups : ndarray (S,) int, optional
        Pool of each series for the delay estimate (default: one pool).
    window, prior, kappa, n_samples, seed
        See :func:`nowcast`.
    draws : bool
        Also draw the counts (for the median and intervals); False gives the
        means only (faster).

    Returns
    -------
    dict
        ``cdf`` (G, D+1) posterior-mean delay CDF per pool; ``pmf`` (G, D+1);
        ``share`` (S, D) expected share complete of periods T-D+1..T;
        ``reported`` (S, D); ``mean`` (S, D) predictive means of the
        complete counts; ``draws`` (S, D, n_samples) int64 (if asked).
    """
    if prior not in PRIORS:
        raise InputError(Problem(f"unknown nowcast prior {prior!r}; valid: {', '.join(PRIORS)}"))
    if kappa <= 0:
        raise InputError(Problem(f"nowcast kappa (prior weight of the delay hazards) must be > 0 (got {kappa})"))
    if n_samples < 1:
        raise InputError(Problem(f"n_samples must be >= 1 (got {n_samples})"))
    S, T1, D1 = n.shape
    D = D1 - 1
    groups = np.zeros(S, dtype=int) if groups is None else np.asarray(groups, dtype=int)
    G = int(groups.max()) + 1 if S else 0
    rng = np.random.default_rng(seed)
    rep_all = np.nansum(n, axis=2)
    rep = rep_all[:, T1 - D:]  # periods T-D+1..T
    lag = np.arange(D - 1, -1, -1)  # T - t for those periods
    if prior == "empirical":
        mu, size = prior_moments(rep_all, D, window)
    cdf = np.zeros((G, D1))
    pmf = np.zeros((G, D1))
    share = np.zeros((S, D))
    mean = np.zeros((S, D))
    out_draws = np.zeros((S, D, n_samples), dtype=np.int64) if draws else None
    for g in range(G):
        sel = np.flatnonzero(groups == g)
        nx, Nx = hazard_counts(n[sel], window)
        a, b = posterior_params(nx, Nx, kappa)
        pm = gd_mean(a, b)
        pmf[g], cdf[g] = pm, np.minimum(np.cumsum(pm), 1.0)
        share[sel] = cdf[g][lag][None, :]
        Fs = np.minimum(np.cumsum(gd_draws(a, b, n_samples, rng), axis=1), 1.0)[:, lag]  # (n_samples, D)
        Fs = np.clip(Fs, 1e-12, 1.0)
        x = rep[sel][:, :, None]  # (s, D, 1)
        F = Fs.T[None, :, :]  # (1, D, n_samples)
        if prior == "empirical":
            r = size[sel][:, None, None] + x
            q = size[sel][:, None, None] / mu[sel][:, None, None]
            p = (q + F) / (q + 1.0)
        else:
            r = np.broadcast_to(x, (len(sel), D, n_samples))
            p = np.broadcast_to(F, (len(sel), D, n_samples))
        comp_mean = np.where(r > 0, r * (1 - p) / p, 0.0)
        mean[sel] = rep[sel] + comp_mean.mean(axis=2)
        if draws:
            rr = np.broadcast_to(r, (len(sel), D, n_samples))
            pp = np.broadcast_to(p, (len(sel), D, n_samples))
            extra = np.zeros(rr.shape, dtype=np.int64)
            pos = rr > 0
            extra[pos] = rng.negative_binomial(rr[pos], np.clip(pp[pos], 1e-12, 1.0))
            out_draws[sel] = rep[sel][:, :, None].astype(np.int64) + extra
    res = {"cdf": cdf, "pmf": pmf, "share": share, "reported": rep, "mean": mean}
    if draws:
        res["draws"] = out_draws
    return res


# ---------------------------------------------------------------- the result
@dataclass
class Nowcast:
    """What :func:`nowcast` returns (the result protocol of :mod:`riskmodel.results`).

    Attributes
    ----------
    table : DataFrame
        :data:`COLUMNS`: one row per series and incomplete period (the last
        ``max_delay`` periods up to ``now``), counts per period.
    delay : DataFrame
        ``pool, delay, pmf, cdf``: the posterior-mean delay distribution per
        pool (delay in periods).
    draws : ndarray (S, D, n_samples) int
        Predictive draws of the complete counts (for :meth:`conf_int`).
    series : list of (area_id, category)
    periods : DatetimeIndex (D,)
    freq, now, options, notes
    """

    table: pd.DataFrame
    delay: pd.DataFrame
    draws: np.ndarray
    series: list[tuple[str, str]]
    periods: pd.DatetimeIndex
    freq: str
    now: pd.Timestamp
    options: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The nowcast table, long: one row per series and incomplete period (:data:`COLUMNS`)."""
        return self.table

    def conf_int(self, level: float = 95) -> pd.DataFrame:
        """Central predictive interval at ``level`` (percent, or a fraction below 1) from the draws.

        Columns ``area_id, category, period, level, lo, hi`` (counts per
        period; lower and upper ``(1 - level)/2`` quantiles of the draws,
        numpy's ``inverted_cdf``: values a count can take).
        """
        frac = level_fraction(level)
        lo, hi = _quantiles(self.draws, [(1 - frac) / 2, (1 + frac) / 2])
        t = self.table[["area_id", "category", "period"]].copy()
        t["level"] = round(frac * 100, 6)
        t["lo"], t["hi"] = lo.ravel(), hi.ravel()
        return t

    def summary(self) -> str:
        """A text summary: now, series, delay distribution, and the totals reported vs nowcast."""
        t = self.table
        lines = [f"Reporting-delay nowcast (Höhle & an der Heiden 2014, bayes.trunc), {self.freq} periods, "
                 f"now = {self.now.date()}",
                 "options: " + ", ".join(f"{k}={v}" for k, v in self.options.items())]
        lines.append(f"{len(self.series)} series x {len(self.periods)} incomplete period(s) "
                     f"({self.periods[0].date()} .. {self.periods[-1].date()})")
        for pool, g in self.delay.groupby("pool", sort=False):
            med = int(np.searchsorted(g["cdf"].to_numpy(), 0.5))
            mean_d = float((g["delay"] * g["pmf"]).sum())
            lines.append(f"delay ({pool}): mean {mean_d:.2f} periods, median {med}; share complete at delay "
                         + ", ".join(f"{d}: {c:.1%}" for d, c in zip(g["delay"], g["cdf"], strict=True)))
        by = t.groupby("period")[["reported_so_far", "nowcast_mean", "lo_95", "hi_95"]].sum()
        for p, r in by.iterrows():
            lines.append(f"  {pd.Timestamp(p).date()}: reported {r['reported_so_far']:,.0f}, nowcast "
                         f"{r['nowcast_mean']:,.1f} (sum of the series' 95% bounds {r['lo_95']:,.0f}-{r['hi_95']:,.0f})")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def artifacts(self) -> list[Artifact]:
        """``nowcast.csv`` (the table) and ``nowcast_delay.csv`` (the delay distribution)."""
        return [Artifact("nowcast.csv", self.table), Artifact("nowcast_delay.csv", self.delay)]

    def __repr__(self) -> str:
        return (f"Nowcast(freq={self.freq!r}, now={self.now.date()}, series={len(self.series)}, "
                f"periods={len(self.periods)})")


def _quantiles(draws: np.ndarray, probs: list[float]) -> list[np.ndarray]:
    return [np.quantile(draws, q, axis=2, method="inverted_cdf").astype(float) for q in probs]


def nowcast(
    data: pd.DataFrame | str | os.PathLike[str] | ReportingTriangle,
    *,
    freq: str = "D",
    max_delay: int | None = None,
    now: object | None = None,
    window: int | None = None,
    prior: str = "empirical",
    pool: str = "all",
    kappa: float = 0.1,
    n_samples: int = 1000,
    seed: int = 0,
    source: str | None = None,
) -> Nowcast:
    """Nowcast the complete counts of the last ``max_delay`` periods (see the module notes).

    Parameters
    ----------
    data : DataFrame, path or ReportingTriangle
        Events ``area_id, category, occurred, reported[, count]`` (dates), or
        a triangle (:class:`ReportingTriangle`, e.g. ``from_frame``).
    freq : {'D', 'W', 'M'}
        Period of the counts (events only).
    max_delay : int
        ``D``: periods after which every event is taken to be reported
        (events only; a triangle has its own). Default: 14 days, 3 weeks or
        2 months.
    now : date-like, optional
        The monitoring date (events reported later are left out). Default:
        the latest report.
    window : int, optional
        Estimation window ``m`` in periods (delays and the prior from the last
        ``m`` periods); default: every period (R's default).
    prior : {'empirical', 'flat'}
        Prior of a period's complete count (module notes).
    pool : {'all', 'category', 'series'}
        Series sharing one delay distribution.
    kappa : float
        Prior weight of each reverse hazard (R's ``gd.prior.kappa``, 0.1).
    n_samples : int
        Monte Carlo draws of the delay distribution (and of the counts).
    seed : int
        Same inputs and seed give the same result.
    """
    if pool not in POOLS:
        raise InputError(Problem(f"unknown nowcast pool {pool!r}; valid: {', '.join(POOLS)}"))
    if window is not None and (int(window) != window or window < 2):
        raise InputError(Problem(f"window must be a whole number of periods >= 2 (got {window})"))
    if isinstance(data, ReportingTriangle):
        tri = data
    else:
        D = max_delay if max_delay is not None else DEFAULT_MAX_DELAY[_check_freq(freq).code]
        tri = reporting_triangle(data, freq=freq, max_delay=D, now=now, source=source)
    D = tri.max_delay
    if window is not None and window < D + 1:
        raise InputError(Problem(f"window ({window}) must be longer than max_delay ({D})"))
    groups = _groups(tri.series, pool)
    res = nowcast_arrays(tri.n, groups=groups, window=window, prior=prior, kappa=kappa, n_samples=n_samples,
                         seed=seed)
    S = len(tri.series)
    periods = tri.periods[-D:]
    med, lo, hi = _quantiles(res["draws"], [0.5, 0.025, 0.975])
    table = pd.DataFrame({
        "area_id": np.repeat([s[0] for s in tri.series], D),
        "category": np.repeat([s[1] for s in tri.series], D),
        "period": np.tile(periods.to_numpy(), S),
        "reported_so_far": res["reported"].ravel().astype("int64"),
        "nowcast_mean": res["mean"].ravel(),
        "nowcast_median": med.ravel(),
        "lo_95": lo.ravel(),
        "hi_95": hi.ravel(),
        "delay_complete_share": res["share"].ravel(),
    })
    names = {"all": ["all"], "category": sorted({s[1] for s in tri.series}, key=[s[1] for s in tri.series].index),
             "series": [f"{a}/{c}" for a, c in tri.series]}[pool]
    if pool == "series":
        names = [names[int(np.flatnonzero(groups == g)[0])] for g in range(len(res["cdf"]))]
    delay = pd.DataFrame({
        "pool": np.repeat(names, D + 1),
        "delay": np.tile(np.arange(D + 1), len(names)),
        "pmf": res["pmf"].ravel(),
        "cdf": res["cdf"].ravel(),
    })
    options = {"max_delay": D, "window": window, "prior": prior, "pool": pool, "kappa": kappa,
               "n_samples": n_samples, "seed": seed}
    return Nowcast(table=table, delay=delay, draws=res["draws"], series=list(tri.series), periods=periods,
                   freq=tri.freq, now=tri.now, options=options, notes=list(tri.notes))


def nowcast_panel(
    data: pd.DataFrame | str | os.PathLike[str] | ReportingTriangle,
    *,
    use: str = "mean",
    level: float = 95,
    **options: Any,  # noqa: ANN401 - nowcast()'s options
) -> IncidentPanel:
    """An :class:`IncidentPanel` of the counts reported so far with the incomplete periods nowcast.

    Run any registered detector on it with :func:`riskmodel.alerts.detect`.
    The last ``max_delay`` periods hold the nowcast (``use``: ``"mean"``
    rounded to a whole count, ``"median"``, or ``"upper"``: the upper end of
    the central ``level`` interval); earlier periods the counts reported.
    ``panel.meta['notes']`` says how many periods were corrected and how;
    ``panel.meta['nowcast']`` holds the :class:`Nowcast`.

    Parameters
    ----------
    data : events table, path or ReportingTriangle
        As :func:`nowcast`.
    use : {'mean', 'median', 'upper'}
    level : float
        Interval level of ``use="upper"`` (percent or fraction).
    **options
        :func:`nowcast`'s keywords (``freq``, ``max_delay``, ``now``, ...),
        except that ``prior`` defaults to ``"flat"`` here: for detection the
        nowcast must follow a spike's first reports, and in
        benchmarks/alerts/nowcast_results.md the flat prior won back more of
        the detection lost to late reports than the empirical one for every
        detector (Farrington, glrnb, EARS C2).
    """
    if use not in USES:
        raise InputError(Problem(f"unknown value {use!r} for use; valid: {', '.join(USES)}"))
    tri = data if isinstance(data, ReportingTriangle) else None
    if tri is None:
        freq = options.get("freq", "D")
        D = options.get("max_delay") or DEFAULT_MAX_DELAY[_check_freq(freq).code]
        tri = reporting_triangle(data, freq=freq, max_delay=D, now=options.get("now"),  # type: ignore[arg-type]
                                 source=options.get("source"))
    options.setdefault("prior", "flat")
    nc = nowcast(tri, **{k: v for k, v in options.items() if k not in ("freq", "max_delay", "now", "source")})
    D = tri.max_delay
    rep = tri.reported()
    if use == "mean":
        val = np.rint(nc.table["nowcast_mean"].to_numpy())
        how = "the nowcast mean rounded to a whole count"
    elif use == "median":
        val = nc.table["nowcast_median"].to_numpy()
        how = "the nowcast median"
    else:
        ci = nc.conf_int(level)
        val = ci["hi"].to_numpy()
        how = f"the upper end of the nowcast's central {level_fraction(level):.0%} interval"
    y = rep.copy()
    y[:, -D:] = np.maximum(val.reshape(len(tri.series), D), rep[:, -D:])
    T1 = len(tri.periods)
    counts = pd.DataFrame({
        "area_id": np.repeat([s[0] for s in tri.series], T1),
        "category": np.repeat([s[1] for s in tri.series], T1),
        "period": np.tile(tri.periods.to_numpy(), len(tri.series)),
        "count": y.ravel().astype("int64"),
    })
    panel = IncidentPanel.from_counts(counts, freq=tri.freq, source="nowcast")
    changed = int((y[:, -D:] != rep[:, -D:]).sum())
    unit = Frequency.of(tri.freq).unit
    note = (f"nowcast: the last {D} {unit}{'s' if D != 1 else ''} ({tri.periods[-D].date()} .. "
            f"{tri.periods[-1].date()}) of {len(tri.series)} series hold {how} of their complete counts "
            f"({nc.options['prior']} prior) in place of "
            f"the counts reported by {tri.now.date()} ({changed:,} of {D * len(tri.series):,} series-periods raised; "
            f"reported so far {int(rep[:, -D:].sum()):,}, now {int(y[:, -D:].sum()):,})")
    panel.meta["notes"] = [n if n.startswith("note:") else f"note: {n}" for n in (*tri.notes, note)]
    panel.meta["nowcast"] = nc
    return panel


__all__ = [
    "COLUMNS",
    "EVENT_COLUMNS",
    "Nowcast",
    "ReportingTriangle",
    "nowcast",
    "nowcast_arrays",
    "nowcast_panel",
    "reporting_triangle",
]
