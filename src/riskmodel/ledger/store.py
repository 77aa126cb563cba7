"""The ledger's database: schema, migrations, validated writes, tables as DataFrames.

Tables (SQLAlchemy Core; created, or migrated to :data:`SCHEMA_VERSION`, on open):

* ``ledger_meta`` -- ``key, value``: the schema version;
* ``judgements`` -- one row per cell of an expert's pairwise matrix:
  ``expert, parent, row_code, col_code, value, version, who, at``. A save of an
  expert's matrix for one parent is a new ``version`` (1, 2, ...) of all its
  cells; older versions stay;
* ``weight_sets`` / ``weight_values`` -- a named set of within-parent weights:
  ``name, version, method (AIJ, AIP, direct), who, at, note`` and ``code, weight``;
* ``current_weights`` -- which weight set is the study's current one (the last row wins);
* ``follow_up`` -- one event per action on a warning: ``area_id, category, period,
  detector, status, unit, note, who, at`` (the last event of a warning is its state);
* ``supervision`` / ``supervision_end`` -- an item of the supervision list (挂牌督办)
  ``area_id, indicator, target, direction, review_date, who, at, note``, and when it
  was taken off the list.

Times are UTC, stored as ISO 8601 text (``2026-12-03T20:15:00+00:00``) so that
SQLite and PostgreSQL give back the same values; the clock is injectable
(``Ledger(url, clock=...)``) for tests.

Database URLs: ``sqlite:///path/to/file.sqlite`` (created when missing) or
``postgresql://user@host:5432/db``; the password is never written in the URL
in clear: leave it out (libpq's ``PGPASSWORD`` or ``~/.pgpass`` apply) or write
``${VAR}`` (expanded from the environment when connecting, as
:mod:`riskmodel.data.sql` does). Every message shows the URL through
:func:`riskmodel.io_safety.redacted`.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskmodel.errors import InputError, Problem
from riskmodel.io_safety import redacted

SCHEMA_VERSION = 1
SAATY_MIN, SAATY_MAX = 1.0 / 9.0, 9.0
FOLLOW_UP_STATUSES = ("acknowledged", "assigned", "rectified")
WEIGHT_METHODS = ("AIJ", "AIP", "direct")
DIRECTIONS = ("at_most", "at_least")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TOL = 1e-6

JUDGEMENT_COLUMNS = ["expert", "parent", "row", "col", "value", "version", "who", "at"]
FOLLOW_UP_COLUMNS = ["id", "area_id", "category", "period", "detector", "status", "unit", "note", "who", "at"]
SUPERVISION_COLUMNS = ["id", "area_id", "indicator", "target", "direction", "review_date", "who", "at", "note",
                       "active", "ended_by", "ended_at", "end_note"]
WEIGHT_SET_COLUMNS = ["name", "version", "method", "who", "at", "note", "n_weights"]


def default_url(study_dir: str | os.PathLike[str]) -> str:
    """The default ledger of a study: ``sqlite:///<study_dir>/workbench.sqlite`` (absolute path)."""
    return "sqlite:///" + str((Path(study_dir) / "workbench.sqlite").resolve())


def warning_key(area_id: str, category: str, period: str | pd.Timestamp, detector: str) -> str:
    """The key of a warning: ``area|category|YYYY-MM-DD|detector`` (what the workbench passes around)."""
    return f"{area_id}|{category}|{_day(period)}|{detector}"


def parse_warning_key(key: str) -> tuple[str, str, str, str]:
    """``(area_id, category, period YYYY-MM-DD, detector)`` of a :func:`warning_key`."""
    parts = str(key).split("|")
    if len(parts) != 4 or not all(p.strip() for p in parts):
        raise InputError(Problem(f"not a warning key: {key!r} (expected area|category|YYYY-MM-DD|detector)"))
    return parts[0], parts[1], _day(parts[2]), parts[3]


def _day(v: object) -> str:
    try:
        t = pd.Timestamp(v)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise InputError(Problem(f"not a date: {v!r} (expected YYYY-MM-DD)")) from None
    if pd.isna(t):
        raise InputError(Problem(f"not a date: {v!r} (expected YYYY-MM-DD)"))
    return f"{t:%Y-%m-%d}"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Vocabulary:
    """What a ledger's entries may name: the index's groups and codes, the study's areas and categories.

    Empty sets mean "not checked" (a ledger opened without a study).
    """

    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # parent -> children codes
    codes: frozenset[str] = frozenset()       # every index code (indicators, dimensions, the top)
    areas: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()


@dataclass(frozen=True)
class WeightSet:
    """A saved weight set: within-parent weights by code, and who saved it when, how."""

    name: str
    version: int
    weights: dict[str, float]
    method: str
    who: str
    at: str
    note: str = ""


def _text(value: object, what: str) -> str:
    s = "" if value is None else str(value).strip()
    if not s:
        raise InputError(Problem(f"{what} must not be empty"))
    if len(s) > 200:
        raise InputError(Problem(f"{what} is too long ({len(s)} characters; at most 200)"))
    return s


def _number(value: object, what: str) -> float:
    if isinstance(value, bool):
        raise InputError(Problem(f"{what} must be a number, got {value!r}"))
    try:
        x = float(str(value).strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(Problem(f"{what} must be a number, got {value!r}")) from None
    if not math.isfinite(x):
        raise InputError(Problem(f"{what} must be a finite number, got {value!r}"))
    return x


def saaty_value(value: object, where: str = "judgement") -> float:
    """A pairwise judgement checked against Saaty's scale: a number in [1/9, 9] (InputError otherwise).

    Fractions written as text (``"1/3"``) are accepted.
    """
    if isinstance(value, str) and "/" in value:
        a, _, b = value.partition("/")
        x = _number(a, where) / _number(b, where) if _number(b, where) != 0 else math.inf
    else:
        x = _number(value, where)
    if not (SAATY_MIN - _TOL <= x <= SAATY_MAX + _TOL):
        raise InputError(Problem(f"{where} = {value!r} is outside Saaty's scale (1/9 .. 9)"))
    return x


class Ledger:
    """The ledger of one study in a database (see the module notes).

    Parameters
    ----------
    url : str
        ``sqlite:///PATH`` or ``postgresql://USER@HOST/DB`` (password from ``${VAR}`` or PGPASSWORD).
    clock : callable, optional
        Returns the time of a write (a timezone-aware datetime; UTC by default).
    vocabulary : Vocabulary, optional
        The codes, groups and areas entries may name (unchecked when absent).
    """

    def __init__(self, url: str, *, clock: Callable[[], dt.datetime] | None = None,
                 vocabulary: Vocabulary | None = None):
        self.url = str(url)
        self.clock = clock or _utc_now
        self.vocabulary = vocabulary or Vocabulary()
        self.notes: list[str] = []
        self._secrets: list[str] = []
        self._engine = self._connect()
        self._t = _tables()
        self._migrate()

    # ------------------------------------------------------------------ connection and schema
    def __repr__(self) -> str:
        return f"Ledger({redacted(self.url)!r})"

    def _refuse(self, reason: str) -> InputError:
        return InputError(Problem(reason, source=redacted(self.url)))

    def _scrub(self, message: str) -> str:
        hidden = [s for s in self._secrets if s]
        if os.environ.get("PGPASSWORD"):
            hidden.append(os.environ["PGPASSWORD"])
        for s in sorted(set(hidden), key=len, reverse=True):
            message = message.replace(s, "***")
        message = re.sub(r"\(Background on this error at:[^)]*\)", "", message)
        return " ".join(message.split()).rstrip(" .;:")

    def _expand(self, text: str | None) -> str | None:
        if text is None or "${" not in text:
            return text

        def one(m: re.Match[str]) -> str:
            value = os.environ.get(m.group(1))
            if value is None:
                raise self._refuse(f"environment variable {m.group(1)} is not set (the URL's ${{{m.group(1)}}} placeholder)")
            self._secrets.append(value)
            return value

        return _VAR.sub(one, text)

    def _connect(self):  # noqa: ANN202 - a SQLAlchemy Engine (imported here: the CLI's start stays fast)
        import sqlalchemy as sa
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        try:
            u = make_url(self.url)
        except (sa.exc.ArgumentError, ValueError) as exc:
            raise self._refuse(f"not a valid database URL ({self._scrub(str(exc))}); expected sqlite:///PATH "
                               "or postgresql://USER@HOST:5432/DB") from None
        backend = u.get_backend_name()
        if u.password is not None:
            self._secrets.append(str(u.password))
        if backend == "sqlite":
            if not u.database or u.database == ":memory:":
                raise self._refuse("the ledger needs a SQLite file (sqlite:///path/workbench.sqlite), not memory")
            path = Path(self._expand(u.database) or "").expanduser()
            if path.is_dir():
                raise self._refuse(f"SQLite database {str(path)!r} is a folder")
            if not path.parent.exists():
                raise self._refuse(f"the folder of the SQLite database does not exist: {path.parent}")
            return sa.create_engine(f"sqlite:///{path}", poolclass=NullPool, hide_parameters=True)
        if backend != "postgresql":
            raise self._refuse(f"the ledger is kept in SQLite or PostgreSQL, not {u.drivername}://")
        password = self._expand(None if u.password is None else str(u.password))
        if password:
            self._secrets.append(password)
        u = u.set(username=self._expand(u.username), password=password, host=self._expand(u.host),
                  database=self._expand(u.database))
        if u.drivername in ("postgresql", "postgres"):
            import importlib.util

            if importlib.util.find_spec("psycopg") is None:
                u = u.set(drivername="postgresql+psycopg2")
        connect_args = {} if "connect_timeout" in u.query or os.environ.get("PGCONNECT_TIMEOUT") else {"connect_timeout": 10}
        try:
            return sa.create_engine(u, poolclass=NullPool, hide_parameters=True, connect_args=connect_args)
        except ImportError as exc:
            raise self._refuse(f"no database driver for {u.drivername}:// is installed ({self._scrub(str(exc))})") from None

    def _run(self, fn: Callable[[Any], Any], write: bool = False) -> Any:  # noqa: ANN401
        """Run ``fn(connection)`` in a transaction; a database failure becomes an InputError naming the URL."""
        import sqlalchemy as sa

        try:
            with (self._engine.begin() if write else self._engine.connect()) as conn:
                return fn(conn)
        except InputError:
            raise
        except sa.exc.IntegrityError as exc:  # e.g. two people saving the same weight set's next version at once
            raise self._refuse(f"the ledger refused the write (someone else may have saved at the same moment; "
                               f"try again): {self._scrub(str(exc.orig))}") from None
        except sa.exc.DBAPIError as exc:
            raise self._refuse(f"cannot use the ledger database: {self._scrub(str(exc.orig))}") from None

    def _migrate(self) -> None:
        t = self._t

        def go(conn: Any) -> None:  # noqa: ANN401
            import sqlalchemy as sa

            insp = sa.inspect(conn)
            fresh = not insp.has_table("ledger_meta")
            t["metadata"].create_all(conn, checkfirst=True)
            row = conn.execute(sa.select(t["meta"].c.value).where(t["meta"].c.key == "schema_version")).first()
            found = int(row[0]) if row else 0
            if found > SCHEMA_VERSION:
                raise self._refuse(f"the ledger's schema is version {found}, newer than this riskmodel's "
                                   f"({SCHEMA_VERSION}): upgrade riskmodel")
            if row is None:
                conn.execute(sa.insert(t["meta"]).values(key="schema_version", value=str(SCHEMA_VERSION)))
            elif found < SCHEMA_VERSION:  # no older schema exists yet; future migrations go here, in order
                conn.execute(sa.update(t["meta"]).where(t["meta"].c.key == "schema_version")
                             .values(value=str(SCHEMA_VERSION)))
                self.notes.append(f"note: the ledger {redacted(self.url)} was migrated from schema {found} to {SCHEMA_VERSION}")
            if fresh:
                self.notes.append(f"note: created the ledger database {redacted(self.url)}")

        self._run(go, write=True)

    @property
    def schema_version(self) -> int:
        import sqlalchemy as sa

        m = self._t["meta"]
        return int(self._run(lambda c: c.execute(sa.select(m.c.value).where(m.c.key == "schema_version")).scalar_one()))

    def _now(self) -> str:
        t = self.clock()
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.UTC)
        return t.astimezone(dt.UTC).isoformat(timespec="seconds")

    def dispose(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    # ------------------------------------------------------------------ judgements
    def _check_group(self, parent: str) -> tuple[str, ...] | None:
        g = self.vocabulary.groups
        if not g:
            return None
        if parent not in g:
            raise InputError(Problem(f"unknown group {parent!r}: the groups with pairwise judgements are "
                                     + ", ".join(g)))
        return tuple(g[parent])

    def add_judgements(self, expert: str, parent: str, judgements: Mapping[tuple[str, str], object], *, who: str) -> int:
        """Save one expert's pairwise judgements for the children of ``parent``; return the new version.

        ``judgements`` maps ``(row, col)`` to a value on Saaty's scale (1/9 .. 9; ``"1/3"`` accepted),
        the upper triangle (or the full matrix, which must then be reciprocal). With a vocabulary,
        every pair of the group's children must be judged and no other code appear.
        """
        expert = _text(expert, "the expert's name")
        parent = _text(parent, "the group (parent indicator)")
        who = _text(who, "who (the person entering the judgements)")
        kids = self._check_group(parent)
        cells: dict[tuple[str, str], float] = {}
        problems = []
        for (r, c), v in judgements.items():
            r, c = str(r).strip(), str(c).strip()
            if kids is not None:
                bad = [x for x in (r, c) if x not in kids]
                if bad:
                    problems.append(Problem(f"unknown indicator {bad[0]!r} in group {parent!r} (its children: "
                                            f"{', '.join(kids)})"))
                    continue
            if r == c:
                continue
            try:
                x = saaty_value(v, f"judgement ({r}, {c}) of {expert}")
            except InputError as exc:
                problems.extend(exc.problems)
                continue
            if (c, r) in cells:
                if abs(cells[(c, r)] * x - 1) > 0.01:
                    problems.append(Problem(f"judgements ({r}, {c}) = {x:g} and ({c}, {r}) = {cells[(c, r)]:g} "
                                            "are not reciprocal"))
                continue
            cells[(r, c)] = x
        if problems:
            raise InputError(problems)
        if not cells:
            raise InputError(Problem(f"no judgements given for {expert!r} in group {parent!r}"))
        if kids is not None:
            missing = [(a, b) for i, a in enumerate(kids) for b in kids[i + 1:]
                       if (a, b) not in cells and (b, a) not in cells]
            if missing:
                raise InputError(Problem(f"group {parent!r}: {len(missing)} pair(s) not judged: "
                                         + ", ".join(f"({a}, {b})" for a, b in missing[:6])))
        at = self._now()
        t = self._t["judgements"]

        def go(conn: Any) -> int:  # noqa: ANN401
            import sqlalchemy as sa

            cur = conn.execute(sa.select(sa.func.max(t.c.version)).where(t.c.expert == expert, t.c.parent == parent)).scalar()
            version = int(cur or 0) + 1
            conn.execute(sa.insert(t), [{"expert": expert, "parent": parent, "row_code": r, "col_code": c,
                                         "value": v, "version": version, "who": who, "at": at}
                                        for (r, c), v in cells.items()])
            return version

        return int(self._run(go, write=True))

    def judgements(self, *, latest: bool = True, expert: str | None = None, parent: str | None = None) -> pd.DataFrame:
        """Saved judgements: :data:`JUDGEMENT_COLUMNS`; only each expert's latest version per group unless ``latest=False``."""
        import sqlalchemy as sa

        t = self._t["judgements"]
        q = sa.select(t.c.expert, t.c.parent, t.c.row_code, t.c.col_code, t.c.value, t.c.version, t.c.who, t.c.at)
        if expert is not None:
            q = q.where(t.c.expert == expert)
        if parent is not None:
            q = q.where(t.c.parent == parent)
        rows = self._run(lambda c: c.execute(q.order_by(t.c.id)).all())
        df = pd.DataFrame([tuple(r) for r in rows], columns=JUDGEMENT_COLUMNS)
        df["value"] = df["value"].astype(float)
        df["version"] = df["version"].astype(int)
        if latest and len(df):
            last = df.groupby(["expert", "parent"])["version"].transform("max")
            df = df.loc[df["version"] == last].reset_index(drop=True)
        return df

    def judgements_long(self) -> pd.DataFrame:
        """The latest judgements in the long format :func:`riskmodel.index.weights.read_ahp_file` reads:
        ``expert, parent, row, col, value``."""
        return self.judgements()[["expert", "parent", "row", "col", "value"]]

    def experts(self) -> list[str]:
        """The experts with saved judgements, in the order they first appear."""
        return list(dict.fromkeys(self.judgements()["expert"]))

    # ------------------------------------------------------------------ weight sets
    def save_weight_set(self, name: str, weights: Mapping[str, float], *, method: str, who: str, note: str = "") -> int:
        """Save a named weight set (within-parent weights by code); return its version (1, 2, ... per name)."""
        name = _text(name, "the weight set's name")
        who = _text(who, "who (the person saving the weights)")
        if method not in WEIGHT_METHODS:
            raise InputError(Problem(f"unknown weight method {method!r}; valid: {', '.join(WEIGHT_METHODS)}"))
        if not weights:
            raise InputError(Problem(f"weight set {name!r} has no weights"))
        codes = self.vocabulary.codes
        vals: dict[str, float] = {}
        problems = []
        for c, w in weights.items():
            c = str(c).strip()
            if codes and c not in codes:
                problems.append(Problem(f"unknown indicator {c!r} in weight set {name!r}"))
                continue
            try:
                x = _number(w, f"weight of {c}")
            except InputError as exc:
                problems.extend(exc.problems)
                continue
            if x < 0:
                problems.append(Problem(f"weight of {c} must be >= 0, got {x:g}"))
            vals[c] = x
        if problems:
            raise InputError(problems)
        at = self._now()
        s, v = self._t["weight_sets"], self._t["weight_values"]

        def go(conn: Any) -> int:  # noqa: ANN401
            import sqlalchemy as sa

            cur = conn.execute(sa.select(sa.func.max(s.c.version)).where(s.c.name == name)).scalar()
            version = int(cur or 0) + 1
            sid = conn.execute(sa.insert(s).values(name=name, version=version, method=method, who=who, at=at,
                                                   note=str(note or ""))).inserted_primary_key[0]
            conn.execute(sa.insert(v), [{"set_id": sid, "code": c, "weight": x} for c, x in vals.items()])
            return version

        return int(self._run(go, write=True))

    def weight_sets(self) -> pd.DataFrame:
        """Every saved weight set and version: :data:`WEIGHT_SET_COLUMNS`, oldest first."""
        import sqlalchemy as sa

        s, v = self._t["weight_sets"], self._t["weight_values"]
        q = (sa.select(s.c.name, s.c.version, s.c.method, s.c.who, s.c.at, s.c.note, sa.func.count(v.c.code))
             .select_from(s.outerjoin(v, v.c.set_id == s.c.id)).group_by(s.c.id).order_by(s.c.id))
        rows = self._run(lambda c: c.execute(q).all())
        return pd.DataFrame([tuple(r) for r in rows], columns=WEIGHT_SET_COLUMNS)

    def weight_set(self, name: str, version: int | None = None) -> WeightSet:
        """A saved weight set (the latest version unless ``version`` is given)."""
        import sqlalchemy as sa

        s, v = self._t["weight_sets"], self._t["weight_values"]
        q = sa.select(s).where(s.c.name == name)
        q = q.where(s.c.version == int(version)) if version is not None else q.order_by(s.c.version.desc())

        def go(conn: Any) -> WeightSet | None:  # noqa: ANN401
            row = conn.execute(q.limit(1)).mappings().first()
            if row is None:
                return None
            ws = conn.execute(sa.select(v.c.code, v.c.weight).where(v.c.set_id == row["id"]).order_by(v.c.id)).all()
            return WeightSet(row["name"], int(row["version"]), {c: float(w) for c, w in ws}, row["method"],
                             row["who"], row["at"], row["note"] or "")

        out = self._run(go)
        if out is None:
            known = self.weight_sets()
            have = ", ".join(f"{r.name} v{r.version}" for r in known.itertuples()) or "none saved yet"
            raise InputError(Problem(f"no weight set {name!r}" + (f" version {version}" if version is not None else "")
                                     + f" (saved: {have})"))
        return out

    def set_current(self, name: str, version: int, *, who: str) -> None:
        """Record that ``name`` version ``version`` is the study's current weight set."""
        ws = self.weight_set(name, version)
        who = _text(who, "who")
        t = self._t["current_weights"]
        at = self._now()
        self._run(lambda c: c.execute(t.insert().values(name=ws.name, version=ws.version, who=who, at=at)), write=True)

    def current(self) -> WeightSet | None:
        """The current weight set (the last one :meth:`set_current` recorded), or None."""
        import sqlalchemy as sa

        t = self._t["current_weights"]
        row = self._run(lambda c: c.execute(sa.select(t.c.name, t.c.version).order_by(t.c.id.desc()).limit(1)).first())
        return None if row is None else self.weight_set(row[0], int(row[1]))

    # ------------------------------------------------------------------ follow-up of warnings
    def follow_up(self, area_id: str, category: str, period: str | pd.Timestamp, detector: str, status: str, *,
                  who: str, unit: str = "", note: str = "") -> int:
        """Record an action on a warning (a new event; earlier ones are kept); return its id.

        ``status``: ``acknowledged``; ``assigned`` (needs the ``unit``); ``rectified`` (needs a ``note``).
        """
        area_id = _text(area_id, "the area")
        category = _text(category, "the category")
        detector = _text(detector, "the detector")
        day = _day(period)
        who = _text(who, "who (the person recording the follow-up)")
        if status not in FOLLOW_UP_STATUSES:
            raise InputError(Problem(f"unknown follow-up status {status!r}; valid: {', '.join(FOLLOW_UP_STATUSES)}"))
        unit = str(unit or "").strip()
        note = str(note or "").strip()
        if status == "assigned" and not unit:
            raise InputError(Problem("a warning assigned to a unit needs the unit's name"))
        if status == "rectified" and not note:
            raise InputError(Problem("a warning marked rectified needs a note saying what was done"))
        voc = self.vocabulary
        if voc.areas and area_id not in voc.areas:
            raise InputError(Problem(f"unknown area {area_id!r}"))
        if voc.categories and category not in voc.categories:
            raise InputError(Problem(f"unknown category {category!r}; categories: {', '.join(sorted(voc.categories))}"))
        t = self._t["follow_up"]
        row = {"area_id": area_id, "category": category, "period": day, "detector": detector, "status": status,
               "unit": unit, "note": note, "who": who, "at": self._now()}
        return int(self._run(lambda c: c.execute(t.insert().values(**row)).inserted_primary_key[0], write=True))

    def follow_up_history(self) -> pd.DataFrame:
        """Every follow-up event, oldest first: :data:`FOLLOW_UP_COLUMNS`."""
        import sqlalchemy as sa

        t = self._t["follow_up"]
        rows = self._run(lambda c: c.execute(sa.select(*[t.c[k] for k in FOLLOW_UP_COLUMNS]).order_by(t.c.id)).all())
        return pd.DataFrame([tuple(r) for r in rows], columns=FOLLOW_UP_COLUMNS)

    def follow_up_table(self) -> pd.DataFrame:
        """Each warning's latest follow-up event (its state): :data:`FOLLOW_UP_COLUMNS`."""
        h = self.follow_up_history()
        if h.empty:
            return h
        return h.groupby(["area_id", "category", "period", "detector"], sort=False).tail(1).reset_index(drop=True)

    # ------------------------------------------------------------------ supervision (挂牌督办)
    def supervise(self, area_id: str, indicator: str, target: object, direction: str,
                  review_date: str | dt.date | pd.Timestamp, *, who: str, note: str = "") -> int:
        """Put an area on the supervision list for an indicator with a target; return the item's id.

        ``direction``: ``at_most`` (the value must fall to the target or below) or ``at_least``.
        """
        area_id = _text(area_id, "the area")
        indicator = _text(indicator, "the indicator")
        who = _text(who, "who (the person adding the item)")
        x = _number(target, f"the target of {indicator}")
        if direction not in DIRECTIONS:
            raise InputError(Problem(f"unknown target direction {direction!r}; valid: {', '.join(DIRECTIONS)}"))
        day = _day(review_date)
        voc = self.vocabulary
        if voc.areas and area_id not in voc.areas:
            raise InputError(Problem(f"unknown area {area_id!r}"))
        if voc.codes and indicator not in voc.codes and indicator not in voc.categories:
            raise InputError(Problem(f"unknown indicator {indicator!r}"))
        t = self._t["supervision"]
        row = {"area_id": area_id, "indicator": indicator, "target": x, "direction": direction, "review_date": day,
               "who": who, "at": self._now(), "note": str(note or "").strip()}
        return int(self._run(lambda c: c.execute(t.insert().values(**row)).inserted_primary_key[0], write=True))

    def end_supervision(self, item_id: int, *, who: str, note: str = "") -> None:
        """Take an item off the supervision list (recorded; the item itself stays in the history)."""
        import sqlalchemy as sa

        who = _text(who, "who")
        s, e = self._t["supervision"], self._t["supervision_end"]
        iid = int(_number(item_id, "the supervision item's id"))

        def go(conn: Any) -> None:  # noqa: ANN401
            if conn.execute(sa.select(s.c.id).where(s.c.id == iid)).first() is None:
                raise InputError(Problem(f"no supervision item {iid}"))
            if conn.execute(sa.select(e.c.item_id).where(e.c.item_id == iid)).first() is not None:
                raise InputError(Problem(f"supervision item {iid} is already off the list"))
            conn.execute(e.insert().values(item_id=iid, who=who, at=self._now(), note=str(note or "").strip()))

        self._run(go, write=True)

    def supervision_table(self, *, active_only: bool = False) -> pd.DataFrame:
        """The supervision list: :data:`SUPERVISION_COLUMNS` (``active`` False once ended), oldest first."""
        import sqlalchemy as sa

        s, e = self._t["supervision"], self._t["supervision_end"]
        q = (sa.select(s.c.id, s.c.area_id, s.c.indicator, s.c.target, s.c.direction, s.c.review_date, s.c.who, s.c.at,
                       s.c.note, e.c.who, e.c.at, e.c.note)
             .select_from(s.outerjoin(e, e.c.item_id == s.c.id)).order_by(s.c.id))
        rows = self._run(lambda c: c.execute(q).all())
        cols = ["id", "area_id", "indicator", "target", "direction", "review_date", "who", "at", "note",
                "ended_by", "ended_at", "end_note"]
        df = pd.DataFrame([tuple(r) for r in rows], columns=cols)
        df["target"] = df["target"].astype(float)
        df["active"] = df["ended_at"].isna()
        df = df[SUPERVISION_COLUMNS]
        return df.loc[df["active"]].reset_index(drop=True) if active_only else df


def _tables() -> dict[str, Any]:
    """The schema (SQLAlchemy Core tables on one MetaData)."""
    import sqlalchemy as sa

    md = sa.MetaData()
    text = sa.String(200)
    at = sa.String(40)
    out: dict[str, Any] = {"metadata": md}
    out["meta"] = sa.Table("ledger_meta", md, sa.Column("key", sa.String(64), primary_key=True),
                           sa.Column("value", sa.String(200), nullable=False))
    out["judgements"] = sa.Table(
        "judgements", md, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("expert", text, nullable=False), sa.Column("parent", text, nullable=False),
        sa.Column("row_code", text, nullable=False), sa.Column("col_code", text, nullable=False),
        sa.Column("value", sa.Float, nullable=False), sa.Column("version", sa.Integer, nullable=False),
        sa.Column("who", text, nullable=False), sa.Column("at", at, nullable=False),
        sa.Index("ix_judgements_expert_parent", "expert", "parent", "version"))
    out["weight_sets"] = sa.Table(
        "weight_sets", md, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", text, nullable=False), sa.Column("version", sa.Integer, nullable=False),
        sa.Column("method", sa.String(16), nullable=False), sa.Column("who", text, nullable=False),
        sa.Column("at", at, nullable=False), sa.Column("note", sa.Text, nullable=False, default=""),
        sa.UniqueConstraint("name", "version", name="uq_weight_sets_name_version"))
    out["weight_values"] = sa.Table(
        "weight_values", md, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("set_id", sa.Integer, sa.ForeignKey("weight_sets.id"), nullable=False),
        sa.Column("code", text, nullable=False), sa.Column("weight", sa.Float, nullable=False))
    out["current_weights"] = sa.Table(
        "current_weights", md, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", text, nullable=False), sa.Column("version", sa.Integer, nullable=False),
        sa.Column("who", text, nullable=False), sa.Column("at", at, nullable=False))
    out["follow_up"] = sa.Table(
        "follow_up", md, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("area_id", text, nullable=False), sa.Column("category", text, nullable=False),
        sa.Column("period", sa.String(10), nullable=False), sa.Column("detector", text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False), sa.Column("unit", text, nullable=False, default=""),
        sa.Column("note", sa.Text, nullable=False, default=""), sa.Column("who", text, nullable=False),
        sa.Column("at", at, nullable=False))
    out["supervision"] = sa.Table(
        "supervision", md, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("area_id", text, nullable=False), sa.Column("indicator", text, nullable=False),
        sa.Column("target", sa.Float, nullable=False), sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("review_date", sa.String(10), nullable=False), sa.Column("who", text, nullable=False),
        sa.Column("at", at, nullable=False), sa.Column("note", sa.Text, nullable=False, default=""))
    out["supervision_end"] = sa.Table(
        "supervision_end", md, sa.Column("item_id", sa.Integer, sa.ForeignKey("supervision.id"), primary_key=True),
        sa.Column("who", text, nullable=False), sa.Column("at", at, nullable=False),
        sa.Column("note", sa.Text, nullable=False, default=""))
    return out
