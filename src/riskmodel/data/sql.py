"""Reading tables from databases: a SQLAlchemy URL plus a table or a query.

Any input riskmodel reads as a table (counts, areas, population, events...) can
be a database URL instead of a file::

    postgresql://analyst@db.example.org/city?table=alerts          a table
    postgresql://analyst@db.example.org/city?table=police.alerts   a table in a schema
    postgresql://analyst@db.example.org/city?query=SELECT%20...     a query (URL-encoded)
    sqlite:///data/city.db?table=counts                            a SQLite file

``table`` and ``query`` are riskmodel's own parameters: they are taken off the
URL before SQLAlchemy sees it; every other parameter (``sslmode=require``...)
goes to the driver. ``postgresql://`` is opened with psycopg2 when psycopg 3 is
not installed.

Credentials come from the environment, never from riskmodel's output: the URL
may leave the password out (libpq's ``PGPASSWORD`` and ``~/.pgpass`` then apply
for PostgreSQL) or write it as a ``${VAR}`` placeholder, expanded from the
environment at connection time (an unset variable is refused by name). Every
message shows :func:`redacted` (the password as ``***``, placeholders as
written), and driver messages are scrubbed of the password before they are
shown.

Safety: a table name is quoted by SQLAlchemy (never formatted into SQL); a
query must be one ``SELECT`` or ``WITH`` statement, and it runs in a read-only
transaction on PostgreSQL (``SET TRANSACTION READ ONLY``) and on a read-only
connection on SQLite (the file is opened with ``mode=ro``, so a missing file is
refused, not created); on other backends only the one-SELECT rule applies, so
give riskmodel a database user that can only read.

Values come back as text, as the CSV reader gives them (so validation, not the
database driver, decides what is wrong): a ``DATE`` as ``2020-01-01``, an
integer as ``3``, a ``NUMERIC`` as written, ``NULL`` as missing.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from riskmodel.errors import InputError, Problem
from riskmodel.io_safety import is_database_url, redacted

if TYPE_CHECKING:  # pandas and SQLAlchemy are imported where used: the CLI's start stays fast
    import pandas as pd

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_OWN_PARAMS = ("table", "query")
_SECRET_PARAMS = ("password", "passwd", "pwd", "sslpassword")  # as in riskmodel.io_safety.redacted
_NOT_DATABASES = ("http", "https", "ftp", "s3", "gs", "gcs", "az", "abfs", "file", "hdfs")
CONNECT_TIMEOUT = 10
"""Seconds to wait for a PostgreSQL server to answer, unless the URL (``connect_timeout=``) or
``PGCONNECT_TIMEOUT`` says otherwise."""
DEFAULT_CHUNKSIZE = 500_000
"""Rows fetched from the database per chunk (the rows of one DataFrame of :func:`iter_sql_chunks`)."""


def _refuse(url: str, reason: str) -> InputError:
    return InputError(Problem(reason, source=redacted(url)))


def _expand(text: str | None, url: str, secrets: list[str]) -> str | None:
    """``text`` with its ``${VAR}`` placeholders replaced from the environment (values added to ``secrets``)."""
    if text is None or "${" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        value = os.environ.get(name)
        if value is None:
            raise _refuse(url, f"environment variable {name} is not set (the URL's ${{{name}}} placeholder)")
        secrets.append(value)
        return value

    return _VAR.sub(one, text)


def _scrub(message: str, secrets: list[str]) -> str:
    """A driver's message on one line, with every secret (and PGPASSWORD's value) replaced by ``***``."""
    hidden = [s for s in secrets if s]
    env = os.environ.get("PGPASSWORD")
    if env:
        hidden.append(env)
    for s in sorted(set(hidden), key=len, reverse=True):
        message = message.replace(s, "***")
    message = re.sub(r"\(Background on this error at:[^)]*\)", "", message)
    message = re.split(r"\n\s*LINE \d+:", message, maxsplit=1)[0]  # PostgreSQL's echo of the statement
    return " ".join(message.split()).rstrip(" .;:")


class _Target:
    """A parsed database URL: the SQLAlchemy URL to connect with, and the table or query to read."""

    def __init__(self, url: str):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        self.url = url
        scheme = url.split("://", 1)[0].lower()
        if scheme in _NOT_DATABASES:
            raise _refuse(url, f"{scheme}:// is not a database URL; riskmodel reads local files and databases "
                               "(postgresql://USER@HOST/DB?table=NAME, sqlite:///PATH.db?table=NAME): "
                               "download the file first")
        try:
            sa_url = make_url(url)
        except (ArgumentError, ValueError) as exc:
            raise _refuse(url, f"not a valid database URL ({_scrub(str(exc), [])}); expected e.g. "
                               "postgresql://USER@HOST:5432/DB?table=NAME") from None
        own = {k: sa_url.query.get(k) for k in _OWN_PARAMS}
        for k, v in own.items():
            if isinstance(v, tuple):
                raise _refuse(url, f"the URL gives '{k}' {len(v)} times; give it once")
        self.table: str | None = own["table"]  # type: ignore[assignment]
        self.query: str | None = own["query"]  # type: ignore[assignment]
        if bool(self.table) == bool(self.query):
            raise _refuse(url, "a database URL needs a table or a query, not both nor neither: add ?table=NAME "
                               "(or schema.NAME), or ?query=SELECT... (URL-encoded)")
        self.secrets: list[str] = []
        if sa_url.password is not None:
            self.secrets.append(str(sa_url.password))
        ex = lambda s: _expand(s, url, self.secrets)  # noqa: E731 - one closure over the URL and the secrets
        query = {k: (tuple(ex(x) for x in v) if isinstance(v, tuple) else ex(v))
                 for k, v in sa_url.query.items() if k not in _OWN_PARAMS}
        password = ex(None if sa_url.password is None else str(sa_url.password))
        sa_url = sa_url.set(username=ex(sa_url.username), password=password, host=ex(sa_url.host),
                            database=ex(sa_url.database), query=query)
        if password:
            self.secrets.append(password)
        for k, v in sa_url.query.items():  # secrets given as parameters (?password=...)
            if k.lower() in _SECRET_PARAMS:
                self.secrets.extend(v if isinstance(v, tuple) else [v])
        if self.table:
            self.table = _expand(self.table, url, [])
        if self.query:
            self.query = check_query(self.query, url)
        self.backend = sa_url.get_backend_name()
        if self.backend == "postgresql" and sa_url.drivername in ("postgresql", "postgres"):
            import importlib.util

            if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2") is not None:
                sa_url = sa_url.set(drivername="postgresql+psycopg2")
        self.sa_url = sa_url

    def engine(self):  # noqa: ANN201 - a SQLAlchemy Engine (imported lazily)
        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool

        try:
            if self.backend == "sqlite":
                return self._sqlite_engine()
            connect_args: dict[str, Any] = {}
            if (self.backend == "postgresql" and "connect_timeout" not in self.sa_url.query
                    and not os.environ.get("PGCONNECT_TIMEOUT")):
                # a host that drops packets answers after the system's TCP timeout (minutes) otherwise
                connect_args["connect_timeout"] = CONNECT_TIMEOUT
            return sa.create_engine(self.sa_url, poolclass=NullPool, hide_parameters=True, connect_args=connect_args)
        except InputError:
            raise
        except sa.exc.NoSuchModuleError:
            raise _refuse(self.url, f"unknown kind of database {self.sa_url.drivername!r} (SQLAlchemy has no dialect "
                                    "of that name); e.g. postgresql://, sqlite:///") from None
        except ImportError as exc:
            raise _refuse(self.url, f"no database driver for {self.sa_url.drivername}:// is installed "
                                    f"({_scrub(str(exc), self.secrets)})") from None
        except (sa.exc.ArgumentError, TypeError, ValueError) as exc:
            raise _refuse(self.url, f"cannot open the database: {_scrub(str(exc), self.secrets)}") from None

    def _sqlite_engine(self):  # noqa: ANN202 - a SQLAlchemy Engine
        import sqlite3
        from pathlib import Path

        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool

        db = self.sa_url.database
        if not db or db == ":memory:":
            raise _refuse(self.url, "an in-memory SQLite database holds no data: give the file, "
                                    "sqlite:///relative/path.db or sqlite:////absolute/path.db")
        path = Path(db).expanduser()
        if not path.is_file():
            raise _refuse(self.url, f"SQLite database file {str(path)!r} "
                                    f"{'is a folder' if path.is_dir() else 'does not exist'}")
        # read-only: a SQLite file is an input, never modified (mode=ro also refuses any write a query tries)
        uri = path.resolve().as_uri() + "?mode=ro"
        return sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True),
                                poolclass=NullPool, hide_parameters=True)

    def execute(self, conn: Any, chunksize: int) -> Any:  # noqa: ANN401 - SQLAlchemy objects
        """Run the SELECT, rows streamed: the user's query as written, or ``SELECT * FROM <quoted table>``."""
        streamed = conn.execution_options(stream_results=True, max_row_buffer=chunksize)
        if self.query:
            # to the driver as written (no_parameters: a ':name' or a '%' in it is SQL, not a placeholder)
            return streamed.execution_options(no_parameters=True).exec_driver_sql(self.query)
        return streamed.execute(self.table_select(conn))

    def table_select(self, conn: Any) -> Any:  # noqa: ANN401 - SQLAlchemy objects
        """``SELECT * FROM <table>``, the name quoted by the dialect; InputError when there is no such table."""
        import sqlalchemy as sa

        assert self.table is not None
        schema, _, name = self.table.rpartition(".") if "." in self.table else ("", "", self.table)
        insp = sa.inspect(conn)
        where = schema or None
        if not insp.has_table(name, schema=where) and name not in insp.get_view_names(schema=where):
            tables = sorted(insp.get_table_names(schema=where))
            near = [t for t in tables if t.lower() == name.lower()]
            if near:
                hint = f"; did you mean {near[0]!r}? (names are case-sensitive)"
            elif tables:
                hint = f"; tables there: {', '.join(tables[:12])}{' ...' if len(tables) > 12 else ''}"
            else:
                hint = "; the database has no tables" + (f" in schema {schema!r}" if schema else "")
            raise _refuse(self.url, f"no table {self.table!r} in the database{hint}")
        return sa.select(sa.literal_column("*")).select_from(sa.table(name, schema=schema or None))


def check_query(query: str, url: str = "") -> str:
    """``query`` if it is one ``SELECT`` or ``WITH`` statement (a trailing ``;`` dropped), else InputError.

    A ``;`` anywhere else (even inside a string literal) is refused: riskmodel
    runs exactly one statement and does not parse SQL to tell the cases apart.
    """
    q = query.strip()
    while q.endswith(";"):
        q = q[:-1].rstrip()
    first = re.match(r"\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*([A-Za-z]+)", q, re.S)
    if not first or first.group(1).upper() not in ("SELECT", "WITH"):
        word = first.group(1).upper() if first else (q[:20] or "an empty query")
        raise _refuse(url, f"the query must be one SELECT (or WITH ... SELECT) statement; it starts with {word}: "
                           "riskmodel only reads")
    if ";" in q:
        raise _refuse(url, "the query holds more than one statement (a ';' inside it): give one SELECT")
    return q


def _text(value: object) -> object:
    """One database value as the text the CSV reader would give (None for NULL)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return None if value != value else repr(value)
    if isinstance(value, decimal.Decimal):
        return None if value.is_nan() else format(value, "f")
    if isinstance(value, dt.datetime):
        return str(value)  # 2020-01-01 08:30:00 (as pandas writes a timestamp to CSV)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def _frame(columns: list[str], rows: list[Any]) -> pd.DataFrame:
    import pandas as pd

    # our own conversion, not pandas.read_sql's: its inference turns an INTEGER column with a NULL into
    # floats ("3.0") and a DATE into objects; here every value becomes the text the CSV path gives
    data = {i: [_text(r[i]) for r in rows] for i in range(len(columns))}
    df = pd.DataFrame(data, dtype=str) if rows else pd.DataFrame({i: pd.Series([], dtype=str)
                                                                  for i in range(len(columns))})
    df.columns = columns
    return df


def iter_sql_chunks(url: str, *, chunksize: int = DEFAULT_CHUNKSIZE, what: str = "events") -> Iterator[pd.DataFrame]:
    """Read the table or query of ``url`` in chunks of at most ``chunksize`` rows.

    Rows stream from the server (a server-side cursor on PostgreSQL,
    ``stream_results=True``), so memory holds one chunk at a time.

    Parameters
    ----------
    url : str
        A SQLAlchemy URL with ``?table=NAME`` (or ``schema.NAME``) or
        ``?query=SELECT...`` (URL-encoded); see the module notes.
    chunksize : int
        Rows per chunk (>= 1).
    what : str
        What the table is ("events", "counts"), for messages.

    Yields
    ------
    DataFrame
        Every column as text (``str`` dtype, NULL as missing), the columns as
        the database names them. At least one frame (with no rows when the
        table is empty).

    Raises
    ------
    InputError
        The URL is malformed or names no table or query, a ``${VAR}`` is unset,
        no driver is installed, the connection fails (host, password, database),
        the table does not exist, the query is not one SELECT or fails. The
        message names :func:`redacted` URL and the reason on one line.
    """
    import sqlalchemy as sa

    if chunksize < 1:
        raise _refuse(url, f"chunk size must be >= 1, got {chunksize}")
    target = _Target(url)
    engine = target.engine()
    stage = "connect to the database"
    try:
        with engine.connect() as conn:
            if target.backend == "postgresql":
                conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            elif target.backend == "sqlite":
                conn.exec_driver_sql("PRAGMA query_only = ON")
            stage = f"read {what}"
            result = target.execute(conn, chunksize)
            columns = [str(c).strip() for c in result.keys()]
            sent = False
            while rows := result.fetchmany(chunksize):
                sent = True
                yield _frame(columns, rows)
            if not sent:
                yield _frame(columns, [])
    except InputError:
        raise
    except sa.exc.DBAPIError as exc:
        raise _refuse(url, f"cannot {stage}: {_scrub(str(exc.orig), target.secrets)}") from None
    except sa.exc.SQLAlchemyError as exc:
        raise _refuse(url, f"cannot {stage}: {_scrub(str(exc), target.secrets)}") from None
    finally:
        engine.dispose()


def read_sql_source(url: str, *, what: str = "table") -> tuple[pd.DataFrame, str | None]:
    """Read the whole table or query of ``url`` (chunk by chunk); return it and a note (None).

    See :func:`iter_sql_chunks` for the URL, the text form of the values and
    the errors; a table or query without rows is refused too.
    """
    import pandas as pd

    chunks = list(iter_sql_chunks(url, what=what))
    df = chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)
    if len(df) == 0:
        kind = "query returned" if "query=" in url else "table has"
        raise _refuse(url, f"no {what} to read: the {kind} no rows (columns: {', '.join(map(str, df.columns))})")
    return df, None


__all__ = ["CONNECT_TIMEOUT", "DEFAULT_CHUNKSIZE", "check_query", "is_database_url", "iter_sql_chunks", "read_sql_source", "redacted"]
