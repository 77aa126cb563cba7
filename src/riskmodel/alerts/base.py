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
(float, the count above which the method alarms; NaN where none; never
below ``expected``), ``alarm`` (bool), ``score`` (float, see below),
``pvalue`` (float, P(Y >= count) in control; NaN where the method gives
none) and ``reason`` (str: ``""`` where the period was evaluated and the
alarm rule applied, else why there is no alarm: "history too short: ...",
"count missing", "limit54: ...", ...); ``options``, the options used after
defaults (logged with the run); ``monitored`` (K,) int, the rows of ``y``
monitored, increasing; ``hints`` (dict, optional), settings that would
evaluate periods this chunk could not (``{"--b 2": 1020}``: 1,020 of the
chunk's not-evaluated series-periods would be evaluated with ``b = 2``),
summed over chunks. Every chunk of a run must monitor the same rows (a
detector decides them from the dates, the options and ``start`` / ``end``,
never from the counts).

Where a period has a reason, ``expected`` and ``upperbound`` may still be
given (e.g. Farrington's limit54 rule blocks the alarm of a period whose
model was fitted: the bound is kept so that the user sees it); where there
is no bound there is always a reason.

The one meaning of ``score``
----------------------------
Every detector's score is on the count scale::

    score = (count - expected) / (upperbound - expected)

0 at the expected count, 1 at the bound, negative below the expected
count; where ``upperbound == expected`` it is +inf above, 1 at and -inf
below the bound. Because the bound is never below the expected count, the
alarm rule *is* a rule on the score: an alarm exactly where ``score > 1``
(detectors whose bound is the count above which they alarm, registered
``bound="above"``) or ``score >= 1`` (``bound="at"``: the bound is the
smallest count that alarms, as for the GLR charts) among the periods
evaluated (``reason == ""``). :func:`score_on_count_scale` computes it;
the contract test checks it for every registered detector.

Expected counts near zero
-------------------------
A model fitted to a sparse series (most periods 0) can predict expected
counts of 1e-13 for the periods where it saw no count, and then one count
is an alarm. The detectors that fit their own baseline (``glrnb``,
``forecast``, ``farrington-glr``, ``farrington-window``) floor every
expected count at :func:`expected_floor`: the series' own long-run rate
over its reference window with a Jeffreys (+0.5) continuity correction,
``(sum of counts + 0.5) / periods``, times ``floor`` (option
``floor``, default :data:`DEFAULT_FLOOR`). The Farrington presets keep R's
expected counts (alarm-for-alarm parity with R): R's ``limit54`` rule
(default: no alarm unless 5 cases in the last 4 periods) is what guards
them against single counts.

A detector must be deterministic (the same task gives the same output) and
must treat each series on its own apart from pooled fits whose results may
differ in the last digits between chunkings.
"""

from __future__ import annotations

from collections.abc import Callable
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
    progress: Callable[[int, int], None] | None = None
    """``progress(done, total)`` of a detector that reports its steps (the forecast
    detector's refits), when the chunk runs in the driver's process."""

    def __getstate__(self) -> dict[str, Any]:
        # the callback stays in the driver: a task sent to a worker is reported when it completes
        return {**self.__dict__, "progress": None}


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
    hints : dict of str to int
        Settings (as command-line text, e.g. ``"--b 2"``) and how many of
        the chunk's not-evaluated series-periods each would evaluate.
    """

    expected: np.ndarray
    upperbound: np.ndarray
    alarm: np.ndarray
    score: np.ndarray
    pvalue: np.ndarray
    reason: np.ndarray
    options: dict[str, Any] = field(default_factory=dict)
    monitored: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    hints: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_arrays(cls, res: dict[str, np.ndarray], options: dict[str, Any], monitored: np.ndarray,
                    hints: dict[str, int] | None = None) -> DetectorOutput:
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
            hints=dict(hints or {}),
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
        with np.errstate(invalid="ignore"):
            below = self.upperbound < self.expected
        if np.any(below):
            bad.append(f"upperbound below expected in {int(below.sum())} places")
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


DEFAULT_FLOOR = 1.0
"""Default ``floor`` option of glrnb and the Farrington-based charts: expected counts are at least the
series' long-run rate (notes of :func:`expected_floor`)."""

FORECAST_FLOOR = 0.5
"""Default ``floor`` of the forecast detector: at least half the series' long-run rate (notes of
:func:`expected_floor`)."""


def expected_floor(y_ref: np.ndarray, floor: float = DEFAULT_FLOOR) -> np.ndarray:
    """The floor of the expected counts: ``floor * (sum + 0.5) / n`` per series.

    Parameters
    ----------
    y_ref : ndarray (n, S) or (..., n, S)
        Counts of each series' reference window (NaN: no data, not counted);
        the reduction is over axis -2.
    floor : float
        Multiplier (>= 0; 0 turns the floor off).

    Returns
    -------
    ndarray (S,) or (..., S)
        ``floor * (Y + 0.5) / n`` with ``Y`` the counts and ``n`` the periods
        with data in the window: the series' long-run rate with a Jeffreys
        (+0.5) continuity correction, which is also the mean of the Jeffreys
        posterior predictive of one period. A series with no count in its
        ``n`` reference periods gets ``0.5 / n`` (half a count over the
        window), not 0. 0 where the window has no data.

    Notes
    -----
    Why the series' own rate and not the pooled rate of its category across
    areas: areas differ in size (London boroughs' homicide rates differ by a
    factor of 20), so a pooled rate would lift a quiet area's expected count
    far above its history and hide its spikes. Why these defaults: a
    seasonal or trend model fitted to a few counts puts its dips where it saw
    no count, and those dips are noise. Measured (docs/alerts.md: the sample
    city's 17 injected spikes and the spike-free ``sparse_monthly`` shape,
    3,168 series-months): glrnb and the Farrington-based charts find the
    same spikes at ``floor`` 0, 0.5 and 1 and raise fewest false alarms at 1
    (glrnb on the sparse data: 60, 15, 5), so they default to 1; the forecast
    detector finds 17 of 17 spikes at 0 to 0.5 but 16 at 1 (the floor then
    lifts low-season weeks to the yearly mean), with 27, 17 and 6 false
    alarms on the sparse data, so it defaults to 0.5.
    """
    y_ref = np.asarray(y_ref, dtype=float)
    n = np.isfinite(y_ref).sum(axis=-2)
    tot = np.nansum(y_ref, axis=-2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, (tot + 0.5) / np.where(n > 0, n, 1), 0.0)
    return float(floor) * rate


def check_floor(floor: Any) -> float:  # noqa: ANN401 - an option value
    """The ``floor`` option as a float; InputError unless it is a number >= 0."""
    try:
        f = float(floor)
    except (TypeError, ValueError):
        f = float("nan")
    if not (np.isfinite(f) and f >= 0):
        raise InputError(Problem(f"floor must be a number >= 0 (got {floor!r})", column="--floor"))
    return f


def score_on_count_scale(count: np.ndarray, expected: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``(count - expected) / (upper - expected)``, the one meaning of ``score`` (module notes).

    Where ``upper == expected``: +inf above, 1 at and -inf below the bound.
    NaN where any input is NaN.
    """
    count, expected, upper = (np.asarray(a, dtype=float) for a in (count, expected, upper))
    d = upper - expected
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (count - expected) / d
        flat = d == 0
        s = np.where(flat, np.sign(count - upper) * np.inf, s)
        s = np.where(flat & (count == upper), 1.0, s)
    return np.where(np.isnan(count) | np.isnan(expected) | np.isnan(upper), np.nan, s)


def bound_not_below_expected(expected: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``max(upper, expected)`` where both are known (NaN stays NaN)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(expected) & np.isfinite(upper), np.maximum(upper, expected), upper)


__all__ = [
    "ARRAYS",
    "DEFAULT_FLOOR",
    "FORECAST_FLOOR",
    "DAYS_PER_PERIOD",
    "DAYS_PER_YEAR",
    "HARMONIC_PERIOD",
    "DetectTask",
    "Detector",
    "DetectorOutput",
    "bound_not_below_expected",
    "check_floor",
    "expected_floor",
    "mark_late",
    "monitor_rows",
    "score_on_count_scale",
]
