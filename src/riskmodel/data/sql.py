"""Reading tables from databases: a SQLAlchemy URL plus a table or a query.

(Being built for issue 15, item 3: until then a database URL is refused with a clear message.)
"""

from __future__ import annotations

import re

import pandas as pd

from riskmodel.errors import InputError, Problem

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def is_database_url(text: object) -> bool:
    """Whether ``text`` is a database URL (``scheme://...``) rather than a file path."""
    return isinstance(text, str) and bool(_URL.match(text))


def read_sql_source(url: str, *, what: str = "table") -> tuple[pd.DataFrame, str | None]:
    """Read a table or query result given by ``url``; return it and a note (or None)."""
    raise InputError(Problem(f"cannot read {what} from a database yet", source="database URL"))
