"""Reading tables from Excel workbooks (``.xlsx``, ``.xls``): sheet choice, header rows, dates, numbers as text.

(Being built for issue 15, item 1: until then a workbook is refused with a clear message.)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskmodel.errors import InputError, Problem

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
"""File name endings read as Excel workbooks."""


def read_workbook(path: Path, *, sheet: str | None = None, what: str = "table",
                  dtype: dict[str, object] | None = None) -> tuple[pd.DataFrame, str | None]:
    """Read one sheet of a workbook as a table of strings; return it and a note (or None)."""
    raise InputError(Problem(f"cannot read {what} from an Excel workbook yet: save the sheet as CSV UTF-8",
                             source=str(path)))
