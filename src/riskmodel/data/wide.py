"""A panel as one array: the wide form every model and detector works on.

:meth:`WidePanel.from_panel` is the one converter from an
:class:`~riskmodel.data.IncidentPanel` (long) to arrays of series: periods
as rows in time order, series as columns, with each series' first observed
period kept (``n_obs``), so that a series that starts late is told apart
from one with zero counts (:meth:`WidePanel.masked`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskmodel.data.frequency import Frequency
from riskmodel.data.panel import AddedZeros, IncidentPanel
from riskmodel.errors import InputError, Problem


@dataclass
class WidePanel:
    """A panel as an array: ``y[t, j]`` is the count of series ``series[j]`` in ``periods[t]``.

    Attributes
    ----------
    y : ndarray, shape (n_periods, n_series), float
    periods : DatetimeIndex, length n_periods, consecutive at ``freq``
    series : list of (area_id, category)
    freq : {'D', 'W', 'M'}
    n_obs : ndarray (n_series,) of int, optional
        Periods from each series' first row in the counts to the end (a
        series that starts late has zeros before; models treat only the
        last ``n_obs`` periods as its history when checking its length).
    added_zeros : AddedZeros, optional
        The cells absent from the counts that ``y`` holds as 0 (set by
        :meth:`from_panel`: the panel's :attr:`IncidentPanel.added_zeros`,
        which counts exactly the cells this pivot fills).
    """

    y: np.ndarray
    periods: pd.DatetimeIndex
    series: list[tuple[str, str]]
    freq: str
    n_obs: np.ndarray | None = None
    added_zeros: AddedZeros | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.n_obs is None:
            self.n_obs = np.full(self.y.shape[1], self.y.shape[0], dtype=int)

    @classmethod
    def from_panel(cls, panel: IncidentPanel, gaps: str = "zero") -> WidePanel:
        """Wide array of a panel.

        Parameters
        ----------
        gaps : {'zero', 'error'}
            A period with no row inside the panel's span: ``'zero'`` counts it
            as zero incidents (right for counts made from an event log, see
            :mod:`riskmodel.data.panel`) and the result's ``added_zeros``
            counts them (the panel's :attr:`~IncidentPanel.added_zeros`);
            ``'error'`` raises an InputError naming the series and the
            missing periods.
        """
        if gaps not in ("zero", "error"):
            raise InputError(Problem(f"unknown value {gaps!r} for gaps; valid: zero, error"))
        w = panel.to_wide(fill=None)
        if gaps == "error" and w.isna().any().any():
            miss = w.isna()
            bad = [c for c in w.columns if miss[c].any()]
            first = bad[0]
            per = w.index[miss[first]][:5]
            raise InputError(
                Problem(
                    f"{len(bad)} series have missing periods, e.g. {first[0]}/{first[1]} at "
                    + ", ".join(str(p.date()) for p in per)
                    + " (use gaps='zero' to count them as zero incidents)",
                    column="period",
                )
            )
        seen = w.notna().to_numpy()
        first = np.where(seen.any(axis=0), seen.argmax(axis=0), len(w))
        y = w.fillna(0).to_numpy(dtype=float)
        return cls(
            y=y,
            periods=pd.DatetimeIndex(w.index),
            series=[tuple(map(str, c)) for c in w.columns],
            freq=panel.freq,
            n_obs=len(w) - first,
            added_zeros=panel.added_zeros,
        )

    @property
    def frequency(self) -> Frequency:
        return Frequency.of(self.freq)

    @property
    def season(self) -> int:
        """The main seasonal cycle in periods (:attr:`Frequency.cycle`: 7 days, 52 weeks, 12 months)."""
        return self.frequency.cycle

    def head(self, n: int) -> WidePanel:
        """The first ``n`` periods (a training cut)."""
        assert self.n_obs is not None
        n_obs = np.clip(self.n_obs - (len(self.periods) - n), 0, None)
        return WidePanel(self.y[:n], self.periods[:n], self.series, self.freq, n_obs, self.added_zeros)

    def subset(self, cols: np.ndarray) -> WidePanel:
        """Some of the series (columns)."""
        assert self.n_obs is not None
        cols = np.asarray(cols)
        return WidePanel(self.y[:, cols], self.periods, [self.series[j] for j in cols], self.freq, self.n_obs[cols],
                          self.added_zeros)

    def future(self, h: int) -> pd.DatetimeIndex:
        """The ``h`` period start dates after the last one."""
        return self.frequency.following(self.periods[-1], h)

    def to_long(self, values: np.ndarray, name: str = "value") -> pd.DataFrame:
        """Long ``area_id, category, period, <name>`` from an array shaped like ``y``."""
        n_t, n_s = values.shape
        return pd.DataFrame(
            {
                "area_id": np.repeat([s[0] for s in self.series], n_t),
                "category": np.repeat([s[1] for s in self.series], n_t),
                "period": np.tile(self.periods.to_numpy(), n_s),
                name: values.T.ravel(),
            }
        )

    @property
    def first(self) -> np.ndarray:
        """Row of each series' first observed period (``n_periods`` for a series with none)."""
        assert self.n_obs is not None
        return len(self.periods) - self.n_obs

    def masked(self) -> np.ndarray:
        """``y`` with NaN before each series' first observed period (no data, rather than zeros)."""
        rows = np.arange(len(self.periods))[:, None]
        return np.where(rows >= self.first[None, :], self.y, np.nan)


__all__ = ["WidePanel"]
