"""Spike detection on an IncidentPanel: one entry point for every registered detector.

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
* ``score``: on the count scale for every detector, ``(count - expected) /
  (upperbound - expected)``: 0 at the expected count, 1 at the bound (see
  :mod:`riskmodel.alerts.base`); an alarm is ``score > 1`` (``score >= 1``
  for the GLR charts, whose bound is the smallest count that alarms);
* ``reason``: empty when the period was evaluated, otherwise why there is no
  alarm (history too short, limit54, no convergence...). A reason reads
  ``"<kind>: <detail>"``; :meth:`Detection.not_evaluated` counts them by
  kind and series, with the settings that would evaluate more periods
  (``Detection.hints``).

The upper bound is never below the expected count; expected counts of the
detectors with their own baseline are floored at the series' long-run rate
(:func:`riskmodel.alerts.base.expected_floor`).

The detectors are the registry's (:data:`riskmodel.alerts.registry.DETECTORS`,
declared in :mod:`riskmodel.alerts.detectors`); each says which frequencies
it takes (the Farrington methods weekly or monthly counts, EARS daily
counts, the others any). A panel at another frequency is refused with the
reason (resample a daily panel with ``panel.resample('W')`` first). The
contract between :func:`detect` and a detector is in :mod:`riskmodel.alerts.base`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.alerts.base import DetectorOutput, DetectTask
from riskmodel.alerts.episodes import episodes
from riskmodel.alerts.registry import DEFAULT_METHOD, DETECTORS
from riskmodel.data.panel import IncidentPanel
from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError, Problem
from riskmodel.execution.backends import Backend, LocalBackend
from riskmodel.execution.chunks import DEFAULT_CHUNK_SIZE, check_chunk_size, plan_chunks
from riskmodel.registry import MethodSpec, Registry
from riskmodel.results import Artifact

COLUMNS = ["area_id", "category", "period", "count", "expected", "upperbound", "alarm", "score", "pvalue", "reason"]
GAPS = ("series", "zero")


@dataclass
class Detection:
    """What :func:`detect` returns (the result protocol of :mod:`riskmodel.results`).

    Attributes
    ----------
    table : DataFrame
        One row per series and monitored period (columns: :data:`COLUMNS`).
    method : str
    options : dict
        The options used (after defaults).
    freq : str
    hints : dict of str to int
        Settings that would evaluate some of the series-periods not
        evaluated (e.g. ``{"--b 2": 1020}``), from the detector.
    """

    table: pd.DataFrame
    method: str
    options: dict[str, Any] = field(default_factory=dict)
    freq: str = "W"
    hints: dict[str, int] = field(default_factory=dict)
    """Settings (command-line text) that would evaluate series-periods this run could not, and how many."""

    @property
    def alarms(self) -> pd.DataFrame:
        """The rows with an alarm."""
        return self.table[self.table["alarm"]].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """The detection table, long format: one row per series and monitored period (:data:`COLUMNS`)."""
        return self.table

    def episodes(self, max_gap: int = 0) -> pd.DataFrame:
        """Alarm runs per series (:func:`riskmodel.alerts.episodes.episodes`)."""
        return episodes(self.table, self.freq, max_gap=max_gap)

    def per_series(self) -> pd.DataFrame:
        """Per series: periods monitored, evaluated, not evaluated, alarms, last alarm, and why not evaluated.

        ``main_reason`` is the most frequent reason of the series' periods
        not evaluated (its full text, e.g. "history too short: series starts
        2016-03-07, needs data from 2014-01-06 (5 years back)"); ``reasons``
        lists every kind with its count ("limit54: 40; history too short: 12").
        """
        t = self.table
        keys = ["area_id", "category"]
        g = t.groupby(keys, sort=True)
        out = pd.DataFrame({
            "monitored": g.size(),
            "evaluated": g["reason"].apply(lambda r: int((r == "").sum())),
            "alarms": g["alarm"].sum().astype(int),
            "last_alarm": t[t["alarm"]].groupby(keys)["period"].max(),
        })
        out.insert(2, "not_evaluated", out["monitored"] - out["evaluated"])
        nz = t[t["reason"] != ""]
        out["main_reason"] = nz.groupby(keys)["reason"].agg(lambda r: r.value_counts().index[0])
        out["main_reason"] = out["main_reason"].fillna("")
        kinds = nz.assign(kind=nz["reason"].map(reason_kind)).groupby(keys)["kind"].agg(
            lambda r: "; ".join(f"{k}: {n}" for k, n in r.value_counts().items()))
        out["reasons"] = kinds
        out["reasons"] = out["reasons"].fillna("")
        return out.reset_index()

    def not_evaluated(self) -> str:
        """One line: how many series-periods were not evaluated, why (kind, series, periods), and what would help.

        E.g. ``farrington: 1,448 of 1,608 series-periods not evaluated: history
        too short in 20 series (1,300), limit54 in 12 series (148); series-periods
        that would have the history the method needs: 1,020 with --b 2``
        (periods now short of history, plus, when monitoring starts by default,
        the earlier periods a smaller setting would monitor; other rules such
        as limit54 may still hold their alarms back). Empty when every period
        was evaluated. Counted from the table and the detector's hints, not
        estimated.
        """
        t = self.table
        nz = t[t["reason"] != ""]
        if nz.empty:
            return ""
        kinds = nz.assign(kind=nz["reason"].map(reason_kind))
        parts = []
        for kind, grp in sorted(kinds.groupby("kind"), key=lambda kv: -len(kv[1])):
            n_ser = grp[["area_id", "category"]].drop_duplicates().shape[0]
            parts.append(f"{kind} in {n_ser:,} series ({len(grp):,})")
        line = f"{self.method}: {len(nz):,} of {len(t):,} series-periods not evaluated: " + ", ".join(parts)
        if self.hints:
            # the three settings that help most (of equal help, in the detector's order:
            # the Farrington detectors list b from the largest down)
            ranked = sorted(self.hints.items(), key=lambda kv: -kv[1])[:3]
            line += ("; series-periods that would have the history the method needs: "
                     + ", ".join(f"{v:,} with {k}" for k, v in ranked))
        return line

    def summary(self) -> str:
        """A text summary: method, options, series, periods, alarms, episodes and why periods were not evaluated."""
        t = self.table
        n = len(t)
        ser = t[["area_id", "category"]].drop_duplicates().shape[0] if n else 0
        label = DETECTORS.label(self.method)
        lines = [f"Spike detection: {self.method} ({label}), {self.freq} periods"]
        if self.options:
            lines.append("options: " + ", ".join(f"{k}={v}" for k, v in self.options.items()))
        if n:
            first, last = pd.Timestamp(t["period"].min()).date(), pd.Timestamp(t["period"].max()).date()
            evaluated = int((t["reason"] == "").sum())
            lines.append(f"monitored: {ser} series, {first} to {last}, {n} series-periods, "
                         f"{evaluated} evaluated ({evaluated / n:.1%})")
            alarms = int(t["alarm"].sum())
            lines.append(f"alarms: {alarms} in {len(self.episodes())} episodes; "
                         f"{int(t.loc[t['alarm'], ['area_id', 'category']].drop_duplicates().shape[0])} series with an alarm")
            last_alarms = t[(t["period"] == t["period"].max()) & t["alarm"]]
            lines.append(f"alarms in the last period ({last}): {len(last_alarms)}")
            line = self.not_evaluated()
            if line:
                lines.append(line)
            for r, k in t.loc[t["reason"] != "", "reason"].value_counts().head(3).items():
                lines.append(f"  not evaluated in {k} series-periods: {r}")
        else:
            lines.append("monitored: nothing")
        return "\n".join(lines)

    def artifacts(self) -> list[Artifact]:
        """``detections.csv`` (the table) and ``episodes.csv`` (its alarm runs)."""
        return [Artifact("detections.csv", self.table), Artifact("episodes.csv", self.episodes())]

    def __repr__(self) -> str:
        n = len(self.table)
        a = int(self.table["alarm"].sum()) if n else 0
        ser = self.table[["area_id", "category"]].drop_duplicates().shape[0] if n else 0
        return f"Detection(method={self.method!r}, freq={self.freq!r}, series={ser}, rows={n}, alarms={a})"


def reason_kind(reason: str) -> str:
    """The kind of a reason: its text before the first colon ("history too short", "limit54", ...)."""
    return str(reason).split(":", 1)[0].strip()


def check_method(method: str, freq: str, registry: Registry[Any] | None = None) -> MethodSpec[Any]:
    """The spec of ``method``; InputError for an unknown method or one that refuses ``freq`` (with the reason)."""
    return (registry or DETECTORS).check(method, freq=freq)


def wide_counts(panel: IncidentPanel, gaps: str = "series") -> tuple[np.ndarray, pd.DatetimeIndex, list[tuple[str, str]], np.ndarray]:
    """(T, S) counts, periods, series and each series' first row.

    ``gaps='series'``: NaN before each series' first row (no data);
    ``'zero'``: zero incidents. Periods missing inside a series are zeros.
    """
    if gaps not in GAPS:
        raise InputError(Problem(f"unknown value {gaps!r} for gaps; valid: {', '.join(GAPS)}"))
    wp = WidePanel.from_panel(panel)
    y = wp.masked() if gaps == "series" else wp.y
    return y, wp.periods, wp.series, wp.first


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


def _needs_population(spec: MethodSpec[Any], options: dict[str, Any]) -> bool:
    """Whether the method's declared ``population_option`` is on (given, or by default)."""
    name = spec.extra.get("population_option")
    if not name:
        return False
    value = options.get(name)
    if value is None:
        opt = spec.option(name)
        value = opt.default if opt is not None else False
    return bool(value)


def detect(
    panel: IncidentPanel,
    method: str = DEFAULT_METHOD,
    *,
    start: Any = None,
    end: Any = None,
    gaps: str = "series",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    backend: Backend | None = None,
    registry: Registry[Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    **options: Any,
) -> Detection:
    """Run a spike detector on every series of a panel.

    Parameters
    ----------
    panel : IncidentPanel
        Counts at a frequency the method takes (its ``Needs.freqs``).
    method : str
        A registered detector (:data:`~riskmodel.alerts.registry.DETECTORS`;
        default :data:`~riskmodel.alerts.registry.DEFAULT_METHOD`).
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
    registry : Registry, optional
        Where ``method`` is looked up (default ``DETECTORS``; a registry of
        your own runs in this process or where its detectors can be imported).
    progress : callable, optional
        ``progress(done, total)`` in series: as chunks complete, and within
        a chunk run in this process as its detector reports its steps (the
        forecast detector's refits). With chunks on several workers, the
        count after ``k`` chunks is the size of the first ``k``. It never
        changes the results.
    **options
        The method's options, as its registration declares them
        (``riskmodel detect --help`` lists them): Farrington -- the
        :class:`~riskmodel.alerts.farrington.FarringtonControl` fields
        (``b, w, reweight, weights_threshold, alpha, trend, p_threshold_trend,
        limit54, powertrans, population_offset, no_periods,
        past_weeks_not_included, threshold_method``); EARS -- ``baseline,
        min_sigma, alpha``; glrnb -- ``c_arl, M, theta, alpha_nb,
        harmonics, trend``; farrington-glr -- Farrington's plus ``c_arl, M``;
        farrington-window -- Farrington's plus ``window`` (``alpha`` is the
        window test's); forecast -- ``model, alpha, refit, gap, params``.
        An option the method does not declare is refused.
    """
    reg = registry or DETECTORS
    spec = check_method(method, panel.freq, reg)
    options = reg.check_options(method, options)
    y, periods, series, first = wide_counts(panel, gaps)
    pop = _pop_matrix(panel, periods, series) if _needs_population(spec, options) else None
    chunks = plan_chunks(series, check_chunk_size(chunk_size))
    ends = np.cumsum([len(c) for c in chunks])
    state = {"chunks": 0}

    def in_chunk(done: int, total: int) -> None:
        assert progress is not None
        k = state["chunks"]
        start_ = int(ends[k - 1]) if k else 0
        progress(start_ + (int(ends[k]) - start_) * min(done, total) // max(total, 1), len(series))

    def chunk_done(done: int, total: int) -> None:  # noqa: ARG001 - total is len(chunks)
        assert progress is not None
        state["chunks"] = done
        progress(int(ends[done - 1]), len(series))

    tasks = [
        DetectTask(np.ascontiguousarray(y[:, c]) if len(chunks) > 1 else y, periods,
                   [series[j] for j in c], first[c], panel.freq, method, start, end, dict(options),
                   None if pop is None else np.ascontiguousarray(pop[:, c]), registry,
                   None if progress is None else in_chunk)
        for c in chunks
    ]
    results = (backend or LocalBackend(1)).map(detect_chunk, tasks,
                                               progress=None if progress is None else chunk_done)
    for r, c in zip(results, chunks, strict=True):
        r.check(len(c), method)
    res, used, mon = _assemble(results, chunks, len(series))
    table = _table(res, y, mon, periods, series)
    hints: dict[str, int] = {}
    for r in results:
        for k, v in r.hints.items():
            hints[k] = hints.get(k, 0) + int(v)
    return Detection(table=table, method=method, options=used, freq=panel.freq, hints=hints)


def detect_chunk(task: DetectTask) -> DetectorOutput:
    """Worker side: the task's detector (looked up in the registry) on one chunk's series."""
    return (task.registry or DETECTORS).get(task.method).target(task)


def _assemble(results: list[DetectorOutput], chunks: list[np.ndarray],
              n: int) -> tuple[dict[str, np.ndarray], dict[str, Any], np.ndarray]:
    """The chunks' arrays put back in the panel's column order."""
    first = results[0]
    if len(results) == 1:
        return first.arrays(), first.options, first.monitored
    for r in results[1:]:
        if not np.array_equal(r.monitored, first.monitored):
            raise RuntimeError("the chunks of a detection monitored different periods")
    out: dict[str, np.ndarray] = {}
    for key, v in first.arrays().items():
        arr = np.empty((v.shape[0], n), dtype=v.dtype)
        for r, cols in zip(results, chunks, strict=True):
            arr[:, cols] = getattr(r, key)
        out[key] = arr
    return out, first.options, first.monitored


def _table(res: dict[str, np.ndarray], y: np.ndarray, mon: np.ndarray, periods: pd.DatetimeIndex,
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
        "pvalue": res["pvalue"].T.ravel(),
        "reason": np.asarray(res["reason"], dtype=object).T.ravel(),
    })
    # a count missing inside a monitored span (before the series starts) stays NaN
    tab["count"] = tab["count"].astype("Float64").round().astype("Int64")
    return tab[COLUMNS]


__all__ = ["COLUMNS", "Detection", "DetectTask", "check_method", "detect", "detect_chunk", "reason_kind", "wide_counts"]
