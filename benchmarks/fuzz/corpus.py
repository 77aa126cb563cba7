"""A fixed, seeded corpus of malformed and adversarial inputs for riskmodel's commands (issue 16).

Each :class:`Case` is one command line (``validate``, ``forecast``, ``detect``,
``claim``, ``index build``, ``grid``) run in an empty folder holding the files
the case writes there, with the outcome it must have:

* ``refuse`` -- exit 2, ``riskmodel: error: ...`` on stderr naming every
  string of :attr:`Case.names` (the file, option, row or column at fault);
* ``ok`` -- exit 0 and a plausible output (:attr:`Case.checks`);
* ``ok-with-note`` -- exit 0, plausible, and stderr holding every word of
  :attr:`Case.note` (e.g. ``counted as 0`` for zeros riskmodel added);
* ``ok-or-refuse`` -- either of the first two (for shapes where either a
  correct result or a clear refusal is right, e.g. weekly data dated Sundays:
  read as weeks, or refused with the rows named; never daily forecasts).

Every case, whatever its class, must leave its input files unchanged, print
no traceback and finish within the runner's timeout.

The inputs are tiny (two or three series, a few years) so that a command
does well under a second of work; the data are drawn from a seeded generator,
so the corpus is the same bytes on every machine (:func:`build_corpus`).
``known`` marks the shapes that issue 16 (or issue 14, for zeros added
silently) reports as failing at commit 3962b57; ``owner`` is the helper of
round 2 who owns the cause (docs: /work/briefs/r2_common.md).

Run it with ``benchmarks/fuzz/run_fuzz.py`` (subprocesses, one per case) or
``tests/fuzz/test_corpus.py`` (in-process, in the suite).
"""

from __future__ import annotations

import functools
import gzip
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

EXPECTS = ("refuse", "ok", "ok-with-note", "ok-or-refuse")


@dataclass(frozen=True)
class Symlink:
    """A symbolic link to ``target`` (relative to the case's folder)."""

    target: str


@dataclass(frozen=True)
class Folder:
    """An empty folder."""


FileSpec = bytes | Symlink | Folder


@dataclass(frozen=True)
class Case:
    """One adversarial command line and the outcome it must have.

    Attributes
    ----------
    name : str
        Unique, ``<command>-<shape>``.
    argv : tuple of str
        Arguments after ``riskmodel``; paths are relative to the case's folder
        (the working directory of the run).
    files : mapping of str to bytes, Symlink or Folder
        What to create in the folder before the run (the inputs, hashed
        before and after).
    expect : str
        One of :data:`EXPECTS`.
    names : tuple of str
        ``refuse``: strings that must all appear in stderr (case-insensitive);
        ``a|b`` means either ``a`` or ``b`` (an option's flag or its words).
    note : tuple of str
        ``ok-with-note``: words that must all appear in stderr.
    checks : tuple of str
        Plausibility checks on exit 0 (see ``run_fuzz.plausibility``):
        ``forecast``, ``detect``, ``claim``, ``index``, ``grid``, ``csv-safe``.
    level : float or None
        Typical count per period of the input series (forecast/detect scale check).
    out : str or None
        The output path the checks read.
    known : bool
        The issue's descriptions say this shape fails at 3962b57.
    owner : str
        Helper owning the cause (data, cli, tracking, alerts, impact, report, forecast).
    why : str
        The issue item the case comes from, or what it probes.
    """

    name: str
    argv: tuple[str, ...]
    files: Mapping[str, FileSpec]
    expect: str
    names: tuple[str, ...] = ()
    note: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    level: float | None = None
    out: str | None = None
    known: bool = False
    owner: str = "data"
    why: str = ""
    hostile: tuple[str, ...] = field(default=())
    """Strings that must not appear verbatim as a cell of an output CSV (``csv-safe``)."""
    step_days: int | None = None
    """``forecast``: the fewest days between a series' consecutive forecast periods (7 for weekly input: no
    daily forecasts of weekly data); ``says:TEXT`` checks stdout + stderr for TEXT."""

    def __post_init__(self) -> None:
        if self.expect not in EXPECTS:
            raise ValueError(f"{self.name}: expect must be one of {EXPECTS}")


# ---------------------------------------------------------------------------
# small valid inputs, drawn from a seeded generator

HEADER = "area_id,category,period,count"
UNWRITABLE = "/proc/riskmodel-fuzz/out"
"""A folder nobody can create, not even root (the runs may be root, for whom chmod 555 is no bar)."""


def _csv(rows: list[tuple[str, str, str, object]], header: str = HEADER, sep: str = ",", eol: str = "\n") -> bytes:
    lines = [header.replace(",", sep)] + [sep.join(str(v) for v in r) for r in rows]
    return (eol.join(lines) + eol).encode("utf-8")


def _dates(first: str, n: int, freq: str) -> list[str]:
    start = np.datetime64(first)
    if freq == "W":
        return [str(start + np.timedelta64(7 * i, "D")) for i in range(n)]
    if freq == "D":
        return [str(start + np.timedelta64(i, "D")) for i in range(n)]
    if freq == "M":
        m = np.datetime64(first[:7], "M")
        return [str(m + np.timedelta64(i, "M")) + "-01" for i in range(n)]
    if freq == "Y":
        y = int(first[:4])
        return [f"{y + i}-01-01" for i in range(n)]
    raise ValueError(freq)


def _panel(rng: np.random.Generator, areas: tuple[str, ...], category: str, first: str, n: int, freq: str,
           level: float) -> list[tuple[str, str, str, object]]:
    dates = _dates(first, n, freq)
    rows = []
    for i, a in enumerate(areas):
        t = np.arange(n)
        mu = level * (1 + 0.1 * i) * (1 + 0.2 * np.sin(2 * np.pi * t / {"W": 52, "M": 12, "D": 7, "Y": 1}[freq]))
        rows += [(a, category, d, int(c)) for d, c in zip(dates, rng.poisson(mu), strict=True)]
    return rows


@dataclass
class Base:
    """The valid inputs the cases mutate (rows and bytes)."""

    weekly: list[tuple[str, str, str, object]]
    monthly: list[tuple[str, str, str, object]]
    daily: list[tuple[str, str, str, object]]
    annual: list[tuple[str, str, str, object]]
    areas: bytes
    events: list[tuple[str, str, float, float]]
    polygons: dict
    indicators: list[tuple[str, str, str, float]]
    spec: bytes
    index_areas: bytes

    def counts(self, kind: str = "weekly") -> bytes:
        return _csv(getattr(self, kind))


def make_base(seed: int = 20260316) -> Base:
    """The valid inputs, drawn from ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    weekly = _panel(rng, ("D01", "D02"), "cases", "2016-01-04", 156, "W", 16.0)
    monthly = _panel(rng, ("A01", "A02", "A03"), "theft", "2015-01-01", 48, "M", 30.0)
    daily = _panel(rng, ("D01",), "cases", "2018-01-01", 120, "D", 3.0)
    annual = []
    for i in range(6):
        annual += [(f"S{i + 1:02d}", "all", d, int(c))
                   for d, c in zip(_dates("1990-01-01", 16, "Y"), rng.poisson(400 + 40 * i, 16), strict=True)]
    areas = ("area_id,name,name_en,parent_id,level\n"
             "CITY,城市,The City,,city\n"
             "A01,甲街道,Street A,CITY,street\nA02,乙街道,Street B,CITY,street\nA03,丙街道,Street C,CITY,street\n"
             "D01,丁街道,Street D,CITY,street\nD02,戊街道,Street E,CITY,street\n").encode()
    # grid: two streets, each a 400 m square, events in 2019
    n_ev = 80
    xs = rng.uniform(0, 800, n_ev).round(1)
    ys = rng.uniform(0, 400, n_ev).round(1)
    days = rng.integers(0, 120, n_ev)
    cats = rng.choice(["theft", "fight"], n_ev)
    events = [(str(np.datetime64("2019-01-01") + np.timedelta64(int(d), "D")) + " 12:00:00", str(c), float(x), float(y))
              for d, c, x, y in zip(days, cats, xs, ys, strict=True)]
    polygons = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"area_id": sid},
         "geometry": {"type": "Polygon", "coordinates": [[[x0, 0.0], [x0 + 400, 0.0], [x0 + 400, 400.0], [x0, 400.0],
                                                           [x0, 0.0]]]}}
        for sid, x0 in (("S1", 0.0), ("S2", 400.0))]}
    # index: 6 streets under 2 districts, 4 indicators in 2 dimensions, 4 months
    iareas = ["DA", "DB"] + [f"{d}{i}" for d in "AB" for i in (1, 2, 3)]
    index_areas = ("area_id,name,name_en,parent_id,level\nCITY,城市,City,,city\nDA,甲区,District A,CITY,district\n"
                   "DB,乙区,District B,CITY,district\n"
                   + "".join(f"{d}{i},{d}{i}街,{d}{i} street,D{d},street\n" for d in "AB" for i in (1, 2, 3))
                   ).encode("utf-8")
    spec = ("indicator,name,name_en,parent,level,direction,weight\n"
            "rate_theft,盗窃率,theft rate,order,1,-1,0.5\nrate_fight,斗殴率,fight rate,order,1,-1,0.5\n"
            "resolve,化解率,dispute resolution,service,1,1,0.5\nsurvey,满意度,satisfaction,service,1,1,0.5\n"
            "order,治安,order,Index,2,1,0.5\nservice,服务,service,Index,2,1,0.5\nIndex,指数,index,,3,1,1.0\n"
            ).encode()
    indicators = []
    streets = [a for a in iareas if len(a) == 2 and a[1].isdigit()]
    for p in _dates("2020-01-01", 4, "M"):
        for a in streets:
            indicators += [(a, p, "rate_theft", round(float(rng.gamma(4, 2)), 3)),
                           (a, p, "rate_fight", round(float(rng.gamma(2, 1)), 3)),
                           (a, p, "resolve", round(float(rng.uniform(0.6, 0.99)), 4)),
                           (a, p, "survey", round(float(rng.uniform(60, 95)), 2))]
    return Base(weekly, monthly, daily, annual, areas, events, polygons, indicators, spec, index_areas)


def _events_csv(events: list[tuple[str, str, object, object]], header: str = "timestamp,category,x,y") -> bytes:
    return _csv([tuple(e) for e in events], header=header)


def _indicators_csv(rows: list[tuple[str, str, str, object]]) -> bytes:
    return _csv(rows, header="area_id,period,indicator,value")


INDEX_TOML = """\
[data]
indicators = "indicators.csv"
spec = "spec.csv"
areas = "areas.csv"
groups = ["parent_id"]
period = {period}

[steps]
impute = {{ method = "carry_forward" }}
normalise = {{ method = "minmax", range = {range}, pooled = true }}
aggregate = {{ method = "arithmetic" }}

[weights]
method = "equal"
"""


def index_config(period: str = '"all"', range_: str = "[0, 100]") -> bytes:
    return INDEX_TOML.format(period=period, range=range_).encode("utf-8")


# ---------------------------------------------------------------------------
# the commands, each with the arguments of a cheap valid run

def _validate(counts: str = "counts.csv", *extra: str) -> tuple[str, ...]:
    return ("validate", "--counts", counts, *extra)


def _forecast(counts: str = "counts.csv", *extra: str, out: str = "fc.csv") -> tuple[str, ...]:
    return ("forecast", "--counts", counts, "--out", out, "--model", "naive", "--workers", "1", "--no-track", *extra)


def _detect(counts: str = "counts.csv", *extra: str, out: str = "alarms.csv", method: str = "glrnb") -> tuple[str, ...]:
    return ("detect", "--counts", counts, "--out", out, "--method", method, "--workers", "1", "--no-track", *extra)


CLAIM_AREA = "A01"


def _claim(counts: str = "counts.csv", *extra: str, out: str = "claim", area: str = CLAIM_AREA,
           category: str = "theft", intervention: str = "2018-01-01", method: str = "rate-ratio",
           period: str = "2018") -> tuple[str, ...]:
    """A claim on the monthly panel (2015-2018): 2018 against 2017, the programme from 2018."""
    return ("claim", "--counts", counts, "--area", area, "--category", category, "--intervention", intervention,
            "--period", period, "--out", out, "--method", method, "--no-track", *extra)


def _index(config: str = "index.toml", out: str = "index_out") -> tuple[str, ...]:
    return ("index", "build", "--config", config, "--out", out, "--no-track")


def _grid(events: str = "events.csv", polygons: str = "streets.geojson", *extra: str, out: str = "grid_out",
          cell: str = "200") -> tuple[str, ...]:
    return ("grid", "--events", events, "--polygons", polygons, "--id-field", "area_id", "--cell-size", cell,
            "--out", out, *extra)


# ---------------------------------------------------------------------------
# malformed counts files, applied to each command that loads counts


@functools.cache
def gzip_bomb(mib: int = 50) -> bytes:
    """A counts header then ``mib`` MiB of the digit 0 on one line, gzipped (about 50 kB)."""
    return gzip.compress(HEADER.encode() + b"\n" + b"0" * (mib * 2**20), compresslevel=9, mtime=0)


def _counts_mutations(b: Base, rows: list, kind: str) -> dict[str, tuple[Mapping[str, FileSpec], str, tuple[str, ...],
                                                                           tuple[str, ...], bool, str]]:
    """Shape -> (files, expect, names, note, known, owner) for a counts file based on ``rows``.

    The counts file is always ``counts.csv`` (or ``counts.csv.gz``), so a
    refusal must name it.
    """
    good = _csv(rows)
    text = good.decode("utf-8")
    lines = text.splitlines()
    n = len(rows)
    fw = str.maketrans("0123456789", "０１２３４５６７８９")
    full_width = "\n".join(lines[:5] + [",".join(lines[5].split(",")[:3] + [lines[5].split(",")[3].translate(fw)])]
                           + lines[6:]) + "\n"
    with_unit = "\n".join(lines[:5] + [lines[5] + "件"] + lines[6:]) + "\n"
    gbk_rows = [(("东区" if r[0] == rows[-1][0] else r[0]),) + tuple(r[1:]) for r in rows]
    neg = list(rows)
    neg[7] = neg[7][:3] + (-3,)
    nan = list(rows)
    nan[9] = nan[9][:3] + ("NaN",)
    huge = list(rows)
    huge[11] = huge[11][:3] + ("1000000000000000000",)
    early = list(rows) + [(rows[0][0], rows[0][1], "1900-01-01" if kind != "weekly" else "1900-01-01", 5)]
    # 1900-01-01 is a Monday, so the weekly file keeps Monday-dated weeks
    dup = list(rows) + [rows[3]]
    drop = {(i * 37) % n for i in range(1, 9)}
    gappy = [r for i, r in enumerate(rows) if i not in drop]
    raw_gz = gzip.compress(good, mtime=0)
    bomb = gzip_bomb()
    long_line = text + ",".join(["x"] * 200_000) + "\n"
    return {
        "empty-file": ({"counts.csv": b""}, "refuse", ("counts.csv",), (), False, "data"),
        "header-only": ({"counts.csv": (HEADER + "\n").encode()}, "refuse", ("counts.csv",), (), False, "data"),
        "whitespace-only": ({"counts.csv": b"  \n\n \t\n"}, "refuse", ("counts.csv",), (), False, "data"),
        "bom": ({"counts.csv": b"\xef\xbb\xbf" + good}, "ok", (), (), False, "data"),
        "crlf": ({"counts.csv": _csv(rows, eol="\r\n")}, "ok", (), (), False, "data"),
        "gbk-bytes": ({"counts.csv": _csv(gbk_rows).decode("utf-8").encode("gbk")}, "ok-with-note", (), ("GB",),
                      False, "data"),
        "non-utf8": ({"counts.csv": good.replace(rows[0][0].encode(), b"\xff\xfe\x80", 1)}, "refuse",
                     ("counts.csv",), (), False, "data"),
        "nul-bytes": ({"counts.csv": good[:200] + b"\x00" * 64 + good[200:]}, "refuse", ("counts.csv",), (), False,
                      "data"),
        "semicolons": ({"counts.csv": _csv(rows, sep=";")}, "refuse", ("counts.csv",), (), False, "data"),
        "duplicated-row": ({"counts.csv": _csv(dup)}, "refuse", ("counts.csv",), (), False, "data"),
        "negative-count": ({"counts.csv": _csv(neg)}, "refuse", ("counts.csv",), (), False, "data"),
        "nan-count": ({"counts.csv": _csv(nan)}, "refuse", ("counts.csv",), (), False, "data"),
        "missing-column": ({"counts.csv": "\n".join(",".join(x.split(",")[:3]) for x in lines).encode()},
                           "refuse", ("counts.csv", "count"), (), False, "data"),
        "extra-column": ({"counts.csv": "\n".join(x + ("," + ("note" if i == 0 else "x")) for i, x in
                                                  enumerate(lines)).encode()}, "ok", (), (), False, "data"),
        "very-long-line": ({"counts.csv": long_line.encode()}, "refuse", ("counts.csv",), (), False, "data"),
        # issue 15: counts typed as text are read when plainly numbers (full-width digits, 1,234), else refused
        "full-width-digits": ({"counts.csv": full_width.encode()}, "ok", (), (), True, "data"),
        "count-with-unit": ({"counts.csv": with_unit.encode()}, "refuse", ("counts.csv",), (), True, "data"),
        "count-1e18": ({"counts.csv": _csv(huge)}, "refuse", ("counts.csv",), (), True, "data"),
        "date-1900": ({"counts.csv": _csv(early)}, "refuse", ("counts.csv",), (), True, "data"),
        "gaps": ({"counts.csv": _csv(gappy)}, "ok-with-note", (), ("counted as 0",), True, "data"),
        "folder": ({"counts.csv": Folder()}, "refuse", ("counts.csv",), (), False, "data"),
        "nonexistent": ({}, "refuse", ("counts.csv",), (), False, "data"),
        "symlink-loop": ({"counts.csv": Symlink("loop.csv"), "loop.csv": Symlink("counts.csv")}, "refuse",
                         ("counts.csv", "link"), (), True, "data"),
        "gzip-ok": ({"counts.csv.gz": raw_gz}, "ok", (), (), False, "data"),
        "gzip-truncated": ({"counts.csv.gz": raw_gz[: len(raw_gz) // 2]}, "refuse", ("counts.csv.gz",), (), True,
                           "data"),
        "gzip-not-gzip": ({"counts.csv.gz": good}, "refuse", ("counts.csv.gz",), (), False, "data"),
        "gzip-bomb": ({"counts.csv.gz": bomb}, "refuse", ("counts.csv.gz", "decompress|bomb|ratio"), (), True,
                      "data"),
        "parquet-not-parquet": ({"counts.parquet": good}, "refuse", ("counts.parquet",), (), False, "data"),
    }


NOTE_OWNER = {"validate": "data", "forecast": "forecast", "detect": "alerts", "claim": "impact"}
"""Who prints ``panel.added_zeros.note()`` in each command (the brief's ownership table)."""

LOADER_SHAPES = {"gbk-bytes", "full-width-digits", "count-with-unit", "count-1e18", "date-1900", "gaps", "symlink-loop", "gzip-truncated",
                 "gzip-bomb", "negative-count", "header-only", "duplicated-row"}
"""The malformed-file shapes tried on detect and claim too (validate and forecast try all of them)."""


def _counts_arg(files: Mapping[str, FileSpec]) -> str:
    for n in ("counts.csv.gz", "counts.parquet"):
        if n in files:
            return n
    return "counts.csv"


def build_corpus(seed: int = 20260316) -> list[Case]:
    """Every case, in a fixed order; the data drawn from ``seed``."""
    b = make_base(seed)
    cases: list[Case] = []
    add = cases.append
    weekly, monthly = b.counts("weekly"), b.counts("monthly")

    # -- malformed counts files x validate, forecast, detect (weekly) and claim (monthly)
    runners: dict[str, tuple[Callable[[str], tuple[str, ...]], str, tuple[str, ...], str | None, float]] = {
        "validate": (lambda c: _validate(c), "weekly", (), None, 16.0),
        "forecast": (lambda c: _forecast(c), "weekly", ("forecast",), "fc.csv", 16.0),
        "detect": (lambda c: _detect(c), "weekly", ("detect",), "alarms.csv", 16.0),
        "claim": (lambda c: _claim(c), "monthly", ("claim",), "claim", 30.0),
    }
    for cmd, (argv, kind, checks, out, level) in runners.items():
        for shape, (files, expect, names, note, known, owner) in _counts_mutations(b, getattr(b, kind), kind).items():
            if cmd in ("detect", "claim") and shape not in LOADER_SHAPES:
                continue  # the loader is shared: validate and forecast try every shape, these the known failures
            if note:  # the loader counts the zeros; each command prints the note (the shared contract)
                owner = NOTE_OWNER[cmd]
            add(Case(f"{cmd}-{shape}", argv(_counts_arg(files)), files, expect, names, note, checks, level, out,
                     known, owner, f"malformed counts file ({shape})"))

    # -- frequency framing (issue 16 item 3, issue 14 item 1)
    rows = b.weekly
    sundays = [(a, c, str(np.datetime64(p) + np.timedelta64(6, "D")), n) for a, c, p, n in rows]
    stray = rows + [("D01", "cases", "2017-03-07", 2), ("D02", "cases", "2018-06-12", 3)]
    no53 = _panel(np.random.default_rng(seed + 53), ("D01", "D02"), "cases", "2003-01-06", 209, "W", 16.0)
    no53 = [r for r in no53 if r[2] != "2004-12-27"]
    stray_m = list(b.monthly)
    stray_m[20] = stray_m[20][:2] + (stray_m[20][2][:8] + "15",) + stray_m[20][3:]
    framing = {
        "weekly-sundays": ({"counts.csv": _csv(sundays)}, (), "ok-or-refuse", ("counts.csv",), (), True),
        "weekly-two-stray-days": ({"counts.csv": _csv(stray)}, (), "ok-or-refuse", ("counts.csv",), (), True),
        "freq-D-on-weekly": ({"counts.csv": weekly}, ("--freq", "D"), "refuse", ("--freq",), (), True),
        "weekly-missing-week53": ({"counts.csv": _csv(no53)}, (), "ok-with-note", (), ("counted as 0",), True),
        "monthly-stray-mid-month": ({"counts.csv": _csv(stray_m)}, (), "ok-or-refuse", ("counts.csv",), (), True),
        "freq-Q": ({"counts.csv": weekly}, ("--freq", "Q"), "refuse", ("--freq",), (), False),
    }
    for shape, (files, extra, expect, names, note, known) in framing.items():
        level = 30.0 if "monthly" in shape else 16.0
        says = ("says:frequency M",) if "monthly" in shape else ("says:frequency W",)
        step = 28 if "monthly" in shape else 7
        add(Case(f"validate-{shape}", _validate("counts.csv", *extra), files,
                 expect, names, note, says, level, None,
                 known, "data", "frequency framing (issue 16 item 3, issue 14 item 1)"))
        add(Case(f"forecast-{shape}", _forecast("counts.csv", *extra), files, expect, names, note, ("forecast",),
                 level, "fc.csv", known, NOTE_OWNER["forecast"] if note else "data",
                 "frequency framing (issue 16 item 3, issue 14 item 1)", step_days=step))
        add(Case(f"detect-{shape}", _detect("counts.csv", *extra), files, expect, names, note, ("detect",), level,
                 "alarms.csv", known, NOTE_OWNER["detect"] if note else "data",
                 "frequency framing (issue 16 item 3, issue 14 item 1)"))

    # -- forecast options (issue 16 item 9)
    zeros = [(a, c, p, 0) for a, c, p, _ in b.weekly]
    wf = {"counts.csv": weekly}
    opt_cases = [
        ("forecast-all-zero-panel-auto", ("forecast", "--counts", "counts.csv", "--out", "fc.csv", "--workers", "1",
                                          "--no-track"), {"counts.csv": _csv(zeros)}, "ok-or-refuse",
         ("counts.csv",), True, "forecast", 0.0),
        ("forecast-all-zero-panel-gbm", _forecast("counts.csv", "--model", "gbm"), {"counts.csv": _csv(zeros)},
         "ok-or-refuse", ("counts.csv",), True, "forecast", 0.0),
        ("forecast-all-zero-panel-naive", _forecast("counts.csv"), {"counts.csv": _csv(zeros)}, "ok", (), False,
         "forecast", 0.0),
        ("forecast-seed-minus-1", _forecast("counts.csv", "--model", "gbm", "--seed", "-1"), wf, "refuse",
         ("--seed",), True, "forecast", 16.0),
        ("forecast-seed-2pow32", _forecast("counts.csv", "--model", "gbm", "--seed", str(2**32)), wf, "refuse",
         ("--seed",), True, "forecast", 16.0),
        ("forecast-seed-2pow64", _forecast("counts.csv", "--model", "gbm", "--seed", str(2**64)), wf, "refuse",
         ("--seed",), True, "forecast", 16.0),
        ("forecast-h-huge", _forecast("counts.csv", "--h", str(10**12)), wf, "refuse", ("--h",), True, "forecast",
         16.0),
        ("forecast-h-1e8", _forecast("counts.csv", "--h", str(10**8)), wf, "refuse", ("--h",), True, "forecast", 16.0),
        ("forecast-h-zero", _forecast("counts.csv", "--h", "0"), wf, "refuse", ("--h",), False, "forecast", 16.0),
        ("forecast-h-negative", _forecast("counts.csv", "--h", "-3"), wf, "refuse", ("--h",), False, "forecast", 16.0),
        ("forecast-level-150", _forecast("counts.csv", "--level", "150"), wf, "refuse", ("--level|interval level",), False,
         "forecast", 16.0),
        ("forecast-level-0", _forecast("counts.csv", "--level", "0"), wf, "refuse", ("--level|interval level",), False,
         "forecast",
         16.0),
        ("forecast-level-nan", _forecast("counts.csv", "--level", "nan"), wf, "refuse", ("--level|interval level",), False,
         "forecast", 16.0),
        ("forecast-unknown-model", _forecast("counts.csv", "--model", "magic"), wf, "refuse", ("magic",), False,
         "forecast", 16.0),
        ("forecast-gaps-error", _forecast("counts.csv", "--gaps", "error"),
         {"counts.csv": _csv([r for i, r in enumerate(b.weekly) if i not in (10, 20, 30)])}, "refuse",
         ("counts.csv",), False, "data", 16.0),
        ("forecast-chunk-size-zero", _forecast("counts.csv", "--chunk-size", "0"), wf, "refuse", ("--chunk-size",),
         False, "forecast", 16.0),
        ("forecast-workers-zero", _forecast("counts.csv", "--workers", "0"), wf, "refuse", ("--workers",), False,
         "cli", 16.0),
        ("forecast-valid-weekly", _forecast("counts.csv"), wf, "ok", (), False, "forecast", 16.0),
        ("forecast-valid-monthly-ets", _forecast("counts.csv", "--model", "ets"), {"counts.csv": monthly}, "ok", (),
         False, "forecast", 30.0),
        ("forecast-single-row", _forecast("counts.csv"), {"counts.csv": _csv(b.weekly[:1])}, "ok-or-refuse",
         ("counts.csv|period",), False, "data", 16.0),
        ("forecast-reconcile-no-areas", _forecast("counts.csv", "--reconcile", "bottom_up"), wf, "refuse",
         ("--areas",), False, "forecast", 16.0),
    ]
    for name, argv, files, expect, names, known, owner, level in opt_cases:
        add(Case(name, argv, files, expect, names, (), ("forecast",), level, "fc.csv", known, owner,
                 "forecast options and degenerate panels (issue 16 item 9)"))

    # -- --out paths (issue 16 items 4 and 9), for every command that writes
    grid_files = {"events.csv": _events_csv(b.events), "streets.geojson": json.dumps(b.polygons).encode()}
    index_files = {"index.toml": index_config(), "indicators.csv": _indicators_csv(b.indicators), "spec.csv": b.spec,
                   "areas.csv": b.index_areas}
    writers: dict[str, tuple[Callable[..., tuple[str, ...]], Mapping[str, FileSpec], str, str]] = {
        "forecast": (lambda out: _forecast("counts.csv", out=out), {"counts.csv": weekly}, "counts.csv", "forecast"),
        "detect": (lambda out: _detect("counts.csv", out=out), {"counts.csv": weekly}, "counts.csv", "alerts"),
        "claim": (lambda out: _claim("counts.csv", out=out), {"counts.csv": monthly}, "counts.csv", "impact"),
        "index-build": (lambda out: _index(out=out), index_files, "indicators.csv", "report"),
        "grid": (lambda out: _grid(out=out), grid_files, "events.csv", "data"),
    }
    for cmd, (argv, files, an_input, _owner) in writers.items():
        f = dict(files)
        add(Case(f"{cmd}-out-under-a-file", argv("afile.txt/out.csv"), {**f, "afile.txt": b"not a folder\n"},
                 "refuse", ("afile.txt",), known=True, owner="cli", why="--out under a regular file (item 9)"))
        add(Case(f"{cmd}-out-unwritable", argv(f"{UNWRITABLE}/out.csv"), f, "refuse", ("/proc/riskmodel-fuzz",),
                 known=True, owner="cli", why="--out in a folder that cannot be written (item 9)"))
        add(Case(f"{cmd}-out-is-input", argv(an_input), f, "refuse", (an_input,), known=cmd in ("forecast", "detect"),
                 owner="cli", why="--out equal to an input (item 4)"))
        add(Case(f"{cmd}-out-symlink-to-input", argv("link.out"), {**f, "link.out": Symlink(an_input)}, "refuse",
                 ("link.out",), known=cmd in ("forecast", "detect"), owner="cli",
                 why="--out a symlink to an input (item 4)"))
    add(Case("forecast-out-is-areas", _forecast("counts.csv", "--areas", "areas.csv", out="areas.csv"),
             {"counts.csv": weekly, "areas.csv": b.areas}, "refuse", ("areas.csv",), known=True, owner="cli",
             why="--out equal to an input other than counts (item 4)"))

    # -- detect options
    wd = {"counts.csv": weekly}
    det = [
        ("detect-past-weeks-huge", _detect("counts.csv", "--b", "1", "--past-weeks-not-included", str(10**9),
                                           method="farrington"), "refuse", ("--past-weeks-not-included|past_weeks_not_included",), True),
        ("detect-past-weeks-negative", _detect("counts.csv", "--b", "1", "--past-weeks-not-included", "-5",
                                               method="farrington"), "refuse", ("--past-weeks-not-included|past_weeks_not_included",), False),
        ("detect-b-zero", _detect("counts.csv", "--b", "0", method="farrington"), "refuse", ("--b|b must",), False),
        ("detect-w-huge", _detect("counts.csv", "--b", "1", "--w", str(10**9), method="farrington"), "refuse",
         ("--w|w must",), False),
        ("detect-alpha-2", _detect("counts.csv", "--b", "1", "--alpha", "2", method="farrington"), "refuse",
         ("--alpha|alpha",), False),
        ("detect-alpha-nan", _detect("counts.csv", "--b", "1", "--alpha", "nan", method="farrington"), "refuse",
         ("--alpha|alpha",), False),
        ("detect-limit54-garbage", _detect("counts.csv", "--b", "1", "--limit54", "five,four", method="farrington"),
         "refuse",
         ("--limit54",), False),
        ("detect-start-not-a-date", _detect("counts.csv", "--start", "yesterday"), "refuse", ("--start",), False),
        ("detect-end-before-start", _detect("counts.csv", "--start", "2018-06-04", "--end", "2017-01-02"), "refuse",
         ("--end|--start",), False),
        ("detect-window-huge", _detect("counts.csv", "--window", str(10**9)), "ok-or-refuse", ("--window",), False),
        ("detect-ears-on-weekly", _detect("counts.csv", method="ears-c1"), "ok-or-refuse", ("ears-c1",), False),
        ("detect-model-params-not-json", _detect("counts.csv", "--model-params", "{not json", method="forecast"),
         "refuse", ("--model-params",), False),
        ("detect-population-missing-file", _detect("counts.csv", "--b", "1", "--population", "pop.csv",
                                                   "--population-offset", method="farrington"), "refuse",
         ("pop.csv",), False),
        ("detect-valid-weekly", _detect("counts.csv"), "ok", (), False),
        ("detect-valid-monthly-farrington", _detect("counts.csv", "--b", "2", method="farrington"), "ok", (), False),
    ]
    for name, argv, expect, names, known in det:
        files = {"counts.csv": monthly} if "monthly" in name else wd
        add(Case(name, argv, files, expect, names, (), ("detect",), 30.0 if "monthly" in name else 16.0,
                 "alarms.csv", known, "alerts", "detector options (issue 16 items 9, 12)"))
    sparse_rng = np.random.default_rng(seed + 7)
    sparse = [(f"B{i:02d}", "homicide", d, int(sparse_rng.poisson(0.02 if i == 1 else 0.3)))
              for i in range(1, 5) for d in _dates("2012-01-01", 96, "M")]
    add(Case("detect-sparse-monthly-glrnb", _detect("counts.csv"), {"counts.csv": _csv(sparse)}, "ok", (), (),
             ("detect",), None, "alarms.csv", True, "alerts", "sparse counts: upper bound below expected (issue 14.4)"))
    add(Case("detect-sparse-monthly-forecast", _detect("counts.csv", method="forecast", ), {"counts.csv": _csv(sparse)},
             "ok", (), (), ("detect",), None, "alarms.csv", True, "alerts",
             "sparse counts: negative scores (issue 14.4)"))

    # -- claim (issue 14 items 1, 2; issue 16 item 11)
    mc = {"counts.csv": monthly}
    annual = _csv(b.annual)
    zero_treated = [(a, c, p, 0 if a == CLAIM_AREA else n) for a, c, p, n in b.monthly]
    hostile_area = "=cmd|' /C calc'!A0"
    hostile_rows = [((hostile_area if a == CLAIM_AREA else a), c, p, n) for a, c, p, n in b.monthly]
    clm = [
        ("claim-annual-panel", _claim("counts.csv", area="S01", category="all", intervention="1998-01-01", period="1999"),
         {"counts.csv": annual}, "ok-or-refuse", ("counts.csv",), True),
        ("claim-annual-panel-its", _claim("counts.csv", area="S01", category="all", intervention="1998-01-01",
                                          period="1999", method="its"), {"counts.csv": annual}, "ok-or-refuse", ("counts.csv",),
         True),
        # the issue's case: a 23-month comparison against a baseline one year earlier shares 11 months
        ("claim-baseline-overlaps", _claim("counts.csv", "--baseline", "2016-02:2017-12", period="2017-02:2018-12"),
         mc, "refuse", ("baseline",), True),
        # without --baseline, the same comparison is set against the same months two years earlier
        ("claim-long-period-default-baseline", _claim("counts.csv", period="2017-02:2018-12"), mc, "ok", (), False),
        ("claim-period-reversed", _claim("counts.csv", period="2018-12:2017-02"), mc, "refuse", ("--period",),
         False),
        ("claim-period-garbage", _claim("counts.csv", period="last year"), mc, "refuse", ("--period",), False),
        ("claim-intervention-not-a-date", _claim("counts.csv", intervention="soon"), mc, "refuse",
         ("--intervention",), False),
        ("claim-intervention-after-data", _claim("counts.csv", intervention="2030-01-01"), mc, "refuse",
         ("--intervention",), False),
        ("claim-intervention-before-data", _claim("counts.csv", intervention="2001-01-01"), mc, "ok-or-refuse",
         ("--intervention",), False),
        ("claim-unknown-area", _claim("counts.csv", area="NOPE"), mc, "refuse", ("NOPE",), False),
        ("claim-unknown-category", _claim("counts.csv", category="arson"), mc, "refuse", ("arson",), False),
        ("claim-seed-minus-1", _claim("counts.csv", "--seed", "-1"), mc, "refuse", ("--seed",), True),
        ("claim-seed-2pow32", _claim("counts.csv", "--seed", str(2**32)), mc, "refuse", ("--seed",), True),
        ("claim-freq-D", _claim("counts.csv", "--freq", "D"), mc, "refuse", ("--freq",), False),
        ("claim-reported-nan", _claim("counts.csv", "--reported", "nan"), mc, "refuse", ("--reported",), False),
        ("claim-treated-all-zero", _claim("counts.csv"), {"counts.csv": _csv(zero_treated)}, "ok-or-refuse",
         ("counts.csv",), True),
        ("claim-treated-all-zero-reported", _claim("counts.csv", "--reported", "-0.3"),
         {"counts.csv": _csv(zero_treated)}, "ok-or-refuse", ("counts.csv",), True),
        ("claim-unknown-method", _claim("counts.csv", method="magic"), mc, "refuse", ("magic",), False),
        ("claim-valid", _claim("counts.csv", "--reported", "-0.1"), mc, "ok", (), False),
        ("claim-valid-did-areas", _claim("counts.csv", "--areas", "areas.csv", method="did"),
         {**mc, "areas.csv": b.areas}, "ok", (), False),
    ]
    for name, argv, files, expect, names, known in clm:
        add(Case(name, argv, files, expect, names, (), ("claim",), 30.0, "claim", known, "impact",
                 "claims on degenerate or overlapping input (issue 14 items 1, 2; issue 16 item 11)"))
    add(Case("claim-formula-area-id", _claim("counts.csv", area=hostile_area), {"counts.csv": _csv(hostile_rows)},
             "ok", (), (), ("claim", "csv-safe"), 30.0, "claim", True, "cli",
             "formula-like cells copied verbatim into output CSVs (issue 16 item 11)", hostile=(hostile_area,)))
    hostile_w = [(("=HYPERLINK(\"http://x\")" if a == "D01" else a), c, p, n) for a, c, p, n in b.weekly]
    add(Case("forecast-formula-area-id", _forecast("counts.csv"), {"counts.csv": _csv(hostile_w)}, "ok", (), (),
             ("forecast", "csv-safe"), 16.0, "fc.csv", True, "data",
             "formula-like cells copied verbatim into output CSVs (issue 16 item 11)",
             hostile=("=HYPERLINK(\"http://x\")",)))
    add(Case("detect-formula-category", _detect("counts.csv"),
             {"counts.csv": _csv([(a, "@SUM(A1:A9)", p, n) for a, _c, p, n in b.weekly])}, "ok", (), (),
             ("detect", "csv-safe"), 16.0, "alarms.csv", True, "data",
             "formula-like cells copied verbatim into output CSVs (issue 16 item 11)", hostile=("@SUM(A1:A9)",)))

    # -- areas files (hostile names, hierarchies that are not trees)
    hdr = "area_id,name,name_en,parent_id,level\n"
    streets = "D01,丁街道,Street D,CITY,street\nD02,戊街道,Street E,CITY,street\n"
    area_cases = [
        ("script-name", hdr + "CITY,<script>alert(1)</script>,<script>alert('x')</script>,,city\n" + streets, "ok",
         (), False),
        ("formula-name", hdr + "CITY,=cmd|' /C calc'!A0,+SUM(1),,city\n" + streets, "ok", (), False),
        ("cycle", hdr + "CITY,c,c,D02,city\nD01,d,d,CITY,street\nD02,e,e,D01,street\n", "refuse", ("areas.csv",),
         True),
        ("self-parent", hdr + "CITY,c,c,CITY,city\n" + streets, "refuse", ("areas.csv",), True),
        ("unknown-parent", hdr + "CITY,c,c,,city\nD01,d,d,NOWHERE,street\nD02,e,e,CITY,street\n", "refuse",
         ("NOWHERE",), False),
        ("duplicate-id", hdr + "CITY,c,c,,city\n" + streets + "D01,again,again,CITY,street\n", "refuse",
         ("D01",), False),
    ]
    for shape, text, expect, names, known in area_cases:
        add(Case(f"validate-areas-{shape}", _validate("counts.csv", "--areas", "areas.csv"),
                 {"counts.csv": weekly, "areas.csv": text.encode()}, expect, names, (), (), 16.0, None, known, "data",
                 "areas files: hostile names, hierarchies that are not trees (issue 16 items 2, 11)"))
    add(Case("forecast-reconcile-script-names", _forecast("counts.csv", "--areas", "areas.csv", "--reconcile",
                                                          "bottom_up"),
             {"counts.csv": weekly, "areas.csv": (hdr + "CITY,<script>alert(1)</script>,<b>x</b>,,city\n"
                                                  + streets).encode()}, "ok", (), (), ("forecast",), None, "fc.csv",
             False, "forecast", "hostile names in the areas file (issue 16 item 2)"))

    # -- index build (issue 16 items 7, 9)
    inf_rows = list(b.indicators)
    inf_rows[5] = inf_rows[5][:3] + ("inf",)
    late = list(b.indicators) + [("A1", "9999-01-01", "rate_theft", 3.0)]
    nested = ("[data]\nindicators = \"indicators.csv\"\nspec = \"spec.csv\"\nx = " + "[" * 5000 + "]" * 5000
              + "\n").encode()
    nested_tables = ("[data]\nindicators = \"indicators.csv\"\nspec = \"spec.csv\"\ny = " + "{a = " * 3000 + "1"
                     + "}" * 3000 + "\n").encode()
    idx = [
        ("period-not-a-date", {"index.toml": index_config(period='"notadate"')}, "refuse", ("period",), True),
        ("period-2019-13", {"index.toml": index_config(period='"2019-13-01"')}, "refuse", ("period",), True),
        ("inf-value", {"indicators.csv": _indicators_csv(inf_rows)}, "refuse", ("indicators.csv",), True),
        ("date-9999", {"indicators.csv": _indicators_csv(late)}, "refuse", ("indicators.csv",), True),
        ("range-5-5", {"index.toml": index_config(range_="[5, 5]")}, "refuse", ("range",), True),
        ("range-reversed", {"index.toml": index_config(range_="[100, 0]")}, "refuse", ("range",), False),
        ("deeply-nested-toml", {"index.toml": nested}, "refuse", ("index.toml",), True),
        ("deeply-nested-inline-tables", {"index.toml": nested_tables}, "refuse", ("index.toml",), True),
        ("toml-syntax-error", {"index.toml": b"[data\nindicators = \n"}, "refuse", ("index.toml",), False),
        ("toml-not-utf8", {"index.toml": b"[data]\nindicators = \"\xff\xfe.csv\"\n"}, "refuse", ("index.toml",),
         False),
        ("unknown-normaliser", {"index.toml": index_config().replace(b'"minmax"', b'"magic"')}, "refuse",
         ("magic",), False),
        ("missing-indicators-file", {"indicators.csv": None}, "refuse", ("indicators.csv",), False),
        ("indicator-not-in-spec", {"indicators.csv": _indicators_csv(b.indicators + [("A1", "2020-01-01", "ghost",
                                                                                      1.0)])}, "ok-or-refuse",
         ("ghost",), False),
        ("value-text", {"indicators.csv": _indicators_csv([r[:3] + (("high",) if i == 3 else (r[3],)) for i, r in
                                                           enumerate(b.indicators)])}, "refuse",
         ("indicators.csv",), False),
        ("empty-indicators", {"indicators.csv": b""}, "refuse", ("indicators.csv",), False),
        ("valid", {}, "ok", (), False),
        ("script-area-name", {"areas.csv": b.index_areas.replace("A1街".encode(), b"<script>alert(1)</script>")},
         "ok", (), False),
    ]
    for shape, over, expect, names, known in idx:
        files = {k: v for k, v in {**index_files, **over}.items() if v is not None}
        add(Case(f"index-build-{shape}", _index(), files, expect, names, (), ("index",), None, "index_out", known,
                 "cli" if "nested" in shape else "report",
                 "index inputs and config (issue 16 items 7, 9)"))

    # -- grid (issue 16 items 8, 9; issue 14 item 7)
    def poly(geoms: list) -> bytes:
        return json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"area_id": sid}, "geometry": g} for sid, g in geoms]}).encode()

    sq = [f["geometry"] for f in b.polygons["features"]]
    ev = b.events
    grd = [
        ("null-geometry", {"streets.geojson": poly([("S1", sq[0]), ("S2", None)])}, (), "refuse",
         ("streets.geojson",), True),
        ("event-9999", {"events.csv": _events_csv(ev + [("9999-01-01 00:00:00", "theft", 100.0, 100.0)])}, (),
         "ok-or-refuse", ("events.csv",), True),
        ("event-1677", {"events.csv": _events_csv(ev + [("1677-09-22 00:00:00", "theft", 100.0, 100.0)])}, (),
         "ok-or-refuse", ("events.csv",), True),
        ("event-1900", {"events.csv": _events_csv(ev + [("1900-01-01 00:00:00", "theft", 100.0, 100.0)])}, (),
         "ok-or-refuse", ("events.csv",), True),
        ("event-1677-daily", {"events.csv": _events_csv(ev + [("1677-09-22 00:00:00", "theft", 100.0, 100.0)])},
         ("--freq", "D"), "ok-or-refuse", ("events.csv",), True),
        ("cell-size-zero", {}, (), "refuse", ("--cell-size|cell size",), False),
        ("cell-size-negative", {}, (), "refuse", ("--cell-size|cell size",), False),
        ("cell-size-nan", {}, (), "refuse", ("--cell-size|cell size",), False),
        ("cell-size-tiny", {}, (), "refuse", ("--cell-size|cell size",), False),
        ("nan-coordinates", {"events.csv": _events_csv(ev + [("2019-02-01 00:00:00", "theft", "nan", "inf")])}, (),
         "ok", (), False),
        ("missing-x-column", {"events.csv": _csv([(t, c, y) for t, c, _x, y in ev], header="timestamp,category,y")},
         (), "refuse", ("x",), False),
        ("id-field-missing", {}, (), "refuse", ("--id-field|street_code",), False),
        ("polygons-not-json", {"streets.geojson": b"{\"type\": \"FeatureCollection\", \"features\": ["}, (),
         "refuse", ("streets.geojson",), False),
        ("polygons-empty", {"streets.geojson": b""}, (), "refuse", ("streets.geojson",), False),
        ("polygons-no-features", {"streets.geojson": poly([])}, (), "refuse", ("streets.geojson",), False),
        ("multipolygon-street", {"streets.geojson": poly([("S1", sq[0]), ("S2", sq[1]), ("S1", {
            "type": "Polygon", "coordinates": [[[0.0, 400.0], [400.0, 400.0], [400.0, 800.0], [0.0, 800.0],
                                                [0.0, 400.0]]]})])}, (), "ok", (), False),
        ("events-empty", {"events.csv": b""}, (), "refuse", ("events.csv",), False),
        ("events-header-only", {"events.csv": b"timestamp,category,x,y\n"}, (), "refuse", ("events.csv",), False),
        ("freq-Q", {}, ("--freq", "Q"), "refuse", ("--freq",), False),
        ("valid", {}, (), "ok", (), False),
        ("valid-gz", {"events.csv": None, "events.csv.gz": gzip.compress(_events_csv(ev), mtime=0)}, (), "ok", (),
         False),
    ]
    for shape, over, extra, expect, names, known in grd:
        files = {k: v for k, v in {**grid_files, **over}.items() if v is not None}
        argv = list(_grid("events.csv.gz" if "events.csv.gz" in files else "events.csv", "streets.geojson", *extra,
                          cell={"cell-size-zero": "0", "cell-size-negative": "-100", "cell-size-nan": "nan",
                                "cell-size-tiny": "0.0001"}.get(shape, "200")))
        if shape == "id-field-missing":
            argv[argv.index("--id-field") + 1] = "street_code"
        add(Case(f"grid-{shape}", tuple(argv), files, expect, names, (), ("grid",), None, "grid_out", known, "data",
                 "grid events and polygons (issue 16 items 8, 9; issue 14 item 7)"))

    names = [c.name for c in cases]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"duplicate case names: {sorted(dupes)}")
    return cases


def materialise(case: Case, folder) -> None:  # noqa: ANN001 - a pathlib.Path
    """Create the case's files in ``folder`` (an existing, empty folder)."""
    for rel, spec in case.files.items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(spec, Folder):
            p.mkdir()
        elif isinstance(spec, Symlink):
            p.symlink_to(spec.target)
        else:
            p.write_bytes(spec)


def summary(cases: list[Case]) -> str:
    """One line: how many cases, per command and per expected class."""
    by_cmd: dict[str, int] = {}
    by_exp: dict[str, int] = {}
    for c in cases:
        cmd = c.argv[0] if c.argv[0] != "index" else "index build"
        by_cmd[cmd] = by_cmd.get(cmd, 0) + 1
        by_exp[c.expect] = by_exp.get(c.expect, 0) + 1
    buf = io.StringIO()
    buf.write(f"{len(cases)} cases ({sum(c.known for c in cases)} known to fail at 3962b57); ")
    buf.write(", ".join(f"{k} {v}" for k, v in by_cmd.items()) + "; ")
    buf.write(", ".join(f"{k} {v}" for k, v in by_exp.items()))
    return buf.getvalue()


if __name__ == "__main__":  # pragma: no cover
    print(summary(build_corpus()))
