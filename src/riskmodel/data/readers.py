"""Reading tables from CSV (plain or gzip) and Parquet, safely.

Chinese area names are expected in UTF-8; files exported from Excel on Chinese
Windows are often GBK (GB18030). We read UTF-8 first (with or without BOM),
and fall back to GB18030, a superset of GBK, recording that we did so, so a
caller can warn. A file that is neither gets a clear :class:`InputError`.
"""

from __future__ import annotations

import gzip
import io
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from riskmodel.data.excel import read_workbook
from riskmodel.data.sql import is_database_url, read_sql_source, redacted
from riskmodel.errors import InputError, Problem
from riskmodel.io_safety import EXCEL_SUFFIXES, atomic_path, split_sheet, spreadsheet_safe
from riskmodel.results import table_bytes


@dataclass
class TableSource:
    """Where a table came from, for error messages."""

    name: str
    encoding: str | None = None
    note: str | None = None


def _suffixes(path: Path) -> str:
    return "".join(s.lower() for s in path.suffixes[-2:])


def read_table(
    path: str | os.PathLike[str],
    *,
    dtype: dict[str, object] | None = None,
    what: str = "table",
) -> tuple[pd.DataFrame, TableSource]:
    """Read a CSV (``.csv``, ``.csv.gz``, ``.tsv``), Parquet or Excel file, or a database table.

    ``path`` may be a database URL (:func:`riskmodel.data.sql.is_database_url`,
    read by :func:`riskmodel.data.sql.read_sql_source`) or a workbook with an
    optional ``#sheet`` (:func:`split_sheet`, read by
    :func:`riskmodel.data.excel.read_workbook`).

    All CSV columns are read as strings (``dtype=str``) unless ``dtype`` says
    otherwise, so that validation, not the parser, decides what is wrong.

    Parameters
    ----------
    path : path-like
        The file.
    dtype : dict, optional
        Column types to pass to the CSV parser.
    what : str
        What the table is ("counts", "areas"), for messages.

    Returns
    -------
    (DataFrame, TableSource)

    Raises
    ------
    InputError
        The file is missing, empty, not a table, or in an unknown encoding.
    """
    if is_database_url(path):
        df, note = read_sql_source(str(path), what=what)
        shown = redacted(str(path))  # the password never shown
        return _check_nonempty(df, shown, what), TableSource(name=shown, note=note)
    p, sheet = split_sheet(path)
    name = str(path)
    if not p.exists():
        raise InputError(Problem(f"{what} file {why_missing(p)}", source=name))
    if p.is_dir():
        raise InputError(Problem(f"{what} path is a folder, not a file", source=name))
    if p.stat().st_size == 0:
        raise InputError(Problem(f"{what} file is empty (0 bytes)", source=name))
    suffix = _suffixes(p)
    if suffix.endswith(EXCEL_SUFFIXES):
        df, note = read_workbook(p, sheet=sheet, what=what, dtype=dtype)
        return _check_nonempty(df, name, what), TableSource(name=name, note=note)
    if suffix.endswith(".parquet") or suffix.endswith(".pq"):
        try:
            df = pd.read_parquet(p)
        except Exception as exc:  # pyarrow raises many types
            raise InputError(Problem(f"cannot read as Parquet: {exc}", source=name)) from None
        return _check_nonempty(df, name, what), TableSource(name=name)

    sep = "\t" if suffix.endswith(".tsv") else ","
    raw = p.read_bytes()
    if suffix.endswith(".gz"):
        raw = gunzip_limited(raw, name)
    if not raw.strip():
        raise InputError(Problem(f"{what} file has no content", source=name))
    text, encoding, note = decode_text(raw, name)
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=dtype if dtype is not None else str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
        )
    except pd.errors.EmptyDataError:
        raise InputError(Problem(f"{what} file has no header row", source=name)) from None
    except pd.errors.ParserError as exc:
        raise InputError(Problem(f"cannot parse as CSV: {exc}", source=name)) from None
    df.columns = [str(c).strip() for c in df.columns]
    return _check_nonempty(df, name, what), TableSource(name=name, encoding=encoding, note=note)


MAX_DECOMPRESSED_BYTES = 2 * 1024**3
"""Largest decompressed size of a ``.gz`` input (2 GiB; ``RISKMODEL_MAX_GUNZIP_BYTES`` overrides)."""
MAX_GZIP_RATIO = 200
"""Largest ratio of decompressed to compressed size for inputs over 10 MB decompressed (a "gzip bomb")."""


def _max_gunzip() -> int:
    raw = os.environ.get("RISKMODEL_MAX_GUNZIP_BYTES", "").strip()
    try:
        return int(float(raw)) if raw else MAX_DECOMPRESSED_BYTES
    except ValueError:
        raise InputError(Problem(f"environment variable RISKMODEL_MAX_GUNZIP_BYTES={raw!r} is not a number")) from None


def gunzip_limited(data: bytes, name: str) -> bytes:
    """Decompress gzip ``data`` (every member), refusing a truncated or corrupt file and a "gzip bomb".

    Refused: more than :data:`MAX_DECOMPRESSED_BYTES` out (2 GiB, or
    ``RISKMODEL_MAX_GUNZIP_BYTES``), or more than 10 MB out at a ratio
    above :data:`MAX_GZIP_RATIO` (200 to 1; CSV text compresses about 5 to
    20 to 1), checked as the data are decompressed, before they are held in
    memory; setting ``RISKMODEL_MAX_GUNZIP_BYTES`` replaces both limits by
    that size. InputError names the file.
    """
    import zlib

    limit = _max_gunzip()
    ratio_limit = MAX_GZIP_RATIO if not os.environ.get("RISKMODEL_MAX_GUNZIP_BYTES", "").strip() else float("inf")
    out = bytearray()
    rest = data
    step = 16 * 1024**2  # bytes out per call: the limits are checked as the data come out
    while rest:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        buf = rest
        while not d.eof:
            try:
                chunk = d.decompress(buf, step)
            except zlib.error as exc:
                raise InputError(Problem(f"not a valid gzip file: {exc}", source=name)) from None
            out += chunk
            if len(out) > limit or (len(out) > 10 * 1024**2 and len(out) / max(len(data), 1) > ratio_limit):
                raise InputError(Problem(
                    f"gzip file decompresses to more than {len(out):,} bytes from {len(data):,} "
                    f"(limits: {limit:,} bytes, and {MAX_GZIP_RATIO} to 1): refused as a possible decompression "
                    "bomb; set RISKMODEL_MAX_GUNZIP_BYTES to read a larger file, or decompress it yourself",
                    source=name))
            buf = d.unconsumed_tail
            if not buf and not chunk and not d.eof:
                raise InputError(Problem(
                    f"gzip file is truncated (it ends after {len(data):,} bytes, before the end of its data): "
                    "copy or download it again", source=name))
        rest = d.unused_data
        if rest and not rest.strip(b"\0"):
            break  # padding after the last member
    return bytes(out)


def why_missing(p: Path) -> str:
    """Why a path is not there: a symlink loop, a broken symlink, or does not exist."""
    if p.is_symlink():
        try:
            p.resolve(strict=True)
        except RuntimeError:
            return "is a symlink loop (the link leads back to itself): give the real file"
        except OSError as exc:
            if exc.errno == 40:  # ELOOP
                return "is a symlink loop (the link leads back to itself): give the real file"
            return f"is a symlink to {os.readlink(p)!r}, which does not exist"
    return "does not exist"


def decode_text(raw: bytes, name: str) -> tuple[str, str, str | None]:
    """Decode bytes as UTF-8 (BOM allowed) or, failing that, GB18030 (GBK).

    Text with NUL bytes is refused (a UTF-16 file, or a binary or corrupted
    one), naming the line of the first: GB18030 would otherwise decode it
    into plausible-looking garbage.
    """
    nul = raw.find(b"\0")
    if nul >= 0:
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise InputError(Problem("text is UTF-16 (Excel's 'Unicode text'); save the file as CSV UTF-8",
                                     source=name))
        line = raw[:nul].count(b"\n") + 1
        raise InputError(Problem(
            f"the file contains NUL bytes (first at byte {nul:,}, line {line}): not plain text -- a binary, "
            "UTF-16 or damaged file; save it again as CSV UTF-8", source=name))
    try:
        return raw.decode("utf-8-sig"), "utf-8", None
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        raise InputError(
            Problem(
                "text is neither UTF-8 nor GBK/GB18030 "
                f"(first bad byte at offset {utf8_error.start}); save the file as UTF-8",
                source=name,
            )
        ) from None
    return text, "gb18030", "file was GBK/GB18030-encoded, not UTF-8; read it as GB18030"


def _check_nonempty(df: pd.DataFrame, name: str, what: str) -> pd.DataFrame:
    if df.shape[1] == 0:
        raise InputError(Problem(f"{what} file has no columns", source=name))
    if len(df) == 0:
        raise InputError(Problem(f"{what} file has a header but no data rows", source=name))
    return df


def write_table_atomic(df: pd.DataFrame, path: str | os.PathLike[str], **kwargs: object) -> Path:
    """Write a DataFrame to CSV, Parquet or an Excel workbook (by ``path``'s suffix) whole or not at all.

    The table goes to a temporary file in the same folder, which is then
    renamed over the target (an atomic rename on POSIX), so a reader never sees
    half a file and a failure leaves any earlier file in place. CSV text
    cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
    ``@`` ...) get a ``'`` prefix (:func:`riskmodel.io_safety.spreadsheet_safe`).
    ``.xlsx``: one sheet named after the file, its header row frozen, number
    formats by column, ISO dates as Excel dates, every text cell stored as text
    (never a formula), the same bytes for the same table
    (:func:`riskmodel.results.table_bytes`; ``kwargs`` do not apply).
    """
    p = Path(path)
    with atomic_path(p) as tmp:
        suffix = _suffixes(p)
        if suffix.endswith(".parquet"):
            df.to_parquet(tmp, index=False)
            return p
        if suffix.endswith(".xlsx"):
            tmp.write_bytes(table_bytes(df, p.name))
            return p
        df = spreadsheet_safe(df)  # a text cell like "=cmd|..." is written "'=cmd|..." (not run by a spreadsheet)
        if suffix.endswith(".gz"):
            # gzip.compress with mtime=0 writes no file name or time into the
            # header, so the same table gives the same bytes (pandas' gzip
            # writer records the temporary file's name)
            text = df.to_csv(index=False, lineterminator="\n", **kwargs)
            tmp.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
        else:
            df.to_csv(tmp, index=False, lineterminator="\n", **kwargs)
    return p
