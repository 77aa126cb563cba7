"""The contract of a spike detector: one chunk of series in, one :class:`DetectorOutput` out.

A spike detector is a function with one signature (:class:`Detector`)::

    def detect_mine(task: DetectTask) -> DetectorOutput: ...

registered in :data:`riskmodel.alerts.registry.DETECTORS` (one
``DETECTORS.register(...)`` call in :mod:`riskmodel.alerts.detectors`).
:func:`riskmodel.alerts.detect` cuts a panel into chunks of series, hands
each chunk to the detector as a :class:`DetectTask` (possibly in another
process or on a Dask worker: tasks and outputs are pickled) and puts the
outputs back together into one long table.

What a detector receives (:class:`DetectTask`)
------------------------------------------------
``y`` (T, S) float counts, rows are the panel's periods in time order,
columns the chunk's series, NaN before a series' first row when the run's
``gaps`` is ``'series'``; ``periods`` (T,) the period start dates;
``series`` the (area_id, category) of each column; ``first`` (S,) int, the
row of each series' first observed period (T for a series without data);
``freq`` ``'D'``, ``'W'`` or ``'M'`` (one the detector declared in its
``Needs.freqs``: other frequencies are refused before any task is built);
``start`` / ``end`` the user's first and last monitored period (date-like or
None: then the detector chooses, usually the first period with enough
history, see :func:`monitor_rows`); ``population`` (T, S) residents per
area and period, or None (only built when the detector's declared
``population_option`` is on); ``options`` the method's options as given
(already checked against the declared ones: names and choices; defaults
are the detector's to apply).

What a detector returns (:class:`DetectorOutput`)
-------------------------------------------------
Six arrays of shape (K, S), K = the number of monitored periods:
``expected`` (float, the in-control mean; NaN where none), ``upperbound``
(float, the count above which the method alarms; NaN where none),
``alarm`` (bool), ``score`` (float, the method's statistic scaled so that
``score > 1`` is the alarm rule), ``pvalue`` (float, P(Y >= count) in
control; NaN where the method gives none) and ``reason`` (str: ``""``
exactly where the period was evaluated, else why there is no alarm:
"history too short: ...", "count missing", ...); ``options``, the options
used after defaults (logged with the run); ``monitored`` (K,) int, the rows
of ``y`` monitored, increasing. Every chunk of a run must monitor the same
rows (a detector decides them from the dates, the options and ``start`` /
``end``, never from the counts).

A detector must be deterministic (the same task gives the same output) and
must treat each series on its own apart from pooled fits whose results may
differ in the last digits between chunkings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem
from riskmodel.registry import Registry

ARRAYS = ("expected", "upperbound", "alarm", "score", "pvalue", "reason")
"""The arrays of a :class:`DetectorOutput`, in the order of the detection table."""

HARMONIC_PERIOD = {"D": 365.25, "W": 52.0, "M": 12.0}
"""Periods per year used as the period of the harmonic (Fourier) terms of the
detectors' own baseline GLMs (glrnb, ``forecast`` with ``model='own'``).

Weekly data use 52.0 weeks, not the calendar's 365.25 / 7
(:attr:`riskmodel.data.frequency.Frequency.periods_per_year`): the
detectors were calibrated with these values and changing them would change
every expected count in the last digits. For the whole number of periods
back to the same period a year earlier use ``Frequency.year_lag``
(365, 52, 12)."""

DAYS_PER_YEAR = 365.25
"""Mean days in a calendar year (the harmonic terms' time axis is in years of this length)."""

DAYS_PER_PERIOD = {"D": 1.0, "W": 7.0, "M": 30.4375}
"""Mean days per period (a month is 365.25 / 12 days): the time axis of the
``own`` forecast baseline, in days."""


@dataclass
class DetectTask:
    """One chunk of series to run a detector on (see the module notes).

    Attributes
    ----------
    y : ndarray (T, S), float
        Counts; NaN before a series' first row (``gaps='series'``).
    periods : DatetimeIndex (T,)
        Period start dates, consecutive at ``freq``.
    series : list of (area_id, category), length S
    first : ndarray (S,), int
        Row of each series' first observed period (T: no data).
    freq : {'D', 'W', 'M'}
    method : str
        The registered name the task runs (a detector registered under
        several names, e.g. the three EARS variants, may read it).
    start, end : date-like or None
        First and last period to monitor (None: the detector's default).
    options : dict
        The method's options as given (checked names and choices).
    population : ndarray (T, S), float, optional
        Residents per area and period (only when the method's declared
        ``population_option`` is on).
    registry : Registry, optional
        Where ``method`` is looked up (None: :data:`~riskmodel.alerts.registry.DETECTORS`).
    """

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
    registry: Registry[Any] | None = None


@dataclass
class DetectorOutput:
    """What a detector returns for one chunk (see the module notes).

    Attributes
    ----------
    expected, upperbound, score, pvalue : ndarray (K, S), float64
    alarm : ndarray (K, S), bool
    reason : ndarray (K, S), object (str; ``""`` where evaluated)
    options : dict
        The options used, after defaults.
    monitored : ndarray (K,), int
        The rows of the task's ``y`` monitored, increasing.
    """

    expected: np.ndarray
    upperbound: np.ndarray
    alarm: np.ndarray
    score: np.ndarray
    pvalue: np.ndarray
    reason: np.ndarray
    options: dict[str, Any] = field(default_factory=dict)
    monitored: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    @classmethod
    def from_arrays(cls, res: dict[str, np.ndarray], options: dict[str, Any], monitored: np.ndarray) -> DetectorOutput:
        """From a dict of the six arrays (``pvalue`` may be left out: NaN); other keys are dropped."""
        mon = np.asarray(monitored, dtype=int)
        shape = np.shape(res["alarm"])
        pvalue = res.get("pvalue")
        return cls(
            expected=np.asarray(res["expected"], dtype=float),
            upperbound=np.asarray(res["upperbound"], dtype=float),
            alarm=np.asarray(res["alarm"]).astype(bool),
            score=np.asarray(res["score"], dtype=float),
            pvalue=np.full(shape, np.nan) if pvalue is None else np.asarray(pvalue, dtype=float),
            reason=np.asarray(res["reason"], dtype=object),
            options=dict(options),
            monitored=mon,
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """The six arrays by name (:data:`ARRAYS`)."""
        return {k: getattr(self, k) for k in ARRAYS}

    def check(self, n_series: int, method: str = "detector") -> DetectorOutput:
        """Raise TypeError unless the arrays have the documented shapes and dtypes."""
        K = len(self.monitored)
        bad = []
        if np.ndim(self.monitored) != 1 or (K and np.any(np.diff(self.monitored) <= 0)):
            bad.append("monitored must be increasing row numbers")
        for k in ARRAYS:
            a = getattr(self, k)
            if not isinstance(a, np.ndarray) or a.shape != (K, n_series):
                bad.append(f"{k} must have shape {(K, n_series)}, not {np.shape(a)}")
                continue
            want = {"alarm": np.bool_, "reason": np.object_}.get(k, np.float64)
            if a.dtype.type is not want:
                bad.append(f"{k} must be {np.dtype(want)}, not {a.dtype}")
        if bad:
            raise TypeError(f"{method}: " + "; ".join(bad))
        return self


class Detector(Protocol):
    """A spike detector: ``detector(task) -> DetectorOutput`` (see the module notes).

    It must be a module-level function (tasks may run in other processes).
    """

    def __call__(self, task: DetectTask, /) -> DetectorOutput: ...


# ---------------------------------------------------------------- helpers for detectors
def monitor_rows(periods: pd.DatetimeIndex, start: Any, end: Any, default_start: int) -> np.ndarray:  # noqa: ANN401 - date-like
    """The rows to monitor: from ``start`` (default row ``default_start``) to ``end`` (default the last).

    Raises
    ------
    InputError
        ``start`` not a date or after the data, or no period between ``start`` and ``end``.
    """
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


def mark_late(res: dict[str, np.ndarray], mon: np.ndarray, first: np.ndarray, need: int, why: str) -> None:
    """No alarm where a series has fewer than ``need`` periods before the monitored one.

    Sets the numbers to NaN, ``alarm`` to False and, where no reason is
    given yet, ``reason`` to "history too short: <why>" (in place).
    """
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


__all__ = [
    "ARRAYS",
    "DAYS_PER_PERIOD",
    "DAYS_PER_YEAR",
    "HARMONIC_PERIOD",
    "DetectTask",
    "Detector",
    "DetectorOutput",
    "mark_late",
    "monitor_rows",
]
