"""The one loader: files -> a validated :class:`~riskmodel.data.IncidentPanel`.

Every command and the pipeline read their counts through :func:`load_panel`
(or :func:`load_source` for a study's ``[data]`` table), so a file is read,
validated and framed at a frequency by one set of rules:

1. The data's own frequency is inferred from its period dates
   (:meth:`riskmodel.data.frequency.Frequency.infer`: Y, M, W, D by one
   documented rule; dates that fit no rule are refused, naming the rows).
2. Without ``freq`` the panel is at that frequency.
3. With ``freq`` equal to it, the panel is validated at ``freq`` (a date that
   is not a period start is named).
4. With ``freq`` coarser, finer counts are summed to it -- but only when the
   data really are finer (consecutive dates at most one period of the finer
   frequency apart, typically); a file of weekly dates with one stray
   Tuesday is refused at ``freq`` naming that row, not summed.
5. With ``freq`` finer than the data, the load is refused: monthly counts
   cannot be split into weeks, and weekly counts read as daily would add six
   zero days a week.
6. With ``freq`` and ``align`` (``--align-dates``), each row is counted in
   the period of ``freq`` that contains its date (rows of a series that land
   in one period are summed; ``meta['notes']`` says how many moved).

Zeros: a period absent from a counts file is counted as 0 only where the
models need a value, and every such zero is counted and reported
(:attr:`IncidentPanel.added_zeros`; commands print its ``note()``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from riskmodel.data.columns import COUNTS_COLUMNS, map_columns
from riskmodel.data.frequency import Frequency
from riskmodel.data.limits import Limits
from riskmodel.data.panel import IncidentPanel, TableLike
from riskmodel.data.portland import load_portland
from riskmodel.data.readers import read_table
from riskmodel.data.schemas import parse_period, validate_counts
from riskmodel.errors import ConfigError, InputError, Problem
from riskmodel.io_safety import is_database_url

DATA_FORMATS = ("counts", "portland")
"""Values of ``format`` in a study's ``[data]`` table."""


def data_frequency(periods: pd.Series, *, source: str | None = None) -> Frequency | None:
    """The frequency the dates show, or None when no date can be read (the validator names them).

    Raises InputError when the dates fit no rule (:meth:`Frequency.infer`).
    """
    dates = parse_period(pd.Series(periods).reset_index(drop=True)).dropna()
    return Frequency.infer(dates, source=source) if len(dates) else None


def _really_finer(dates: pd.Series, have: Frequency) -> bool:
    """Whether consecutive distinct ``dates`` (sorted) are typically one ``have`` period apart."""
    gaps = dates.diff().dt.days.dropna()
    step = {"D": 1, "W": 7}.get(have.code, 31)
    return not len(gaps) or bool(gaps.median() <= step)


_ZERO_UNITS = {("D", "W"): "six zero days a week", ("D", "M"): "about 29 zero days a month",
               ("D", "Y"): "364 zero days a year", ("W", "Y"): "51 zero weeks a year",
               ("M", "Y"): "eleven zero months a year"}


def _finer_refusal(want: Frequency, have: Frequency, name: str, option: str) -> InputError:
    rule = {"Y": "every date is 1 January", "M": "every date is the 1st of a month",
            "W": "every date is a Monday"}[have.code]
    if want.nests_in(have):
        why = f"{option} {want.code} would add {_ZERO_UNITS[(want.code, have.code)]}"
    else:
        why = f"{want.name} periods do not nest in {have.unit}s"
    return InputError(Problem(
        f"{option} {want.code}: cannot resample from {have.code} to {want.code}: the counts are {have.name} "
        f"and cannot be split into {want.name} periods ({rule}); {why}. Give {option} {have.code} "
        f"(or a coarser frequency) or leave {option} out", source=name, column=option))


def refuse_finer(periods: pd.Series, want: str | Frequency, source: str,
                 option: str = "--freq") -> Frequency | None:
    """InputError when ``want`` is finer than the frequency the dates show; else that frequency.

    Returns None when the dates fit no rule (the validator then names the
    rows that do not fit ``want``).
    """
    w = Frequency.of(want, option=option)
    parsed = parse_period(pd.Series(periods).reset_index(drop=True)).dropna()
    try:
        have = Frequency.infer(parsed, source=source) if len(parsed) else None
    except InputError:
        return None
    if have is not None and w.finer_than(have):
        raise _finer_refusal(w, have, source, option)
    return have


def aligned_counts(raw: pd.DataFrame, want: Frequency, name: str,
                   limits: Limits | None = None) -> tuple[pd.DataFrame, str]:
    """``raw`` with each row moved to the period of ``want`` that contains its date, same series summed.

    Returns the validated, aligned counts (``period`` as period starts) and
    a one-line note saying how many rows moved and merged. InputError on
    rows that are not valid counts.
    """
    typed, _ = validate_counts(raw, source=name, freq="D", limits=limits)
    start = want.start(typed["period"])
    moved = int((start != typed["period"]).sum())
    typed = typed.assign(period=start)
    out = typed.groupby(["area_id", "category", "period"], as_index=False, sort=True)["count"].sum()
    merged = len(typed) - len(out)
    note = (f"note: --align-dates: {moved:,} of {len(typed):,} rows of {name} were dated inside a {want.unit} rather "
            f"than on its first day and were counted in the {want.unit} that contains them"
            + (f"; {merged:,} rows were added to another row of the same series and {want.unit}" if merged else ""))
    return out, note


def load_panel(
    counts: TableLike,
    *,
    freq: str | Frequency | None = None,
    areas: TableLike | None = None,
    population: TableLike | None = None,
    neighbours: TableLike | None = None,
    option: str = "--freq",
    align: bool = False,
    limits: Limits | None = None,
    columns: Mapping[str, str] | None = None,
) -> IncidentPanel:
    """Read and validate a counts table (and its areas tables) at ``freq`` (rules in the module notes).

    Parameters
    ----------
    counts : path or DataFrame
        ``area_id, category, period, count``.
    freq : {'D', 'W', 'M', 'Y'}, optional
        The frequency wanted (default: the data's own).
    areas, population, neighbours : path or DataFrame, optional
        As in :meth:`IncidentPanel.from_counts`.
    option : str
        The option or key that gave ``freq``, for messages.
    align : bool
        ``--align-dates``: count each row in the period of ``freq`` (required)
        that contains its date -- a Sunday in the ISO week that it ends, a
        15th in its month -- summing rows of a series that land in the same
        period.

    limits : Limits, optional
        Plausibility limits on the dates' span and the counts
        (:mod:`riskmodel.data.limits`; default: the ``RISKMODEL_MAX_*``
        environment variables, else 50 years and 1e9 a period).
    columns : mapping of str to str, optional
        The file's headers -> ``area_id, category, period, count``
        (``--columns``); absent columns are also found among the common
        Chinese headers (:mod:`riskmodel.data.columns`), with a note.

    Returns
    -------
    IncidentPanel
        ``meta['notes']``: lines (each starting ``note:``) a command prints
        to stderr -- a GBK file read as GB18030, rows moved by ``align``;
        ``added_zeros.note()`` is the other line to print.

    Raises
    ------
    InputError
        Every problem of the tables, dates that fit no frequency rule, or a
        ``freq`` finer than the data.
    """
    want = Frequency.of(freq, option=option) if freq is not None else None
    read_notes: list[str] = []
    if isinstance(counts, pd.DataFrame):
        raw, name = counts, "counts"
    else:
        raw, src = read_table(counts, what="counts")
        name = src.name
        if src.note:
            read_notes.append(f"note: {name}: {src.note}")
    raw, mapped = map_columns(raw, COUNTS_COLUMNS, columns, source=name)
    if mapped:
        read_notes.append(mapped)
    panel = _load(raw, name, want, option, align, limits, areas, population, neighbours)
    if read_notes:
        panel.meta["notes"] = read_notes + list(panel.meta.get("notes", []))
    return panel


def _load(raw: pd.DataFrame, name: str, want: Frequency | None, option: str, align: bool, limits: Limits | None,
          areas: TableLike | None, population: TableLike | None, neighbours: TableLike | None) -> IncidentPanel:
    kw = {"areas": areas, "population": population, "neighbours": neighbours, "source": name, "limits": limits}
    if align:
        if want is None:
            raise InputError(Problem(f"--align-dates needs {option}: the frequency whose periods the dates go to",
                                     column=option))
        if "period" in raw.columns:
            aligned, note = aligned_counts(raw, want, name, limits)
            panel = IncidentPanel.from_counts(aligned, freq=want.code, **kw)
            panel.meta.setdefault("notes", []).append(note)
            return panel
    # the period column is parsed once here for both questions (the validator parses it again, naming rows)
    parsed = parse_period(raw["period"].reset_index(drop=True)) if "period" in raw.columns else None
    parsed = parsed.dropna() if parsed is not None else pd.Series(dtype="datetime64[ns]")
    if want is None:
        # the inference rule refuses dates that fit no frequency, naming the rows
        have = Frequency.infer(parsed, source=name) if len(parsed) else None
        return IncidentPanel.from_counts(raw, freq=None if have is None else have.code, **kw)
    try:
        have = Frequency.infer(parsed, source=name) if len(parsed) else None
    except InputError:
        have = None  # the dates fit no rule: validate them at the frequency asked for, naming misaligned rows
    if have is None or want == have:
        return IncidentPanel.from_counts(raw, freq=want.code, **kw)
    if want.finer_than(have):
        raise _finer_refusal(want, have, name, option)
    dates = pd.Series(parsed.unique()).sort_values()
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
    align: bool = False
    columns: tuple[tuple[str, str], ...] = ()
    """The counts file's headers -> riskmodel's columns (``[data.columns]``), as pairs."""


def load_source(source: DataSource, resolve: Callable[[str], Path] = Path) -> IncidentPanel:
    """The panel a :class:`DataSource` describes (paths through ``resolve``; database URLs as they are)."""
    if source.format == "portland":
        return load_portland(resolve(source.counts), freq=source.freq or "M")
    if source.format != "counts":
        raise ConfigError(Problem(
            f"key 'data.format': unknown value {source.format!r}; valid: {', '.join(DATA_FORMATS)}"))

    def opt(p: str | None) -> Path | str | None:
        return None if not p else p if is_database_url(p) else resolve(p)

    return load_panel(opt(source.counts), freq=source.freq, areas=opt(source.areas),
                      population=opt(source.population), neighbours=opt(source.neighbours), option="data.freq",
                      align=source.align, columns=dict(source.columns))


def load_panel_dir(folder: str | os.PathLike[str], counts: str = "counts_monthly.csv",
                   freq: str | None = None) -> IncidentPanel:
    """Load a panel from a folder laid out like ``data/sample/``.

    Reads ``counts`` (name inside the folder) and, when present,
    ``areas.csv``, ``population.csv`` and ``neighbours.csv``.
    """
    d = Path(folder)
    opt = {k: (d / f"{k}.csv") if (d / f"{k}.csv").exists() else None for k in ("areas", "population", "neighbours")}
    return load_panel(d / counts, freq=freq, **opt)


__all__ = ["DATA_FORMATS", "DataSource", "data_frequency", "aligned_counts", "load_panel", "refuse_finer", "load_panel_dir",
           "load_source"]
