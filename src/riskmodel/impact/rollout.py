"""Staggered roll-outs at the command line: each area's start date, and the event-study figure.

:func:`read_starts` reads ``--starts`` (``area_id, start``) for the staggered
estimator (:mod:`riskmodel.impact.staggered`); :func:`event_study_chart`
draws its event study with the simultaneous band. Kept apart from the
estimator so that the command's start imports no scipy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskmodel.data.readers import read_table
from riskmodel.data.schemas import parse_period
from riskmodel.errors import InputError, Problem

#: Texts of the ``start`` column that mean "never treated" (besides an empty cell), any case.
NEVER = ("never", "none", "na", "n/a", "nan", "-", "未实施", "无")


def read_starts(path: str | Any, *, what: str = "start dates") -> dict[str, pd.Timestamp | None]:
    """Read a table of each area's programme start (``--starts``): columns ``area_id, start``.

    ``start`` is a date (``2019-07-01``, ``2019-07`` for a month, the forms
    :func:`riskmodel.data.schemas.parse_period` reads); empty, ``never`` or
    ``none`` mean the area is never treated (a comparison area throughout).

    Parameters
    ----------
    path : path-like or DataFrame
        The file (CSV, Excel with ``#sheet``, Parquet, database URL), or a
        table already read.
    what : str
        What the table is, for messages.

    Returns
    -------
    dict
        Area id -> start (None: never treated), in the file's order.

    Raises
    ------
    InputError
        Missing columns, empty area ids, starts that are not dates, an area
        given twice (naming the rows).
    """
    if isinstance(path, pd.DataFrame):
        df, name = path, what
    else:
        df, src = read_table(path, what=what)
        name = src.name
    missing = [c for c in ("area_id", "start") if c not in df.columns]
    if missing:
        raise InputError(Problem(f"missing column(s) {', '.join(missing)}; a table of start dates needs "
                                 "area_id, start (a date; empty or 'never' for an area never treated)",
                                 source=name))
    df = df.reset_index(drop=True)
    ids = df["area_id"].astype("string").str.strip()
    problems = []
    empty_id = (ids.isna() | (ids == "")).to_numpy()
    if empty_id.any():
        problems.append(Problem.at_rows("is empty", index=np.flatnonzero(empty_id), source=name, column="area_id"))
    raw = df["start"]
    text = raw.astype("string").str.strip()
    never = (text.isna() | (text == "") | text.str.lower().isin(NEVER)).to_numpy()
    parsed = parse_period(raw if pd.api.types.is_datetime64_any_dtype(raw) else text.where(~never, None))
    bad = ~never & parsed.isna().to_numpy()
    if bad.any():
        problems.append(Problem.at_rows("is not a date (YYYY-MM-DD; empty or 'never' for an area never treated)",
                                        index=np.flatnonzero(bad), source=name, column="start",
                                        values=raw.to_numpy()[bad][:10]))
    dup = (ids.duplicated(keep=False) & ~pd.Series(empty_id)).to_numpy()
    if dup.any():
        problems.append(Problem.at_rows("an area given more than once: one start per area",
                                        index=np.flatnonzero(dup), source=name, column="area_id",
                                        values=ids.to_numpy()[dup][:10]))
    if problems:
        raise InputError(problems)
    if never.all():
        raise InputError(Problem("no area has a start date: every area is never treated", source=name,
                                 column="start"))
    return {str(a): (None if nv else pd.Timestamp(t)) for a, nv, t in zip(ids, never, parsed, strict=True)}


def event_study_chart(table: pd.DataFrame, *, title: str = "", unit: str = "outcome units",
                      level: float = 0.95) -> Any:  # noqa: ANN401 - a matplotlib Figure
    """The event study: ATT by periods since the start, pointwise intervals and the simultaneous band.

    Parameters
    ----------
    table : DataFrame
        :meth:`StaggeredResult.aggregate` ``("dynamic")``'s table (``event_time, att, lo, hi,
        band_lo, band_hi``), or the ``event_study`` table of the ``staggered`` method's result.
    title : str
        First line of the title.
    unit : str
        The ATT's unit, for the axis label.
    level : float
        Level of the intervals (for the legend).

    Returns
    -------
    matplotlib.figure.Figure
        A new figure (close it when done).
    """
    import matplotlib.pyplot as plt  # here, not at import: `riskmodel claim` starts faster

    fig, ax = plt.subplots(figsize=(8, 4))
    e = table["event_time"].to_numpy(float)
    pre = e < 0
    ax.fill_between(e, table["band_lo"], table["band_hi"], color="tab:blue", alpha=0.15, lw=0, step=None,
                    label=f"simultaneous {level:.0%} band")
    ax.errorbar(e[pre], table["att"][pre], yerr=[(table["att"] - table["lo"])[pre], (table["hi"] - table["att"])[pre]],
                fmt="o", color="grey", ms=4, capsize=2, label="before the start (placebo)")
    ax.errorbar(e[~pre], table["att"][~pre],
                yerr=[(table["att"] - table["lo"])[~pre], (table["hi"] - table["att"])[~pre]],
                fmt="o", color="tab:blue", ms=4, capsize=2, label=f"effect ({level:.0%} pointwise interval)")
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(-0.5, color="tab:red", lw=1, ls="--", label="programme start")
    ax.set_xlabel("periods since the programme started")
    ax.set_ylabel(f"ATT ({unit})")
    ax.set_xticks(e)
    ax.set_title((title + "\n" if title else "") + "event study: Callaway and Sant'Anna group-time ATTs by "
                 "periods since the start", fontsize=10)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


__all__ = ["NEVER", "event_study_chart", "read_starts"]
