"""Reading tables from Excel workbooks (``.xlsx``, ``.xlsm``, ``.xls``): sheet choice, header rows, dates, numbers.

Every input riskmodel reads goes through :func:`riskmodel.data.readers.read_table`;
a name ending ``.xlsx``, ``.xlsm`` or ``.xls`` (optionally ``book.xlsx#计数`` or
``book.xlsx#2``, a sheet by name or 1-based position) comes here. The table
comes back as strings, like a CSV read with ``dtype=str``, so the validators,
not this reader, decide what is wrong. What the reader decides is said in the
note it returns (the commands print it).

The rules
---------
**Which file it is.** The first bytes decide, not the name: a ZIP package is
read with openpyxl (``.xlsx``/``.xlsm``), an OLE2 compound file with xlrd 2
(``.xls``, BIFF8), unless it holds an ``EncryptedPackage`` (a password-protected
``.xlsx``). An OpenDocument spreadsheet, an HTML page or an XML Spreadsheet
2003 file named ``.xls`` (the "Excel" export of many web systems) and a CSV
text named ``.xlsx`` are refused saying what they are and what to do.

**Which sheet.** ``#name`` or ``#position``; an unknown one is refused listing
the sheets. Without one: the only non-empty sheet; with several, the one sheet
whose header row holds the columns the caller reads (:data:`NEEDS`, by
riskmodel's names or, for counts, the known Chinese headers of
:data:`riskmodel.data.columns.KNOWN_HEADERS`); none or several is refused,
listing the sheets and how to choose one.

**Which row is the header.** Among the first :data:`HEADER_SCAN_ROWS` rows,
the first row (before merged cells are filled) whose non-empty cells fill more
than half of the table's width and are more than half text (not numbers,
dates or number-like text), and that is not a caption line followed by a
wider all-text row (failing that, the first non-empty row). Rows above it
(a merged title such as "2020年各街道警情统计", blank rows, a unit line
"单位：起") are skipped; the note names the header row.

**Merged cells.** A merged cell's value applies to every cell it covers, in
the header and in the data (a street merged down the rows of its categories).
Two header rows are joined ("警情 数量") only when the upper one is a merged
group header: a cell merged across columns in the header row, with text under
it in the next row; each column under it is named "upper lower", the other
columns keep the upper row's name (or the lower one's when the upper is
empty). Without such a group header one row is the header.

**Values.** Dates (date-formatted cells, 1900 or 1904 date system) come out
as ``YYYY-MM-DD``, with `` HH:MM:SS`` when they have a time of day; whole
numbers as integers ("3", not "3.0"); other numbers in Python's shortest
round-trip form. Numbers without a date format in a column whose header is
riskmodel's ``period`` or a known period header (日期, 月份, ...) are read as
Excel date serials -- but only when every number of that column is a whole
number from 20000 to 79999 (1954-10-03 to 2119-01-10 in the 1900 date
system), which no year is and a count of one street and period rarely is;
the note says so, with an example. Error cells (``#N/A``, ``#DIV/0!``) and formula
cells with no saved result (a workbook written by a program and never opened
in Excel) are refused naming each cell (``计数!D17``); a formula whose saved
result is the empty string (``=IF(...,"",...)``) is an empty cell. Empty and
blank cells are missing values (NaN, as in a CSV); completely empty rows are
left out, as a CSV reader skips blank lines.

**Rows in messages.** The frame carries, in ``attrs[SHEET_ROWS]``, the sheet
row of each data row and the column letters (:class:`SheetRows`), so
:mod:`riskmodel.data.schemas` names cells (``计数!D17``) and sheet rows.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.data.columns import KNOWN_HEADERS
from riskmodel.errors import InputError, Problem
from riskmodel.io_safety import EXCEL_SUFFIXES

HEADER_SCAN_ROWS = 30
"""The header row is looked for among a sheet's first rows (title, unit and blank rows above it)."""

SHEET_ROWS = "riskmodel.sheet_rows"
"""Key of :class:`SheetRows` in ``DataFrame.attrs`` of a table read from a workbook."""

NEEDS: dict[str, tuple[str, ...]] = {
    "counts": ("area_id", "category", "period", "count"),
    "areas": ("area_id",),
    "population": ("area_id", "population"),
    "indicators": ("area_id", "indicator", "value"),
    "AHP judgements": ("expert", "parent", "row", "col", "value"),
    "claims": ("claim_id", "area_id", "measure"),
    "index spec": ("parent",),
    "iMeta": ("parent",),
}
"""The columns a table of each kind (``what``) must have, for choosing its sheet in a workbook of several."""

_ALIASES: dict[str, tuple[str, ...]] = {
    **KNOWN_HEADERS,
    "parent": ("parent", "父级", "上级"),
}

_PERIOD_HEADERS = {"period", *(h.strip().lower() for h in KNOWN_HEADERS["period"])}
_SERIAL_RANGE = (20000, 80000)  # serials of 1954-10-03 .. 2119-01-10 (1900 system): no year, and rarely a count
_NUMBERLIKE = re.compile(r"^[\s\d,.:/+\-年月日号时分秒]*$")


class _CellError(str):
    """An Excel error value (``#N/A``, ``#DIV/0!``)."""


class _NoCache:
    """A formula cell without a saved result."""


_NO_CACHE = _NoCache()


class SheetRows(dict):
    """Where the rows and columns of a table read from a sheet are in that sheet.

    Kept in ``DataFrame.attrs`` (:data:`SHEET_ROWS`), which pandas carries
    through renaming and most operations. A ``dict`` of plain values, so that a
    frame holding it can still be written to Parquet (pandas stores ``attrs``
    as JSON there); the sheet rows are kept as runs of consecutive rows (one
    run for a sheet without blank rows), and a deep copy (pandas makes one
    per operation) is the object itself, never changed.

    Parameters
    ----------
    sheet : str
        The sheet's name.
    rows : sequence of int
        The 1-based sheet row of each data row, in order.
    letters : sequence of str
        The column letter of each of the table's columns, in order.
    """

    def __init__(self, sheet: str, rows: Sequence[int], letters: Sequence[str]) -> None:
        runs: list[list[int]] = []  # [first sheet row, number of rows]
        for r in rows:
            if runs and runs[-1][0] + runs[-1][1] == r:
                runs[-1][1] += 1
            else:
                runs.append([int(r), 1])
        super().__init__(sheet=sheet, runs=runs, letters=list(letters), n=len(rows))

    def __deepcopy__(self, memo: dict) -> SheetRows:
        return self

    @property
    def sheet(self) -> str:
        return str(self["sheet"])

    @property
    def letters(self) -> list[str]:
        return list(self["letters"])

    @property
    def n(self) -> int:
        """The number of data rows."""
        return int(self["n"])

    def row(self, i: int) -> int:
        """The sheet row of data row ``i`` (0-based position)."""
        for first, n in self["runs"]:
            if i < n:
                return first + i
            i -= n
        raise IndexError(i)

    def ref(self, sheet_row: int, letter: str) -> str:
        """``计数!D17`` (a sheet name with spaces or punctuation is quoted, as Excel writes it)."""
        return f"{sheet_ref(self.sheet)}!{letter}{sheet_row}"


def sheet_ref(name: str) -> str:
    """A sheet name as Excel writes it before ``!``: quoted when it is not a plain word."""
    return name if re.fullmatch(r"\w+", name) else "'" + name.replace("'", "''") + "'"


def _letter(col: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


# ----------------------------------------------------------------- what the file is
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")


def _kind(path: Path) -> str:
    """'xlsx', 'xls', 'encrypted', 'ods', 'html', 'xml2003', 'text' or 'unknown', from the file's first bytes."""
    with path.open("rb") as fh:
        head = fh.read(8192)
    if head.startswith(b"PK\x03\x04"):
        # an OpenDocument file stores its uncompressed "mimetype" member first
        return "ods" if b"application/vnd.oasis.opendocument" in head[:200] else "xlsx"
    if head.startswith(_OLE2):
        # a password-protected .xlsx is an OLE2 file with an EncryptedPackage stream; the directory
        # entries naming it may be anywhere in the file, so the whole file is searched (read in pieces)
        with path.open("rb") as fh:
            tail = b""
            while chunk := fh.read(1 << 22):
                if _ENCRYPTED in tail + chunk:
                    return "encrypted"
                tail = chunk[-len(_ENCRYPTED):]
        return "xls"
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe\xfe\xff").replace(b"\x00", b"").lstrip().lower()
    if text.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head.replace(b"\x00", b""):
        return "xml2003"
    if text.startswith((b"<", b"mime-version")) or b"<html" in text or b"<table" in text:
        return "html"
    if b"\x00" not in head:
        return "text"
    return "unknown"


def _refuse_kind(kind: str, path: Path, what: str) -> InputError:
    name = str(path)
    why = {
        "encrypted": "the workbook is password-protected (encrypted): open it in Excel, remove the password "
                     "(File > Info > Protect Workbook) and save it, or save the sheet as CSV UTF-8",
        "html": "this is an HTML page named like a workbook (the 'Excel' export of many web systems), not a workbook: "
                "open it in Excel or WPS and save it as .xlsx (Excel Workbook), or as CSV UTF-8",
        "ods": "this is an OpenDocument spreadsheet (.ods, from LibreOffice or WPS), not an Excel workbook: save it "
               "as .xlsx (Excel 2007-365) or as CSV UTF-8",
        "xml2003": "this is an 'XML Spreadsheet 2003' file, not a workbook riskmodel reads: open it in Excel and save "
                   "it as .xlsx (Excel Workbook), or as CSV UTF-8",
        "text": "this is a text file (CSV?) named like a workbook: if it is a CSV table, rename it to .csv",
        "unknown": "this is neither an .xlsx nor an .xls workbook (damaged, or another format): open it in Excel "
                   "and save it again, or save the sheet as CSV UTF-8",
    }[kind]
    return InputError(Problem(f"cannot read {what}: {why}", source=name))


# ----------------------------------------------------------------- the two readers
@dataclass
class _Grid:
    """A sheet's cells: ``rows[i]`` is sheet row ``i + 1`` (values or markers), merged ranges 1-based inclusive."""

    name: str
    rows: list[list[object]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # (min_row, min_col, max_row, max_col)


class _Book:
    """A workbook opened for reading: its sheet names, and a sheet's cells (all rows or the first few)."""

    kind = ""
    epoch = datetime(1899, 12, 30)

    def names(self) -> list[str]:
        raise NotImplementedError

    def grid(self, name: str, max_rows: int | None = None) -> _Grid:
        raise NotImplementedError

    def close(self) -> None:
        """Release the file."""


def _corrupt(path: Path, kind: str, exc: BaseException) -> InputError:
    return InputError(Problem(
        f"cannot read the {kind} workbook (damaged, or not really a workbook): {type(exc).__name__}: {exc}; "
        "open it in Excel and save it again, or save the sheet as CSV UTF-8", source=str(path)))


class _XlsxBook(_Book):
    """openpyxl in read-only mode, for speed.

    read_only is chosen on purpose: on a 100,000-row, 4-column sheet it read
    the cells in about 2/3 of the time of normal mode (measured: 10.1 s
    against 14.7 s on this shared 2-core machine), and its memory does not
    grow with the sheet's formatting. It gives no merged ranges and, with
    ``data_only``, no way to tell an empty cell from a formula without a saved
    result; both are taken from a plain scan of the sheet's XML part
    (:meth:`_scan`, a fraction of a second), and only a sheet that has
    formulas is read a second time with its formulas.
    """

    kind = ".xlsx"

    def __init__(self, path: Path) -> None:
        import openpyxl

        self.path = path
        try:
            self.wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # zipfile, KeyError, InvalidFileException, XML errors: a damaged file
            raise _corrupt(path, ".xlsx", exc) from None
        self.epoch = self.wb.epoch

    def names(self) -> list[str]:
        return list(self.wb.sheetnames)

    def _scan(self, ws: object) -> tuple[list[tuple[int, int, int, int]], bool]:
        """The merged ranges of a sheet and whether it has formulas, from its XML part.

        Written by hand because openpyxl's read-only mode skips both; the part
        is read in pieces (a large sheet is never held whole), looking for
        ``<mergeCell ref="A1:D1"/>`` elements and any ``<f>`` element.
        """
        from openpyxl.utils.cell import range_boundaries

        part = getattr(ws, "_worksheet_path", None)
        if not part:
            return [], False
        merge_re = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)\"")
        formula_re = re.compile(rb"<(?:\w+:)?f[\s>/]")
        refs: list[bytes] = []
        has_f = False
        with zipfile.ZipFile(self.path) as z, z.open(part) as fh:
            tail = b""
            while chunk := fh.read(1 << 22):
                buf = tail + chunk
                has_f = has_f or formula_re.search(buf) is not None
                cut = buf.rfind(b"<")  # an element cut by the piece's end is searched again with the next piece
                done, tail = (buf[:cut], buf[cut:]) if cut > 0 else (buf, b"")
                refs += merge_re.findall(done)
            refs += merge_re.findall(tail)
            has_f = has_f or formula_re.search(tail) is not None
        merged = []
        for r in dict.fromkeys(refs):
            c1, r1, c2, r2 = range_boundaries(r.decode())
            merged.append((r1, c1, r2, c2))
        return merged, has_f

    def grid(self, name: str, max_rows: int | None = None) -> _Grid:
        ws = self.wb[name]
        if not hasattr(ws, "iter_rows"):  # a chart sheet
            return _Grid(name, [])
        merged, has_f = self._scan(ws)
        try:
            ws.reset_dimensions()  # a wrong <dimension> (some writers put A1) would cut the rows read
            rows = [self._row(r) for r in ws.iter_rows(max_row=max_rows)]
            if has_f:
                self._mark_uncached(name, rows, max_rows)
        except InputError:
            raise
        except Exception as exc:  # damaged XML inside the package
            raise _corrupt(self.path, ".xlsx", exc) from None
        return _Grid(name, rows, merged)

    @staticmethod
    def _row(cells: Sequence[object]) -> list[object]:
        out: list[object] = []
        for c in cells:
            v = getattr(c, "value", None)
            t = getattr(c, "data_type", None)
            if v is not None and t == "e":
                v = _CellError(v)
            elif v is None and t == "str":
                v = ""  # a formula whose saved result is the empty string (=IF(...,"",...)): an empty cell
            out.append(v)
        return out

    def _mark_uncached(self, name: str, rows: list[list[object]], max_rows: int | None) -> None:
        """Mark formula cells with no saved result (None in ``data_only`` mode) as :data:`_NO_CACHE`."""
        import openpyxl

        wb = openpyxl.load_workbook(self.path, read_only=True, data_only=False)
        try:
            ws = wb[name]
            ws.reset_dimensions()
            for i, cells in enumerate(ws.iter_rows(max_row=max_rows, values_only=True)):
                if i >= len(rows):
                    break
                for j, v in enumerate(cells[:len(rows[i])]):
                    if rows[i][j] is not None or v is None:
                        continue
                    if (isinstance(v, str) and v.startswith("=")) or not isinstance(
                            v, (str, int, float, bool, datetime, date, time, timedelta)):
                        rows[i][j] = _NO_CACHE  # a formula (or an array or data-table formula object)
        finally:
            wb.close()

    def close(self) -> None:
        self.wb.close()


class _XlsBook(_Book):
    """xlrd 2 for the old binary ``.xls`` (BIFF8), with ``formatting_info`` for merged ranges."""

    kind = ".xls"

    def __init__(self, path: Path) -> None:
        import xlrd

        self.path = path
        try:
            try:
                self.book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True)
            except NotImplementedError:  # formatting_info is not available for this file: no merged ranges
                self.book = xlrd.open_workbook(str(path), on_demand=True)
        except Exception as exc:
            if "encrypted" in str(exc).lower():
                raise _refuse_kind("encrypted", path, "the table") from None
            raise _corrupt(path, ".xls", exc) from None
        self.epoch = datetime(1904, 1, 1) if self.book.datemode == 1 else datetime(1899, 12, 30)

    def names(self) -> list[str]:
        return list(self.book.sheet_names())

    def grid(self, name: str, max_rows: int | None = None) -> _Grid:
        import xlrd

        try:
            sh = self.book.sheet_by_name(name)
            n = sh.nrows if max_rows is None else min(sh.nrows, max_rows)
            rows: list[list[object]] = []
            for r in range(n):
                row: list[object] = []
                for c in sh.row(r):
                    t, v = c.ctype, c.value
                    if t in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                        v = None
                    elif t == xlrd.XL_CELL_DATE:
                        v = xlrd.xldate.xldate_as_datetime(v, self.book.datemode)
                    elif t == xlrd.XL_CELL_BOOLEAN:
                        v = bool(v)
                    elif t == xlrd.XL_CELL_ERROR:
                        v = _CellError(xlrd.error_text_from_code.get(v, f"#ERROR {v}"))
                    row.append(v)
                rows.append(row)
            merged = [(rlo + 1, clo + 1, rhi, chi) for rlo, rhi, clo, chi in sh.merged_cells]
        except Exception as exc:
            raise _corrupt(self.path, ".xls", exc) from None
        return _Grid(name, rows, merged)

    def close(self) -> None:
        self.book.release_resources()


def _open(path: Path, what: str) -> tuple[_Book, str | None]:
    """Open a workbook by its content; the note says when its name's ending does not match it."""
    kind = _kind(path)
    if kind not in ("xlsx", "xls"):
        raise _refuse_kind(kind, path, what)
    book: _Book = _XlsxBook(path) if kind == "xlsx" else _XlsBook(path)
    suffix = path.suffix.lower()
    note = None
    if (kind == "xls") != (suffix == ".xls"):
        note = f"the file is an {book.kind} workbook named {suffix}: read it as {book.kind}"
    return book, note


def sheet_names(path: str | Path) -> list[str]:
    """The names of a workbook's sheets, in their order.

    Raises
    ------
    InputError
        The file is not a workbook riskmodel reads (see the module notes).
    """
    p = Path(path)
    book, _ = _open(p, "sheet names")
    try:
        return book.names()
    finally:
        book.close()


# ----------------------------------------------------------------- header rows
def _is_text(v: object) -> bool:
    return isinstance(v, str) and not isinstance(v, _CellError) and bool(v.strip()) and not _NUMBERLIKE.match(v)


def _filled(v: object) -> bool:
    return v is not None and not (isinstance(v, str) and not v.strip())


def _width(rows: Sequence[Sequence[object]]) -> int:
    w = 0
    for r in rows:
        for j in range(len(r) - 1, -1, -1):
            if _filled(r[j]):
                w = max(w, j + 1)
                break
    return w


@dataclass
class _Header:
    row: int  # 0-based index of the (first) header row
    n_rows: int  # 1 or 2
    names: list[str]
    joined: list[str]


def _group_spans(merged: Sequence[tuple[int, int, int, int]], row: int) -> list[tuple[int, int]]:
    """Column spans (0-based, inclusive) of ranges merged across columns within sheet row ``row + 1`` only."""
    return [(c1 - 1, c2 - 1) for r1, c1, r2, c2 in merged if r1 == r2 == row + 1 and c2 > c1]


def _find_header(grid: _Grid) -> int | None:
    """The 0-based index of the header row by the rule of the module notes (None: no non-empty row)."""
    scan = grid.rows[:HEADER_SCAN_ROWS]
    width = _width(scan)
    if width == 0:
        return None
    first = None
    for i, row in enumerate(scan):
        filled = [v for v in row if _filled(v)]
        if not filled:
            continue
        first = i if first is None else first
        text = [v for v in filled if _is_text(v)]
        if len(filled) < min(2, width) or 2 * len(filled) <= width or 2 * len(text) <= len(filled):
            continue
        nxt = next((r for r in scan[i + 1:] if any(_filled(v) for v in r)), None)
        if nxt is not None and not _group_spans(grid.merged, i):
            nf = [v for v in nxt if _filled(v)]
            if len(nf) > len(filled) and all(_is_text(v) for v in nf):
                continue  # a caption line ("填报单位：…  日期：…") above a wider all-text row, the header
        return i
    return first


def _fill_merged(grid: _Grid) -> int:
    """Give every cell of a merged range its top-left value; the number of ranges that covered several cells."""
    n = 0
    for r1, c1, r2, c2 in grid.merged:
        if r1 > len(grid.rows) or (r1 == r2 and c1 == c2):
            continue
        top = grid.rows[r1 - 1]
        v = top[c1 - 1] if c1 - 1 < len(top) else None
        n += 1
        for r in range(r1 - 1, min(r2, len(grid.rows))):
            row = grid.rows[r]
            if len(row) < c2:
                row.extend([None] * (c2 - len(row)))
            for c in range(c1 - 1, c2):
                row[c] = v
    return n


def _header_text(v: object) -> str:
    if not _filled(v):
        return ""
    return " ".join(_text(v).split())


def _header(grid: _Grid, i: int, width: int) -> _Header:
    """The column names from header row ``i`` (and ``i + 1`` under a merged group header); merged cells filled."""
    def cells(k: int) -> list[object]:
        r = grid.rows[k] if k < len(grid.rows) else []
        return list(r) + [None] * (width - len(r))

    up = cells(i)
    spans = _group_spans(grid.merged, i)
    low = cells(i + 1)
    vertical = {(c - 1) for r1, c1, r2, c2 in grid.merged if r1 == i + 1 and r2 > r1 for c in range(c1, c2 + 1)}
    grouped = {c for a, b in spans for c in range(a, b + 1)}
    # a second header row: text under the group header, and nothing elsewhere but the cells merged down from
    # the header row (a data row under a header merged across two columns has values in the other columns)
    sub = (any(_filled(low[c]) for c in grouped if c < width)
           and all(_is_text(low[c]) for c in grouped if c < width and _filled(low[c]))
           and not any(_filled(low[c]) for c in range(width) if c not in grouped and c not in vertical))
    if not spans or not sub:
        return _Header(i, 1, [_header_text(v) for v in up[:width]], [])
    names, joined = [], []
    for c in range(width):
        u, lo = _header_text(up[c]), _header_text(low[c])
        if c in grouped:
            name = f"{u} {lo}" if lo and lo != u else u
            if name != u:
                joined.append(name)
        elif c in vertical or u:
            name = u
        else:
            name = lo
        names.append(name)
    return _Header(i, 2, names, joined)


def _unique(names: list[str]) -> list[str]:
    """Empty names -> ``Unnamed: j``; repeated names get ``.1``, ``.2`` (as pandas reads a CSV)."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for j, n in enumerate(names):
        n = n or f"Unnamed: {j}"
        if n in seen:
            seen[n] += 1
            n = f"{n}.{seen[n]}"
        seen.setdefault(n, 0)
        out.append(n)
    return out


# ----------------------------------------------------------------- values
def _number_text(v: float | int) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if v != v or v in (float("inf"), float("-inf")):
        return str(v)
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _text(v: object) -> str:
    """A cell's value as riskmodel reads text: ISO dates, whole numbers without '.0'."""
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, int, float, np.integer, np.floating)):
        return _number_text(v.item() if isinstance(v, np.generic) else v)
    if isinstance(v, datetime):
        if v.time() == time(0):
            return v.date().isoformat()
        return v.isoformat(sep=" ", timespec="microseconds" if v.microsecond else "seconds")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, time):
        return v.isoformat()
    return str(v)


def _serials(values: list[object], epoch: datetime) -> list[object] | None:
    """Numbers of a period column read as Excel date serials, or None when they are not all plausible serials."""
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not nums or not all(float(v).is_integer() and _SERIAL_RANGE[0] <= v < _SERIAL_RANGE[1] for v in nums):
        return None
    return [(epoch + timedelta(days=int(v))).date() if isinstance(v, (int, float)) and not isinstance(v, bool)
            else v for v in values]


# ----------------------------------------------------------------- the table
def _table(grid: _Grid, book: _Book, source: str) -> tuple[pd.DataFrame, list[str]]:
    """The table of a sheet (header found, merged cells filled, values as text) and what was decided."""
    notes: list[str] = []
    h = _find_header(grid)
    if h is None:
        raise InputError(Problem(f"sheet {grid.name!r} is empty", source=source))
    skipped = list(dict.fromkeys(_header_text(v) for r in grid.rows[:h] for v in r if _filled(v)))
    n_fill = _fill_merged(grid)
    width = _width(grid.rows)
    head = _header(grid, h, width)
    first_data = h + head.n_rows
    data = [(k, grid.rows[k]) for k in range(first_data, len(grid.rows)) if any(_filled(v) for v in grid.rows[k])]
    keep = [j for j in range(width)
            if head.names[j] or any(j < len(r) and _filled(r[j]) for _, r in data)]
    names = _unique([head.names[j] for j in keep])
    if head.row > 0 or head.n_rows > 1:
        what = f"; rows 1-{h} above it skipped" if h > 1 else ("; row 1 above it skipped" if h == 1 else "")
        if skipped:
            what += f" (they hold: {', '.join(repr(s) for s in skipped[:3])}{' ...' if len(skipped) > 3 else ''})"
        rows_txt = f"rows {h + 1}-{h + 2}" if head.n_rows > 1 else f"row {h + 1}"
        notes.append(f"header in {rows_txt}{what}")
    if head.joined:
        notes.append(f"two header rows joined under a merged group header: {', '.join(head.joined)}")
    n_data_merged = sum(1 for r1, c1, r2, c2 in grid.merged if r2 > first_data and (r2 > r1 or c2 > c1))
    if n_fill and n_data_merged:
        notes.append(f"{n_data_merged} merged range(s) in the data rows: each cell they cover read as their value")
    bad: dict[str, list[tuple[str, str, int]]] = {"error": [], "nocache": []}
    columns: dict[str, list[object]] = {}
    for name, j in zip(names, keep, strict=True):
        col: list[object] = []
        for k, r in data:
            v = r[j] if j < len(r) else None
            if isinstance(v, _CellError):
                bad["error"].append((name, f"{_letter(j + 1)}{k + 1}", k + 1))
            elif v is _NO_CACHE:
                bad["nocache"].append((name, f"{_letter(j + 1)}{k + 1}", k + 1))
            col.append(v)
        if name.strip().lower() in _PERIOD_HEADERS:
            conv = _serials(col, book.epoch)
            if conv is not None:
                notes.append(f"numbers in column {name} read as Excel date serials (they have no date format; "
                             f"{_number_text(next(v for v in col if isinstance(v, (int, float))))} = "
                             f"{next(v for v in conv if isinstance(v, date))})")
                col = conv
        columns[name] = col
    problems = []
    for kind, cells in bad.items():
        for name in dict.fromkeys(n for n, _, _ in cells):  # one problem per column, its cells in sheet order
            here = [(c, row) for n, c, row in cells if n == name]
            refs = [f"{sheet_ref(grid.name)}!{c}" for c, _ in here]
            shown = ", ".join(refs[:5]) + (f" and {len(refs) - 5} more" if len(refs) > 5 else "")
            if kind == "error":
                msg = (f"cell(s) {shown} hold an Excel error value: correct the formula (or wrap it in IFERROR) "
                       "or delete the column, and save the workbook")
                values = [str(grid.rows[row - 1][_col(c)]) for c, row in here[:5]]
            else:
                msg = (f"formula cell(s) {shown} have no saved result (the workbook was written by a program and "
                       "never calculated): open and save the workbook in Excel, or export it as CSV")
                values = ["(formula)"] * min(len(here), 5)
            problems.append(Problem(msg, source=source, column=name, rows=[row for _, row in here],
                                    n_rows=len(here), values=values))
    if problems:
        raise InputError(problems)
    # dtype=str: the same column type (and NaN for an empty cell) as a CSV read with dtype=str
    df = pd.DataFrame({n: pd.Series([_text(v) if _filled(v) else None for v in col], dtype=str)
                       for n, col in columns.items()}, columns=names)
    df.attrs[SHEET_ROWS] = SheetRows(grid.name, [k + 1 for k, _ in data],
                                     tuple(_letter(j + 1) for j in keep))
    return df, notes


def _col(ref: str) -> int:
    """``"D17"`` -> 3 (0-based column)."""
    letters = re.match(r"[A-Z]+", ref).group(0)  # type: ignore[union-attr]
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


# ----------------------------------------------------------------- choosing the sheet
def _has(headers: Sequence[str], col: str) -> bool:
    keys = {str(h).strip().lower() for h in headers}
    return col in keys or any(a.strip().lower() in keys for a in _ALIASES.get(col, ()))


def _header_names(grid: _Grid) -> list[str]:
    h = _find_header(grid)
    if h is None:
        return []
    g = _Grid(grid.name, [list(r) for r in grid.rows], grid.merged)
    _fill_merged(g)
    return _header(g, h, _width(g.rows)).names


def _choose(book: _Book, names: list[str], sheet: str | None, path: Path, what: str) -> tuple[str, str | None]:
    """The sheet to read and the note saying how it was chosen (None when the name or position was given)."""
    listing = ", ".join(names)
    choose = f"choose one by writing its name or position after the file name: {path.name}#{names[0]} or {path.name}#1"
    if sheet is not None:
        s = sheet.strip()
        if s in names:
            return s, None
        if s.isdigit() and 1 <= int(s) <= len(names):
            return names[int(s) - 1], None
        by_case = [n for n in names if n.strip().lower() == s.lower()]
        if len(by_case) == 1:
            return by_case[0], None
        raise InputError(Problem(f"the workbook has no sheet {sheet!r}; its sheets: {listing} "
                                 f"({len(names)}; a position is 1 to {len(names)})", source=str(path)))
    if not names:
        raise InputError(Problem("the workbook has no sheets", source=str(path)))
    if len(names) == 1:
        return names[0], None
    heads = {n: _header_names(book.grid(n, max_rows=HEADER_SCAN_ROWS)) for n in names}
    nonempty = [n for n in names if heads[n]]
    if len(nonempty) == 1:
        return nonempty[0], f"read sheet {nonempty[0]} of {path.name} (the only non-empty one of {len(names)}: {listing})"
    if not nonempty:
        raise InputError(Problem(f"every sheet of the workbook is empty ({listing})", source=str(path)))
    need = NEEDS.get(what)
    if need is None:
        raise InputError(Problem(f"the workbook has {len(nonempty)} non-empty sheets ({listing}): {choose}",
                                 source=str(path)))
    fits = [n for n in nonempty if all(_has(heads[n], c) for c in need)]
    needs = ", ".join(need) + (" (or their known headers)" if what == "counts" else "")
    if len(fits) == 1:
        return fits[0], (f"read sheet {fits[0]} of {path.name} ({len(names)} sheets: {listing}; the only one whose "
                         f"header has {needs})")
    which = "none has" if not fits else f"{len(fits)} have ({', '.join(fits)})"
    raise InputError(Problem(f"the workbook has {len(names)} sheets ({listing}) and {which} the columns of {what} "
                             f"({needs}) in its header row: {choose}", source=str(path)))


def read_workbook(path: Path, *, sheet: str | None = None, what: str = "table",
                  dtype: dict[str, object] | None = None) -> tuple[pd.DataFrame, str | None]:
    """Read one sheet of a workbook as a table of strings, by the rules of the module notes.

    Parameters
    ----------
    path : Path
        The workbook (``.xlsx``, ``.xlsm``, ``.xls``; the content decides).
    sheet : str, optional
        A sheet name or 1-based position; without it the sheet is chosen
        (one non-empty sheet, or the one with the columns of ``what``).
    what : str
        The kind of table ("counts", "areas", "AHP judgements" ...), for
        messages and for choosing the sheet (:data:`NEEDS`).
    dtype : dict, optional
        Ignored: cells come as text, like a CSV read with ``dtype=str``.

    Returns
    -------
    (DataFrame, str or None)
        One column per header (dtype ``str``, NaN for an empty cell, as a CSV read with ``dtype=str``),
        one row per non-empty sheet row below the header;
        ``attrs[SHEET_ROWS]`` where each row and column is in the sheet.
        The note says what was decided (sheet, header row, joined headers,
        merged ranges filled, serials read as dates), or None.

    Raises
    ------
    InputError
        Not a readable workbook (encrypted, damaged, HTML, CSV), an unknown
        sheet, no or several sheets that fit, error cells or formulas without
        a saved result (naming the cells).
    """
    book, kind_note = _open(path, what)
    try:
        names = book.names()
        chosen, how = _choose(book, names, sheet, path, what)
        source = f"{path}#{chosen}" if sheet is None and len(names) > 1 else str(path if sheet is None else
                                                                                 f"{path}#{sheet}")
        df, notes = _table(book.grid(chosen), book, source)
    finally:
        book.close()
    parts = [p for p in (kind_note, how, *notes) if p]
    return df, "; ".join(parts) if parts else None


__all__ = ["EXCEL_SUFFIXES", "NEEDS", "SHEET_ROWS", "SheetRows", "read_workbook", "sheet_names", "sheet_ref"]
