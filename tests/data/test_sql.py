"""Database inputs (issue 15, item 3): a SQLAlchemy URL plus a table or a query, read as the CSV path reads.

SQLite tests always run. The PostgreSQL tests run on a throwaway cluster
(:class:`riskmodel.server.team.LocalPostgres`, one per module, about 1.5 s to
start) and skip, saying why, when PostgreSQL's programs or psycopg2 are missing.
"""

from __future__ import annotations

import math
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest

from riskmodel.cli import main
from riskmodel.data.loading import load_panel, load_source
from riskmodel.data.readers import read_table
from riskmodel.data.sql import (
    check_query,
    is_database_url,
    iter_sql_chunks,
    read_sql_source,
    redacted,
)
from riskmodel.errors import InputError
from riskmodel.pipeline.sections import DataSection
from riskmodel.server.team import LocalPostgres, TeamServerError, postgres_bindir, redact_uri
from riskmodel.tracking import Tracker

ROOT = Path(__file__).resolve().parents[2]
MONTHLY = ROOT / "data" / "sample" / "counts_monthly.csv"


def sample_counts(n_streets: int = 3) -> pd.DataFrame:
    """The sample city's monthly counts of its first ``n_streets`` streets (count as int)."""
    df = pd.read_csv(MONTHLY, dtype={"area_id": str, "category": str, "period": str, "count": "int64"})
    keep = sorted(df["area_id"].unique())[:n_streets]
    return df[df["area_id"].isin(keep)].reset_index(drop=True)


def sqlite_db(path: Path, df: pd.DataFrame, table: str = "counts") -> Path:
    con = sqlite3.connect(path)
    q = '"' + table.replace('"', '""') + '"'
    con.execute(f"CREATE TABLE {q} (area_id TEXT, category TEXT, period DATE, count INTEGER)")
    con.executemany(f"INSERT INTO {q} VALUES (?, ?, ?, ?)",
                    [(a, c, p, None if pd.isna(n) else int(n)) for a, c, p, n in df.itertuples(index=False)])
    con.commit()
    con.close()
    return path


def rows_in(path: Path, table: str = "counts") -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    finally:
        con.close()


def one_line_error(exc: pytest.ExceptionInfo[InputError]) -> str:
    text = str(exc.value)
    assert "\n" not in text, text
    return text


# ---------------------------------------------------------------------------------------------------------------
# the rule for showing a URL


def test_redacted_hides_passwords_and_keeps_the_rest():
    assert redacted("postgresql://analyst:s3cret@db.example.org:5432/city?table=alerts") == (
        "postgresql://analyst:***@db.example.org:5432/city?table=alerts")
    assert redacted("postgresql://analyst@db/city?table=x&sslmode=require") == (
        "postgresql://analyst@db/city?table=x&sslmode=require")
    assert redacted("postgresql://db/city?password=s3cret&table=x") == "postgresql://db/city?password=***&table=x"
    assert redacted("postgresql://u:${DB_PW}@db/city?table=x") == "postgresql://u:***@db/city?table=x"
    # an unencoded '@' or '/' in the password does not leak its tail
    assert redacted("postgresql://u:p@ss/w@db/city?table=x") == "postgresql://u:***@db/city?table=x"
    assert redacted(Path("data/counts.csv")) == "data/counts.csv"  # a file is shown as it is
    # the team server shows URIs by the same rule
    assert redact_uri("postgresql://mlflow:pw@h/mlflow") == "postgresql://mlflow:***@h/mlflow"
    assert is_database_url("sqlite:///a.db?table=t") and not is_database_url("C:/data/a.csv")


def test_tracking_params_and_tags_show_database_urls_redacted():
    tracker = Tracker(enabled=False)
    with tracker.run("x", params={"counts": "postgresql://u:s3cret@h/db?table=t", "h": 3}) as run:
        fp = run.log_fingerprint("counts", "postgresql://u:s3cret@h/db?table=t")
    assert run.params["counts"] == "postgresql://u:***@h/db?table=t"
    assert "s3cret" not in fp and run.tags["input.counts"] == fp
    assert fp.startswith("not fingerprinted: database postgresql://u:***@h")


# ---------------------------------------------------------------------------------------------------------------
# SQLite (always run)


def test_a_sqlite_table_reads_as_the_csv_path_reads_the_same_data(tmp_path):
    df = sample_counts(2).head(30).copy()
    df["count"] = df["count"].astype("Int64")
    df.loc[3, "count"] = pd.NA  # a NULL count: missing, as an empty CSV cell
    df.loc[4, "area_id"] = "香洲区"
    df.to_csv(tmp_path / "c.csv", index=False)
    db = sqlite_db(tmp_path / "c.db", df)
    via_csv, _ = read_table(tmp_path / "c.csv", what="counts")
    via_db, src = read_table(f"sqlite:///{db}?table=counts", what="counts")
    pd.testing.assert_frame_equal(via_db, via_csv)
    assert via_db.loc[0, "count"] == str(df.loc[0, "count"]) and "." not in via_db.loc[0, "count"]
    assert pd.isna(via_db.loc[3, "count"])
    assert src.name == f"sqlite:///{db}?table=counts"


def test_postgres_like_values_come_out_as_csv_text():
    import datetime as dt
    import decimal

    from riskmodel.data.sql import _text

    assert [_text(v) for v in (dt.date(2020, 1, 1), 3, 3.5, None, decimal.Decimal("12.50"), "a",
                               dt.datetime(2020, 1, 1, 8, 30))] == [
        "2020-01-01", "3", "3.5", None, "12.50", "a", "2020-01-01 08:30:00"]
    assert _text(float("nan")) is None


def test_load_panel_from_sqlite_equals_the_csv_panel(tmp_path):
    df = sample_counts(3)
    df.to_csv(tmp_path / "c.csv", index=False)
    db = sqlite_db(tmp_path / "c.db", df)
    a = load_panel(tmp_path / "c.csv")
    b = load_panel(f"sqlite:///{db}?table=counts")
    assert a.freq == b.freq == "M"
    pd.testing.assert_frame_equal(a.counts, b.counts)


def test_areas_and_population_can_come_from_the_database_too(tmp_path):
    df = sample_counts(3)
    df.to_csv(tmp_path / "c.csv", index=False)
    db = sqlite_db(tmp_path / "c.db", df)
    con = sqlite3.connect(db)
    for name in ("areas", "population"):
        pd.read_csv(ROOT / "data" / "sample" / f"{name}.csv", dtype=str).to_sql(name, con, index=False)
    con.close()
    a = load_panel(tmp_path / "c.csv", areas=ROOT / "data" / "sample" / "areas.csv",
                   population=ROOT / "data" / "sample" / "population.csv")
    b = load_panel(f"sqlite:///{db}?table=counts", areas=f"sqlite:///{db}?table=areas",
                   population=f"sqlite:///{db}?table=population")
    pd.testing.assert_frame_equal(a.counts, b.counts)
    pd.testing.assert_frame_equal(a.hierarchy.table, b.hierarchy.table)
    pd.testing.assert_frame_equal(a.population, b.population)


def test_a_query_with_a_where_clause_and_chunks_give_the_same_rows(tmp_path):
    df = sample_counts(2)
    db = sqlite_db(tmp_path / "c.db", df)
    area = df["area_id"].iloc[0]
    q = quote(f"SELECT * FROM counts WHERE area_id = '{area}' AND category = 'alerts' ORDER BY period", safe="")
    got, _ = read_sql_source(f"sqlite:///{db}?query={q}")
    want = df[(df["area_id"] == area) & (df["category"] == "alerts")].sort_values("period")
    assert got["period"].tolist() == want["period"].tolist()
    assert got["count"].tolist() == [str(n) for n in want["count"]]
    whole, _ = read_sql_source(f"sqlite:///{db}?table=counts")
    chunks = list(iter_sql_chunks(f"sqlite:///{db}?table=counts", chunksize=100))
    assert [len(c) for c in chunks] == [100] * (len(df) // 100) + ([len(df) % 100] if len(df) % 100 else [])
    assert len(chunks) == math.ceil(len(df) / 100)
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)


def test_an_empty_table_gives_one_frame_with_its_columns_and_read_table_refuses_it(tmp_path):
    db = sqlite_db(tmp_path / "e.db", sample_counts(1).head(0))
    chunks = list(iter_sql_chunks(f"sqlite:///{db}?table=counts"))
    assert len(chunks) == 1 and list(chunks[0].columns) == ["area_id", "category", "period", "count"]
    with pytest.raises(InputError) as exc:
        read_table(f"sqlite:///{db}?table=counts", what="counts")
    assert one_line_error(exc) == (f"sqlite:///{db}?table=counts: no counts to read: the table has no rows "
                                   "(columns: area_id, category, period, count)")


def test_a_table_name_is_quoted_never_run_as_sql(tmp_path):
    name = 'odd "name"; DROP TABLE counts; --'
    db = sqlite_db(tmp_path / "c.db", sample_counts(1).head(5), table=name)
    sqlite_db_extra = sqlite3.connect(db)
    sqlite_db_extra.execute("CREATE TABLE counts (x INTEGER)")
    sqlite_db_extra.commit()
    sqlite_db_extra.close()
    got, _ = read_sql_source(f"sqlite:///{db}?table={quote(name, safe='')}")
    assert len(got) == 5 and list(got.columns) == ["area_id", "category", "period", "count"]
    assert rows_in(db, "counts") == 0  # still there


@pytest.mark.parametrize(("query", "why"), [
    ("DELETE FROM counts", "must be one SELECT"),
    ("SELECT 1; DELETE FROM counts", "more than one statement"),
    ("  ", "must be one SELECT"),
    ("WITH d AS (SELECT 1) DELETE FROM counts", "readonly"),  # a write behind WITH: the read-only connection refuses
])
def test_a_query_that_writes_is_refused_and_the_table_is_unchanged(tmp_path, query, why):
    db = sqlite_db(tmp_path / "c.db", sample_counts(1).head(10))
    with pytest.raises(InputError) as exc:
        read_sql_source(f"sqlite:///{db}?query={quote(query, safe='')}")
    assert why in one_line_error(exc)
    assert rows_in(db) == 10


def test_riskmodels_own_parameters_are_taken_off_and_the_drivers_kept():
    from riskmodel.data.sql import _Target

    t = _Target("postgresql://u@h/db?table=police.alerts&sslmode=require&connect_timeout=5")
    assert t.table == "police.alerts" and t.query is None
    assert dict(t.sa_url.query) == {"sslmode": "require", "connect_timeout": "5"}
    assert t.sa_url.drivername in ("postgresql+psycopg2", "postgresql")  # psycopg2 when psycopg 3 is absent


def test_check_query_drops_a_trailing_semicolon_and_allows_comments():
    assert check_query("SELECT 1;") == "SELECT 1"
    assert check_query("-- counts\nwith a as (select 1) select * from a") .startswith("-- counts")


def test_bad_sqlite_urls_are_refused_with_the_reason(tmp_path, monkeypatch):
    db = sqlite_db(tmp_path / "c.db", sample_counts(1).head(3))
    missing = tmp_path / "none.db"
    monkeypatch.delenv("RISKMODEL_TEST_UNSET", raising=False)
    cases = {
        f"sqlite:///{db}?table=nope": "no table 'nope' in the database; tables there: counts",
        f"sqlite:///{db}": "needs a table or a query",
        f"sqlite:///{db}?table=counts&query=SELECT%201": "needs a table or a query",
        f"sqlite:///{missing}?table=counts": "does not exist",
        "sqlite:///${RISKMODEL_TEST_UNSET}?table=counts": "environment variable RISKMODEL_TEST_UNSET is not set",
        "https://example.org/counts.csv": "not a database URL",
        "nosuchdb://h/db?table=x": "unknown kind of database",
        "mysql://u:hunter22@h/db?table=x": "no database driver",
    }
    for url, reason in cases.items():
        with pytest.raises(InputError) as exc:
            read_table(url, what="counts")
        text = one_line_error(exc)
        assert reason in text, (url, text)
        assert text.startswith(redacted(url)) and "hunter22" not in text
    assert not missing.exists()  # a missing SQLite file is refused, never created


def test_a_password_placeholder_is_expanded_from_the_environment_and_never_shown(tmp_path, monkeypatch):
    db = sqlite_db(tmp_path / "c.db", sample_counts(1).head(3))
    monkeypatch.setenv("RISKMODEL_TEST_DIR", str(tmp_path))
    got, _ = read_sql_source("sqlite:///${RISKMODEL_TEST_DIR}/c.db?table=counts")
    assert len(got) == 3 and db.exists()


# ---------------------------------------------------------------------------------------------------------------
# a study's [data.source]


def test_a_study_reads_its_counts_from_data_source(tmp_path):
    df = sample_counts(2)
    db = sqlite_db(tmp_path / "c.db", df)
    section = DataSection.model_validate({"freq": "M", "source": {
        "url": f"sqlite:///{db}", "query": "SELECT area_id, category, period, count\nFROM counts\nWHERE count >= 0"}})
    assert section.counts.startswith(f"sqlite:///{db}?query=SELECT+")
    panel = load_source(section.source(), resolve=Path)
    df.to_csv(tmp_path / "c.csv", index=False)
    pd.testing.assert_frame_equal(panel.counts, load_panel(tmp_path / "c.csv").counts)


@pytest.mark.parametrize(("data", "why"), [
    ({"counts": "postgresql://u:hunter22@h/db?table=x"}, "the password is written in the config"),
    ({"counts": "c.csv", "source": {"url": "sqlite:///a.db", "table": "t"}}, "give the counts once"),
    ({"source": {"url": "sqlite:///a.db"}}, "needs table or query"),
    ({"source": {"url": "sqlite:///a.db?table=t", "table": "t"}}, "its own key"),
    ({"source": {"url": "postgresql://u:hunter22@h/db", "table": "t"}}, "the password is written in the config"),
    ({}, "counts is missing"),
])
def test_data_section_refusals(data, why):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as exc:
        DataSection.model_validate(data)
    msgs = " ".join(e["msg"] for e in exc.value.errors())
    assert why in msgs and "hunter22" not in msgs


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL, for real


@pytest.fixture(scope="module")
def pg():
    if postgres_bindir() is None:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed: scripts/ensure_postgres.sh")
    pytest.importorskip("psycopg2", reason="psycopg2 is not installed (pip install -e '.[server]')")
    import psycopg2
    from psycopg2.extras import execute_values

    try:
        server = LocalPostgres(user="analyst", databases=("city",)).start()
    except TeamServerError as exc:
        pytest.skip(f"a throwaway PostgreSQL could not start: {exc}")
    try:
        df = sample_counts(3)
        con = psycopg2.connect(server.dsn("city"))
        con.autocommit = True
        with con.cursor() as cur:
            for table in ("counts", "police.counts"):
                if table.startswith("police."):
                    cur.execute("CREATE SCHEMA police")
                cur.execute(f"CREATE TABLE {table} (area_id text, category text, period date, count integer)")
                execute_values(cur, f"INSERT INTO {table} VALUES %s",
                               [(a, c, p, int(n)) for a, c, p, n in df.itertuples(index=False)])
        con.close()
        yield server, df
    finally:
        server.stop()


def pg_rows(server: LocalPostgres) -> int:
    import psycopg2

    con = psycopg2.connect(server.dsn("city"))
    try:
        with con.cursor() as cur:
            cur.execute("SELECT count(*) FROM counts")
            return cur.fetchone()[0]
    finally:
        con.close()


def test_postgres_table_gives_the_csv_panel_and_schema_tables_and_chunks_work(pg, tmp_path):
    server, df = pg
    df.to_csv(tmp_path / "c.csv", index=False)
    want = load_panel(tmp_path / "c.csv")
    url = server.dsn("city") + "?table=counts"
    got = load_panel(url)
    pd.testing.assert_frame_equal(got.counts, want.counts)
    raw, src = read_table(server.dsn("city") + "?table=police.counts", what="counts")
    assert raw["period"].iloc[0] == df["period"].iloc[0] == "2014-01-01"  # a DATE as the CSV writes it
    assert raw["count"].tolist() == [str(n) for n in df["count"]]  # integers as 3, not 3.0
    assert server.password_ not in src.name and ":***@" in src.name
    from riskmodel.data.sql import _Target

    target = _Target(url)
    with target.engine().connect() as conn:  # rows stream through a server-side (named) cursor
        assert target.execute(conn, 500).cursor.name
    chunks = list(iter_sql_chunks(url, chunksize=500))
    assert [len(c) for c in chunks] == [500] * (len(df) // 500) + [len(df) % 500]
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), read_sql_source(url)[0])


def test_postgres_query_with_where_and_a_write_is_refused(pg):
    server, df = pg
    q = quote("SELECT * FROM counts WHERE category = 'alerts' AND count > 100 ORDER BY area_id, period", safe="")
    got, _ = read_sql_source(server.dsn("city") + f"?query={q}")
    want = df[(df["category"] == "alerts") & (df["count"] > 100)].sort_values(["area_id", "period"])
    assert len(got) == len(want) > 0 and got["count"].tolist() == [str(n) for n in want["count"]]
    # a '%', a ':word' and a '::' cast in the query are SQL, not placeholders
    first = df["area_id"].iloc[0]
    q = quote(f"SELECT DISTINCT period::text AS p, ':x' AS c FROM counts WHERE area_id LIKE '{first[:3]}%' "
              "ORDER BY p LIMIT 2", safe="")
    got, _ = read_sql_source(server.dsn("city") + f"?query={q}")
    periods = sorted(df.loc[df["area_id"].str.startswith(first[:3]), "period"].unique())[:2]
    assert got.to_dict("list") == {"p": periods, "c": [":x", ":x"]}
    for query in ("DELETE FROM counts", "WITH d AS (DELETE FROM counts RETURNING *) SELECT * FROM d"):
        with pytest.raises(InputError) as exc:
            read_sql_source(server.dsn("city") + f"?query={quote(query, safe='')}")
        assert server.password_ not in one_line_error(exc)
    assert pg_rows(server) == len(df)


def test_postgres_connection_failures_are_one_line_without_the_password(pg):
    server, _ = pg
    port = server.port_
    wrong = f"postgresql://analyst:wrong-{server.password_[:6]}-pw@127.0.0.1:{port}/city?table=counts"
    cases = {
        wrong: "password authentication failed",
        server.dsn("city") + "?table=nope": "no table 'nope' in the database; tables there: counts",
        server.dsn("nodb") + "?table=counts": 'database "nodb" does not exist',
        server.dsn("city").replace(f":{port}/", ":1/") + "?table=counts": "cannot connect to the database",
        f"postgresql://analyst@host.invalid:{port}/city?table=counts&connect_timeout=3": "cannot connect",
    }
    for url, reason in cases.items():
        with pytest.raises(InputError) as exc:
            read_sql_source(url)
        text = one_line_error(exc)
        assert reason in text, text
        assert server.password_ not in text and "wrong-" not in text


def test_postgres_forecast_is_byte_identical_and_no_password_is_shown_or_logged(pg, tmp_path, monkeypatch, capsys):
    from mlflow.tracking import MlflowClient

    server, df = pg
    df.to_csv(tmp_path / "c.csv", index=False)
    assert main(["forecast", "--counts", str(tmp_path / "c.csv"), "--out", str(tmp_path / "csv.csv"),
                 "--h", "2", "--model", "snaive", "--no-track"]) == 0
    # the password from ${VAR}, with a tracked run (on the suite's throwaway store: tests/conftest.py)
    store = os.environ["MLFLOW_TRACKING_URI"]
    monkeypatch.setenv("RISKMODEL_TEST_PG_PW", server.password_)
    url = f"postgresql://analyst:${{RISKMODEL_TEST_PG_PW}}@127.0.0.1:{server.port_}/city?table=counts"
    capsys.readouterr()
    assert main(["forecast", "--counts", url, "--out", str(tmp_path / "db.csv"), "--h", "2",
                 "--model", "snaive"]) == 0
    assert (tmp_path / "db.csv").read_bytes() == (tmp_path / "csv.csv").read_bytes()
    # and via PGPASSWORD, the URL without a password
    monkeypatch.setenv("PGPASSWORD", server.password_)
    assert main(["forecast", "--counts", f"postgresql://analyst@127.0.0.1:{server.port_}/city?table=counts",
                 "--out", str(tmp_path / "pgpass.csv"), "--h", "2", "--model", "snaive", "--no-track"]) == 0
    assert (tmp_path / "pgpass.csv").read_bytes() == (tmp_path / "csv.csv").read_bytes()
    out = capsys.readouterr()
    assert server.password_ not in out.out + out.err
    client = MlflowClient(store)
    runs = [r for r in client.search_runs([e.experiment_id for e in client.search_experiments()])
            if r.data.params.get("counts", "").startswith(f"postgresql://analyst:***@127.0.0.1:{server.port_}/")]
    assert len(runs) == 1
    logged = " ".join([*runs[0].data.params.values(), *runs[0].data.tags.values()])
    assert runs[0].data.params["counts"] == url.replace("${RISKMODEL_TEST_PG_PW}", "***")
    assert server.password_ not in logged and "not fingerprinted" in runs[0].data.tags["input.counts"]


def test_postgres_cli_errors_exit_2_with_one_line(pg, tmp_path, capsys, monkeypatch):
    server, _ = pg
    monkeypatch.delenv("PGPASSWORD", raising=False)
    bad = server.dsn("city").replace(server.password_, "not-the-password") + "?table=counts"
    for url, reason in ((bad, "password authentication failed"),
                        (server.dsn("city") + "?table=nope", "no table 'nope'"),
                        (server.dsn("city").replace(f":{server.port_}/", ":1/") + "?table=counts", "cannot connect"),
                        (server.dsn("city").replace("127.0.0.1", "host.invalid") + "?table=counts", "cannot connect")):
        assert main(["forecast", "--counts", url, "--out", str(tmp_path / "f.csv"), "--no-track"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("riskmodel: error: postgresql://analyst:***@"), err
        assert reason in err[0] and server.password_ not in err[0] and "not-the-password" not in err[0]
    assert not (tmp_path / "f.csv").exists()
    # validate names the database, password hidden
    assert main(["validate", "--counts", server.dsn("city") + "?table=counts"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith(f"postgresql://analyst:***@127.0.0.1:{server.port_}/city?table=counts: OK - ")
    assert server.password_ not in out.out + out.err


def test_a_study_with_data_source_on_postgres_runs_and_logs_no_password(pg, tmp_path, monkeypatch, capsys):
    from mlflow.tracking import MlflowClient

    server, df = pg
    monkeypatch.setenv("RISKMODEL_TEST_PG_PW", server.password_)
    cfg = tmp_path / "study.toml"
    cfg.write_text(f"""
[study]
name = "sqlstudy"
out = "{tmp_path / 'out'}"
experiment = "sql-study-test"
[data]
freq = "M"
[data.source]
url = "postgresql://analyst:${{RISKMODEL_TEST_PG_PW}}@127.0.0.1:{server.port_}/city"
query = '''
SELECT area_id, category, period, count
FROM police.counts
WHERE category = 'alerts'
'''
[steps.validate]
""", encoding="utf-8")
    assert main(["run", str(cfg)]) == 0
    out = capsys.readouterr()
    assert server.password_ not in out.out + out.err
    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    exp = client.get_experiment_by_name("sql-study-test")
    runs = client.search_runs([exp.experiment_id])
    assert runs and all(server.password_ not in " ".join([*r.data.params.values(), *r.data.tags.values()])
                        for r in runs)
    parent = next(r for r in runs if r.info.run_name == "study:sqlstudy")
    assert parent.data.tags["input.counts"].startswith("not fingerprinted: database postgresql://analyst:***@")
    step = next(r for r in runs if r.info.run_name == "sqlstudy:validate")
    alerts = df[df["category"] == "alerts"]
    assert step.data.metrics["n_series"] == alerts["area_id"].nunique() == 3
    assert step.data.metrics["total_count"] == alerts["count"].sum()
