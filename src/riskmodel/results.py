"""One result protocol for every method family.

Every family's public entry point returns a result object with

* ``summary()`` -- a text summary, like statsmodels' (never a DataFrame);
* ``to_frame()`` -- its main table in long format;
* ``conf_int(level)`` -- the intervals at ``level`` (percent, or a fraction
  below 1), where the result has intervals;
* ``artifacts()`` -- the files it is published as: a list of
  :class:`Artifact` (tables, figures as PNG bytes, texts).

:func:`write_artifacts` writes any result's artifacts into a folder, whole or
not at all; :meth:`riskmodel.tracking.RunHandle.publish` logs the same list to
the tracking run and writes it, so a command or a pipeline step publishes a
result with one call and knows nothing of its files.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem
from riskmodel.io_safety import atomic_dir, csv_text

ArtifactKind = Literal["table", "figure", "text"]

FIGURE_PNG = {"dpi": 150, "bbox_inches": "tight"}
"""How a figure is rendered when it is logged to a tracking run (and embedded in the appendix)."""


@dataclass(frozen=True)
class Artifact:
    """One file of a result.

    Attributes
    ----------
    name : str
        Path inside the result's folder (``forecast.csv``, ``figures/fan_D1.png``).
    content : DataFrame, matplotlib Figure or str
        A table (written as CSV: ``index=False``, ``\\n`` line ends; gzip
        without a time stamp for ``.csv.gz``; Parquet for ``.parquet``), a
        figure (written as PNG with ``savefig``), or text (UTF-8).
    log_as : str, optional
        The artifact's name in the tracking run (default: its file name); an
        empty string keeps it out of the run.
    savefig : dict
        ``savefig`` keywords of a figure written to the folder (a logged
        figure is rendered with :data:`FIGURE_PNG`).
    """

    name: str
    content: Any
    log_as: str | None = None
    savefig: Mapping[str, Any] = field(default_factory=lambda: {"dpi": 150})

    @property
    def kind(self) -> ArtifactKind:
        if isinstance(self.content, pd.DataFrame):
            return "table"
        if isinstance(self.content, str):
            return "text"
        return "figure"

    @property
    def logged(self) -> bool:
        return self.log_as != ""

    @property
    def log_name(self) -> str:
        return self.log_as or Path(self.name).name


@runtime_checkable
class Result(Protocol):
    """What every family's public entry point returns (see the module notes)."""

    def summary(self) -> str: ...

    def to_frame(self) -> pd.DataFrame: ...

    def artifacts(self) -> list[Artifact]: ...


@runtime_checkable
class IntervalResult(Result, Protocol):
    """A result with intervals."""

    def conf_int(self, level: float = 95) -> pd.DataFrame: ...


def level_fraction(level: float) -> float:
    """An interval level as a fraction: ``95`` and ``0.95`` are both 0.95."""
    lv = float(level)
    frac = lv / 100.0 if lv > 1 else lv
    if not 0 < frac < 1:
        raise InputError(Problem(f"interval level must be between 0 and 100 (percent), got {level}"))
    return frac


def table_bytes(df: pd.DataFrame, name: str) -> bytes:
    """The bytes a table artifact is written as (by its file name's suffix).

    CSV (and ``.csv.gz``) is spreadsheet-safe: a text cell beginning with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return that is not a number gets a
    ``'`` in front (:func:`riskmodel.io_safety.spreadsheet_safe`); Parquet keeps the
    values as they are.
    """
    if name.endswith(".parquet"):
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        return buf.getvalue()
    if name.endswith(".xlsx"):
        # a one-sheet workbook: text stays text (no formula, no ' prefix needed), ISO dates are Excel dates
        dated = _dated(df)
        return xlsx_bytes([Sheet(table_sheet_name(name), dated)], created=created_from(dated))
    # text that a spreadsheet would run as a formula gets a ' in front (io_safety.spreadsheet_safe)
    text = csv_text(df).encode("utf-8")
    if name.endswith(".gz"):
        # no file name or time in the gzip header: the same table gives the same bytes
        return gzip.compress(text, compresslevel=9, mtime=0)
    return text


def artifact_bytes(a: Artifact) -> bytes:
    """The bytes an artifact is written as."""
    if a.kind == "table":
        return table_bytes(a.content, a.name)
    if a.kind == "text":
        return a.content.encode("utf-8")
    if isinstance(a.content, bytes):
        return a.content
    return figure_png(a.content, **a.savefig)


def figure_png(fig: Any, **savefig: Any) -> bytes:  # noqa: ANN401 - a matplotlib Figure
    """A matplotlib figure as PNG bytes (``savefig`` keywords passed on, e.g. ``dpi``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", **savefig)
    return buf.getvalue()


def write_artifacts(artifacts: Iterable[Artifact], folder: str | os.PathLike[str]) -> list[Path]:
    """Write artifacts into ``folder``, whole or not at all; returns the paths written."""
    arts = list(artifacts)
    names = [a.name for a in arts]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"artifact name(s) repeated: {', '.join(dup)}")
    folder = Path(folder)
    with atomic_dir(folder) as tmp:
        for a in arts:
            p = tmp / a.name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(artifact_bytes(a))
    return [folder / n for n in names]


# ------------------------------------------------------------------ tables as Excel workbooks
TABLE_FORMATS = ("csv", "xlsx", "parquet")
"""The formats a command can write its tables in (``--format``; :func:`with_format`)."""

XLSX_MAX_ROWS = 1_048_575
"""Data rows an Excel sheet can hold below its header row (1,048,576 rows in all)."""

XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
                "in_memory": True}
"""xlsxwriter's options for every workbook riskmodel writes: text is always text (a name such as
``=HYPERLINK(...)`` is stored as a string, never as a formula, a number or a link), and the package
is built in memory, which gives every part of the zip the same fixed time stamp (1980-01-01)."""

NUMBER_FORMATS = {
    "count": "#,##0",        # whole counts, with thousands separators
    "decimal": "#,##0.0",    # expected counts
    "estimate": "#,##0",     # forecast means and bounds: whole from 10 up, one decimal below (as the appendix)
    "number": "#,##0.00",    # other numbers around 1 to 100
    "general": "0.00E+00",   # tiny numbers (p-values): 1.05E-12
    "percent": "0.0%",       # shares, rates of change, coverage (fractions: 0.354 is 35.4%)
    "integer": "0",          # years, ranks, ids written as numbers (no separator: 2021, not 2,021)
    "score": "0.0",
    "ratio": "0.000",
    "date": "yyyy-mm-dd",
    "month": "yyyy-mm",
    "month_zh": 'yyyy"年"m"月"',
    "datetime": "yyyy-mm-dd hh:mm:ss",
}
"""Kinds of column (:attr:`Sheet.kinds`) and their Excel number formats."""

_TEXT_KINDS = ("text", "wrap")
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


@dataclass
class Sheet:
    """One sheet of a workbook: an optional title and notes, then a table with its header row frozen.

    Attributes
    ----------
    name : str
        The sheet's tab name (made valid for Excel: at most 31 characters, none of ``[]:*?/\\``).
    table : DataFrame
        The rows; numbers, text, dates (Timestamps), or missing values (blank cells). A text cell
        is always written as text (:data:`XLSX_OPTIONS`), also in a numeric column (``"<5"``).
    kinds : mapping
        Column -> kind (a key of :data:`NUMBER_FORMATS`, ``"text"``, or ``"wrap"`` for long
        text wrapped in a column of at most :data:`WRAP_WIDTH` characters); columns not named are
        inferred (:func:`column_kinds`).
    title : str, optional
        A bold first row.
    notes : list of str
        Lines between the title and the header (units, suppression, warnings).
    """

    name: str
    table: pd.DataFrame
    kinds: Mapping[str, str] = field(default_factory=dict)
    title: str | None = None
    notes: list[str] = field(default_factory=list)


WRAP_WIDTH = 60
"""Widest column, in Latin character widths (a CJK character counts two); longer text wraps."""


def text_width(text: str) -> int:
    """Display width of ``text`` in Latin character widths: a wide (CJK) character counts two.

    East Asian wide and full-width characters take about two columns of Excel's default font;
    ``unicodedata`` says which they are (no table of our own).
    """
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_kinds(df: pd.DataFrame) -> dict[str, str]:
    """The kind (:data:`NUMBER_FORMATS`) of each column of a table, from its type and name.

    Dates (datetime columns, and text columns whose every value is an ISO date ``YYYY-MM-DD``, as
    riskmodel writes periods) are dates; whole numbers are counts, except years, ids, ranks and
    seeds (``integer``: no thousands separator); fractions named ``coverage*``, ``*share`` or
    ``*change`` are percents; other numbers get decimals by their typical size (one from 100 up,
    two from 1, three from 0.001, else scientific: 1.05E-12); the rest is text.
    """
    kinds: dict[str, str] = {}
    for c in df.columns:
        s = df[c]
        if isinstance(s, pd.DataFrame):  # a repeated column name: text, left as it is
            kinds[str(c)] = "text"
            continue
        name = str(c).lower()
        if pd.api.types.is_bool_dtype(s):
            kinds[str(c)] = "text"
        elif pd.api.types.is_datetime64_any_dtype(s):
            t = s.dropna()
            timed = len(t) and bool(((t - t.dt.normalize()) != pd.Timedelta(0)).any())
            kinds[str(c)] = "datetime" if timed else "date"
        elif pd.api.types.is_numeric_dtype(s):
            v = pd.to_numeric(s, errors="coerce")
            finite = v[np.isfinite(v)] if len(v) else v
            whole = bool(len(finite)) and bool((finite == np.round(finite)).all())
            if name.startswith("coverage") or name.endswith(("share", "change")):
                kinds[str(c)] = "percent"
            elif whole and (name in ("year", "seed", "rank", "h", "id", "window") or name.endswith(("_id", "year"))):
                kinds[str(c)] = "integer"
            elif whole:
                kinds[str(c)] = "count"
            else:  # decimals by the size of the typical value (the cell keeps every digit)
                typical = float(np.median(np.abs(finite[finite != 0]))) if (finite != 0).any() else 0.0
                kinds[str(c)] = ("decimal" if typical >= 100 else "number" if typical >= 1 else
                                 "ratio" if typical >= 0.001 else "general")
        else:
            t = s.dropna()
            is_date = len(t) and t.map(lambda x: isinstance(x, str)).all() and t.str.match(_ISO_DATE).all()
            kinds[str(c)] = "date" if is_date else "text"
    return kinds


def _sheet_names(names: Iterable[str]) -> list[str]:
    """Valid, distinct Excel sheet names (31 characters, none of ``[]:*?/\\``, not blank)."""
    out: list[str] = []
    for n in names:
        base = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(n)).strip("'").strip() or "Sheet"
        name, k = base[:31], 2
        while name.lower() in (o.lower() for o in out):
            tail = f" ({k})"
            name, k = base[:31 - len(tail)] + tail, k + 1
        out.append(name)
    return out


def _cell_text(v: Any, kind: str) -> str:  # noqa: ANN401 - any cell value
    """What a cell shows, roughly, for the width of its column."""
    if isinstance(v, str):
        return v
    if kind in ("date", "month", "month_zh"):
        return "2021-12-31" if kind == "date" else "2021年12月" if kind == "month_zh" else "2021-12"
    if kind == "datetime":
        return "2021-12-31 23:59:59"
    if isinstance(v, bool | np.bool_):
        return "FALSE"
    if isinstance(v, int | float | np.integer | np.floating):
        f = float(v)
        if kind == "count":
            return f"{f:,.0f}"
        if kind == "decimal" or (kind == "estimate" and abs(f) < 10 and not f.is_integer()):
            return f"{f:,.1f}"
        if kind == "estimate":
            return f"{f:,.0f}"
        if kind == "percent":
            return f"{f * 100:.1f}%"
        if kind in ("integer", "score", "ratio", "number"):
            return f"{f:,.{ {'integer': 0, 'score': 1, 'ratio': 3, 'number': 2}[kind]}f}"
        return f"{f:.2E}"
    return str(v)


def xlsx_bytes(sheets: Iterable[Sheet], *, created: dt.datetime, lang: str = "en") -> bytes:
    """Sheets as one ``.xlsx`` workbook (xlsxwriter), the same bytes for the same sheets and ``created``.

    Each sheet: the title (bold) and notes, then the header row (bold, shaded, frozen: it stays in
    view while scrolling, and repeats on every printed page), an autofilter, number formats by
    column kind (:data:`NUMBER_FORMATS`), dates as Excel dates, column widths fitted to the text
    (:func:`text_width`: a CJK character counts two) and rows of wrapped text as tall as their
    lines. Text is stored as text, never run as a formula (:data:`XLSX_OPTIONS`). ``created`` is
    the workbook's creation date in its properties (give a date derived from the data, not the
    clock, for reproducible bytes). ``lang="zh"`` shows month columns as ``2021年12月``.

    Raises
    ------
    InputError
        A table with more rows than an Excel sheet holds (:data:`XLSX_MAX_ROWS`).
    """
    import xlsxwriter

    sheets = list(sheets)
    for sh in sheets:
        if len(sh.table) > XLSX_MAX_ROWS:
            raise InputError(Problem(
                f"table {sh.name!r} has {len(sh.table):,} rows; an Excel sheet holds {XLSX_MAX_ROWS:,} below its "
                "header: write it as csv or parquet (--format)"))
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, XLSX_OPTIONS)
    wb.set_properties({"created": created, "author": "riskmodel", "comments": "written by riskmodel"})
    fmt_cache: dict[tuple, Any] = {}

    def fmt(**props: Any) -> Any:  # noqa: ANN401 - an xlsxwriter Format
        key = tuple(sorted(props.items()))
        if key not in fmt_cache:
            fmt_cache[key] = wb.add_format(props)
        return fmt_cache[key]

    head = {"bold": True, "bg_color": "#E8EEF5", "bottom": 1, "valign": "top"}
    line_height = 15  # points per line of 11-point text (CJK glyphs included)
    for sh, name in zip(sheets, _sheet_names(s.name for s in sheets), strict=True):
        df = sh.table
        ws = wb.add_worksheet(name)
        kinds = {**column_kinds(df), **{str(k): v for k, v in sh.kinds.items()}}
        if lang == "zh":
            kinds = {k: "month_zh" if v == "month" else v for k, v in kinds.items()}
        cols = [str(c) for c in df.columns]
        col_kinds = [kinds.get(c, "text") for c in cols]
        widths: list[int] = []
        header = (1 if sh.title else 0) + len(sh.notes)
        lines = np.ones(len(df), dtype=int)  # text lines of each row (wrapped text)
        top = fmt(valign="top")
        prev_number = False
        # column by column: the missing cells once per column, each format made once, widths on the way
        for j, (c, kind) in enumerate(zip(cols, col_kinds, strict=True)):
            col = df.iloc[:, j]
            values = col.to_numpy(dtype=object)
            present = np.flatnonzero(~pd.isna(col).to_numpy())
            num = NUMBER_FORMATS.get(kind)
            is_number = num is not None and kind not in ("date", "month", "month_zh", "datetime")
            wrap_f = fmt(text_wrap=True, valign="top")
            # text a little clear of the numbers right-aligned in the column before it
            text_f = (wrap_f if kind == "wrap" else fmt(align="right", indent=1, valign="top") if is_number
                      else fmt(align="left", indent=1, valign="top") if j and prev_number else top)
            date_f = fmt(num_format=num if num and not is_number else NUMBER_FORMATS["date"], valign="top")
            num_f = fmt(num_format=num or "General", align="right", indent=1, valign="top")
            whole_f = fmt(num_format="#,##0", align="right", indent=1, valign="top")
            tenth_f = fmt(num_format="#,##0.0", align="right", indent=1, valign="top")
            texts: set[str] = set()
            numbers: list[float] = []
            for i in present:
                v = values[i]
                r = header + 1 + int(i)
                if isinstance(v, str):
                    ws.write_string(r, j, v, text_f)
                    texts.add(v)
                elif isinstance(v, bool | np.bool_):
                    ws.write_boolean(r, j, bool(v), top)
                    texts.add("FALSE")
                elif isinstance(v, dt.datetime | dt.date | np.datetime64):
                    ws.write_datetime(r, j, pd.Timestamp(v).to_pydatetime(), date_f)
                elif isinstance(v, int | float | np.integer | np.floating):
                    if isinstance(v, float | np.floating) and not np.isfinite(v):
                        continue
                    f = num_f
                    if kind == "estimate":  # as the appendix writes counts: whole from 10 up, else one decimal
                        f = whole_f if abs(v) >= 10 or float(v).is_integer() else tenth_f
                    ws.write_number(r, j, float(v) if isinstance(v, float | np.floating) else int(v), f)
                    numbers.append(float(v))
                else:
                    ws.write_string(r, j, str(v), text_f)
                    texts.add(str(v))
            # the widest cell, header included (numbers: the largest and smallest, as shown)
            shown = [c, *texts]
            if numbers:
                shown += [_cell_text(x, kind) for x in (max(numbers), min(numbers), max(numbers, key=abs))]
            if kind in ("date", "month", "month_zh", "datetime"):
                shown.append(_cell_text(pd.Timestamp(0), kind))
            widths.append(min(max(text_width(t) for t in shown), WRAP_WIDTH) + (3 if is_number else 2))
            if kind == "wrap":  # rows as tall as their wrapped lines
                room = max(widths[j] - 2, 1)
                for i in present:
                    v = values[i]
                    if isinstance(v, str):
                        lines[i] = max(lines[i], sum(-(-max(text_width(t), 1) // room) for t in v.split("\n")))
            # numbers (and their header) right-aligned, one indent clear of the next column's text
            ws.write_string(header, j, c, fmt(**head, align="right", indent=1) if is_number else
                            fmt(**head, align="left", indent=1) if j and prev_number else fmt(**head))
            ws.set_column(j, j, widths[j], wrap_f if kind == "wrap" else None)
            prev_number = is_number
        for i in np.flatnonzero(lines > 1):
            ws.set_row(header + 1 + int(i), line_height * int(lines[i]))
        # the title, then each note across the table's width, wrapped, in a row as tall as its lines
        row = 0
        if sh.title:
            ws.write_string(row, 0, sh.title, fmt(bold=True, font_size=13))
            ws.set_row(row, 20)
            row += 1
        span = sum(widths) if cols else WRAP_WIDTH
        note_f = fmt(italic=True, font_color="#555555", text_wrap=True, valign="top")
        for line in sh.notes:
            if len(cols) > 1:
                ws.merge_range(row, 0, row, len(cols) - 1, "", note_f)
            ws.write_string(row, 0, line, note_f)
            ws.set_row(row, line_height * max(1, -(-text_width(line) // max(span - 4, 1))))
            row += 1
        ws.freeze_panes(header + 1, 0)
        if cols:
            ws.autofilter(header, 0, header + max(len(df), 1), len(cols) - 1)
        ws.repeat_rows(header)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)  # printed (and converted to PDF) one page wide
    wb.close()
    return buf.getvalue()


def table_sheet_name(name: str) -> str:
    """The sheet name of a one-table workbook: its file name without suffixes (``metrics.xlsx`` -> metrics)."""
    base = Path(name).name
    return base.split(".")[0] or "table"


def created_from(df: pd.DataFrame) -> dt.datetime:
    """A workbook's creation date derived from its table: the latest date in it (midnight), else 2000-01-01.

    A date from the data, not the clock, so that the same table gives the same bytes.
    """
    latest = None
    for c, kind in column_kinds(df).items():
        if kind in ("date", "datetime"):
            t = pd.to_datetime(df[c], errors="coerce").max()
            if pd.notna(t) and (latest is None or t > latest):
                latest = t
    if latest is None or latest.year < 1980:
        return dt.datetime(2000, 1, 1)
    return pd.Timestamp(latest).normalize().to_pydatetime()


def _dated(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its ISO-date text columns as datetimes (Excel dates)."""
    kinds = column_kinds(df)
    fix = {c: pd.to_datetime(df[c], format="%Y-%m-%d") for c, k in kinds.items()
           if k == "date" and not pd.api.types.is_datetime64_any_dtype(df[c])}
    return df.assign(**fix) if fix else df


def with_format(artifacts: Iterable[Artifact], fmt: str | None) -> list[Artifact]:
    """Artifacts with their tables written as ``fmt`` (``csv``, ``xlsx``, ``parquet``; None: as they are).

    A table ``metrics.csv`` becomes ``metrics.xlsx``: one file per table, each a drop-in for the CSV it
    replaces. It is still logged to the tracking run as CSV, under its first name.
    """
    arts = list(artifacts)
    if fmt is None:
        return arts
    if fmt not in TABLE_FORMATS:
        raise InputError(Problem(f"unknown value {fmt!r} for --format; valid: {', '.join(TABLE_FORMATS)}"))
    out = []
    for a in arts:
        if a.kind != "table":
            out.append(a)
            continue
        p = Path(a.name)
        stem = p.name.split(".")[0]
        out.append(Artifact(str(p.with_name(f"{stem}.{fmt}")), a.content, log_as=a.log_name if a.logged else "",
                            savefig=a.savefig))
    return out


__all__ = [
    "FIGURE_PNG",
    "Artifact",
    "IntervalResult",
    "Result",
    "Sheet",
    "TABLE_FORMATS",
    "artifact_bytes",
    "figure_png",
    "level_fraction",
    "table_bytes",
    "with_format",
    "write_artifacts",
    "xlsx_bytes",
]
