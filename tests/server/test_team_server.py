"""The team tracking server: PostgreSQL backend, proxied artifacts, authentication on.

One throwaway server for the module (riskmodel.server.team.throwaway_team_server:
a PostgreSQL cluster in a temp folder + ``mlflow server --app-name basic-auth``).
The module skips, saying which part failed, when PostgreSQL's programs are missing
(``scripts/ensure_postgres.sh`` installs them; ``make test`` runs it) or when the
cluster or the server cannot start.
"""

from __future__ import annotations

import base64
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from riskmodel.cli import main
from riskmodel.errors import InputError
from riskmodel.server.team import (
    TeamServerError,
    postgres_bindir,
    redact_uri,
    sqlalchemy_db_uri,
    throwaway_team_server,
)
from riskmodel.tracking import Tracker

ROOT = Path(__file__).resolve().parents[2]
USERS = {"alice": "alice-password-1", "bob": "bob-password-12"}


@pytest.fixture(scope="module")
def team():
    if postgres_bindir() is None:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed: "
                    "run scripts/ensure_postgres.sh (as root: apt-get install postgresql)")
    pytest.importorskip("psycopg2", reason="psycopg2 is not installed (pip install -e '.[server]')")
    # cache password checks: each costs a scrypt hash, and the run below makes dozens of requests
    cm = throwaway_team_server(auth_cache_seconds=60)
    try:
        server = cm.__enter__()
    except TeamServerError as exc:
        pytest.skip(f"the team server could not start ({exc.component} failed): {exc}")
    try:
        for user, pw in USERS.items():
            server.create_user(user, pw)
        yield server
    finally:
        cm.__exit__(None, None, None)


def _get(url: str, auth: tuple[str, str] | None = None) -> int:
    req = urllib.request.Request(url)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _as(monkeypatch, server, user: str, password: str) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url_)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password)


def _config(tmp_path: Path, experiment: str, seed: int = 7) -> Path:
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(
        f"""
[study]
name = "tiny"
out = "{tmp_path / 'out'}"
seed = {seed}
experiment = "{experiment}"
[data]
counts = "{ROOT / 'data/sample/counts_monthly.csv'}"
freq = "M"
areas = "{ROOT / 'data/sample/areas.csv'}"
[steps.validate]
[steps.overview]
""",
        encoding="utf-8",
    )
    return cfg


def test_requests_without_or_with_wrong_credentials_are_refused(team):
    search = f"{team.url_}/api/2.0/mlflow/experiments/search?max_results=5"
    assert _get(search) == 401
    assert _get(search, ("alice", "not-her-password")) == 401
    assert _get(search, ("nobody", USERS["alice"])) == 401
    assert _get(search, ("alice", USERS["alice"])) == 200
    assert _get(f"{team.url_}/health") == 200  # the health check stays open


def test_authenticated_riskmodel_run_is_recorded_in_postgresql(team, tmp_path, monkeypatch, capsys):
    import psycopg2
    from mlflow.tracking import MlflowClient

    _as(monkeypatch, team, "alice", USERS["alice"])
    cfg = _config(tmp_path, "team-alice")
    assert main(["run", str(cfg), "--no-progress"]) == 0
    run_id = re.search(r"MLflow run: ([0-9a-f]{32})", capsys.readouterr().out).group(1)

    c = MlflowClient(tracking_uri=team.url_)
    run = c.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"config": str(cfg), "seed": "7", "steps": "validate,overview",
                               "execution.backend": "local", "execution.chunk_size": "5000"}
    assert run.data.metrics["seconds.validate"] > 0 and run.data.metrics["seconds.overview"] > 0
    kids = c.search_runs([run.info.experiment_id], f"tags.mlflow.parentRunId = '{run_id}'")
    validate = next(k for k in kids if k.data.tags["riskmodel.step"] == "validate")
    assert validate.data.metrics["n_series"] == 225  # 15 districts x 15 categories in the sample city
    # artifacts go through the server (mlflow-artifacts:) into its artifact store
    assert run.info.artifact_uri.startswith("mlflow-artifacts:")
    got = c.download_artifacts(run_id, "experiment.toml", str(tmp_path / "dl"))
    assert Path(got).read_text(encoding="utf-8") == cfg.read_text(encoding="utf-8")
    stored = list(Path(team.artifacts_destination).rglob(f"{run_id}/artifacts/experiment.toml"))
    assert len(stored) == 1

    # the runs live in PostgreSQL, not in a file store
    with psycopg2.connect(team.postgres_.dsn("mlflow")) as conn, conn.cursor() as cur:
        cur.execute("SELECT status, name FROM runs WHERE run_uuid = %s", (run_id,))
        assert cur.fetchall() == [("FINISHED", "study:tiny")]
        cur.execute("SELECT value FROM params WHERE run_uuid = %s AND key = 'seed'", (run_id,))
        assert cur.fetchall() == [("7",)]
        cur.execute("SELECT count(*) FROM tags WHERE key = 'mlflow.parentRunId' AND value = %s", (run_id,))
        assert cur.fetchone() == (2,)
    conn.close()


def test_wrong_password_stops_the_run_with_a_clear_message_and_no_outputs(team, tmp_path, monkeypatch, capsys):
    _as(monkeypatch, team, "alice", "wrong-password-123")
    cfg = _config(tmp_path, "team-alice")
    assert main(["run", str(cfg), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "HTTP 401" in err and "MLFLOW_TRACKING_PASSWORD" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_reader_cannot_write_to_anothers_experiment_until_granted(team, monkeypatch):
    _as(monkeypatch, team, "alice", USERS["alice"])
    exp_id = Tracker(experiment="team-shared").experiment_id()  # alice creates it: she manages it
    _as(monkeypatch, team, "bob", USERS["bob"])
    with pytest.raises(InputError, match="HTTP 403"):
        with Tracker(experiment="team-shared").run("bob-try"):
            pass
    team.grant(exp_id, "bob", "EDIT")
    with Tracker(experiment="team-shared").run("bob-granted") as run:
        run.log_metrics({"x": 1.0})
    assert run.run_id is not None


# -- without a server ---------------------------------------------------------------


def test_postgresql_uris_are_opened_with_psycopg2_and_passwords_redacted():
    pytest.importorskip("psycopg2")
    import importlib.util

    uri = "postgresql://mlflow:s%40cret@db.example.org:5432/mlflow"
    if importlib.util.find_spec("psycopg") is None:
        assert sqlalchemy_db_uri(uri) == "postgresql+psycopg2://mlflow:s%40cret@db.example.org:5432/mlflow"
    assert sqlalchemy_db_uri("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"
    assert redact_uri(uri) == "postgresql://mlflow:***@db.example.org:5432/mlflow"
    assert redact_uri("postgresql://mlflow@db/mlflow") == "postgresql://mlflow@db/mlflow"


def test_tracking_server_command_checks_its_options(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("MLFLOW_BACKEND_STORE_URI", raising=False)
    assert main(["tracking-server", "--artifacts", str(tmp_path)]) == 2
    assert "--backend-store-uri is required" in capsys.readouterr().err
    assert main(["tracking-server", "--backend-store-uri", "http://x", "--artifacts", str(tmp_path)]) == 2
    assert "is not a database URI" in capsys.readouterr().err
    monkeypatch.setenv("MLFLOW_AUTH_ADMIN_PASSWORD", "short")
    assert main(["tracking-server", "--backend-store-uri", "postgresql://u:pw@127.0.0.1:1/db",
                 "--artifacts", str(tmp_path), "--default-permission", "ALL"]) == 2
    err = capsys.readouterr().err
    assert "at least 12 characters" in err and "--default-permission" in err and ":pw@" not in err


def test_missing_postgresql_programs_are_reported_as_such(tmp_path):
    from riskmodel.server.team import LocalPostgres

    with pytest.raises(TeamServerError, match="initdb, pg_ctl") as err:
        LocalPostgres(bindir=tmp_path).start()
    assert err.value.component == "postgresql"


def test_wrong_passwords_lock_the_user_out_with_429_and_retry_after(team, monkeypatch):
    team.create_user("carol", "carol-password-1")
    search = f"{team.url_}/api/2.0/mlflow/experiments/search?max_results=5"
    assert [_get(search, ("carol", f"guess-{i}")) for i in range(5)] == [401] * 5
    req = urllib.request.Request(search)
    req.add_header("Authorization", "Basic " + base64.b64encode(b"carol:carol-password-1").decode())
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=60)
    assert err.value.code == 429  # the right password too, while locked (policy: 5 in 5 min -> 15 min)
    assert 890 <= int(err.value.headers["Retry-After"]) <= 900
    assert _get(search, ("alice", USERS["alice"])) == 200  # other users go on
    # riskmodel says what happened (MLflow's client would retry a 429 first: not here)
    _as(monkeypatch, team, "carol", "carol-password-1")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with pytest.raises(InputError, match="HTTP 429"):
        Tracker(experiment="team-carol").check()


@pytest.fixture
def open_tmp():
    """A temp folder the 'postgres' user can reach (pytest's tmp_path is private to root)."""
    import os
    import shutil
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="riskmodel-test-sigterm-"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_tracking_server_stopped_with_sigterm_removes_mlflow_postgresql_and_temp_folders(open_tmp):
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    if postgres_bindir() is None:
        pytest.skip("PostgreSQL's server programs are not installed (scripts/ensure_postgres.sh)")
    tmp_path = open_tmp
    env = {**os.environ, "TMPDIR": str(tmp_path), "MLFLOW_AUTH_ADMIN_PASSWORD": "admin-password-123"}
    p = subprocess.Popen([sys.executable, "-c", "import sys; from riskmodel.cli import main; sys.exit(main())",
                          "tracking-server", "--throwaway"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "stops it" in line:
            break
    text = "".join(lines)
    if "stops it" not in text:
        p.kill()
        pytest.skip(f"the throwaway server did not start: {text[-500:]} {p.stderr.read()[-1000:]}")
    url_port = int(re.search(r"URL\s+http://127\.0\.0\.1:(\d+)", text).group(1))
    pg_port = int(re.search(r"backend store\s+\S+@127\.0\.0\.1:(\d+)/", text).group(1))
    made = sorted(x.name for x in tmp_path.iterdir())
    assert any(n.startswith("riskmodel-pg-") for n in made) and any(n.startswith("riskmodel-mlflow-") for n in made)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err[-2000:]
    assert "stopped" in out and "Traceback" not in err
    assert [x.name for x in tmp_path.iterdir()] == []  # the cluster's and the server's folders are gone
    for port in (url_port, pg_port):  # nothing listens any more
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, port


def test_tracking_server_exits_non_zero_saying_the_mlflow_server_died(monkeypatch, capsys, tmp_path):
    import riskmodel.cli.tracking as cli_tracking

    class Dead:
        def __init__(self, **kw):
            self.log_path_ = tmp_path / "mlflow-server.log"

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def summary(self):
            return "MLflow team tracking server (fake)"

        def wait(self):
            return 3

        def log_tail(self, n=25):
            return "ModuleNotFoundError: no module named psycopg2"

    monkeypatch.setattr(cli_tracking, "TeamServer", Dead)
    code = main(["tracking-server", "--backend-store-uri", "postgresql://u@127.0.0.1:1/db", "--artifacts",
                 str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "the MLflow server died (exit code 3)" in err and "no module named psycopg2" in err
