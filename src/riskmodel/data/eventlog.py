"""Big event logs counted out of core: DuckDB reads and aggregates, shapely places the points.

:func:`count_events` counts an event log of tens of millions of rows into
(area, category, period) counts without holding the log in memory. It gives
the same counts, the same unmatched events (with the same ``reason``), the
same ``on_border`` figure and the same refusals as the pandas path
(:func:`riskmodel.data.events.map_events` then
:func:`~riskmodel.data.events.events_to_counts`, or
:meth:`GridCells.map <riskmodel.data.grid.GridCells.map>` then
:meth:`GridCells.panel <riskmodel.data.grid.GridCells.panel>`).

How
---
* **DuckDB** streams the file (CSV, CSV.gz, Parquet) with a memory limit and
  two threads, and does per row what SQL does well: parse the coordinates
  (``TRY_CAST``, which agrees with ``pandas.to_numeric`` on every string we
  tried but ``1_000``, excluded), parse ISO timestamps (the other spellings go
  to ``pandas.to_datetime(format="mixed")`` as in the pandas path), truncate
  to the period (``date_trunc``: day, Monday week, month, year) and compute
  the grid column and row (``floor((x - x0) / size)``). The rows arrive in
  Arrow batches (``to_arrow_reader``), in file order.
  *Why DuckDB rather than polars*: DuckDB's CSV reader streams a file much
  larger than memory under an explicit ``memory_limit`` and spills to a temp
  folder, reads gzip CSV and Parquet and pandas frames alike (the database
  path registers each chunk), keeps the file order (``_line`` in
  unmatched.csv), and is one self-contained wheel; polars' streaming engine
  would do the aggregation too, but with no memory limit to set and with a
  second expression language beside the SQL the project's database inputs use.
  The spatial extension is not used: it is downloaded at run time.
* **Point in polygon** is exact, by the pandas path's own rule (shapely's
  STRtree, ``intersects``; a point on a shared border goes to the first
  polygon). :class:`PointLocator` first looks each point up in a raster laid
  over the polygons: a raster cell lying strictly inside exactly one (valid)
  polygon, and touching no other, gives that polygon at once; a cell touching
  no polygon gives "outside". Only points in the other cells (along the
  borders, a few per cent) are tested with the STRtree. Written here because
  neither shapely nor DuckDB (without the spatial extension) offers such a
  lookup, and it makes 20 million points a matter of seconds.
* **Grid cells** (street polygons cut by squares, :class:`GridCells
  <riskmodel.data.grid.GridCells>`): the street comes from the locator, the
  square from the column and row DuckDB computed, and the cell id is the
  pandas path's ``{street}-G{col}_{row}``. A point within ``1e-9`` of a cell
  side, in a raster cell along a street border, or in a square part too thin
  to be a cell is placed by the STRtree of the cells themselves, as the pandas
  path places every point.
* **Counts** are aggregated per batch (``numpy.unique`` of an integer key) and
  merged; nothing proportional to the log stays in memory but the unmatched
  events (kept up to ``max_unmatched_rows``; beyond, counted and said).

Inputs: a CSV (``.csv``, ``.csv.gz``, ``.tsv``), a Parquet file, a database
URL (read by :func:`riskmodel.data.sql.iter_sql_chunks`, chunk by chunk), or
anything else :func:`riskmodel.data.readers.read_table` reads (an Excel sheet,
at most a million rows, read whole). A GBK/GB18030 CSV is transcoded to UTF-8
on the fly, in chunks, into a temporary file (DuckDB reads UTF-8 only; its
``encodings`` extension is a download), with the pandas path's note.

Columns: the names given (``time_col`` ...), or, when a name given is not in
the file, one of :data:`EVENT_HEADERS` (``警情时间``, ``经度``, ``纬度``,
``类别`` ...), said in a note; two candidates for one column are refused.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.data import sql as _sql
from riskmodel.data.events import AreaPolygons
from riskmodel.data.frequency import Frequency
from riskmodel.data.limits import _ENV, Limits
from riskmodel.data.readers import EXCEL_SUFFIXES, decode_text, read_table, why_missing
from riskmodel.errors import InputError, Problem

EVENT_HEADERS: dict[str, tuple[str, ...]] = {
    "timestamp": ("警情时间", "报警时间", "接警时间", "发生时间", "案发时间", "事发时间", "受理时间", "上报时间",
                  "立案时间", "时间", "日期", "datetime", "date", "time", "occurred", "reported"),
    "x": ("经度", "x坐标", "横坐标", "lon", "lng", "long", "longitude"),
    "y": ("纬度", "y坐标", "纵坐标", "lat", "latitude"),
    "category": ("类别", "类型", "分类", "警情类别", "警情类型", "案件类别", "案件类型", "事件类别", "事件类型",
                 "警情性质", "案由", "type"),
    "area_id": ("街道", "街镇", "镇街", "街道办", "所属街道", "区域", "辖区", "社区", "网格", "网格编号", "area"),
}
"""Known headers of each event column (besides riskmodel's own name): Chinese headers of police, 12345 and
grid-system exports, and common English ones. Matched ignoring surrounding spaces and Latin case."""

_TS_RE = r"\d{4}-\d{2}-\d{2}([ T]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?)?"
"""ISO timestamps that DuckDB's cast and pandas' mixed parser read alike; others go to pandas."""

_NAT = np.iinfo(np.int64).min
_EDGE = 1e-9
"""A point closer than this fraction of a side to a grid line is placed by the cells' STRtree."""
_UNIT = {"D": "day", "W": "week", "M": "month", "Y": "year"}
_TS_TYPES = ("TIMESTAMP", "DATE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS")
_NUM_TYPES = ("DOUBLE", "FLOAT", "REAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT",
              "UINTEGER", "USMALLINT", "UTINYINT")


@dataclass
class EventCounts:
    """Events counted per area, category and period, and those that could not be.

    Attributes
    ----------
    counts : DataFrame
        ``area_id``, ``category``, ``period`` (period start), ``count``
        (int64 >= 1), sorted; as :func:`riskmodel.data.events.events_to_counts`.
    unmatched : DataFrame
        The events not counted, as the pandas path lists them: every input
        column, the parsed ``timestamp``, ``category``, ``_line`` (file line,
        header = 1), ``area_id`` and ``reason``. At most
        ``max_unmatched_rows`` rows (:attr:`n_unmatched` counts them all).
    n_events : int
        Rows read.
    n_unmatched : int
        Events not counted.
    on_border : int
        Events on the border of several polygons, given to the first.
    reasons : dict
        Reason -> number of events.
    notes : list of str
        What was decided for the user (columns recognised, encoding, caps).
    events : DataFrame or None
        With ``keep_events=True``: the counted events, in file order, with
        the columns the hotspot rankers use (``timestamp``, ``category``,
        ``area_id``, and ``x``, ``y`` with coordinates); else None.
    """

    counts: pd.DataFrame
    unmatched: pd.DataFrame
    n_events: int
    n_unmatched: int
    on_border: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    events: pd.DataFrame | None = None

    @property
    def n_matched(self) -> int:
        """Events counted."""
        return self.n_events - self.n_unmatched


class PointLocator:
    """The index of the polygon each point intersects (the first one if several), exactly.

    Parameters
    ----------
    geoms : sequence of shapely polygons
        In one planar coordinate system.
    max_cells : int
        Largest number of raster cells of the lookup (memory: 4 bytes each).

    Notes
    -----
    The answer is that of :func:`riskmodel.data.events.assign_polygons`
    (STRtree, ``intersects``, lowest index on a shared border); the raster only
    answers where that answer cannot differ: a raster cell (widened by a
    thousandth of its side) contained properly in one valid polygon and
    intersecting no other, or intersecting none.
    """

    def __init__(self, geoms: Sequence[object], max_cells: int = 262_144) -> None:
        import shapely
        from shapely.strtree import STRtree

        # copies (exact: WKB keeps every double), prepared for fast point tests; the caller's stay unprepared
        self.geoms = shapely.from_wkb(shapely.to_wkb(np.asarray(list(geoms), dtype=object)))
        self.tree = STRtree(self.geoms)
        self.valid = shapely.is_valid(self.geoms)
        shapely.prepare(self.geoms[self.valid])
        # an invalid polygon is tested as the pandas path tests it (STRtree predicate), not prepared
        self.bad = np.flatnonzero(~self.valid)
        self.bad_tree = STRtree(shapely.from_wkb(shapely.to_wkb(self.geoms[self.bad]))) if len(self.bad) else None
        self.code: np.ndarray | None = None
        b = shapely.bounds(self.geoms)
        if not len(b) or not np.isfinite(b).any():
            return
        x0, y0 = np.nanmin(b[:, 0]), np.nanmin(b[:, 1])
        x1, y1 = np.nanmax(b[:, 2]), np.nanmax(b[:, 3])
        ext = max(x1 - x0, y1 - y0)
        if not (np.isfinite(ext) and ext > 0):
            return
        w = ext / np.sqrt(max_cells / 2)
        nx, ny = int(np.ceil((x1 - x0) / w)) + 2, int(np.ceil((y1 - y0) / w)) + 2
        ox, oy = x0 - w, y0 - w
        ix, iy = np.meshgrid(np.arange(nx), np.arange(ny))
        ix, iy = ix.ravel(), iy.ravel()
        m = w * 1e-3
        boxes = shapely.box(ox + ix * w - m, oy + iy * w - m, ox + (ix + 1) * w + m, oy + (iy + 1) * w + m)
        code = np.full(nx * ny, -1, dtype=np.int32)
        bi, gi = self.tree.query(boxes)  # bounding boxes overlap
        if len(bi):
            valid = self.valid
            # an invalid polygon counts as intersecting every box its bounding box overlaps
            hit = ~valid[gi] | shapely.intersects(self.geoms[gi], boxes[bi])
            bi, gi = bi[hit], gi[hit]
            n_hit = np.bincount(bi, minlength=nx * ny)
            code[n_hit > 0] = -2  # unsure: the STRtree decides
            one = n_hit[bi] == 1
            bi, gi = bi[one], gi[one]
            sure = valid[gi] & shapely.contains_properly(self.geoms[gi], boxes[bi])
            code[bi[sure]] = gi[sure]
        self.code, self.origin, self.w, self.nx, self.ny = code, (ox, oy), w, nx, ny

    def locate(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Polygon index of each point (-1: none) and whether it intersects several polygons.

        Parameters
        ----------
        x, y : ndarray (n,) of float
            Finite coordinates.

        Returns
        -------
        (ndarray (n,) of int64, ndarray (n,) of bool)
        """
        n = len(x)
        if self.code is None:
            return self.exact(x, y)
        with np.errstate(invalid="ignore", over="ignore"):
            fx = np.floor((x - self.origin[0]) / self.w)
            fy = np.floor((y - self.origin[1]) / self.w)
        inr = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        code = np.full(n, -1, dtype=np.int64)
        code[inr] = self.code[fy[inr].astype(np.int64) * self.nx + fx[inr].astype(np.int64)]
        idx = np.where(code >= 0, code, -1)
        multi = np.zeros(n, dtype=bool)
        unsure = np.flatnonzero(code == -2)
        if len(unsure):
            idx[unsure], multi[unsure] = self.exact(x[unsure], y[unsure])
        return idx, multi

    def exact(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`locate` by the STRtree alone (the pandas path's rule), on the distinct points."""
        import shapely

        n = len(x)
        idx = np.full(n, -1, dtype=np.int64)
        multi = np.zeros(n, dtype=bool)
        if not n:
            return idx, multi
        xy = np.asarray(x, float) + 1j * np.asarray(y, float)
        inv, uniq = pd.factorize(xy)
        ux, uy = uniq.real, uniq.imag
        pi, gi = self.tree.query(shapely.box(ux, uy, ux, uy))  # bounding boxes (a box of a point: no Point objects)
        ok = self.valid[gi]
        pi, gi = pi[ok], gi[ok]
        hit = shapely.intersects_xy(self.geoms[gi], ux[pi], uy[pi])
        pi, gi = pi[hit], gi[hit]
        if self.bad_tree is not None:
            bp, bg = self.bad_tree.query(shapely.points(ux, uy), predicate="intersects")
            pi, gi = np.r_[pi, bp], np.r_[gi, self.bad[bg]]
        uidx = np.full(len(ux), -1, dtype=np.int64)
        umulti = np.zeros(len(ux), dtype=bool)
        if len(pi):
            order = np.lexsort((gi, pi))
            pi, gi = pi[order], gi[order]
            first = np.r_[True, pi[1:] != pi[:-1]]
            uidx[pi[first]] = gi[first]
            umulti[pi[~first]] = True
        return uidx[inv], umulti[inv]


# ------------------------------------------------------------------ columns


def resolve_event_columns(headers: Sequence[str], wanted: dict[str, str], *,
                          source: str) -> tuple[dict[str, str], str]:
    """Which header holds each event column.

    Parameters
    ----------
    headers : sequence of str
        The file's headers.
    wanted : dict
        Role (``timestamp``, ``x``, ``y``, ``category``, ``area_id``) -> the
        column name given (a CLI option, a keyword).
    source : str
        The file, for messages.

    Returns
    -------
    (dict, str)
        Role -> header; the note saying which headers were recognised
        (``""`` when every name given was in the file).

    Raises
    ------
    InputError
        Columns missing (the pandas path's message), or two known headers for one column.
    """
    def key(h: str) -> str:
        return str(h).strip().lower()

    found: dict[str, str] = {}
    read_as: list[str] = []
    missing: list[str] = []
    problems: list[Problem] = []
    for role, name in wanted.items():
        if name in headers:
            found[role] = name
            continue
        if name != role:  # a name the user gave is not in the file: refused, not replaced by a guess
            missing.append(name)
            continue
        known = {key(k) for k in (*EVENT_HEADERS.get(role, ()), role)}
        cands = [h for h in headers if key(h) in known and h not in found.values()]
        if len(cands) == 1:
            found[role] = cands[0]
            read_as.append(f"{cands[0]} as {name}")
        elif len(cands) > 1:
            problems.append(Problem(f"no column {name!r}, and several headers riskmodel knows as {role} "
                                    f"({', '.join(cands)}): name one", source=source, column=name))
        else:
            missing.append(name)
    if missing:
        problems.insert(0, Problem(f"missing column(s) {', '.join(missing)} (found: {', '.join(headers)})",
                                   source=source))
    if problems:
        raise InputError(problems)
    note = f"note: {source}: read {', '.join(read_as)} (built-in event headers)" if read_as else ""
    return found, note


# ------------------------------------------------------------------ sources


def _q(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _lit(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def _connect(memory_limit: str, threads: int, temp_dir: str) -> Any:  # noqa: ANN401 - duckdb's connection
    import duckdb

    return duckdb.connect(config={
        "memory_limit": memory_limit, "threads": int(threads), "temp_directory": temp_dir,
        "preserve_insertion_order": True,  # batches in file order: _line is a running count
        "autoinstall_known_extensions": False, "autoload_known_extensions": False,  # nothing downloads
    })


def _suffix(p: Path) -> str:
    return "".join(p.suffixes[-2:]).lower() if len(p.suffixes) > 1 else p.suffix.lower()


_SNIFF = 1 << 20
"""Bytes of a CSV read to tell UTF-8 from GBK; a file that turns out not UTF-8 later is transcoded and read again."""


class _NotUtf8(Exception):
    """DuckDB met bytes that are not UTF-8 after the sniffed start of a file."""


def _utf8_or_copy(p: Path, gz: bool, tmp: str, force: bool = False) -> tuple[Path, str | None]:
    """``p`` itself when it is UTF-8 (judged on its first :data:`_SNIFF` bytes), else a UTF-8 copy
    (GB18030 decoded in chunks); ``force``: the copy (DuckDB found other bytes further on)."""
    import codecs

    opener = gzip.open if gz else open
    try:
        with opener(p, "rb") as fh:
            head = fh.read(_SNIFF)
    except (OSError, EOFError) as exc:
        raise InputError(Problem(f"cannot read the file: {exc}", source=str(p))) from None
    if not head.strip():
        raise InputError(Problem("events file has no content", source=str(p)))
    cut = len(head) == _SNIFF
    if not force:
        try:
            head.decode("utf-8")
            return p, None
        except UnicodeDecodeError as exc:
            if cut and exc.start >= len(head) - 3:
                return p, None  # a character cut at the end of the sample
    _, _, note = decode_text(head[: len(head) - 4] if cut else head, str(p))  # refuses NUL bytes, UTF-16
    note = note or "file was GBK/GB18030-encoded, not UTF-8; read it as GB18030"
    return _transcode(p, gz, tmp, codecs.getincrementaldecoder("gb18030")()), f"note: {p}: {note}"


def _transcode(p: Path, gz: bool, tmp: str, dec: Any) -> Path:  # noqa: ANN401 - a codecs decoder
    out = Path(tmp) / "events-utf8.csv"
    opener = gzip.open if gz else open
    try:
        with opener(p, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(16 << 20):
                dst.write(dec.decode(chunk))
            dst.write(dec.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        raise InputError(Problem(f"text is neither UTF-8 nor GBK/GB18030 ({exc.reason}); save the file as UTF-8",
                                 source=str(p))) from None
    except (OSError, EOFError) as exc:
        raise InputError(Problem(f"cannot read the file: {exc}", source=str(p))) from None
    return out


def _header(path: Path, gz: bool, delim: str, name: str) -> list[str]:
    """The header row's names, stripped, duplicates numbered as pandas does (``x``, ``x.1``)."""
    import csv
    import io

    opener = gzip.open if gz else open
    with opener(path, "rb") as fh:
        head = fh.read(1 << 16)
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    first = next(csv.reader(io.StringIO(text), delimiter=delim), [])
    if not first or not text.strip():
        raise InputError(Problem("events file has no header row", source=name))
    out: list[str] = []
    for raw in first:
        c, k = raw.strip(), 1
        while c in out:
            c, k = f"{raw.strip()}.{k}", k + 1
        out.append(c)
    return out


@dataclass
class _Plan:
    """What to read: a DuckDB relation (SQL text) or a stream of pandas chunks."""

    name: str
    relation: str | None = None
    chunks: Callable[[], Iterator[pd.DataFrame]] | None = None
    notes: list[str] = field(default_factory=list)


def _plan(source: str | os.PathLike[str], tmp: str, chunksize: int, transcode: bool = False) -> _Plan:
    if _sql.is_database_url(str(source)):
        url = str(source)
        iter_chunks = getattr(_sql, "iter_sql_chunks", None)
        if iter_chunks is None:
            raise InputError(Problem("cannot read events from a database yet", source="database URL"))
        redact = getattr(_sql, "redacted", lambda u: "database URL")
        return _Plan(name=str(redact(url)), chunks=lambda: iter_chunks(url, chunksize=chunksize, what="events"))
    p = Path(source)
    name = str(source)
    if "#" in name or _suffix(p).endswith(EXCEL_SUFFIXES) or not (
            _suffix(p).endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".parquet", ".pq"))):
        def whole() -> Iterator[pd.DataFrame]:
            df, ts = read_table(source, what="events")
            yield df
        return _Plan(name=name, chunks=whole)
    if not p.exists():
        raise InputError(Problem(f"events file {why_missing(p)}", source=name))
    if p.is_dir():
        raise InputError(Problem("events path is a folder, not a file", source=name))
    if p.stat().st_size == 0:
        raise InputError(Problem("events file is empty (0 bytes)", source=name))
    sfx = _suffix(p)
    if sfx.endswith((".parquet", ".pq")):
        return _Plan(name=name, relation=f"read_parquet({_lit(str(p))})")
    path, note = _utf8_or_copy(p, sfx.endswith(".gz"), tmp, force=transcode)
    tab = ".tsv" in sfx
    gz = path == p and sfx.endswith(".gz")
    names = _header(path, gz, "\t" if tab else ",", name)
    # the header read here, every column text, no sniffing (a sniffer can take a ragged row for the header);
    # a short row is padded with nulls and a long one refused, as pandas does
    cols = ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in names)
    delim = "\\t" if tab else ","
    comp = "gzip" if gz else "none"
    rel = (f"read_csv({_lit(str(path))}, header=true, auto_detect=false, columns={{{cols}}}, "
           f"delim='{delim}', quote='\"', escape='\"', null_padding=true, compression='{comp}')")
    return _Plan(name=name, relation=rel, notes=[note] if note else [])


# ------------------------------------------------------------------ counting


def count_events(
    source: str | os.PathLike[str],
    *,
    freq: str,
    polygons: AreaPolygons | None = None,
    cells: Any = None,  # noqa: ANN401 - a riskmodel.data.grid.GridCells (grid imports this module)
    area_col: str | None = None,
    time_col: str = "timestamp",
    x_col: str = "x",
    y_col: str = "y",
    category_col: str | None = "category",
    category: str | None = None,
    memory_limit: str = "2GB",
    threads: int = 2,
    batch_rows: int = 1_000_000,
    max_unmatched_rows: int = 1_000_000,
    temp_dir: str | os.PathLike[str] | None = None,
    keep_events: bool = False,
) -> EventCounts:
    """Count an event log per area, category and period, out of core.

    Parameters
    ----------
    source : path or database URL
        CSV/CSV.gz/TSV, Parquet, a database URL, or another table
        :func:`~riskmodel.data.readers.read_table` reads.
    freq : {'D', 'W', 'M', 'Y'}
        Period: day, Monday week, month, calendar year.
    polygons : AreaPolygons, optional
        The areas (streets) to place points in. With ``cells``, the streets
        the cells were cut from.
    cells : GridCells, optional
        Count per grid cell (``{street}-G{col}_{row}``) instead of per street.
    area_col : str, optional
        The events carry their area id in this column (no coordinates).
    time_col, x_col, y_col, category_col : str
        Column names (or, when absent, a header of :data:`EVENT_HEADERS`).
    category : str, optional
        One category for every event (the log has no category column).
    memory_limit : str
        DuckDB's memory limit (``"2GB"``); it spills to ``temp_dir`` beyond.
    threads : int
        DuckDB's threads.
    batch_rows : int
        Rows per batch handed to Python (memory: about 100 bytes a row).
    max_unmatched_rows : int
        Unmatched events kept for the ``unmatched`` table (all are counted).
    temp_dir : path, optional
        Folder for DuckDB's spill files and a transcoded GBK file (default:
        a new folder in the system temp, removed afterwards).
    keep_events : bool
        Also return the counted events (:attr:`EventCounts.events`; memory:
        about 40 bytes an event), for the hotspot rankers.

    Returns
    -------
    EventCounts

    Raises
    ------
    InputError
        As the pandas path: missing columns, dates beyond the plausibility
        limits (naming the rows), no event placed; and files that cannot be read.
    """
    freq = Frequency.of(freq).code
    modes = sum(v is not None for v in (area_col, polygons))
    if modes != 1:
        raise InputError(Problem("give exactly one of: an area column, or polygons", source=str(source)))
    own_tmp = temp_dir is None
    tmp = tempfile.mkdtemp(prefix="riskmodel-events-") if own_tmp else str(temp_dir)
    try:
        con = _connect(memory_limit, threads, tmp)
        try:
            for transcode in (False, True):
                plan = _plan(source, tmp, batch_rows, transcode=transcode)
                counter = _Counter(plan, freq=freq, polygons=polygons, cells=cells, area_col=area_col,
                                   time_col=time_col, x_col=x_col, y_col=y_col, category_col=category_col,
                                   category=category, max_unmatched_rows=max_unmatched_rows)
                counter.keep_events = keep_events
                try:
                    return counter.run(con, batch_rows)
                except _NotUtf8:
                    if transcode:
                        raise InputError(Problem("text is neither UTF-8 nor GBK/GB18030; save the file as UTF-8",
                                                 source=str(source))) from None
            raise AssertionError("unreachable")
        finally:
            con.close()
    finally:
        if own_tmp:
            shutil.rmtree(tmp, ignore_errors=True)


class _Counter:
    """One pass over the log (more only to name the rows of a refusal)."""

    def __init__(self, plan: _Plan, *, freq: str, polygons: AreaPolygons | None, cells: Any,  # noqa: ANN401
                 area_col: str | None, time_col: str, x_col: str, y_col: str, category_col: str | None,
                 category: str | None, max_unmatched_rows: int) -> None:
        import shapely

        self.plan, self.freq, self.cells, self.area_col = plan, freq, cells, area_col
        self.category, self.max_unmatched = category, max_unmatched_rows
        self.wanted = {"timestamp": time_col}
        if category is None and category_col:
            self.wanted["category"] = category_col
        if area_col:
            self.wanted["area_id"] = area_col
        else:
            self.wanted.update({"x": x_col, "y": y_col})
        self.ids: list[str] = []
        self.locator: PointLocator | None = None
        self.cell_locator: PointLocator | None = None
        if polygons is not None and cells is None:
            self.ids = list(polygons.ids)
            self.locator = PointLocator(polygons.geoms)
        elif polygons is not None:
            geoms = [g if shapely.is_valid(g) else shapely.make_valid(g) for g in polygons.geoms]  # as GridCells
            self.locator = PointLocator(geoms)
            self.cell_locator = PointLocator(cells.polygons.geoms, max_cells=1)  # STRtree only
            t = cells.table
            self.ids = t["area_id"].astype(str).tolist()
            street = pd.Index(polygons.ids).get_indexer(t["parent_id"].astype(str))
            col, row = t["col"].to_numpy(np.int64), t["row"].to_numpy(np.int64)
            self.c0, self.r0 = int(col.min()), int(row.min())
            self.nc, self.nr = int(col.max()) - self.c0 + 1, int(row.max()) - self.r0 + 1
            self.cell_of = np.full(len(polygons.ids) * self.nc * self.nr, -1, dtype=np.int64)
            self.cell_of[(street * self.nc + (col - self.c0)) * self.nr + (row - self.r0)] = np.arange(len(t))
        self.area_codes: dict[str, int] = {}
        self.cat_codes: dict[str, int] = {}
        self.limits = Limits.from_env()
        self.keep_events = False
        self.kept: list[tuple[np.ndarray, ...]] = []

    # the SQL ----------------------------------------------------------
    def _select(self, con: Any, relation: str) -> tuple[str, list[str], str]:  # noqa: ANN401
        import duckdb

        try:
            desc = con.sql(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        except duckdb.Error as exc:
            if "unicode" in str(exc).lower():
                raise _NotUtf8 from None
            raise InputError(Problem(f"cannot read as a table: {_first_line(exc)}", source=self.plan.name)) from None
        types = {str(r[0]): str(r[1]).upper() for r in desc}
        headers = list(types)
        found, note = resolve_event_columns([h.strip() for h in headers], self.wanted, source=self.plan.name)
        real = {h.strip(): h for h in headers}
        cols = {role: real[h] for role, h in found.items()}
        ex = []
        t = cols["timestamp"]
        tt = types[t]
        if tt in _TS_TYPES:
            ex += [f"CAST({_q(t)} AS TIMESTAMP) AS __ts", "NULL::VARCHAR AS __traw"]
        else:
            s = f"ltrim(CAST({_q(t)} AS VARCHAR))"
            ok = f"regexp_full_match({s}, {_lit(_TS_RE)})"
            ex += [f"CASE WHEN {ok} THEN TRY_CAST({s} AS TIMESTAMP) END AS __ts",
                   f"CASE WHEN {s} IS NOT NULL AND NOT {ok} THEN CAST({_q(t)} AS VARCHAR) END AS __traw"]
        ex.append(f"CAST(date_trunc('{_UNIT[self.freq]}', __ts) AS DATE) AS __per")
        if self.category is not None:
            ex.append(f"{_lit(self.category)} AS __cat")
        else:
            c = cols["category"]
            v = f"ltrim({_q(c)})" if types[c] == "VARCHAR" else f"CAST({_q(c)} AS VARCHAR)"
            ex.append(f"CASE WHEN trim({v}) <> '' THEN {v} END AS __cat")  # none: 'no category'

        if self.area_col:
            ex.append(f"NULLIF(trim(CAST({_q(cols['area_id'])} AS VARCHAR)), '') AS __area")
        else:
            for role in ("x", "y"):
                c = cols[role]
                if types[c] in _NUM_TYPES or types[c].startswith("DECIMAL"):
                    v = f"CAST({_q(c)} AS DOUBLE)"
                else:  # pandas.to_numeric refuses '1_000', DuckDB would read it
                    s = f"CAST({_q(c)} AS VARCHAR)"
                    v = f"CASE WHEN strpos({s}, '_') > 0 THEN NULL ELSE TRY_CAST({s} AS DOUBLE) END"
                ex.append(f"CASE WHEN isfinite({v}) THEN {v} END AS __{role}")
        base = f"SELECT {', '.join(ex)}, * FROM {relation}"
        grid = ""
        if self.cells is not None:
            x0, y0 = (repr(float(v)) for v in self.cells.origin)
            size = repr(float(self.cells.size))
            parts = []
            for v, o, n in (("__x", x0, "c"), ("__y", y0, "r")):
                q = f"(({v} - {o}) / {size})"
                parts += [f"CAST(floor({q}) AS BIGINT) AS __{n}",
                          f"({q} - floor({q}) < {_EDGE!r} OR {q} - floor({q}) > {1 - _EDGE!r}) AS __e{n}"]
            grid = ", " + ", ".join(parts)
        sql = f"WITH __b AS ({base}) SELECT *{grid} FROM __b"
        return sql, headers, note

    # the pass -----------------------------------------------------------
    def _batches(self, con: Any, batch_rows: int) -> Iterator[Any]:  # noqa: ANN401
        """Arrow record batches of the select, in file order; sets self.headers and the column note."""
        import duckdb

        plan = self.plan
        if plan.relation is not None:
            sql, self.headers, self.col_note = self._select(con, plan.relation)
            try:
                reader = con.sql(sql).to_arrow_reader(batch_rows)
                yield from reader
            except duckdb.Error as exc:
                if "unicode" in str(exc).lower():
                    raise _NotUtf8 from None
                raise InputError(Problem(f"cannot parse as CSV: {_first_line(exc)}", source=plan.name)) from None
            return
        assert plan.chunks is not None
        first = True
        for chunk in plan.chunks():
            chunk = chunk.rename(columns=lambda c: str(c).strip())
            con.register("__chunk", chunk)
            try:
                sql, headers, note = self._select(con, "__chunk")
                if first:
                    self.headers, self.col_note, first = headers, note, False
                yield from con.sql(sql).to_arrow_reader(batch_rows)
            finally:
                con.unregister("__chunk")
        if first:
            raise InputError(Problem("events table has a header but no data rows", source=plan.name))

    def run(self, con: Any, batch_rows: int) -> EventCounts:  # noqa: ANN401
        import pyarrow as pa
        import pyarrow.compute as pc

        self.headers, self.col_note = [], ""
        today = pd.Timestamp.today().normalize()
        fut = self.limits.max_future_years
        latest = today + pd.DateOffset(years=int(fut)) if fut is not None else None
        latest_us = int(pd.Timestamp(latest).value // 1000) if latest is not None else None
        late_idx: list[np.ndarray] = []
        late_vals: list[list[str]] = []
        lo, hi = np.iinfo(np.int64).max, np.iinfo(np.int64).min
        keys: list[tuple[np.ndarray, np.ndarray]] = []
        unmatched: list[pd.DataFrame] = []
        kept = 0
        reasons: dict[str, int] = {}
        on_border = 0
        pos = 0
        for batch in _prefetch(self._batches(con, batch_rows)):
            n = batch.num_rows
            if not n:
                continue
            ts = _int64(batch.column("__ts").cast(pa.int64()))
            per = _int64(batch.column("__per").cast(pa.int32()).cast(pa.int64()))
            traw = batch.column("__traw")
            if traw.null_count < n:
                slow = np.flatnonzero(pc.is_valid(traw).to_numpy(zero_copy_only=False))
                parsed = _parse_times(traw.take(pa.array(slow)).to_pylist())
                ts[slow] = np.where(parsed.isna(), _NAT, parsed.to_numpy("datetime64[us]").astype(np.int64))
                ok = parsed.notna().to_numpy()
                start = Frequency.of(self.freq).start(parsed[ok])
                per[slow[ok]] = start.to_numpy("datetime64[D]").astype(np.int64)
            bad_t = ts == _NAT
            # plausibility of the dates, as Limits.check_dates on the whole column
            good = ts[~bad_t]
            if latest_us is not None and len(good):
                late = ts > latest_us
                late &= ~bad_t
                if late.any():
                    li = np.flatnonzero(late)
                    late_idx.append(li + pos)
                    tcol = self.headers_real_time(batch)
                    late_vals.append([str(v) for v in tcol.take(pa.array(li)).to_pylist()])
                    good = ts[~bad_t & ~late]
            if len(good):
                lo, hi = min(lo, int(good.min())), max(hi, int(good.max()))
            reason = np.zeros(n, dtype=np.int8)  # 0 ok, 1 time, 2 coordinates, 3 outside / no area, 4 category
            reason[bad_t] = 1
            c = self._codes(batch.column("__cat"), self.cat_codes)
            reason[(reason == 0) & (c < 0)] = 4
            multi = np.zeros(n, dtype=bool)
            if self.area_col:
                area = batch.column("__area")
                reason[(reason == 0) & ~pc.is_valid(area).to_numpy(zero_copy_only=False)] = 3
                a = self._codes(area, self.area_codes)
            else:
                x = _float(batch.column("__x"))
                y = _float(batch.column("__y"))
                bad_xy = np.isnan(x) | np.isnan(y)
                reason[(reason == 0) & bad_xy] = 2
                a = np.full(n, -1, dtype=np.int64)
                okxy = np.flatnonzero(~bad_xy)
                a[okxy], multi[okxy] = self._place(batch, okxy, x[okxy], y[okxy])
                reason[(reason == 0) & (a < 0)] = 3
            on_border += int(multi.sum())
            good_rows = reason == 0
            if good_rows.any():
                k = (a[good_rows] << 40) | (c[good_rows] << 20) | (per[good_rows] + (1 << 19))
                keys.append(np.unique(k, return_counts=True))
                if self.keep_events:
                    self.kept.append(tuple(v[good_rows] for v in (a, ts, c) + (() if self.area_col else (x, y))))
                if len(keys) >= 8:
                    keys = [_merge(keys)]
            bad_rows = np.flatnonzero(reason > 0)
            if len(bad_rows):
                for r, label in enumerate(self._labels()):
                    k_r = int((reason == r).sum()) if r else 0
                    if k_r:
                        reasons[label] = reasons.get(label, 0) + k_r
                take = bad_rows[: max(self.max_unmatched - kept, 0)]
                if len(take):
                    unmatched.append(self._unmatched(batch, take, pos, ts, c, a, reason))
                    kept += len(take)
            pos += n
        if pos == 0:
            raise InputError(Problem("events file has a header but no data rows", source=self.plan.name))
        problems = []
        if late_idx:
            idx = np.concatenate(late_idx)
            vals = [v for vs in late_vals for v in vs]
            problems.append(Problem.at_rows(
                f"date after {latest.date()} (today + {fut:g} years): a typo? "  # type: ignore[union-attr]
                f"Set {_ENV['max_future_years']} to accept it", source=self.plan.name, column=self.wanted["timestamp"],
                index=idx, values=vals))
        span = self.limits.max_span_years
        if span is not None and hi >= lo and (hi - lo) // 86_400_000_000 / 365.25 > span:  # whole days, as pandas
            problems.append(self._span_problem(con, batch_rows, latest_us, span))
        if problems:
            raise InputError(problems)
        n_unmatched = sum(reasons.values())
        if n_unmatched == pos:
            raise InputError(Problem("no event could be placed in an area"))
        notes = list(self.plan.notes) + ([self.col_note] if self.col_note else [])
        if n_unmatched > kept:
            notes.append(f"note: {self.plan.name}: {n_unmatched:,} events could not be counted; the unmatched table "
                         f"lists the first {kept:,} (reasons: "
                         + ", ".join(f"{k} {v:,}" for k, v in reasons.items()) + ")")
        return EventCounts(counts=self._decode(_merge(keys)), unmatched=self._unmatched_frame(unmatched),
                           n_events=pos, n_unmatched=n_unmatched, on_border=on_border, reasons=reasons, notes=notes,
                           events=self._events() if self.keep_events else None)

    def _events(self) -> pd.DataFrame:
        """The kept events: ``timestamp``, ``category``, ``area_id`` (and ``x``, ``y``)."""
        parts = list(zip(*self.kept, strict=True)) if self.kept else [np.array([], np.int64)] * (
            3 if self.area_col else 5)
        cols = [np.concatenate(p) for p in parts]
        ids = np.array(list(self.area_codes) if self.area_col else self.ids, dtype=object)
        out = pd.DataFrame({"timestamp": cols[1].astype("datetime64[us]"),
                            "category": np.array(list(self.cat_codes), dtype=object)[cols[2]],
                            "area_id": ids[cols[0]]})
        if not self.area_col:
            out["x"], out["y"] = cols[3].astype(float), cols[4].astype(float)
        return out

    def headers_real_time(self, batch: Any) -> Any:  # noqa: ANN401
        """The time column as read (for the values a refusal shows)."""
        name = [h for h in self.headers if h.strip() == self._time_header()][0]
        return batch.column(name)

    def _time_header(self) -> str:
        found, _ = resolve_event_columns([h.strip() for h in self.headers], self.wanted, source=self.plan.name)
        return found["timestamp"]

    def _place(self, batch: Any, rows: np.ndarray, x: np.ndarray, y: np.ndarray  # noqa: ANN401
               ) -> tuple[np.ndarray, np.ndarray]:
        assert self.locator is not None
        idx, multi = self.locator.locate(x, y)
        if self.cells is None:
            return idx, multi
        cc = _int64(batch.column("__c"))[rows]
        rr = _int64(batch.column("__r"))[rows]
        edge = (batch.column("__ec").to_numpy(zero_copy_only=False)[rows]
                | batch.column("__er").to_numpy(zero_copy_only=False)[rows])
        inside = (idx >= 0) & ~multi & (cc >= self.c0) & (cc < self.c0 + self.nc) & (rr >= self.r0) & (
            rr < self.r0 + self.nr)
        cell = np.full(len(x), -1, dtype=np.int64)
        j = np.flatnonzero(inside)
        cell[j] = self.cell_of[(idx[j] * self.nc + (cc[j] - self.c0)) * self.nr + (rr[j] - self.r0)]
        # by the cells' STRtree: near a grid line, along a street border, or in a square too thin to be a cell
        unsure = self._unsure_street(x, y) | ((idx >= 0) & ((cell < 0) | edge))
        cmulti = np.zeros(len(x), dtype=bool)
        u = np.flatnonzero(unsure)
        if len(u):
            assert self.cell_locator is not None
            cell[u], cmulti[u] = self.cell_locator.exact(x[u], y[u])
        # a point surely outside every street is outside every cell (cells are parts of the streets)
        return cell, cmulti

    def _unsure_street(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Points whose street the raster did not answer (they lie along a border)."""
        loc = self.locator
        assert loc is not None
        if loc.code is None:
            return np.ones(len(x), dtype=bool)
        fx = np.floor((x - loc.origin[0]) / loc.w)
        fy = np.floor((y - loc.origin[1]) / loc.w)
        inr = (fx >= 0) & (fx < loc.nx) & (fy >= 0) & (fy < loc.ny)
        out = np.zeros(len(x), dtype=bool)
        out[inr] = loc.code[fy[inr].astype(np.int64) * loc.nx + fx[inr].astype(np.int64)] == -2
        return out

    def _labels(self) -> list[str]:
        """The reason of each code of ``reason`` (0: counted)."""
        return ["", "timestamp is not a date", "coordinates missing or not numbers",
                "no area id" if self.area_col else "outside every polygon", "no category"]

    def _codes(self, arr: Any, codes: dict[str, int]) -> np.ndarray:  # noqa: ANN401
        """Global integer codes of a string column (nulls: -1)."""
        import pyarrow.compute as pc

        enc = pc.dictionary_encode(arr).combine_chunks() if hasattr(arr, "combine_chunks") else pc.dictionary_encode(arr)
        words = enc.dictionary.to_pylist()
        lut = np.array([codes.setdefault(w, len(codes)) for w in words] + [-1], dtype=np.int64)
        ind = enc.indices.to_numpy(zero_copy_only=False)
        ind = np.where(np.isnan(ind), len(words), ind).astype(np.int64) if ind.dtype.kind == "f" else ind.astype(
            np.int64)
        return lut[ind]

    def _unmatched(self, batch: Any, rows: np.ndarray, pos: int, ts: np.ndarray, c: np.ndarray,  # noqa: ANN401
                   a: np.ndarray, reason: np.ndarray) -> pd.DataFrame:
        import pyarrow as pa

        orig = [h for h in batch.schema.names if not h.startswith("__")]
        df = batch.select(orig).take(pa.array(rows)).to_pandas()
        df.columns = [h.strip() for h in df.columns]
        df["_line"] = rows + pos + 2
        t = ts[rows]
        df["timestamp"] = pd.to_datetime(t.astype("datetime64[us]"))  # the sentinel is NaT
        cats = np.array([*self.cat_codes, None], dtype=object)
        df["category"] = cats[np.where(c[rows] < 0, len(cats) - 1, c[rows])]
        if self.area_col:
            areas = np.array(list(self.area_codes) + [None], dtype=object)
            df["area_id"] = areas[np.where(a[rows] < 0, len(areas) - 1, a[rows])]
        else:
            ids = np.array(self.ids, dtype=object)
            ar = a[rows]
            df["area_id"] = np.where(ar >= 0, ids[np.maximum(ar, 0)], None)
        df["reason"] = np.array(self._labels(), dtype=object)[reason[rows]]
        return df

    def _unmatched_frame(self, parts: list[pd.DataFrame]) -> pd.DataFrame:
        if parts:
            return pd.concat(parts, ignore_index=True)
        cols = [h.strip() for h in self.headers]
        for extra in ("_line", "timestamp", "category", "area_id", "reason"):
            if extra not in cols:
                cols.append(extra)
        return pd.DataFrame(columns=cols)

    def _decode(self, merged: tuple[np.ndarray, np.ndarray]) -> pd.DataFrame:
        k, n = merged
        a = k >> 40
        c = (k >> 20) & ((1 << 20) - 1)
        p = (k & ((1 << 20) - 1)) - (1 << 19)
        ids = np.array(list(self.area_codes) if self.area_col else self.ids, dtype=object)
        cats = np.array(list(self.cat_codes), dtype=object)
        out = pd.DataFrame({"area_id": ids[a], "category": cats[c],
                            "period": p.astype("datetime64[D]").astype("datetime64[us]"), "count": n.astype(np.int64)})
        return out.sort_values(["area_id", "category", "period"], kind="mergesort").reset_index(drop=True)

    def _span_problem(self, con: Any, batch_rows: int, latest_us: int | None, span: float) -> Problem:  # noqa: ANN401
        """The refusal of Limits.check_dates for too long a span: a second pass for the median and the rows."""
        import pyarrow as pa

        ts_all = []
        for batch in self._batches(con, batch_rows):
            t = _int64(batch.column("__ts").cast(pa.int64()))
            traw = batch.column("__traw")
            if traw.null_count < batch.num_rows:
                import pyarrow.compute as pc

                slow = np.flatnonzero(pc.is_valid(traw).to_numpy(zero_copy_only=False))
                parsed = _parse_times(traw.take(pa.array(slow)).to_pylist())
                t[slow] = np.where(parsed.isna(), _NAT, parsed.to_numpy("datetime64[us]").astype(np.int64))
            ts_all.append(t)
        t = np.concatenate(ts_all)
        keep = t != _NAT
        if latest_us is not None:
            keep &= t <= latest_us
        pos = np.flatnonzero(keep)
        d = pd.Series(t[keep].astype("datetime64[us]"), index=pos)
        first, last = d.min(), d.max()
        years = (last - first).days / 365.25
        mid = d.median()
        dist = (d - mid).abs()
        far = dist > pd.Timedelta(days=365.25 * span / 2)
        idx = d.index[far] if far.any() else d.index[(d == first) | (d == last)]
        want = set(int(i) for i in idx[:5])
        vals: dict[int, str] = {}
        at = 0
        for batch in self._batches(con, batch_rows):
            tcol = self.headers_real_time(batch).to_pylist()
            for i in [i for i in want if at <= i < at + batch.num_rows]:
                vals[i] = str(tcol[i - at])
            at += batch.num_rows
        return Problem.at_rows(
            f"the dates span {years:.0f} years ({first.date()} to {last.date()}), more than the plausibility "
            f"limit of {span:g} years (every period in between would be a row); these rows lie "
            f"far from the median date ({mid.date()}): fix them, or set {_ENV['max_span_years']} "
            "to accept a longer span", source=self.plan.name, column=self.wanted["timestamp"], index=idx,
            values=[vals[int(i)] for i in idx[:5]])


def _prefetch(batches: Iterator[Any], depth: int = 2) -> Iterator[Any]:  # noqa: ANN401
    """``batches``, read ahead by a thread: DuckDB parses the next batch (without the GIL) while Python places
    the points of this one. Every DuckDB call happens in that thread; its errors are raised here."""
    import queue
    import threading

    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(item: Any) -> None:  # noqa: ANN401
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def work() -> None:
        try:
            for b in batches:
                if stop.is_set():
                    break
                put(b)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            put(exc)
        finally:
            batches.close()  # type: ignore[attr-defined]
            put(end)

    t = threading.Thread(target=work, name="riskmodel-events-reader", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        t.join()


def _first_line(exc: BaseException) -> str:
    """DuckDB's message without its advice on DuckDB's options: the line, the row as read, what was expected."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    keep = [lines[0].replace("Invalid Input Error: ", "")]
    keep += [ln for ln in lines[1:4] if ln.startswith(("Original Line", "Expected"))]
    return "; ".join(keep)


def _int64(arr: Any) -> np.ndarray:  # noqa: ANN401
    """An Arrow integer array as int64 numpy, nulls as the NaT sentinel."""
    import pyarrow.compute as pc

    return np.array(pc.fill_null(arr, _NAT).to_numpy(zero_copy_only=False), dtype=np.int64)


def _float(arr: Any) -> np.ndarray:  # noqa: ANN401
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=float)


def _parse_times(values: list[object]) -> pd.Series:
    """The pandas path's parse of the timestamps DuckDB's cast is not trusted with."""
    ts = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce", format="mixed")
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_localize(None)
    return ts


def _merge(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sum counts of equal keys over several (unique keys, counts) pairs."""
    if not parts:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    k = np.concatenate([p[0] for p in parts])
    n = np.concatenate([p[1] for p in parts])
    order = np.argsort(k, kind="stable")
    k, n = k[order], n[order]
    start = np.r_[True, k[1:] != k[:-1]]
    return k[start], np.add.reduceat(n, np.flatnonzero(start)) if len(k) else n


__all__ = ["EVENT_HEADERS", "EventCounts", "PointLocator", "count_events", "resolve_event_columns"]
