"""A study config written from a user's own files: what ``riskmodel init`` does, without the printing.

Three functions, used in this order:

1. :func:`survey` reads every table it is given (CSV, GBK CSV, Parquet,
   each sheet of an Excel workbook, a database table, or the files of a
   folder), recognises which one holds the counts, the areas, the
   population, the neighbours, the indicators and the claims **by their
   columns** (riskmodel's names, and for the counts the common Chinese
   headers of :data:`riskmodel.data.columns.KNOWN_HEADERS`), and loads the
   counts with the one loader (:func:`riskmodel.data.load_panel`), so the
   frequency is the one :meth:`~riskmodel.data.frequency.Frequency.infer`
   gives and every problem of the data is found now, not at ``run``. A
   folder laid out like the Portland reference data is read as
   ``format = "portland"``. Nothing is guessed: two tables that could both be
   the counts (or both the areas...) are refused, naming them; a survey
   without a counts table is refused, listing each table and the columns it
   lacks.
2. :func:`plan_steps` decides which steps the data allow, and says why the
   others are left out (no areas table: nothing to reconcile; fewer than two
   years: no seasonal detector and no claims; no indicators: no index...).
3. :func:`scaffold` writes the TOML text: ``[study]``, ``[data]`` (with the
   ``[data.columns]`` mapping chosen), a ``[steps.NAME]`` table per step that
   runs, and comments saying what was found and why each other step is off.
   :func:`check_config` loads the written file with the pipeline's own loader
   (:class:`~riskmodel.pipeline.config.Experiment`) and checks that each of its
   paths resolves to the table surveyed.

Paths in the config: the pipeline reads a relative path from the working
directory when something is there, else from the folder *above* the
config's folder (the project root for ``experiments/NAME.toml``). So the
paths are written relative to that folder, which gives the same file from
any working directory; a table outside it is written as an absolute path.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from riskmodel.alerts.detectors import DEFAULT_BASELINE
from riskmodel.data import excel
from riskmodel.data.columns import COLUMNS_READ, COUNTS_COLUMNS, map_columns
from riskmodel.data.frequency import Frequency
from riskmodel.data.loading import load_panel
from riskmodel.data.panel import IncidentPanel
from riskmodel.data.portland import CATEGORY_FILES, load_portland
from riskmodel.data.readers import read_table, split_sheet
from riskmodel.data.sql import is_database_url
from riskmodel.errors import InputError, Problem
from riskmodel.impact.claims import REQUIRED as CLAIMS_COLUMNS
from riskmodel.impact.claims import read_claims
from riskmodel.io_safety import redacted as _shown
from riskmodel.pipeline.config import Experiment
from riskmodel.pipeline.steps import STEP_ORDER

ROLES: dict[str, tuple[str, ...]] = {
    "counts": COUNTS_COLUMNS,
    "claims": CLAIMS_COLUMNS,
    "indicators": ("area_id", "period", "indicator", "value"),
    "population": ("area_id", "year", "population"),
    "neighbours": ("area_id", "neighbour_id"),
    "areas": ("area_id", "parent_id"),
}
"""What each table a study reads must have (riskmodel's column names), most specific first."""

EVENT_HINTS = ("x", "y", "lon", "lat", "longitude", "latitude", "经度", "纬度", "x_coordina", "y_coordina")
"""Headers that mark a table of event records (coordinates): a study reads counts, not events."""

TABLE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".parquet", ".pq", *excel.EXCEL_SUFFIXES)
"""File names read from a folder given as data (other files in it are left alone, and said so)."""

MIN_FORECAST_PERIODS = 2
"""Periods of counts per period forecast ahead below which the forecast step is left out."""

EARS_MIN_PERIODS = DEFAULT_BASELINE + 3
"""Periods EARS C2 needs before it can monitor one: its baseline, a gap of two, the period itself."""

MIN_SEASONAL_YEARS = 2.0
"""Years of data below which the seasonal detectors and the claims step are left out: a period is
compared with the same period of past years, and a claim's counterfactual needs a year before its baseline."""


@dataclass
class TableInfo:
    """One table surveyed (a file, a workbook's sheet, a database table)."""

    source: str
    """As the config will name it: a path (``book.xlsx#计数`` for a sheet) or a database URL."""
    columns: list[str] = field(default_factory=list)
    role: str | None = None
    """counts, areas, population, neighbours, indicators, claims, events (not read by a study), or None."""
    missing: dict[str, list[str]] = field(default_factory=dict)
    """Role -> the columns it lacks (riskmodel's names), for a table with no role."""
    rows: int = 0
    mapping: dict[str, str] = field(default_factory=dict)
    """Counts only: the table's headers -> riskmodel's columns (the ``[data.columns]`` table)."""
    explicit: dict[str, str] = field(default_factory=dict)
    """Counts only: the part of ``mapping`` the user gave (``--columns``); the rest are known headers."""
    error: str | None = None
    """Why the table could not be read (it is then left out)."""
    note: str | None = None
    """What the reader decided (a sheet, a header row, an encoding)."""
    unused: str | None = None
    """Why a table of a role is not used (another table was chosen for it)."""

    def describe(self) -> str:
        """One line: what the table is, or what it lacks."""
        if self.unused:
            return f"{_shown(self.source)}: {self.role}, not used: {self.unused}"
        if self.error:
            return f"{_shown(self.source)}: not read: {self.error}"
        if self.role == "events":
            return (f"{_shown(self.source)}: event records ({', '.join(self.columns[:8])}): a study reads counts; count the "
                    "events first with `riskmodel grid` (or IncidentPanel.from_events)")
        if self.role:
            return f"{_shown(self.source)}: {self.role} ({self.rows:,} rows)"
        near = sorted(self.missing.items(), key=lambda kv: (len(kv[1]), list(ROLES).index(kv[0])))[:2]
        lacks = "; ".join(f"as {r} it lacks {', '.join(m)}" for r, m in near)
        return f"{_shown(self.source)}: not recognised (columns: {', '.join(self.columns[:12]) or 'none'}); {lacks}"


@dataclass
class DataSurvey:
    """What :func:`survey` found: every table, the one of each role, and the loaded counts."""

    tables: list[TableInfo]
    roles: dict[str, TableInfo]
    panel: IncidentPanel
    format: str = "counts"
    """``counts``, or ``portland`` (a folder of the Portland reference data)."""
    notes: list[str] = field(default_factory=list)
    """Lines (``note: ...``) saying what was decided: the loader's notes, sheets chosen, files left alone."""
    ignored: list[str] = field(default_factory=list)
    """Files of a folder given as data that are not tables."""

    @property
    def counts(self) -> TableInfo:
        return self.roles["counts"]

    @property
    def freq(self) -> Frequency:
        return Frequency.of(self.panel.freq)

    @property
    def years(self) -> float:
        """The span of the counts in years (number of periods / periods per year)."""
        return len(self.panel.periods) / self.freq.periods_per_year

    @property
    def levels(self) -> list[str]:
        """The hierarchy's levels from the counts' areas up, bottom first (``area`` without an areas table);
        levels below the counts' areas (grid cells under streets) are left out."""
        h = self.panel.hierarchy
        lv = list(h.levels)
        ids = self.panel.area_ids
        bottom = min((lv.index(h.level[a]) for a in ids if a in h.level), default=0)
        return lv[bottom:]


@dataclass
class StepPlan:
    """One step of :data:`~riskmodel.pipeline.steps.STEP_ORDER`: on or off, why, and its keys."""

    name: str
    on: bool
    why: str
    keys: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """Comments written above the step's keys."""


# ------------------------------------------------------------------ survey
def _is_table_file(p: Path) -> bool:
    n = p.name.lower()
    return any(n.endswith(s) for s in TABLE_SUFFIXES)


def _is_portland_dir(p: Path) -> bool:
    return p.is_dir() and all((p / f).is_file() for f in CATEGORY_FILES.values()) \
        and (p / "Portland_Police_Districts.shp").is_file()


def _sources(item: str, ignored: list[str]) -> list[str]:
    """The table sources one DATA argument stands for: itself, a workbook's sheets, a folder's files."""
    if is_database_url(item):
        return [item]
    path, sheet = split_sheet(item)
    if not path.exists():
        raise InputError(Problem("no such file or folder", source=item))
    if path.is_dir():
        files = sorted(f for f in path.iterdir() if f.is_file() and not f.name.startswith("."))
        tables = [f for f in files if _is_table_file(f)]
        ignored += [str(f) for f in files if not _is_table_file(f)]
        out: list[str] = []
        for f in tables:
            out += _sources(str(f), ignored)
        return out
    if sheet is None and path.name.lower().endswith(excel.EXCEL_SUFFIXES):
        names = excel.sheet_names(path)
        return [f"{path}#{s}" for s in names]
    return [item]


def _classify(df: pd.DataFrame, info: TableInfo, columns: Mapping[str, str] | None) -> None:
    heads = [str(c).strip() for c in df.columns]
    info.columns, info.rows = heads, len(df)
    keys = {h.lower() for h in heads}
    # counts: riskmodel's names, the explicit mapping (when this table has its headers), the known headers
    mapping = dict(columns or {}) if columns and all(h in heads for h in columns) else None
    try:
        mapped, _ = map_columns(df, COUNTS_COLUMNS, mapping, source=info.source)
        have = {str(c) for c in mapped.columns}
        lacks = [c for c in COUNTS_COLUMNS if c not in have]
        if not lacks:
            info.role = "counts"
            info.mapping = dict(mapped.attrs.get(COLUMNS_READ, {}))  # what map_columns applied (a split included)
            info.explicit = dict(mapping or {})
            return
        info.missing["counts"] = lacks
    except InputError as e:  # two known headers for one column: ambiguous
        info.missing["counts"] = [str(p.message) for p in e.problems]
    for role, need in ROLES.items():
        if role == "counts":
            continue
        lacks = [c for c in need if c not in heads]
        if not lacks:
            info.role = role
            info.missing.clear()
            return
        info.missing[role] = lacks
    if sum(h in keys for h in EVENT_HINTS) >= 2:
        info.role = "events"


def _same(a: str, b: str) -> bool:
    """Whether two sources name one table (paths compared resolved, a sheet by its name)."""
    if is_database_url(a) or is_database_url(b):
        return a == b
    (pa, sa), (pb, sb) = split_sheet(a), split_sheet(b)
    return pa.resolve() == pb.resolve() and sa == sb


def _check_url(item: str) -> None:
    """Refuse a database URL with its password written out: the config is logged to MLflow as it is."""
    if is_database_url(item) and _shown(item) != item and "${" not in item.split("@")[0]:
        raise InputError(Problem(
            f"{_shown(item)}: the password is written in the URL, and riskmodel init would write it into the "
            "config (which riskmodel logs to MLflow): write it as ${VAR} (read from the environment), or leave "
            "it out and set PGPASSWORD or ~/.pgpass (PostgreSQL)", source="database URL"))


def survey(data: Sequence[str | os.PathLike[str]], *, columns: Mapping[str, str] | None = None,
           counts: str | os.PathLike[str] | None = None) -> DataSurvey:
    """Read and recognise the tables of ``data``; load the counts with the study's loader.

    Parameters
    ----------
    data : sequence of path or str
        Files (CSV, GBK CSV, Parquet, Excel: every sheet unless ``#sheet`` is
        given), folders (their table files, or the Portland reference
        folder), database URLs (``postgresql://...?table=...``).
    columns : mapping of str to str, optional
        The counts table's headers -> riskmodel's columns (``--columns``),
        for headers that are neither riskmodel's nor known.
    counts : path or str, optional
        The table that holds the counts (``--counts``), when several look
        like counts (a folder with daily and monthly counts); added to
        ``data`` if it is not among them. The others are listed as not used.

    Returns
    -------
    DataSurvey

    Raises
    ------
    InputError
        No counts table (each table listed with what it lacks), two tables
        for one role, a mapped header in no table, or the counts that do
        not load (every problem the loader finds).
    """
    notes: list[str] = []
    ignored: list[str] = []
    items = [os.fspath(d) for d in data]
    chosen = os.fspath(counts) if counts is not None else None
    if chosen is not None and not any(_same(chosen, i) for i in items):
        items.append(chosen)
    for i in items:
        _check_url(i)
    if not items:
        raise InputError(Problem("give the data: files, workbooks, folders or a database URL"))
    portland = [i for i in items if not is_database_url(i) and _is_portland_dir(Path(i))]
    if portland:
        if len(items) > 1:
            raise InputError(Problem("the Portland reference folder is a study's whole data; give it alone",
                                     source=portland[0]))
        panel = load_portland(portland[0])
        info = TableInfo(source=portland[0], role="counts", rows=int(panel.meta.get("n_events", 0) or 0),
                         columns=["occ_date", "x_coordina", "y_coordina"])
        notes.append(f"note: {portland[0]}: the Portland reference data (calls for service and police districts): "
                     "counted per district by point-in-polygon (format = \"portland\")")
        return DataSurvey(tables=[info], roles={"counts": info}, panel=panel, format="portland", notes=notes)
    tables: list[TableInfo] = []
    for item in items:
        for src in _sources(item, ignored):
            if any(_same(src, t.source) for t in tables):  # a file given alone and in its folder: read once
                continue
            info = TableInfo(source=src)
            tables.append(info)
            try:
                df, ts = read_table(src, what="table")
            except InputError as e:
                info.error = "; ".join(p.message for p in e.problems)
                continue
            info.note = ts.note
            if ts.note:
                notes.append(f"note: {ts.name}: {ts.note}")
            _classify(df, info, columns)
    if columns and not any(all(h in t.columns for h in columns) for t in tables):
        raise InputError(Problem(f"--columns: no table has the headers {', '.join(columns)}; "
                                 + "; ".join(t.describe() for t in tables), column="--columns"))
    roles: dict[str, TableInfo] = {}
    problems: list[Problem] = []
    if chosen is not None:
        pick = [t for t in tables if _same(chosen, t.source)]
        if pick and pick[0].role != "counts":
            raise InputError(Problem(f"--counts: not a counts table: {pick[0].describe()}", column="--counts"))
        if not pick:  # a workbook given whole: its sheets are the tables
            pick = [t for t in tables if t.role == "counts" and _same(chosen, split_sheet(t.source)[0].as_posix())]
        if len(pick) != 1:
            raise InputError(Problem(f"--counts {_shown(chosen)}: name one table (book.xlsx#SHEET for a sheet)",
                                     column="--counts"))
        for t in tables:
            if t.role == "counts" and t is not pick[0]:
                t.unused = f"--counts chose {_shown(pick[0].source)}"
    for role in (*ROLES, "events"):
        found = [t for t in tables if t.role == role and not t.unused]
        if len(found) > 1 and role != "events":
            hint = " (or say which with --counts)" if role == "counts" else ""
            problems.append(Problem(f"{len(found)} tables look like the {role} "
                                    f"({', '.join(_shown(t.source) for t in found)}): give only the one to use{hint}"))
        elif found and role != "events":
            roles[role] = found[0]
    if "counts" not in roles and not problems:
        lines = "\n  ".join(t.describe() for t in tables) or "no tables"
        raise InputError(Problem(
            "no counts table found: a counts table has area_id, category, period, count (or headers such as "
            f"街道, 类别, 日期, 数量; --columns HEADER=COLUMN names others). Found:\n  {lines}"))
    if problems:
        raise InputError(problems)
    c = roles["counts"]
    opt = {k: roles[k].source for k in ("areas", "population", "neighbours") if k in roles}
    # the user's own mapping only: the loader finds the known headers again and says so in its note
    panel = load_panel(c.source, columns=c.explicit or None, option="data.freq", **opt)
    notes += [n for n in panel.notes(c.source) if n not in notes]
    return DataSurvey(tables=tables, roles=roles, panel=panel, notes=notes, ignored=ignored)


# ------------------------------------------------------------------ steps
def _claims_fit(sv: DataSurvey) -> str | None:
    """Why the claims cannot be evaluated on these counts (None: they can)."""
    try:
        claims = read_claims(sv.roles["claims"].source)
    except InputError as e:
        return "the claims table does not read: " + "; ".join(str(p) for p in e.problems[:3])
    p = sv.panel
    areas, cats = set(p.hierarchy.level), set(p.categories)
    first, last = p.periods.min(), Frequency.of(p.freq).last_day(p.periods.max())
    bad = []
    for cl in claims:
        if cl.area_id not in areas:
            bad.append(f"{cl.claim_id}: area {cl.area_id} not in the data")
        elif cl.category not in cats:
            bad.append(f"{cl.claim_id}: category {cl.category} not in the data")
        elif cl.baseline_start < first or cl.comparison_end > last:
            bad.append(f"{cl.claim_id}: {cl.baseline_start.date()} to {cl.comparison_end.date()} "
                       f"is not inside the counts ({first.date()} to {last.date()})")
    return "; ".join(bad[:5]) + (f" (and {len(bad) - 5} more)" if len(bad) > 5 else "") if bad else None


def plan_steps(sv: DataSurvey) -> list[StepPlan]:
    """Which steps the surveyed data allow (with their keys), and why each other one is off.

    The rules: the counts must be daily, weekly or monthly for the overview,
    features, forecast and alerts (yearly counts: validate only); forecasts
    are monthly (weekly for weekly data), reconciled (``mint_shrink``) only
    with an areas table of two levels or more, with fan charts only when a
    level is named ``district``; the backtest's windows fit inside the data;
    the default (seasonal) detector needs two years, else EARS C2 (which
    compares a period with the few before it); claims need a claims table,
    two years and every claim's area, category and dates inside the counts;
    the index needs an index config, which riskmodel cannot write for the
    user's indicators; the appendix comes with the forecast.
    """
    f, years, levels = sv.freq, sv.years, sv.levels
    plans: dict[str, StepPlan] = {}
    plans["validate"] = StepPlan("validate", True, "checks and summarises the counts")
    sub_year = f.code in ("D", "W", "M")
    hier = len(levels) > 1
    if not sub_year:
        off = "the counts are yearly: riskmodel's overview, features, forecasts and detectors need D, W or M counts"
        for n in ("overview", "features", "forecast", "alerts"):
            plans[n] = StepPlan(n, False, off)
    else:
        level = levels[1] if hier else levels[0]
        src = ("Portland Police Bureau calls for service" if sv.format == "portland" else
               f"Data: {_shown(sv.counts.source) if is_database_url(sv.counts.source) else Path(sv.counts.source).name}")
        plans["overview"] = StepPlan("overview", True, f"monthly counts per {level}",
                                     {"level": level, "source": src})
        plans["features"] = StepPlan("features", True, "the leakage-free feature table (monthly)", {"freq": "M"})
        ffreq = "W" if f.code == "W" else "M"
        h = 4 if ffreq == "W" else 3
        n = len(sv.panel.periods) if ffreq == f.code else len(sv.panel.resample(ffreq).periods)
        per_year = Frequency.of(ffreq).periods_per_year
        # a backtest window needs a training span of a year or more before its origin
        windows = max(0, min(3, (n - int(per_year) - h) // h + 1)) if n >= per_year + h else 0
        keys: dict[str, object] = {"freq": ffreq, "h": h, "model": "auto"}
        notes = []
        if hier:
            keys["reconcile"] = "mint_shrink"
            notes.append(f"reconciled across the levels {' < '.join(levels)} (mint_shrink)")
        else:
            keys["reconcile"] = "none"
            notes.append("not reconciled: " + ("the areas table has one level" if "areas" in sv.roles else
                                               "no areas table") + ", so no levels to reconcile")
        if windows < 3:
            keys["backtest_windows"] = windows
            notes.append(f"{windows} backtest window(s): {n} periods leave room for no more after a year of training")
        if "district" not in levels:
            keys["fan_charts"] = False
            notes.append("no fan charts: they are drawn per district and no level is named district")
        unit = Frequency.of(ffreq).unit
        if n < MIN_FORECAST_PERIODS * h:
            plans["forecast"] = StepPlan("forecast", False, f"{n} {unit}s of counts: too few to forecast {h} {unit}s "
                                         f"ahead (riskmodel init asks for {MIN_FORECAST_PERIODS * h})")
        else:
            what = "backtested" if windows else "not backtested"
            plans["forecast"] = StepPlan("forecast", True, f"{h} {unit}s ahead, {what}", keys, notes)
        afreq = "M" if f.code == "M" else "W"
        akeys: dict[str, object] = {"freq": afreq}
        anotes = []
        na = n if afreq == ffreq else len(sv.panel.resample(afreq).periods)
        if years < MIN_SEASONAL_YEARS:
            akeys["method"] = "ears-c2"
            anotes.append(f"EARS C2, not the seasonal default: {years:.1f} years of data, fewer than "
                          f"{MIN_SEASONAL_YEARS:g} (a seasonal detector compares a period with past years')")
        aunit = Frequency.of(afreq).unit
        if years < MIN_SEASONAL_YEARS and na < EARS_MIN_PERIODS:
            plans["alerts"] = StepPlan("alerts", False, f"{na} {aunit}s of counts: EARS C2 monitors a {aunit} after "
                                       f"a baseline of {DEFAULT_BASELINE} and a gap of 2 ({EARS_MIN_PERIODS} needed)")
        else:
            plans["alerts"] = StepPlan("alerts", True, f"this {aunit}'s spike warnings", akeys, anotes)
    if "indicators" in sv.roles:
        why = (f"indicators found ({sv.roles['indicators'].source}), but the index needs an index config naming "
               "each indicator's dimension, direction and weight (like experiments/pingan_sample.toml): write one "
               "and add [steps.index] config = \"...\"")
    else:
        why = "no indicators table (area_id, period, indicator, value)"
    plans["index"] = StepPlan("index", False, why)
    plans["sensitivity"] = StepPlan("sensitivity", False, "needs the index step")
    if "claims" not in sv.roles:
        plans["claims"] = StepPlan("claims", False, "no claims table (claim_id, area_id, category, measure, ...)")
    elif years < MIN_SEASONAL_YEARS:
        plans["claims"] = StepPlan("claims", False, f"{years:.1f} years of data, fewer than {MIN_SEASONAL_YEARS:g}: "
                                   "a claim's counterfactual needs the years before it")
    elif (bad := _claims_fit(sv)) is not None:
        plans["claims"] = StepPlan("claims", False, f"claims that do not fit the counts: {bad}")
    else:
        plans["claims"] = StepPlan("claims", True, f"every claim of {sv.roles['claims'].source}")
    if plans["forecast"].on:
        plans["appendix"] = StepPlan("appendix", True, "the forecast appendix (HTML, PDF and an Excel workbook of its tables; Chinese and English)",
                                     {"langs": ["zh", "en"], "formats": ["html", "pdf", "xlsx"]})
    else:
        plans["appendix"] = StepPlan("appendix", False, "needs the forecast step")
    return [plans[n] for n in STEP_ORDER if n in plans]


# ------------------------------------------------------------------ TOML
def _toml(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} in TOML")


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k, ensure_ascii=False)


def config_root(config: str | os.PathLike[str]) -> Path:
    """The folder the pipeline reads a config's relative paths from (the config's folder's parent)."""
    return Path(config).resolve().parent.parent


def relative_source(source: str, config: str | os.PathLike[str]) -> str:
    """``source`` as the config at ``config`` names it: relative to :func:`config_root` when inside it,
    else absolute; database URLs and ``#sheet`` suffixes kept."""
    if is_database_url(source):
        return source
    path, sheet = split_sheet(source)
    full = path.resolve()
    root = config_root(config)
    try:
        text = full.relative_to(root).as_posix()
    except ValueError:
        text = full.as_posix()
    return text + (f"#{sheet}" if sheet is not None else "")


def default_name(sv: DataSurvey) -> str:
    """A study name from the counts' source: the file (or sheet, or table) name, in letters, digits, _ and -."""
    src = sv.counts.source
    if is_database_url(src):
        m = re.search(r"[?&]table=([^&]+)", src)
        stem = m.group(1) if m else "database"
    else:
        stem = split_sheet(src)[0].name.split(".")[0]
    name = re.sub(r"[^\w-]+", "_", stem).strip("_")
    return name or "study"


def scaffold(sv: DataSurvey, config: str | os.PathLike[str], *, name: str | None = None,
             seed: int = 0, plans: list[StepPlan] | None = None) -> str:
    """The study config's TOML text for the data of ``sv``, to be written at ``config``.

    Parameters
    ----------
    sv : DataSurvey
        From :func:`survey`.
    config : path
        Where the config will be written (its paths are written relative to
        the folder the pipeline reads them from, :func:`config_root`).
    name : str, optional
        The study's name (default: :func:`default_name`).
    seed : int
        The study's seed.
    plans : list of StepPlan, optional
        Default: :func:`plan_steps`.
    """
    name = name or default_name(sv)
    plans = plans if plans is not None else plan_steps(sv)
    p = sv.panel
    cfg = Path(config)
    root = config_root(cfg)
    out_dir = (root / "outputs" / name) if cfg.resolve().parent.name == "experiments" else (
        cfg.resolve().parent / "outputs" / name)
    rel = relative_source
    L: list[str] = [
        f"# Study config written by `riskmodel init` from: {', '.join(_shown(t.source) for t in sv.tables)}",
        f"# Run it with:  riskmodel run {os.fspath(cfg)}",
        "# Relative paths below are read from the working directory when something is there, else from",
        f"# {root} (the folder above this file's folder): they are written from there.",
        "",
        "[study]",
        f"name = {_toml(name)}",
        f"description = {_toml(f'{name}: counts per area and category from {_shown(sv.counts.source)}')}",
        f"out = {_toml(rel(str(out_dir), cfg))}",
        f"seed = {seed}",
        "",
    ]
    # what was found
    cats = p.counts.groupby("category")["count"].sum()
    levels = sv.levels
    per_level = {lv: len(p.hierarchy.areas_at(lv)) for lv in levels}
    f = sv.freq
    L += [
        f"# The counts: {p.counts['period'].min().date()} to {p.counts['period'].max().date()}, "
        f"{len(p.periods):,} {f.name} periods ({sv.years:.1f} years), {len(p.series_ids):,} series, "
        f"{int(p.counts['count'].sum()):,} incidents.",
        (f"# Frequency {f.code} ({f.name}): the calls are counted per month (freq = \"W\" or \"D\" counts them "
         "per week or day)." if sv.format == "portland" else
         f"# Frequency {f.code} ({f.name}): inferred from the dates by riskmodel's rule (Frequency.infer)."),
        "# Levels of the hierarchy (bottom first): "
        + ", ".join(f"{lv} ({n})" for lv, n in per_level.items())
        + ("" if "areas" in sv.roles or sv.format == "portland" else " -- no areas table: each area_id is its own area"),
        f"# Categories ({len(cats)}): " + ", ".join(f"{c} ({int(n):,})" for c, n in cats.items()),
    ]
    for t in sv.tables:
        L.append(f"# table {t.describe()}")
    for line in sv.ignored:
        L.append(f"# not a table, left alone: {line}")
    L += ["", "[data]"]
    if sv.format == "portland":
        L += [f"counts = {_toml(rel(sv.counts.source, cfg))}", 'format = "portland"', f"freq = {_toml(p.freq)}"]
    else:
        L.append(f"counts = {_toml(rel(sv.counts.source, cfg))}")
        L.append(f"freq = {_toml(p.freq)}")
        for role in ("areas", "population", "neighbours", "indicators", "claims"):
            if role in sv.roles:
                L.append(f"{role} = {_toml(rel(sv.roles[role].source, cfg))}")
            else:
                L.append(f"# {role}: none found")
        if sv.counts.mapping:
            L += ["", "# The counts' headers read as riskmodel's columns (edit to choose others)", "[data.columns]"]
            L += [f"{_key(h)} = {_toml(c)}" for h, c in sv.counts.mapping.items()]
        else:
            L.append("# the counts' columns have riskmodel's names (area_id, category, period, count): no [data.columns]")
    L.append("")
    for s in plans:
        if s.on:
            L.append(f"# {s.name}: {s.why}")
            L += [f"# {n}" for n in s.notes]
            L.append(f"[steps.{s.name}]")
            L += [f"{_key(k)} = {_toml(v)}" for k, v in s.keys.items()]
        else:
            L.append(f"# [steps.{s.name}] left out: {s.why}")
        L.append("")
    return "\n".join(L).rstrip("\n") + "\n"


def check_config(config: str | os.PathLike[str], sv: DataSurvey) -> Experiment:
    """Load the written config with the pipeline's loader; check its paths reach the tables surveyed.

    Raises
    ------
    ConfigError
        The config does not load (a bug of :func:`scaffold`, said as such by the caller).
    InputError
        A path of the config that the pipeline would resolve to another file
        than the one surveyed (a same-named file in the working directory).
    """
    exp = Experiment.load(config)
    root = config_root(config)
    problems = []
    data = exp.data.model_dump()
    wanted = {"counts": sv.counts.source, **{k: v.source for k, v in sv.roles.items() if k != "counts"}}
    for key, src in wanted.items():
        got = data.get(key)
        if got is None or is_database_url(src):
            continue
        gp, _ = split_sheet(got)
        # the pipeline's rule (StudyContext.path): as written if absolute or present from here, else from the root
        resolved = gp if gp.is_absolute() or gp.exists() else root / gp
        if resolved.resolve() != split_sheet(src)[0].resolve():
            problems.append(Problem(f"data.{key} = {got!r} would be read as {resolved} from the working directory, "
                                    f"not {src}: run riskmodel from another folder or give --out elsewhere",
                                    source=str(config)))
    if problems:
        raise InputError(problems)
    return exp


__all__ = ["DataSurvey", "ROLES", "StepPlan", "TableInfo", "check_config", "config_root", "default_name",
           "plan_steps", "relative_source", "scaffold", "survey"]
