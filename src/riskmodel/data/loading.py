"""The one loader: files -> a validated :class:`~riskmodel.data.IncidentPanel`.

Every command and the pipeline read their counts through :func:`load_panel`
(or :func:`load_source` for a study's ``[data]`` table), so a file is read,
validated and framed at a frequency by one set of rules:

1. The data's own frequency is inferred from its period dates
   (:meth:`riskmodel.data.frequency.Frequency.infer`).
2. Without ``freq`` the panel is at that frequency.
3. With ``freq`` equal to it, the panel is validated at ``freq`` (a date that
   is not a period start is named).
4. With ``freq`` coarser, finer counts are summed to it -- but only when the
   data really are finer (consecutive dates at most one period of the finer
   frequency apart, typically); a file of weekly dates with one stray
   Tuesday is refused at ``freq`` naming that row, not summed.
5. With ``freq`` finer than the data, the load is refused: monthly counts
   cannot be split into weeks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from riskmodel.data.frequency import Frequency
from riskmodel.data.panel import IncidentPanel, TableLike
from riskmodel.data.portland import load_portland
from riskmodel.data.readers import read_table
from riskmodel.data.schemas import parse_period
from riskmodel.errors import ConfigError, InputError, Problem

DATA_FORMATS = ("counts", "portland")
"""Values of ``format`` in a study's ``[data]`` table."""


def _distinct_dates(periods: pd.Series) -> pd.Series:
    """The distinct dates that can be read, sorted (the validator names the others)."""
    return pd.Series(parse_period(periods).dropna().unique()).sort_values()


def data_frequency(periods: pd.Series) -> Frequency | None:
    """The frequency the dates show, or None when no date can be read (the validator names them)."""
    dates = _distinct_dates(periods)
    return Frequency.infer(dates) if len(dates) else None


def _really_finer(dates: pd.Series, have: Frequency) -> bool:
    """Whether consecutive distinct ``dates`` (sorted) are typically one ``have`` period apart."""
    gaps = dates.diff().dt.days.dropna()
    step = {"D": 1, "W": 7}.get(have.code, 31)
    return not len(gaps) or bool(gaps.median() <= step)


def load_panel(
    counts: TableLike,
    *,
    freq: str | Frequency | None = None,
    areas: TableLike | None = None,
    population: TableLike | None = None,
    neighbours: TableLike | None = None,
    option: str = "--freq",
) -> IncidentPanel:
    """Read and validate a counts table (and its areas tables) at ``freq`` (rules in the module notes).

    Parameters
    ----------
    counts : path or DataFrame
        ``area_id, category, period, count``.
    freq : {'D', 'W', 'M'}, optional
        The frequency wanted (default: the data's own).
    areas, population, neighbours : path or DataFrame, optional
        As in :meth:`IncidentPanel.from_counts`.
    option : str
        The option or key that gave ``freq``, for messages.

    Raises
    ------
    InputError
        Every problem of the tables, or a ``freq`` finer than the data.
    """
    want = Frequency.of(freq, option=option) if freq is not None else None
    if isinstance(counts, pd.DataFrame):
        raw, name = counts, "counts"
    else:
        raw, src = read_table(counts, what="counts")
        name = src.name
    # the period column is parsed once here for both questions (the validator parses it again, naming rows)
    dates = _distinct_dates(raw["period"]) if "period" in raw.columns else pd.Series(dtype="datetime64[ns]")
    have = Frequency.infer(dates) if len(dates) else None
    kw = {"areas": areas, "population": population, "neighbours": neighbours, "source": name}
    if want is None or have is None or want == have:
        return IncidentPanel.from_counts(raw, freq=None if want is None else want.code, **kw)
    if want.finer_than(have):
        raise InputError(Problem(
            f"{option} {want.code}: cannot resample from {have.code} to {want.code}: the counts are {have.name} "
            f"and cannot be split into {want.name} periods",
            source=name, column=option))
    if not _really_finer(dates, have):
        # not finer data but a misaligned date: name it at the frequency asked for
        return IncidentPanel.from_counts(raw, freq=want.code, **kw)
    return IncidentPanel.from_counts(raw, freq=have.code, **kw).resample(want.code)


@dataclass(frozen=True)
class DataSource:
    """Where a study's counts come from (the ``[data]`` table of an experiment).

    ``format = "counts"``: ``counts`` is a counts file with the optional
    ``areas``, ``population`` and ``neighbours`` files. ``format =
    "portland"``: ``counts`` is the folder of the Portland reference data
    (calls for service and the police-district shapefile), counted per
    district by point-in-polygon (:mod:`riskmodel.data.portland`).
    """

    counts: str
    format: str = "counts"
    freq: str | None = None
    areas: str | None = None
    population: str | None = None
    neighbours: str | None = None


def load_source(source: DataSource, resolve: Callable[[str], Path] = Path) -> IncidentPanel:
    """The panel a :class:`DataSource` describes (paths through ``resolve``)."""
    if source.format == "portland":
        return load_portland(resolve(source.counts), freq=source.freq or "M")
    if source.format != "counts":
        raise ConfigError(Problem(
            f"key 'data.format': unknown value {source.format!r}; valid: {', '.join(DATA_FORMATS)}"))

    def opt(p: str | None) -> Path | None:
        return resolve(p) if p else None

    return load_panel(resolve(source.counts), freq=source.freq, areas=opt(source.areas),
                      population=opt(source.population), neighbours=opt(source.neighbours), option="data.freq")


def load_panel_dir(folder: str | os.PathLike[str], counts: str = "counts_monthly.csv",
                   freq: str | None = None) -> IncidentPanel:
    """Load a panel from a folder laid out like ``data/sample/``.

    Reads ``counts`` (name inside the folder) and, when present,
    ``areas.csv``, ``population.csv`` and ``neighbours.csv``.
    """
    d = Path(folder)
    opt = {k: (d / f"{k}.csv") if (d / f"{k}.csv").exists() else None for k in ("areas", "population", "neighbours")}
    return load_panel(d / counts, freq=freq, **opt)


__all__ = ["DATA_FORMATS", "DataSource", "data_frequency", "load_panel", "load_panel_dir", "load_source"]
