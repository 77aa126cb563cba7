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

from riskmodel.errors import InputError, Problem
from riskmodel.io_safety import atomic_path


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
    """Read a CSV (``.csv``, ``.csv.gz``, ``.tsv``) or Parquet file.

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
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise InputError(Problem(f"{what} file does not exist", source=name))
    if p.is_dir():
        raise InputError(Problem(f"{what} path is a folder, not a file", source=name))
    if p.stat().st_size == 0:
        raise InputError(Problem(f"{what} file is empty (0 bytes)", source=name))
    suffix = _suffixes(p)
    if suffix.endswith(".parquet") or suffix.endswith(".pq"):
        try:
            df = pd.read_parquet(p)
        except Exception as exc:  # pyarrow raises many types
            raise InputError(Problem(f"cannot read as Parquet: {exc}", source=name)) from None
        return _check_nonempty(df, name, what), TableSource(name=name)

    sep = "\t" if suffix.endswith(".tsv") else ","
    raw = p.read_bytes()
    if suffix.endswith(".gz"):
        import gzip

        try:
            raw = gzip.decompress(raw)
        except OSError as exc:
            raise InputError(Problem(f"not a valid gzip file: {exc}", source=name)) from None
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


def decode_text(raw: bytes, name: str) -> tuple[str, str, str | None]:
    """Decode bytes as UTF-8 (BOM allowed) or, failing that, GB18030 (GBK)."""
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
    """Write a DataFrame to CSV or Parquet whole or not at all.

    The table goes to a temporary file in the same folder, which is then
    renamed over the target (an atomic rename on POSIX), so a reader never sees
    half a file and a failure leaves any earlier file in place.
    """
    p = Path(path)
    with atomic_path(p) as tmp:
        suffix = _suffixes(p)
        if suffix.endswith(".parquet"):
            df.to_parquet(tmp, index=False)
        elif suffix.endswith(".gz"):
            # gzip.compress with mtime=0 writes no file name or time into the
            # header, so the same table gives the same bytes (pandas' gzip
            # writer records the temporary file's name)
            text = df.to_csv(index=False, lineterminator="\n", **kwargs)
            tmp.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
        else:
            df.to_csv(tmp, index=False, lineterminator="\n", **kwargs)
    return p
