"""Every command option that reads a table takes a database URL too (issue 15, item 3), here on SQLite.

The PostgreSQL runs of the same commands are in tests/data/test_sql.py (one throwaway server per module).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

import riskmodel.cli as cli
from riskmodel.cli import main
from riskmodel.cli.common import input_path
from riskmodel.cli.guard import check_options

from .conftest import sha, tiny_counts

TABLE_OPTIONS = {"counts", "areas", "population", "events", "exog"}


def to_sqlite(csv: Path, db: Path, table: str = "counts") -> Path:
    df = pd.read_csv(csv, dtype={"count": "int64"}, keep_default_na=False)
    con = sqlite3.connect(db)
    con.execute(f"CREATE TABLE {table} (area_id TEXT, category TEXT, period DATE, count INTEGER)")
    con.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)", [tuple(r) for r in df.itertuples(index=False)])
    con.commit()
    con.close()
    return db


def test_every_table_option_keeps_a_url_whole_and_a_file_a_path():
    from typer._click.core import Context  # Typer's own copy of click

    seen = []
    for name in cli.COMMANDS:
        cmd = cli.load_command(name)
        for p in getattr(cmd, "params", []):
            if p.name in TABLE_OPTIONS and any(o.startswith("--") for o in p.opts):
                ctx = Context(cmd)
                value = p.process_value(ctx, "postgresql://u@h/db?table=t")
                assert value == "postgresql://u@h/db?table=t", (name, p.name, value)  # not postgresql:/u@h...
                # a file stays a file (a Path, which the output checks protect; init takes text and checks itself)
                assert p.process_value(ctx, "data/x.csv") in (Path("data/x.csv"), "data/x.csv"), (name, p.name)
                seen.append(f"{name} --{p.name}")
    # the commands that read counts, areas, population, events and regressors
    for want in ("forecast --counts", "backtest --areas", "detect --population", "claim --exog", "validate --counts",
                 "grid --events", "hotspots --events"):
        assert want in seen, (want, seen)
    assert input_path("sqlite:///a.db?table=t") == "sqlite:///a.db?table=t"


def test_a_url_input_is_not_protected_but_file_outputs_are_still_checked(tmp_path):
    cmd = cli.load_command("forecast")
    counts = tiny_counts(tmp_path / "c.csv")
    inputs = check_options(cmd.params, {"counts": "sqlite:///x.db?table=t", "areas": counts,
                                        "out": tmp_path / "f.csv"})
    assert inputs == {"--areas": [counts]}
    from riskmodel.errors import InputError

    with pytest.raises(InputError, match="--out"):
        check_options(cmd.params, {"counts": "sqlite:///x.db?table=t", "areas": counts, "out": counts})


def test_forecast_from_sqlite_is_byte_identical_to_the_csv(tmp_path, capsys):
    csv = tiny_counts(tmp_path / "c.csv")
    db = to_sqlite(csv, tmp_path / "c.db")
    before = sha(db)
    base = ["--h", "2", "--model", "snaive", "--no-track"]
    assert main(["forecast", "--counts", str(csv), "--out", str(tmp_path / "a.csv"), *base]) == 0
    assert main(["forecast", "--counts", f"sqlite:///{db}?table=counts", "--out", str(tmp_path / "b.csv"), *base]) == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert sha(db) == before  # the database is an input: never modified


def test_validate_names_the_database_source(tmp_path, capsys):
    csv = tiny_counts(tmp_path / "c.csv")
    df = pd.read_csv(csv, dtype=str)
    df.loc[2, "count"] = "-4"
    df.to_csv(csv, index=False)
    db = to_sqlite(csv, tmp_path / "c.db")
    url = f"sqlite:///{db}?table=counts"
    assert main(["validate", "--counts", url]) == 2
    err = capsys.readouterr().err
    assert f"{url}" in err and "count" in err
    assert main(["validate", "--counts", f"sqlite:///{db}?table=nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"riskmodel: error: sqlite:///{db}?table=nope: no table 'nope' in the database; tables there: counts"]


def test_a_write_query_on_the_command_line_is_refused(tmp_path, capsys):
    db = to_sqlite(tiny_counts(tmp_path / "c.csv"), tmp_path / "c.db")
    assert main(["forecast", "--counts", f"sqlite:///{db}?query=DROP%20TABLE%20counts",
                 "--out", str(tmp_path / "f.csv"), "--no-track"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "must be one SELECT" in err[0]
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM counts").fetchone()[0] == 96
    con.close()
