"""Outputs written whole or not at all, never over an input, and safe to open in a spreadsheet.

Every file riskmodel writes goes through :func:`atomic_path` (one file) or
:func:`atomic_dir` (a folder of outputs): the content is written to a temporary
sibling and renamed into place only when complete, so a failure never leaves a
half-written result. Ctrl-C during the renames is held until they are done
(:func:`_holding_interrupts`), so an interrupt never leaves half a folder either.

Inputs are never overwritten. :func:`refuse_overwriting_inputs` refuses, before
any work, an output path that is an input (symlinks and hard links included) or
lies inside an input folder; the command line calls it for every command
(``riskmodel.cli``). Paths registered with :func:`protecting_inputs` are also
checked when a write commits (an output folder's file names are known only
then): a commit that would replace one is refused and writes nothing.
:func:`check_writable` refuses an output path under a regular file or in a folder
that cannot be written, before any work.

:func:`spreadsheet_safe` prefixes text cells that a spreadsheet would run as a
formula (OWASP's advice on CSV injection); every CSV riskmodel writes passes
through it (:func:`csv_text`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from riskmodel.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

PathLike = str | os.PathLike[str]

_COMMITTED: list[Path] = []
"""Every file this process put in place, in order (for the message after Ctrl-C)."""

_PROTECTED: list[tuple[str, Path]] = []
"""(what, path) of the inputs being read, registered by :func:`protecting_inputs`."""


def written_files() -> list[Path]:
    """The files this process has put in place so far (whole), oldest first."""
    return list(_COMMITTED)


# ------------------------------------------------------------------ interrupts
@contextlib.contextmanager
def _holding_interrupts() -> Iterator[None]:
    """Hold SIGINT (Ctrl-C) during a commit; raise the KeyboardInterrupt after it.

    Only in the main thread and only when Python's default handler is installed
    (elsewhere the block runs as is).
    """
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001 - signal handler signature
        received.append(signum)

    signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if received:
            raise KeyboardInterrupt


# ------------------------------------------------------------------ atomic writers
@contextlib.contextmanager
def atomic_path(target: PathLike) -> Iterator[Path]:
    """Yield a temporary path; on success rename it to ``target``.

    The temporary file keeps the target's suffixes so that writers that look
    at the extension (Parquet, gzip) behave the same. The rename is refused
    (:class:`InputError`, nothing written) when ``target`` is an input being read
    (:func:`protecting_inputs`) or an existing folder.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix="".join(target.suffixes) + ".tmp", dir=target.parent
        )
    except OSError as exc:
        raise InputError(Problem(f"cannot write {target}: {exc.strerror or exc}", source=str(target))) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _refuse_replacing([target])
        if target.is_dir() and not target.is_symlink():
            raise InputError(Problem("is a folder; a file was to be written there", source=str(target)))
        # mkstemp makes the file private (0600); give it the usual permissions
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with _holding_interrupts():
            os.replace(tmp, target)
            _COMMITTED.append(target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_dir(target: PathLike) -> Iterator[Path]:
    """Yield a temporary folder; on success its files replace those in ``target``.

    Files are moved one by one into ``target`` (created if needed) only after
    the whole block succeeded, with Ctrl-C held until the last one is in
    place; on failure nothing in ``target`` changes. A file that would replace
    an input being read (:func:`protecting_inputs`) is refused before any is moved.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise InputError(Problem(f"cannot write {target}: {exc.strerror or exc}", source=str(target))) from None
    try:
        yield tmp
        files = [src for src in sorted(tmp.rglob("*")) if not src.is_dir()]
        _refuse_replacing([target / src.relative_to(tmp) for src in files])
        umask = os.umask(0)
        os.umask(umask)
        with _holding_interrupts():
            target.mkdir(parents=True, exist_ok=True)
            for src in files:
                dest = target / src.relative_to(tmp)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(src, 0o666 & ~umask)
                os.replace(src, dest)
                _COMMITTED.append(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------ inputs are never overwritten
def _real(p: PathLike) -> str:
    return os.path.realpath(os.path.abspath(os.fspath(p)))


def _inside(path: str, folder: str) -> bool:
    return path != folder and path.startswith(folder.rstrip(os.sep) + os.sep)


def _same_file(a: PathLike, b: PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _clash(output: PathLike, inp: PathLike) -> str | None:
    """How writing ``output`` would destroy the input ``inp`` (None if it would not)."""
    if not os.path.lexists(inp):
        return None
    out_real, in_real = _real(output), _real(inp)
    if out_real == in_real or (os.path.lexists(output) and _same_file(output, inp)):
        return "is"
    if os.path.isdir(in_real) and _inside(out_real, in_real):
        return "inside"
    return None


def _items(paths: Mapping[str, Any] | Iterable[Any]) -> list[tuple[str, Path]]:
    """(what, path) pairs from a mapping of option -> path(s), or from paths alone."""
    pairs = paths.items() if isinstance(paths, Mapping) else ((None, p) for p in paths)
    out: list[tuple[str, Path]] = []
    for what, value in pairs:
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            if v is not None and str(v) != "":
                out.append((what or str(v), Path(v)))
    return out


def refuse_overwriting_inputs(outputs: Mapping[str, Any] | Iterable[Any],
                              inputs: Mapping[str, Any] | Iterable[Any]) -> None:
    """Refuse outputs that would overwrite an input, before any work.

    Parameters
    ----------
    outputs, inputs : mapping of what -> path (or list of paths), or paths
        ``what`` names the path in the message (an option such as ``--out``, or
        a config key). Inputs that do not exist are skipped (their reader names them).

    Raises
    ------
    InputError
        One problem per output that resolves to an input file (through symlinks
        and hard links) or lies inside an input folder.
    """
    ins = _items(inputs)
    problems = []
    for out_what, out in _items(outputs):
        for in_what, inp in ins:
            how = _clash(out, inp)
            if how == "is":
                problems.append(Problem(
                    f"{out_what} is the input file given to {in_what} ({inp}); riskmodel never overwrites "
                    "its inputs: choose another output path", source=str(out)))
            elif how == "inside":
                problems.append(Problem(
                    f"{out_what} lies inside the input folder given to {in_what} ({inp}); riskmodel never "
                    "writes into a folder it reads: choose another output path", source=str(out)))
    if problems:
        raise InputError(problems)


@contextlib.contextmanager
def protecting_inputs(inputs: Mapping[str, Any] | Iterable[Any]) -> Iterator[None]:
    """While the block runs, a commit of :func:`atomic_path` or :func:`atomic_dir`
    that would replace one of ``inputs`` (or write inside an input folder) is refused."""
    added = [(what, p) for what, p in _items(inputs) if os.path.lexists(p)]
    _PROTECTED.extend(added)
    try:
        yield
    finally:
        for item in added:
            _PROTECTED.remove(item)


def _refuse_replacing(dests: list[Path]) -> None:
    """InputError if a rename onto one of ``dests`` would replace a protected input."""
    if not _PROTECTED:
        return
    problems = []
    for dest in dests:
        # the rename replaces the entry dest names in its (resolved) folder, not a symlink's target
        entry = os.path.join(_real(dest.parent), dest.name)
        for what, inp in _PROTECTED:
            in_real = _real(inp)
            if entry == in_real or _inside(entry, in_real) and os.path.isdir(in_real):
                problems.append(Problem(
                    f"this output would replace the input given to {what} ({inp}); nothing was written",
                    source=str(dest)))
    if problems:
        raise InputError(problems)


def check_writable(path: PathLike, what: str = "--out") -> None:
    """Refuse, before any work, an output path that cannot be written.

    The path's nearest existing folder must be a folder (not a regular file)
    that this process may write in; an existing output folder must be writable.

    Raises
    ------
    InputError
        Naming ``what`` and the path.
    """
    p = Path(os.path.abspath(os.fspath(path)))
    if p.is_dir() and not os.access(p, os.W_OK | os.X_OK):
        raise InputError(Problem(f"{what}: folder {p} cannot be written in (permission denied)", source=str(path)))
    for anc in p.parents:
        if not os.path.lexists(anc):
            continue
        if not anc.is_dir():
            raise InputError(Problem(f"{what}: {anc} is a file, not a folder, so nothing can be written under it",
                                     source=str(path)))
        if not os.access(anc, os.W_OK | os.X_OK):
            raise InputError(Problem(f"{what}: folder {anc} cannot be written in (permission denied)",
                                     source=str(path)))
        # access() says yes to root everywhere and knows nothing of read-only or special file systems
        # (/proc, a read-only mount): make and remove a probe folder where the output will be made
        try:
            tempfile.TemporaryDirectory(prefix=".riskmodel-probe.", dir=anc).cleanup()
        except OSError as exc:
            raise InputError(Problem(f"{what}: folder {anc} cannot be written in ({exc.strerror or exc})",
                                     source=str(path))) from None
        return


# ------------------------------------------------------------------ spreadsheet-safe CSV
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection)."""

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?%?$|^[+-]?(inf|infinity|nan)$", re.IGNORECASE)


def _unsafe(v: object) -> bool:
    return isinstance(v, str) and v.startswith(FORMULA_STARTS) and not _NUMBER.match(v.strip())


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every formula-like text cell (and column name) prefixed with ``'``.

    A text cell is formula-like when it begins with ``=``, ``+``, ``-``, ``@``, a
    tab or a carriage return and is not a number written as text (``-3``,
    ``+1.5e3``, ``-35.4%``); numeric columns are never changed. The prefix makes
    Excel, LibreOffice and Google Sheets show the text instead of running it.
    Returns ``df`` itself when nothing needs a prefix (no copy).
    """
    import pandas as pd

    cols = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
    changed: dict[Any, pd.Series] = {}
    for c in cols:
        col = df[c]
        if isinstance(col, pd.DataFrame):  # repeated column names: left as they are
            continue
        try:  # a quick first pass on the first character, then the exact rule on those rows
            mask = col.str.startswith(FORMULA_STARTS, na=False).astype(bool)
        except AttributeError:  # no text in the column
            continue
        if mask.any():
            mask[mask] = col[mask].map(_unsafe).astype(bool)
        if mask.any():
            fixed = col.astype(object).copy()
            fixed[mask] = "'" + fixed[mask].astype(str)
            changed[c] = fixed
    rename = {c: "'" + c for c in df.columns if _unsafe(c)}
    if not changed and not rename:
        return df
    out = df.copy()
    for c, col in changed.items():
        out[c] = col
    return out.rename(columns=rename) if rename else out


def csv_text(df: pd.DataFrame, **to_csv: Any) -> str:  # noqa: ANN401 - pandas' keywords
    """``df`` as CSV text, spreadsheet-safe (:func:`spreadsheet_safe`), ``index=False`` and
    ``\\n`` line ends unless ``to_csv`` says otherwise."""
    kw: dict[str, Any] = {"index": False, "lineterminator": "\n", **to_csv}
    return spreadsheet_safe(df).to_csv(**kw)


# -- database URLs: told from file paths, and shown without their password (one rule for every layer:
# the data readers, the command line, MLflow params and tags, the team server)
_DB_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_SECRET_PARAMS = ("password", "passwd", "pwd", "sslpassword")


def is_database_url(text: object) -> bool:
    """Whether ``text`` is a database URL (``scheme://...``) rather than a file path."""
    return isinstance(text, str) and bool(_DB_URL.match(text))


def redacted(url: str | os.PathLike[str]) -> str:
    """``url`` fit to show: its password replaced by ``***`` (anything not a URL is returned as text, as is).

    The password of the user part (``user:PASSWORD@host``) and the values of
    password parameters (``?password=...``) become ``***``; ``${VAR}``
    placeholders elsewhere are kept as written, never expanded. When the URL has
    several ``@`` before its query, everything up to the last one counts as the
    user part (a password with an unencoded ``@`` is still hidden).
    """
    from urllib.parse import unquote

    text = os.fspath(url)
    if not is_database_url(text):
        return text
    scheme, _, rest = text.partition("://")
    head, sep, query = rest.partition("?")
    if "@" in head:
        user, _, host = head.rpartition("@")
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        head = f"{user}@{host}"
    if sep:
        parts = []
        for item in query.split("&"):
            key, eq, _value = item.partition("=")
            parts.append(f"{key}=***" if eq and unquote(key).lower() in _SECRET_PARAMS else item)
        query = "&".join(parts)
    return f"{scheme}://{head}{sep}{query}"


EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
"""File name endings read as Excel workbooks (:mod:`riskmodel.data.excel`)."""


def split_sheet(path: str | os.PathLike[str]) -> tuple[Path, str | None]:
    """``"book.xlsx#计数"`` -> ``(Path("book.xlsx"), "计数")``; any other path -> ``(path, None)``.

    A sheet is chosen by writing its name (or its 1-based position) after ``#``
    following the workbook's name; only Excel file names are split, and only
    when the path as written does not exist.
    """
    text = os.fspath(path)
    if "#" in text and not Path(text).exists():
        # the first "#" right after an Excel ending: a sheet name may itself hold "#" ("book.xlsx#表#2")
        low = text.lower()
        cuts = [i + len(s) for s in EXCEL_SUFFIXES if (i := low.find(s + "#")) >= 0]
        if cuts:
            cut = min(cuts)
            return Path(text[:cut]), text[cut + 1:]
    return Path(text), None


def source_label(source: str | os.PathLike[str], width: int = 80) -> str:
    """An input's name fit for a caption: a database URL redacted (:func:`redacted`), the URL-encoded query
    decoded, and cut to ``width`` characters with an ellipsis; a file path as it is."""
    from urllib.parse import unquote_plus

    text = os.fspath(source)
    if not is_database_url(text):
        return text
    shown = unquote_plus(redacted(text))
    return shown if len(shown) <= width else shown[: width - 1] + "…"


__all__ = [
    "FORMULA_STARTS",
    "is_database_url",
    "redacted",
    "source_label",
    "EXCEL_SUFFIXES",
    "split_sheet",
    "atomic_dir",
    "atomic_path",
    "check_writable",
    "csv_text",
    "protecting_inputs",
    "refuse_overwriting_inputs",
    "spreadsheet_safe",
    "written_files",
]
