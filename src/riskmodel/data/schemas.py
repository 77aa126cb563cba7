"""Validation of counts and areas tables, before anything else touches them.

The checks are pandera schemas run lazily (every failure collected, not just
the first), whose failure cases are turned into :class:`~riskmodel.errors.Problem`
records: one per (column, kind of failure), naming the file, the column and
up to five offending lines. Checks that need the whole table (duplicates,
alignment to the frequency, unknown area ids) run after the row checks.

Line numbers are those a user sees in a CSV file: the header is line 1, the
first data row line 2. For a table read from a workbook they are the sheet's
rows, and the messages name the cells (``计数!D17``; :func:`in_sheet`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from riskmodel.data.excel import SHEET_ROWS, SheetRows
from riskmodel.data.frequency import FREQUENCIES, Frequency
from riskmodel.data.limits import EXACT_COUNT, Limits
from riskmodel.errors import InputError, Problem

if TYPE_CHECKING:
    import pandera.pandas as pa

FREQS = tuple(FREQUENCIES)
COUNTS_COLUMNS = ("area_id", "category", "period", "count")
AREAS_COLUMNS = ("area_id",)
AREAS_OPTIONAL = ("name", "name_en", "parent_id", "level", "population")

# whole numbers after number_text: "１２" (full-width, as typed in a Chinese input method), "1,234"
# (thousands separators, as Excel shows and exports them) and "12 " are read as 12, 1234, 12
_INT_RE = re.compile(r"^\s*[+]?[0-9]+(\.0*)?\s*$")
_THOUSANDS_RE = r"^([+-]?[0-9]{1,3}(?:,[0-9]{3})+)((?:\.[0-9]*)?)$"
# dates: 2020-01-31, 2020/1/31, 2020.01.31 (one separator throughout), 2020-01 / 2020/1 / 2020.01 (a month)
_DATE_RE = re.compile(r"^\s*([0-9]{4})([-/.])([0-9]{1,2})(?:\2([0-9]{1,2}))?\s*$")
# Chinese date text: 2020年1月1日 (or 号), 2020年1月 (a month), 2020年 (a year)
_CN_DATE_RE = re.compile(r"^\s*([0-9]{4})\s*年\s*(?:([0-9]{1,2})\s*月\s*(?:([0-9]{1,2})\s*[日号])?)?\s*$")


def number_text(values: pd.Series) -> pd.Series:
    """Numbers written as text, made plain: full-width digits to ASCII, thousands separators and spaces removed.

    ``"１２３"`` -> ``"123"``, ``"1,234"`` -> ``"1234"``, ``" 12 "`` -> ``"12"``,
    ``"１，２３４"`` -> ``"1234"`` (Unicode NFKC folds full-width digits, commas
    and the ideographic space). Commas are removed only where they separate
    groups of three digits (``"1,23"`` stays as it is, and is refused by the
    validator as not a number). Numeric columns, and text columns of plain
    ASCII digits, are returned as they are; missing values stay missing.
    """
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return values
    s = values.astype("string")
    odd = ~s.str.fullmatch(r"[0-9]+").fillna(True)  # plain ASCII digits (the common case) need nothing
    if not odd.any():
        return values
    fixed = s[odd].str.normalize("NFKC").str.strip()
    s[odd] = fixed.str.replace(_THOUSANDS_RE, lambda m: m.group(1).replace(",", "") + m.group(2), regex=True)
    return s.astype(object).where(s.notna(), np.nan)  # object with NaN, as read from a CSV


def parse_period(values: pd.Series) -> pd.Series:
    """Parse dates to Timestamps: ISO ('2020-01-31', '2020-01' for a month) and the forms spreadsheets give.

    Also read: '2020/1/31', '2020.01.31', '2020/1', '2020.01' (a month);
    Chinese date text '2020年1月31日' (or 号), '2020年1月' (a month),
    '2020年' (a year: 1 January); full-width digits; a time of day of
    midnight after the date ('2020-01-31 00:00:00', as spreadsheets export
    dates). A month is its first day. Returns NaT for values that are not a
    date that exists (such as '2020-02-30') or fall outside 1900-2199.
    Dates may also come as datetime values already.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.to_datetime(values).dt.tz_localize(None) if values.dt.tz else values
    s = values.astype("string").str.strip()
    # fast path: ISO dates, the common case; the regex below handles the rest
    fast = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
    if fast.notna().all() and (fast.dt.year >= 1900).all() and (fast.dt.year <= 2199).all():
        return fast
    rest = s[fast.isna()].str.normalize("NFKC")
    # strings like "2020-01-01 00:00:00" come from spreadsheets: accept the date part
    plain = rest.str.replace(r"(?:\s+|T)0?0:00(:00)?$", "", regex=True)
    m = plain.str.extract(_DATE_RE)
    c = plain.str.extract(_CN_DATE_RE)
    year, month, day = m[0].fillna(c[0]), m[2].fillna(c[1]), m[3].fillna(c[2])
    # rebuild zero-padded ISO text and let the strict parser decide what exists
    iso = year + "-" + month.fillna("1").str.zfill(2) + "-" + day.fillna("1").str.zfill(2)
    slow = pd.to_datetime(iso.astype(object).where(iso.notna(), None), format="%Y-%m-%d", errors="coerce")
    fast[fast.isna()] = slow
    # years far outside incident records are typos (and year 0 does not exist)
    return fast.where((fast.dt.year >= 1900) & (fast.dt.year <= 2199))


def _is_count(s: pd.Series) -> pd.Series:
    if pd.api.types.is_integer_dtype(s):
        return s.notna() & (s >= 0)
    if pd.api.types.is_float_dtype(s):
        return s.notna() & (s >= 0) & (np.floor(s) == s) & np.isfinite(s)
    return number_text(s.astype("string")).fillna("").str.match(_INT_RE).astype(bool)


def _counts_row_schema() -> pa.DataFrameSchema:
    # pandera here, not at the top: every command's start imports this module (about 0.3 s of CPU)
    import pandera.pandas as pa

    nonblank = pa.Check(
        lambda s: s.astype("string").fillna("").str.strip() != "",
        element_wise=False,
        error="is empty",
    )
    return pa.DataFrameSchema(
        {
            "area_id": pa.Column(object, checks=nonblank, nullable=False, coerce=False),
            "category": pa.Column(object, checks=nonblank, nullable=False, coerce=False),
            "period": pa.Column(
                checks=pa.Check(
                    lambda s: parse_period(s).notna(),
                    error="is not a date that exists in 1900-2199 (expected YYYY-MM-DD; 2020/1/31, 2020年1月31日 and "
                          "months such as 2020-01 or 2020年1月 are read too)",
                ),
                nullable=False,
            ),
            "count": pa.Column(
                checks=pa.Check(
                    _is_count, error="is not a count (a whole number >= 0)"
                ),
                nullable=False,
            ),
        },
        strict=False,
        coerce=False,
    )


def _schema_errors() -> type[Exception]:
    import pandera.errors

    return pandera.errors.SchemaErrors


def _failures_to_problems(err: pa.errors.SchemaErrors, source: str) -> list[Problem]:
    fc = err.failure_cases
    problems: list[Problem] = []
    for (column, check), grp in fc.groupby(["column", "check"], sort=False, dropna=False):
        grp = grp[grp["index"].notna()]
        if grp.empty:
            continue
        idx = grp["index"].astype(int).tolist()
        msg = str(check)
        if msg.startswith("not_nullable"):
            msg = "is missing (empty cell)"
        problems.append(
            Problem.at_rows(
                f"value {msg}",
                source=source,
                column=str(column),
                index=idx,
                values=grp["failure_case"].tolist(),
            )
        )
    return problems


def in_sheet(problems: list[Problem], df: pd.DataFrame) -> list[Problem]:
    """Problems about a table read from a workbook, pointed at its sheet: rows as sheet rows, cells named.

    ``df`` is the table as read (:func:`riskmodel.data.excel.read_workbook`
    leaves where each row and column is in ``df.attrs``); a problem's lines,
    counted as in a CSV (data row ``i`` is line ``i + 2``), become the sheet
    rows, and the message names the cells (``计数!D17``) when the problem is
    about one column, or the sheet otherwise. Any other table's problems, and
    a table whose rows were filtered or reordered since it was read, are
    returned as they are.
    """
    info = df.attrs.get(SHEET_ROWS)
    if (not isinstance(info, SheetRows) or info.n != len(df)
            or not df.index.equals(pd.RangeIndex(len(df)))):
        return problems
    names = [str(c) for c in df.columns]
    out = []
    for p in problems:
        lines = list(p.rows)
        if not lines or not all(2 <= r < info.n + 2 for r in lines):
            out.append(p)
            continue
        rows = [info.row(r - 2) for r in lines]
        cols = [c.strip() for c in (p.column or "").split(",") if c.strip()]
        letters = [info.letters[names.index(c)] for c in cols if c in names] if len(info.letters) == len(names) else []
        more = " ..." if len(rows) > 5 else ""
        if len(cols) == 1 and len(letters) == 1:
            where = f"cells {', '.join(info.ref(r, letters[0]) for r in rows[:5])}{more}"
        else:
            where = f"sheet {info.sheet}, rows {', '.join(map(str, rows[:5]))}{more}"
        out.append(dataclasses.replace(p, message=f"{p.message} ({where}; lines are the sheet's rows)", rows=rows))
    return out


def check_freq(freq: str, *, option: str = "--freq") -> str:
    """The code of a valid frequency (:meth:`Frequency.of`)."""
    return Frequency.of(freq, option=option).code


TOTAL_LABELS = frozenset({"合计", "总计", "小计", "共计", "累计", "全市合计", "全区合计", "合计数", "总合计",
                          "total", "totals", "subtotal", "sub-total", "grand total", "sum"})
"""Area or category labels of a report sheet's total rows (Chinese and English), refused in a counts table."""


def _total_rows(work: pd.DataFrame) -> pd.Series:
    """Rows whose area_id or category is a total label (spaces inside Chinese labels ignored: 合 计)."""
    hit = pd.Series(False, index=work.index)
    for col in ("area_id", "category"):
        key = work[col].astype("string").fillna("").str.replace(r"[\s\u3000]+", "", regex=True).str.lower()
        key = key.str.replace(r"^(grand|sub)", r"\1 ", regex=True)  # "grandtotal" -> "grand total"
        hit |= key.isin(TOTAL_LABELS).fillna(False).astype(bool)
    return hit


def validate_counts(
    df: pd.DataFrame,
    *,
    source: str = "counts",
    freq: str | None = None,
    area_ids: Iterable[str] | None = None,
    raise_on_error: bool = True,
    limits: Limits | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check a counts table and return it typed, with every problem found.

    Parameters
    ----------
    df : DataFrame
        Columns ``area_id``, ``category``, ``period``, ``count`` (others are
        kept). Values may be strings as read from a CSV.
    source : str
        The file name, for messages.
    freq : {'D', 'W', 'M'}, optional
        The frequency; inferred from the periods when not given.
    area_ids : iterable of str, optional
        Known area ids (from an areas file); others are reported.
    raise_on_error : bool
        Raise :class:`InputError` with every problem (default), or return them.
    limits : Limits, optional
        Plausibility limits on the dates' span and the counts
        (:mod:`riskmodel.data.limits`; default: ``Limits.from_env()``).

    Returns
    -------
    (DataFrame, list of Problem)
        The table with ``area_id`` and ``category`` as str, ``period`` as
        datetime64 and ``count`` as int64, sorted by area, category, period;
        and the problems (empty when the table is good).
    """
    problems: list[Problem] = []
    missing = [c for c in COUNTS_COLUMNS if c not in df.columns]
    if missing:
        problems.append(
            Problem(
                f"missing column(s) {', '.join(missing)}; a counts table needs "
                f"{', '.join(COUNTS_COLUMNS)} (found: {', '.join(map(str, df.columns))}); map your headers with "
                f"--columns HEADER=COLUMN,... (or a study's [data.columns] table)",
                source=source,
            )
        )
        if raise_on_error:
            raise InputError(problems)
        return df, problems
    work = df.reset_index(drop=True)
    try:
        _counts_row_schema().validate(work, lazy=True)
    except _schema_errors() as err:  # pandera's, imported by then
        problems.extend(_failures_to_problems(err, source))
    periods = parse_period(work["period"])
    good = periods.notna() & _is_count(work["count"])
    for col in ("area_id", "category"):
        good &= work[col].astype("string").fillna("").str.strip() != ""
    typed = pd.DataFrame(
        {
            "area_id": work["area_id"].astype("string").str.strip().astype(object),
            "category": work["category"].astype("string").str.strip().astype(object),
            "period": periods,
            "count": pd.to_numeric(number_text(work["count"]), errors="coerce"),
        }
    )
    extra = [c for c in work.columns if c not in COUNTS_COLUMNS]
    for c in extra:
        typed[c] = work[c]
    lim = limits if limits is not None else Limits.from_env()
    problems += lim.check_counts(typed.loc[good, "count"], source=source, values=work.loc[good, "count"])
    problems += lim.check_dates(typed.loc[good, "period"], source=source, values=work.loc[good, "period"])
    good &= ~(typed["count"] > EXACT_COUNT)
    ok = typed[good]
    try:
        f: Frequency | None = Frequency.infer(ok["period"], source=source) if freq is None else Frequency.of(freq)
    except InputError as exc:  # the dates fit no frequency rule: the problem names the rows
        problems.extend(exc.problems)
        f = None
    freq = f.code if f is not None else None
    bad_align = f.misaligned(ok["period"]) if f is not None else pd.Series(False, index=ok.index)
    if bad_align.any():
        what = {"Y": "1 January", "M": "the first day of a month", "W": "a Monday (ISO week start)"}[f.code]
        idx = ok.index[bad_align]
        problems.append(
            Problem.at_rows(
                f"period is not {what}, as frequency {freq} requires",
                source=source,
                column="period",
                index=idx,
                values=work.loc[idx, "period"].tolist(),
            )
        )
    dup = ok.duplicated(["area_id", "category", "period"], keep=False)
    if dup.any():
        idx = ok.index[dup]
        problems.append(
            Problem.at_rows(
                "duplicate (area_id, category, period) rows; each series may have one row per period",
                source=source,
                column="area_id, category, period",
                index=idx,
                values=[
                    f"{a}/{c}/{p.date()}"
                    for a, c, p in ok.loc[idx, ["area_id", "category", "period"]].itertuples(
                        index=False
                    )
                ],
            )
        )
    totals = _total_rows(work)
    if totals.any():
        idx = work.index[totals]
        problems.append(
            Problem.at_rows(
                "a total row (合计/总计/小计/total), not one area's or category's count: delete it; riskmodel "
                "sums areas and categories itself (a report sheet's total would be counted twice)",
                source=source,
                column="area_id, category",
                index=idx,
                values=[f"{a}/{c}" for a, c in work.loc[idx, ["area_id", "category"]].itertuples(index=False)],
            )
        )
    if area_ids is not None:
        known = set(map(str, area_ids))
        unknown = ~ok["area_id"].isin(known)
        if unknown.any():
            idx = ok.index[unknown]
            names = sorted(set(ok.loc[idx, "area_id"]))
            problems.append(
                Problem.at_rows(
                    f"area id(s) not in the areas table: {', '.join(names[:10])}"
                    + (" ..." if len(names) > 10 else ""),
                    source=source,
                    column="area_id",
                    index=idx,
                    values=ok.loc[idx, "area_id"].tolist(),
                )
            )
    problems = in_sheet(problems, df)
    if problems and raise_on_error:
        raise InputError(problems)
    out = ok.astype({"count": "int64"})
    out = out.sort_values(["area_id", "category", "period"], kind="stable").reset_index(drop=True)
    out.attrs["freq"] = freq
    return out, problems


def _tree_problems(work: pd.DataFrame, source: str) -> list[Problem]:
    """The areas must form a tree: one parent per area, no area its own ancestor."""
    problems: list[Problem] = []
    pairs = work[["area_id", "parent_id"]].astype(object).where(work[["area_id", "parent_id"]].notna(), None)
    n_par = pairs.drop_duplicates().groupby("area_id", sort=False)["parent_id"].apply(lambda v: len(set(v)))
    multi = set(n_par.index[n_par > 1])
    if multi:
        idx = work.index[work["area_id"].isin(multi)]
        problems.append(Problem.at_rows(
            f"area(s) with more than one parent: {', '.join(sorted(map(str, multi))[:10])}; each area has one "
            "parent (the areas must form a tree)", source=source, column="parent_id", index=idx,
            values=[f"{a} -> {b}" for a, b in pairs.loc[idx].itertuples(index=False)]))
        return problems
    parent = dict(pairs.drop_duplicates("area_id").itertuples(index=False, name=None))
    in_cycle: set[str] = set()
    for start in parent:
        seen: list[str] = []
        a: str | None = start
        while a is not None and a not in seen and a not in in_cycle:
            seen.append(a)
            a = parent.get(a)
        if a is not None and a in seen:
            in_cycle.update(seen[seen.index(a):])
    if in_cycle:
        idx = work.index[work["area_id"].isin(in_cycle)]
        problems.append(Problem.at_rows(
            f"parent_id makes a cycle through {', '.join(sorted(map(str, in_cycle))[:10])}: an area cannot be its own "
            "ancestor (the areas must form a tree)", source=source, column="parent_id", index=idx,
            values=[f"{a} -> {b}" for a, b in pairs.loc[idx].itertuples(index=False)]))
    return problems


def validate_areas(
    df: pd.DataFrame, *, source: str = "areas", raise_on_error: bool = True
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check an areas table.

    Required column: ``area_id``. Optional: ``name``, ``name_en``,
    ``parent_id`` (must be another area's id, or empty for the top; the
    areas must form a tree: one parent per area, no cycles),
    ``level``, ``population`` (a non-negative number; with a ``year`` column,
    one row per area and year).
    """
    problems: list[Problem] = []
    if "area_id" not in df.columns:
        problems.append(
            Problem(
                "missing column area_id; an areas table needs area_id "
                f"(optional: {', '.join(AREAS_OPTIONAL)}; found: {', '.join(map(str, df.columns))})",
                source=source,
            )
        )
        if raise_on_error:
            raise InputError(problems)
        return df, problems
    work = df.reset_index(drop=True).copy()
    ids = work["area_id"].astype("string").str.strip()
    blank = ids.fillna("") == ""
    if blank.any():
        idx = work.index[blank]
        problems.append(
            Problem.at_rows("area_id is empty", source=source, column="area_id", index=idx)
        )
    work["area_id"] = ids.astype(object)
    key = ["area_id", "year"] if "year" in work.columns else ["area_id"]
    dup = work.duplicated(key, keep=False) & ~blank
    if dup.any():
        idx = work.index[dup]
        problems.append(
            Problem.at_rows(
                f"duplicate {' and '.join(key)}",
                source=source,
                column="area_id",
                index=idx,
                values=work.loc[idx, "area_id"].tolist(),
            )
        )
    if "parent_id" in work.columns:
        par = work["parent_id"].astype("string").str.strip().replace("", pd.NA)
        work["parent_id"] = par.astype(object).where(par.notna(), None)
        bad = par.notna() & ~par.isin(set(work["area_id"]))
        if bad.any():
            idx = work.index[bad]
            problems.append(
                Problem.at_rows(
                    "parent_id is not an area_id in this table",
                    source=source,
                    column="parent_id",
                    index=idx,
                    values=par[idx].tolist(),
                )
            )
    if "parent_id" in work.columns and not problems:
        problems += _tree_problems(work, source)
    for col in ("population", "year"):
        if col in work.columns:
            raw = work[col]
            num = pd.to_numeric(number_text(raw), errors="coerce")
            bad = raw.notna() & (raw.astype("string").str.strip() != "") & (num.isna() | (num < 0))
            if bad.any():
                idx = work.index[bad]
                problems.append(
                    Problem.at_rows(
                        f"{col} is not a non-negative number",
                        source=source,
                        column=col,
                        index=idx,
                        values=raw[idx].tolist(),
                    )
                )
            work[col] = num
    problems = in_sheet(problems, df)
    if problems and raise_on_error:
        raise InputError(problems)
    return work, problems
