"""Users' column headers -> riskmodel's: an explicit mapping, and the common Chinese headers.

A research base's workbook or a governance centre's export does not use
riskmodel's column names: it has 街道, 类别, 日期, 数量. :func:`map_columns`
renames a table's columns to the ones riskmodel needs, by two rules, and says
what it did:

1. **An explicit mapping** (``--columns 街道=area_id,类别=category`` on the
   command line, :func:`parse_columns`; a ``[data.columns]`` table in a study
   config) is applied first. Each header it names must be in the file and each
   target must be a column the table needs; anything else is refused, naming
   the header and the headers the file has.
2. **Built-in headers** (:data:`KNOWN_HEADERS`): a column riskmodel needs that
   is still absent is taken from a header that is one of its known names
   (exact match, ignoring surrounding spaces and, for Latin letters, case).
   Two known headers for one column (日期 and 月份) are refused as ambiguous,
   asking for an explicit mapping. A column already named as riskmodel names
   it is never replaced.

Every renaming is reported in one note (``read 街道 as area_id, ...``): the
commands print it and the study logs it. Nothing else is guessed: a header
that is neither mapped nor known stays as it is, and the validator names the
columns still missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from riskmodel.errors import InputError, Problem

KNOWN_HEADERS: dict[str, tuple[str, ...]] = {
    "area_id": ("街道", "街镇", "镇街", "街道办", "街道(镇)", "街道（镇）", "区域", "辖区", "地区", "区县", "区划代码",
                "area", "district", "borough"),
    "category": ("类别", "类型", "分类", "警情类别", "警情类型", "案件类别", "案件类型", "事件类别", "事件类型"),
    "period": ("日期", "时间", "期间", "统计日期", "统计时间", "统计期", "月份", "年月", "周", "date", "month", "week"),
    "count": ("数量", "件数", "起数", "次数", "总数", "计数", "警情数", "案件数", "事件数", "count", "n"),
}
"""Known headers of each counts column: Chinese headers seen in the sources' exports and common English ones."""

COUNTS_COLUMNS = ("area_id", "category", "period", "count")


def _key(header: object) -> str:
    return str(header).strip().lower()


def parse_columns(text: str | None, *, option: str = "--columns") -> dict[str, str]:
    """``"街道=area_id,类别=category"`` -> ``{"街道": "area_id", "类别": "category"}``.

    Raises
    ------
    InputError
        A term without ``=``, an empty side, or a header given twice.
    """
    if not text or not text.strip():
        return {}
    out: dict[str, str] = {}
    for term in text.replace("，", ",").split(","):
        if not term.strip():
            continue
        head, sep, target = term.partition("=")
        head, target = head.strip(), target.strip()
        if not sep or not head or not target:
            raise InputError(Problem(f"{option}: {term.strip()!r} is not HEADER=COLUMN "
                                     "(e.g. --columns 街道=area_id,类别=category,日期=period,数量=count)",
                                     column=option))
        if head in out:
            raise InputError(Problem(f"{option}: header {head!r} is mapped twice", column=option))
        out[head] = target
    return out


def map_columns(df: pd.DataFrame, wanted: Sequence[str] = COUNTS_COLUMNS,
                mapping: Mapping[str, str] | None = None, *, source: str = "the table",
                option: str = "--columns") -> tuple[pd.DataFrame, str]:
    """Rename ``df``'s columns to ``wanted`` by the rules of the module notes.

    Parameters
    ----------
    df : DataFrame
        The table as read (not modified).
    wanted : sequence of str
        The columns riskmodel needs of this table.
    mapping : mapping of str to str, optional
        User header -> riskmodel column.
    source : str
        The file, for messages.
    option : str
        Where ``mapping`` came from, for messages.

    Returns
    -------
    (DataFrame, str)
        The renamed table (a new frame; the same object when nothing was
        renamed) and the note (``""`` when nothing was renamed).

    Raises
    ------
    InputError
        A mapped header not in the file, a target riskmodel does not need,
        two headers for one column, or two known headers for one column.
    """
    headers = [str(c) for c in df.columns]
    rename: dict[str, str] = {}
    problems: list[Problem] = []
    for head, target in (mapping or {}).items():
        if target not in wanted:
            problems.append(Problem(f"{option}: {head}={target}: {target!r} is not a column riskmodel reads here; "
                                    f"valid: {', '.join(wanted)}", source=source, column=option))
        elif head not in headers:
            problems.append(Problem(f"{option}: header {head!r} is not in the file; its headers: "
                                    f"{', '.join(headers)}", source=source, column=option))
        elif target in rename.values():
            problems.append(Problem(f"{option}: two headers map to {target!r}", source=source, column=option))
        else:
            rename[head] = target
    if problems:
        raise InputError(problems)
    explicit = set(rename)
    have = {rename.get(h, h) for h in headers}
    for col in wanted:
        if col in have:
            continue
        known = {_key(k) for k in KNOWN_HEADERS.get(col, ())}
        found = [h for h in headers if h not in rename and _key(h) in known]
        if len(found) > 1:
            problems.append(Problem(
                f"the file has several headers riskmodel knows as {col!r} ({', '.join(found)}): say which with "
                f"{option} {found[0]}={col}", source=source, column=col))
        elif found:
            rename[found[0]] = col
            have.add(col)
    if problems:
        raise InputError(problems)
    if not rename:
        return df, ""
    # a mapped header whose target already exists under riskmodel's name would give two columns of one name
    clash = [t for h, t in rename.items() if t in headers and t != h]
    if clash:
        raise InputError(Problem(f"the file already has column(s) {', '.join(clash)}; map other headers to them only "
                                 "after renaming those", source=source, column=option))
    parts = [f"{h} as {t}" for h, t in rename.items()]
    if explicit == set(rename):
        how = "as mapped"
    else:
        how = "built-in headers" if not explicit else "as mapped, and by built-in headers for the rest"
    note = f"note: {source}: read {', '.join(parts)} ({how}; {option} to choose others)"
    return df.rename(columns=rename), note


__all__ = ["COUNTS_COLUMNS", "KNOWN_HEADERS", "map_columns", "parse_columns"]
