"""Index inputs: COINr-style iData tables and riskmodel's long indicators format.

Both give an :class:`IndexData`: one row per unit (an area, or an area in a
period for a panel), the indicator values, the denominators and the grouping
variables used for imputation.

* **iData** (COINr): one row per unit with ``uCode`` (the unit id), optional
  ``uName``, ``Time``, the group columns and denominator columns declared in
  iMeta, and one column per indicator.
* **long** (riskmodel): ``area_id, period, indicator, value`` (``period``
  optional); denominators are indicators too. Groups come from an areas table
  (``area_id`` and any column, e.g. ``parent_id`` for the district).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem
from riskmodel.index.spec import IndexSpec


@dataclass
class IndexData:
    """Units x indicators, with denominators and groups.

    Attributes
    ----------
    units : DataFrame
        ``area_id``, ``period`` (NaT/None for a cross-section), ``name`` and the
        group columns; row i describes row i of ``values``.
    values : DataFrame
        Float indicator values (NaN = missing), columns = indicator codes.
    denominators : DataFrame
        Float denominator values, columns = denominator codes.
    """

    units: pd.DataFrame
    values: pd.DataFrame
    denominators: pd.DataFrame
    source: str = "data"

    @property
    def blocks(self) -> list[np.ndarray]:
        """Row positions of each period (one block for a cross-section)."""
        per = self.units["period"]
        if per.isna().all():
            return [np.arange(len(per))]
        codes, uniq = pd.factorize(per, sort=True)
        return [np.flatnonzero(codes == i) for i in range(len(uniq))]

    @property
    def periods(self) -> list[object]:
        per = self.units["period"]
        return [None] if per.isna().all() else sorted(per.dropna().unique())

    def subset(self, rows: np.ndarray) -> IndexData:
        return IndexData(
            self.units.iloc[rows].reset_index(drop=True),
            self.values.iloc[rows].reset_index(drop=True),
            self.denominators.iloc[rows].reset_index(drop=True),
            self.source,
        )


YEARS = (1900, 2199)
"""Years an indicator's period may fall in (the same limits as the counts' periods): a date outside
them (such as 9999-01-01) is a typo, not a period of the index."""


def _check_periods(per: pd.Series, raw: pd.Series, source: str, column: str, blank_ok: bool = False) -> pd.Series:
    """``per`` (parsed from ``raw``), or InputError naming the rows that are not a date in :data:`YEARS`."""
    bad = per.isna() & (raw.notna() if blank_ok else True)
    if bad.any():
        raise InputError(Problem(f"not a date (expected YYYY-MM-DD, or a year, in {YEARS[0]}-{YEARS[1]})",
                                 source=source, column=column, rows=(np.flatnonzero(bad) + 2).tolist(),
                                 values=raw[bad].tolist()))
    far = per.notna() & ((per.dt.year < YEARS[0]) | (per.dt.year > YEARS[1]))
    if far.any():
        raise InputError(Problem(f"a date outside {YEARS[0]}-{YEARS[1]} (a typo?)", source=source, column=column,
                                 rows=(np.flatnonzero(far) + 2).tolist(), values=raw[far].tolist()))
    return per


def _numeric(df: pd.DataFrame, cols: list[str], source: str) -> tuple[pd.DataFrame, list[Problem]]:
    out = {}
    problems = []
    for c in cols:
        raw = df[c]
        num = pd.to_numeric(raw, errors="coerce")
        bad = num.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        if bad.any():
            problems.append(
                Problem("not a number", source=source, column=c, rows=(np.flatnonzero(bad) + 2).tolist(),
                        values=raw[bad].tolist())
            )
        inf = num.notna() & ~np.isfinite(num.astype(float))
        if inf.any():
            # an infinite value has no place on any scale: it would make every score of its period NaN
            problems.append(
                Problem("not a finite number (inf is not a value an indicator can take)", source=source, column=c,
                        rows=(np.flatnonzero(inf) + 2).tolist(), values=raw[inf].tolist())
            )
        out[c] = num.astype(float)
    return pd.DataFrame(out, index=df.index), problems


def from_idata(df: pd.DataFrame, spec: IndexSpec, source: str = "iData", group_columns: list[str] | None = None) -> IndexData:
    """Build :class:`IndexData` from a COINr iData table.

    Raises
    ------
    InputError
        No ``uCode`` column, duplicate unit codes, an indicator of the spec
        missing from the data, or non-numeric indicator values.
    """
    problems: list[Problem] = []
    if "uCode" not in df.columns:
        raise InputError(Problem("required column is missing (the unit code)", source=source, column="uCode"))
    missing = [c for c in spec.indicators if c not in df.columns]
    if missing:
        problems.append(Problem(f"indicators of the spec are missing from the data: {', '.join(missing)}", source=source))
    dup = df["uCode"].duplicated(keep=False) & (df["Time"].duplicated(keep=False) if "Time" in df.columns else True)
    if "Time" in df.columns:
        dup = df.duplicated(["uCode", "Time"], keep=False)
    if dup.any():
        problems.append(Problem("duplicate unit code", source=source, column="uCode",
                                rows=(np.flatnonzero(dup) + 2).tolist(), values=df.loc[dup, "uCode"].tolist()))
    dcols = sorted(set(spec.denominators) | {d for d in spec.table["denominator"] if d})
    dmiss = [c for c in dcols if c not in df.columns]
    used = {d for d in spec.table["denominator"] if d}
    if used - set(df.columns):
        problems.append(Problem(f"denominators named in the spec are missing from the data: {', '.join(sorted(used - set(df.columns)))}",
                                source=source))
    if problems:
        raise InputError(problems)
    vals, p1 = _numeric(df, spec.indicators, source)
    dens, p2 = _numeric(df, [c for c in dcols if c not in dmiss], source)
    if p1 + p2:
        raise InputError(p1 + p2)
    groups = list(dict.fromkeys([*(spec.groups or []), *(group_columns or [])]))
    groups = [g for g in groups if g in df.columns]
    period = None
    if "Time" in df.columns and df["Time"].nunique() > 1:
        t = pd.to_numeric(df["Time"], errors="coerce")
        # COINr panels give years (2018 or 2018.0): read them as the year's first day
        if t.notna().all() and (t == t.round()).all():
            t = t.where(t.between(YEARS[0], YEARS[1]))
            per = pd.to_datetime(t.astype("Int64").astype("string"), format="%Y", errors="coerce")
        else:
            per = pd.to_datetime(df["Time"], errors="coerce")
        period = _check_periods(per, df["Time"], source, "Time").to_numpy()
    units = pd.DataFrame({
        "area_id": df["uCode"].astype(str).to_numpy(),
        "period": period,
        "name": (df["uName"] if "uName" in df.columns else df["uCode"]).astype(str).to_numpy(),
    })
    for g in groups:
        units[g] = df[g].astype(str).to_numpy()
    return IndexData(units, vals.reset_index(drop=True), dens.reset_index(drop=True), source)


def from_long(
    df: pd.DataFrame,
    spec: IndexSpec,
    source: str = "indicators",
    areas: pd.DataFrame | None = None,
    group_columns: list[str] | None = None,
) -> IndexData:
    """Build :class:`IndexData` from ``area_id, [period,] indicator, value``.

    Indicators not in the spec (and not used as denominators) are ignored.

    Raises
    ------
    InputError
        Missing columns, non-numeric values, duplicate (area, period,
        indicator) rows, or indicators of the spec missing from the data.
    """
    need = ["area_id", "indicator", "value"]
    miss = [c for c in need if c not in df.columns]
    if miss:
        raise InputError(Problem(f"required columns are missing: {', '.join(miss)} (have: {', '.join(map(str, df.columns))})",
                                 source=source))
    d = df.copy()
    has_period = "period" in d.columns
    if not has_period:
        d["period"] = "all"
    d["area_id"] = d["area_id"].astype(str)
    d["indicator"] = d["indicator"].astype(str)
    v, probs = _numeric(d, ["value"], source)
    if probs:
        raise InputError(probs)
    d["value"] = v["value"]
    if has_period:
        per = pd.to_datetime(d["period"], errors="coerce")
        d["period"] = _check_periods(per, d["period"], source, "period", blank_ok=True)
    dup = d.duplicated(["area_id", "period", "indicator"], keep=False)
    if dup.any():
        raise InputError(Problem("duplicate (area_id, period, indicator) rows", source=source,
                                 rows=(np.flatnonzero(dup) + 2).tolist(), values=d.loc[dup, "indicator"].tolist()))
    have = set(d["indicator"])
    missing = [c for c in spec.indicators if c not in have]
    used_d = sorted({x for x in spec.table["denominator"] if x})
    missing_d = [c for c in used_d if c not in have]
    if missing or missing_d:
        msgs = []
        if missing:
            msgs.append(Problem(f"indicators of the spec are missing from the data: {', '.join(missing)}",
                                source=source, column="indicator"))
        if missing_d:
            msgs.append(Problem(f"denominators named in the spec are missing from the data: {', '.join(missing_d)}",
                                source=source, column="indicator"))
        raise InputError(msgs)
    wide = d.pivot(index=["period", "area_id"], columns="indicator", values="value").sort_index()
    units = wide.index.to_frame(index=False)[["area_id", "period"]]
    if not has_period:
        units["period"] = None
    units["name"] = units["area_id"]
    if areas is not None and "area_id" in areas.columns:
        a = areas.drop_duplicates("area_id").set_index(areas.drop_duplicates("area_id")["area_id"].astype(str))
        if "name" in a.columns:
            units["name"] = units["area_id"].map(a["name"]).fillna(units["area_id"])
        for g in group_columns or []:
            if g not in a.columns:
                raise InputError(Problem(f"group column '{g}' is not in the areas table (have: {', '.join(a.columns)})",
                                         column=g))
            units[g] = units["area_id"].map(a[g]).astype(str).to_numpy()
    elif group_columns:
        raise InputError(Problem(f"grouping by {', '.join(group_columns)} needs an areas table ([data] areas = ...)"))
    vals = wide.reindex(columns=spec.indicators).reset_index(drop=True).astype(float)
    dens = wide.reindex(columns=used_d).reset_index(drop=True).astype(float)
    return IndexData(units.reset_index(drop=True), vals, dens, source)
