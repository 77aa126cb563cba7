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

**The Nixtla long format** (statsforecast, mlforecast, neuralforecast:
``unique_id, ds, y``) is read as a counts table when the file has all three
headers. A statsforecast ``unique_id`` is one opaque series id, so by default
it is read as it is:

- ``unique_id`` -> ``area_id``, and every series gets the category ``all``
  (one series per ``unique_id``, as statsforecast has it); a ``category``
  column in the file is used instead when present;
- ``ds`` -> ``period`` (dates or timestamps: a Parquet ``ds`` of midnight
  timestamps reads as dates; month-end or Sunday dates, pandas' ``M``/``W``
  defaults, are refused by the frequency rule with the pointer to
  ``--freq M --align-dates``);
- ``y`` -> ``count``: a ``y`` that is not a whole number >= 0 is refused by
  the validator, naming the rows (``3.0`` is a whole number; ``2.5`` is not);
- any other column (statsforecast's exogenous variables) is ignored, and the
  note names it.

``--columns unique_id=area_id/category`` splits each id on the separator
written between the two targets (here ``/``, the one
:meth:`~riskmodel.data.IncidentPanel.to_nixtla` and hierarchicalforecast
use; any run of characters other than letters, digits, ``_``, ``=`` and
``,``) into area and category; an id that does not split into exactly two
non-empty parts is refused, naming its rows. The split works for any header
(``--columns series=category|area_id``). A file with both a Nixtla column and
the riskmodel column it would become (``ds`` and ``period``) is refused as
ambiguous. Everything decided is said in the one note.
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

COLUMNS_READ = "columns_read"
"""Key of ``DataFrame.attrs`` on :func:`map_columns`'s renamed table: ``{header: target}`` as ``--columns`` would
say it (``{"街道": "area_id", "unique_id": "area_id/category"}``), since the table's columns need not match the
file's one to one (a Nixtla table gains ``category`` and loses its exogenous columns)."""

NIXTLA_COLUMNS = {"unique_id": "area_id", "ds": "period", "y": "count"}
"""The Nixtla long format's columns and the counts columns they are read as (module notes)."""
NIXTLA_CATEGORY = "all"
"""The category of every series of a Nixtla table without a category (``unique_id`` not split)."""


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
        User header -> riskmodel column, or -> two columns and a separator
        (``unique_id -> "area_id/category"``: split each value in two).
    source : str
        The file, for messages.
    option : str
        Where ``mapping`` came from, for messages.

    Returns
    -------
    (DataFrame, str)
        The renamed table (a new frame; the same object when nothing was
        renamed) and the note (``""`` when nothing was renamed). The new
        frame's ``attrs[COLUMNS_READ]`` is the mapping applied, as
        ``--columns`` would say it.

    Raises
    ------
    InputError
        A mapped header not in the file, a target riskmodel does not need,
        two headers for one column, two known headers for one column, a
        value that does not split in two, or a Nixtla column beside the
        riskmodel column it would become.
    """
    headers = [str(c) for c in df.columns]
    rename: dict[str, str] = {}
    splits: dict[str, tuple[str, str, str]] = {}
    problems: list[Problem] = []
    for head, target in (mapping or {}).items():
        split = _split_target(target, wanted)
        taken = set(rename.values()) | {t for s in splits.values() for t in s[::2]}
        if split is not None and head not in headers:
            problems.append(Problem(f"{option}: header {head!r} is not in the file; its headers: "
                                    f"{', '.join(headers)}", source=source, column=option))
        elif split is not None:
            if set(split[::2]) & taken:
                problems.append(Problem(f"{option}: two headers map to {split[0]!r} or {split[2]!r}",
                                        source=source, column=option))
            splits[head] = split
        elif target not in wanted:
            problems.append(Problem(f"{option}: {head}={target}: {target!r} is not a column riskmodel reads here; "
                                    f"valid: {', '.join(wanted)}", source=source, column=option))
        elif head not in headers:
            problems.append(Problem(f"{option}: header {head!r} is not in the file; its headers: "
                                    f"{', '.join(headers)}", source=source, column=option))
        elif target in taken:
            problems.append(Problem(f"{option}: two headers map to {target!r}", source=source, column=option))
        else:
            rename[head] = target
    if problems:
        raise InputError(problems)
    explicit = set(rename) | set(splits)
    have = {rename.get(h, h) for h in headers if h not in splits} | {t for s in splits.values() for t in s[::2]}
    nixtla = _is_nixtla(headers, wanted)
    for head, col in (_nixtla_columns(headers, explicit, have, source, option) if nixtla else {}).items():
        rename[head] = col
        have.add(col)
    for col in wanted:
        if col in have:
            continue
        known = {_key(k) for k in KNOWN_HEADERS.get(col, ())}
        found = [h for h in headers if h not in rename and h not in splits and _key(h) in known]
        if len(found) > 1:
            problems.append(Problem(
                f"the file has several headers riskmodel knows as {col!r} ({', '.join(found)}): say which with "
                f"{option} {found[0]}={col}", source=source, column=col))
        elif found:
            rename[found[0]] = col
            have.add(col)
    if problems:
        raise InputError(problems)
    # a mapped header whose target already exists under riskmodel's name would give two columns of one name
    targets = [(h, t) for h, t in rename.items()] + [(h, t) for h, s in splits.items() for t in s[::2]]
    clash = [t for h, t in targets if t in headers and t != h and t not in splits]
    if clash:
        raise InputError(Problem(f"the file already has column(s) {', '.join(clash)}; map other headers to them only "
                                 "after renaming those", source=source, column=option))
    read = {**rename, **{h: "".join(s) for h, s in splits.items()}}
    if nixtla:
        out, note = _read_nixtla(df, rename, splits, source, option)
    elif splits:
        out = _apply_splits(df.rename(columns=rename), splits, source, option)
        parts = [f"{h} as {t}" for h, t in rename.items()] + [f"{h} split on {s[1]!r} into {s[0]} and {s[2]}"
                                                             for h, s in splits.items()]
        how = "as mapped" if explicit == set(rename) | set(splits) else "as mapped, and by built-in headers for the rest"
        note = f"note: {source}: read {', '.join(parts)} ({how}; {option} to choose others)"
    elif not rename:
        return df, ""
    else:
        parts = [f"{h} as {t}" for h, t in rename.items()]
        if explicit == set(rename):
            how = "as mapped"
        else:
            how = "built-in headers" if not explicit else "as mapped, and by built-in headers for the rest"
        note = f"note: {source}: read {', '.join(parts)} ({how}; {option} to choose others)"
        out = df.rename(columns=rename)
    # what was read as what, as an explicit mapping would say it: the same table is read from it alone
    out.attrs = {**out.attrs, COLUMNS_READ: read}
    return out, note


def _split_target(target: str, wanted: Sequence[str]) -> tuple[str, str, str] | None:
    """``"area_id/category"`` -> ``("area_id", "/", "category")``; None when ``target`` is not two columns and a separator."""
    for first in wanted:
        for second in wanted:
            if first == second or not (target.startswith(first) and target.endswith(second)):
                continue
            sep = target[len(first):len(target) - len(second)]
            if sep and not any(ch.isalnum() or ch in "_=," for ch in sep):
                return first, sep, second
    return None


def _is_nixtla(headers: list[str], wanted: Sequence[str]) -> bool:
    """A counts table with the Nixtla long format's three headers."""
    keys = {_key(h) for h in headers}
    return set(COUNTS_COLUMNS) <= set(wanted) and all(k in keys for k in NIXTLA_COLUMNS)


def _nixtla_columns(headers: list[str], explicit: set[str], have: set[str], source: str,
                    option: str) -> dict[str, str]:
    """Nixtla header -> counts column, for those of a Nixtla table that no explicit mapping names (module notes)."""
    found = {_key(h): h for h in headers}
    out: dict[str, str] = {}
    clashes: list[str] = []
    for key, col in NIXTLA_COLUMNS.items():
        head = found[key]
        if head in explicit:
            continue
        if col in have:
            clashes.append(f"{head} and {col}")
        else:
            out[head] = col
    if clashes:
        raise InputError(Problem(
            f"the file has both the Nixtla long format's columns (unique_id, ds, y) and riskmodel's: "
            f"{'; '.join(clashes)}: which to read is ambiguous; remove or rename one of each pair, or map the Nixtla "
            f"column with {option} (e.g. {option} unique_id=area_id/category)", source=source, column=option))
    return out


def _apply_splits(df: pd.DataFrame, splits: Mapping[str, tuple[str, str, str]], source: str,
                  option: str) -> pd.DataFrame:
    """Each split header's values -> its two columns; an id that does not split in two non-empty parts is refused."""
    out = df.copy()
    problems: list[Problem] = []
    for head, (first, sep, second) in splits.items():
        vals = df[head].reset_index(drop=True)
        text = vals.astype("string")
        parts = text.str.split(sep, regex=False)
        ok = vals.isna() | parts.map(lambda p: isinstance(p, list) and len(p) == 2 and all(x.strip() for x in p))
        bad = [int(i) for i in ok.index[~ok.astype(bool)]]
        if bad:
            problems.append(Problem.at_rows(
                f"{option} {head}={first}{sep}{second}: a value does not split on {sep!r} into exactly two non-empty "
                f"parts ({first} and {second})", index=bad, values=list(text.iloc[bad]), source=source, column=head))
            continue
        cols = list(out.columns)
        at = cols.index(head)
        out = out.drop(columns=[head])
        out.insert(at, second, [p[1] if isinstance(p, list) else p for p in parts])
        out.insert(at, first, [p[0] if isinstance(p, list) else p for p in parts])
    if problems:
        raise InputError(problems)
    return out


def _read_nixtla(df: pd.DataFrame, rename: Mapping[str, str], splits: Mapping[str, tuple[str, str, str]],
                 source: str, option: str) -> tuple[pd.DataFrame, str]:
    """A Nixtla long table as counts: renamed, split, the category ``all`` added where none, the note."""
    used = set(rename) | set(splits)
    ignored = [str(c) for c in df.columns if str(c) not in used and str(c) not in COUNTS_COLUMNS]
    out = _apply_splits(df.rename(columns=rename), splits, source, option)
    out = out.drop(columns=ignored)
    parts = [f"{h} as {t}" for h, t in rename.items()] + [f"{h} split on {s[1]!r} into {s[0]} and {s[2]}"
                                                         for h, s in splits.items()]
    said = [f"read the Nixtla long format (unique_id, ds, y): {', '.join(parts)}"]
    if "category" not in out.columns:
        out.insert(1 if "area_id" in out.columns else 0, "category", NIXTLA_CATEGORY)
        said.append(f"category {NIXTLA_CATEGORY!r} for every series (each unique_id one series; "
                    f"{option} unique_id=area_id/category splits ids such as 'ZH-XZ-XW/alerts')")
    if ignored:
        said.append(f"ignored column(s) {', '.join(ignored)} (exogenous variables: riskmodel's count models use none)")
    return out, f"note: {source}: {'; '.join(said)}"


def to_nixtla_forecast(frame: pd.DataFrame, sep: str = "/") -> pd.DataFrame:
    """A riskmodel forecast table in statsforecast's shape: ``unique_id, ds, MODEL, MODEL-lo-95, ..., MODEL-hi-95``,
    then its quantiles as ``MODEL-q-5`` ... ``MODEL-q-95`` (Nixtla's names).

    Parameters
    ----------
    frame : DataFrame
        ``area_id, category, period, model, mean`` and ``lo_<level>`` /
        ``hi_<level>`` columns (``PanelForecast.to_frame()``, the
        ``forecast`` command's table), one row per series, period and model.
    sep : str
        Between area and category in ``unique_id``. When every category is
        :data:`NIXTLA_CATEGORY` (a Nixtla table read without a split),
        ``unique_id`` is the area alone, as it was read.

    Returns
    -------
    DataFrame
        One row per ``unique_id`` and ``ds``; per model its mean and its
        bounds, ordered as statsforecast orders them (lower bounds from the
        widest interval, then upper bounds to the widest).
    """
    need = ["area_id", "category", "period", "model", "mean"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise InputError(Problem(f"not a forecast table: no column(s) {', '.join(missing)}", column=missing[0]))
    levels = sorted({int(c[3:]) for c in frame.columns if c.startswith(("lo_", "hi_")) and c[3:].isdigit()})
    cat = frame["category"].astype(str)
    uid = frame["area_id"].astype(str) if (cat == NIXTLA_CATEGORY).all() else frame["area_id"].astype(str) + sep + cat
    long = frame.assign(unique_id=uid, ds=frame["period"])
    quantiles = [c for c in frame.columns if c.startswith("q-")]  # already Nixtla's names, model prefix to add
    values = ["mean"] + [f"lo_{lv}" for lv in reversed(levels)] + [f"hi_{lv}" for lv in levels] + quantiles
    wide = long.pivot_table(index=["unique_id", "ds"], columns="model", values=values, aggfunc="first", sort=True,
                              dropna=False)
    models = list(dict.fromkeys(frame["model"].astype(str)))
    out = pd.DataFrame(index=wide.index)
    for m in models:
        for v in values:
            name = m if v == "mean" else f"{m}-{v}" if v.startswith("q-") else f"{m}-{v[:2]}-{v[3:]}"
            out[name] = wide[(v, m)]
    return out.reset_index()


__all__ = ["COLUMNS_READ", "COUNTS_COLUMNS", "KNOWN_HEADERS", "NIXTLA_CATEGORY", "NIXTLA_COLUMNS", "map_columns", "parse_columns",
           "to_nixtla_forecast"]
