"""A team MLflow tracking server: PostgreSQL backend store, artifact store, authentication.

Two pieces, used by ``riskmodel tracking-server`` and by the tests:

* :class:`LocalPostgres` creates a throwaway PostgreSQL cluster in a temporary
  folder (its own port on 127.0.0.1, its unix socket in that folder, password
  authentication), creates a role and databases, and deletes it all on stop.
  ``initdb`` refuses to run as root: as root the cluster runs as the
  ``postgres`` system user (``runuser``).
* :class:`TeamServer` starts ``mlflow server --app-name basic-auth`` against a
  backend store (PostgreSQL for a team), an artifact store (a folder or an
  ``s3://`` URI, proxied by the server as ``mlflow-artifacts:``) and an auth
  database, waits until it answers ``/health``, and stops it.

:func:`throwaway_team_server` combines them (a trial server, or a test's).

Secrets stay off command lines (which every local user can read with ``ps``):
the backend store URI goes to MLflow in ``MLFLOW_BACKEND_STORE_URI``, the admin
password in ``MLFLOW_AUTH_ADMIN_PASSWORD``, and the auth config file is private
(mode 0600). Users authenticate with MLflow's standard variables
``MLFLOW_TRACKING_USERNAME`` and ``MLFLOW_TRACKING_PASSWORD``; see
docs/tracking_server.md.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from riskmodel.errors import InputError, Problem, RiskmodelError
from riskmodel.io_safety import redacted
from riskmodel.server.lockout import LockoutPolicy

PERMISSIONS = ("READ", "EDIT", "MANAGE", "NO_PERMISSIONS")
MIN_ADMIN_PASSWORD = 12  # MLflow's own rule for the bootstrap admin password
DB_SCHEMES = ("postgresql", "postgres", "mysql", "mssql", "sqlite")


class TeamServerError(RiskmodelError):
    """PostgreSQL or the MLflow server could not be set up or did not start.

    ``component`` says which: ``"postgresql"`` or ``"mlflow"``.
    """

    def __init__(self, component: str, message: str):
        self.component = component
        super().__init__(f"{component}: {message}")


# ---------------------------------------------------------------------------
# helpers


def postgres_bindir() -> Path | None:
    """The folder holding PostgreSQL's server programs (``initdb``, ``pg_ctl``), or None.

    Looks on ``PATH`` first, then in Debian's ``/usr/lib/postgresql/<version>/bin``
    (Debian does not put ``initdb`` on ``PATH``), newest version first.
    """
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    found = []
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        p = Path(d)
        if (p / "initdb").exists() and (p / "pg_ctl").exists():
            try:
                found.append((float(p.parent.name), p))
            except ValueError:
                found.append((0.0, p))
    return max(found)[1] if found else None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` now (another process may take it later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def sqlalchemy_db_uri(uri: str) -> str:
    """A database URI that MLflow's SQLAlchemy can open with the installed driver.

    SQLAlchemy 2.1 opens ``postgresql://`` with psycopg 3; riskmodel's ``server``
    extra installs psycopg2. When psycopg 3 is missing, ``postgresql://`` and
    ``postgres://`` become ``postgresql+psycopg2://``; anything else is kept.
    """
    parts = urlsplit(uri)
    if parts.scheme in ("postgresql", "postgres"):
        import importlib.util

        if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2") is not None:
            return urlunsplit(parts._replace(scheme="postgresql+psycopg2"))
    return uri


def redact_uri(uri: str) -> str:
    """The URI with its password replaced by ``***`` (for messages and logs; the one rule,
    :func:`riskmodel.io_safety.redacted`, that database inputs use too)."""
    return redacted(uri)


def _check_db_uri(uri: str, option: str) -> str:
    scheme = urlsplit(uri).scheme.split("+")[0]
    if scheme not in DB_SCHEMES:
        raise InputError(
            Problem(
                f"{option}: {redact_uri(uri)!r} is not a database URI; expected e.g. "
                "postgresql://USER@HOST:5432/DB (password in ~/.pgpass or PGPASSWORD) "
                "or sqlite:////ABSOLUTE/PATH.db"
            )
        )
    return sqlalchemy_db_uri(uri)


def _log_tail(path: Path, n: int = 25) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


# ---------------------------------------------------------------------------
# PostgreSQL


class LocalPostgres:
    """A throwaway PostgreSQL cluster in a temporary folder.

    Parameters
    ----------
    user : str
        The role created for MLflow (owner of ``databases``).
    databases : tuple of str
        Databases created, owned by ``user``.
    port : int, optional
        TCP port on 127.0.0.1; default a free one.
    bindir : path, optional
        PostgreSQL's programs; default :func:`postgres_bindir`.
    parent : path, optional
        Where the temporary folder is made (default the system's temp folder;
        it must be reachable by the ``postgres`` user when running as root).

    Attributes
    ----------
    base_dir_ : Path
        The cluster's folder (data, socket, log); deleted by :meth:`stop`.
    port_ : int
        The port it listens on.
    password_ : str
        The password of ``user`` (random, 32 hex characters).

    Notes
    -----
    Authentication is ``scram-sha-256`` for every connection (socket and TCP),
    and the server listens on 127.0.0.1 only. The superuser ``postgres`` gets
    a random password too, used only to create the role and databases.
    """

    def __init__(
        self,
        user: str = "mlflow",
        databases: tuple[str, ...] = ("mlflow",),
        port: int | None = None,
        bindir: str | os.PathLike[str] | None = None,
        parent: str | os.PathLike[str] | None = None,
    ):
        self.user = user
        self.databases = databases
        self.port = port
        self.bindir = bindir
        self.parent = parent
        self.base_dir_: Path | None = None
        self.port_: int | None = None
        self.password_: str | None = None
        self._super_password: str | None = None
        self._run_as: list[str] = []
        self._bin: Path | None = None
        self._owner_ids: tuple[int, int] = (os.getuid(), os.getgid())
        self._started = False

    # -- running PostgreSQL's programs as a non-root user --------------------

    def _owner(self) -> tuple[int, int, list[str]]:
        """(uid, gid, command prefix) of the user the cluster runs as."""
        if os.geteuid() != 0:
            return os.getuid(), os.getgid(), []
        import pwd

        for name in ("postgres", "nobody"):
            try:
                pw = pwd.getpwnam(name)
            except KeyError:
                continue
            if shutil.which("runuser"):
                return pw.pw_uid, pw.pw_gid, ["runuser", "-u", name, "--"]
            if shutil.which("setpriv"):
                return pw.pw_uid, pw.pw_gid, ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                                               "--clear-groups", "--"]
        raise TeamServerError(
            "postgresql", "running as root, and neither a 'postgres' nor a 'nobody' user with runuser "
            "is available: initdb refuses to run as root"
        )

    def _pg(self, program: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        assert self._bin is not None
        cmd = [*self._run_as, str(self._bin / program), *args]
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                                  env={**os.environ, "LC_ALL": "C"})
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TeamServerError("postgresql", f"{program} failed: {exc}") from None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> LocalPostgres:
        """Create the cluster, start it, create the role and the databases."""
        b = Path(self.bindir) if self.bindir else postgres_bindir()
        if b is None or not (b / "initdb").exists():
            raise TeamServerError(
                "postgresql",
                "PostgreSQL's server programs (initdb, pg_ctl) were not found on PATH or in "
                "/usr/lib/postgresql/*/bin; install them (Debian: apt-get install postgresql, "
                "or run scripts/ensure_postgres.sh)",
            )
        self._bin = b
        uid, gid, self._run_as = self._owner()
        self._owner_ids = (uid, gid)
        self.base_dir_ = Path(tempfile.mkdtemp(prefix="riskmodel-pg-", dir=self.parent))
        try:
            os.chown(self.base_dir_, uid, gid)
            self._init_and_start()
            self._create_role_and_databases()
        except BaseException:
            self.stop()
            raise
        return self

    def _init_and_start(self) -> None:
        assert self.base_dir_ is not None
        data = self.base_dir_ / "data"
        self._super_password = secrets.token_hex(16)
        pwfile = self.base_dir_ / "pwfile"
        pwfile.write_text(self._super_password + "\n", encoding="utf-8")
        os.chmod(pwfile, 0o600)
        os.chown(pwfile, *self._owner_ids)
        r = self._pg("initdb", "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
                     f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
        pwfile.unlink()
        if r.returncode != 0:
            raise TeamServerError("postgresql", f"initdb failed (exit {r.returncode}): {(r.stderr or r.stdout).strip()[-800:]}")
        # a free port can be taken between our check and the server's bind: try a few
        for _ in range(3):
            self.port_ = self.port or free_port()
            opts = (f"-p {self.port_} -k {shlex.quote(str(self.base_dir_))} -c listen_addresses=127.0.0.1 "
                    "-c max_connections=40 -c shared_buffers=32MB")
            r = self._pg("pg_ctl", "-D", str(data), "-l", str(self.base_dir_ / "postgres.log"),
                         "-o", opts, "-w", "-t", "60", "start")
            if r.returncode == 0:
                self._started = True
                return
            if self.port:
                break
        raise TeamServerError(
            "postgresql",
            f"pg_ctl start failed (exit {r.returncode}): {(r.stderr or r.stdout).strip()[-400:]}\n"
            f"{_log_tail(self.base_dir_ / 'postgres.log', 10)}",
        )

    def _connect(self, dbname: str = "postgres", user: str = "postgres", password: str | None = None):  # noqa: ANN202
        try:
            import psycopg2
        except ImportError:
            raise TeamServerError(
                "postgresql", "psycopg2 is not installed: pip install 'riskmodel[server]'"
            ) from None
        return psycopg2.connect(host="127.0.0.1", port=self.port_, dbname=dbname, user=user,
                                password=password or self._super_password, connect_timeout=10)

    def _create_role_and_databases(self) -> None:
        from psycopg2 import sql

        self.password_ = secrets.token_hex(16)
        conn = self._connect()
        try:
            conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with conn.cursor() as cur:
                cur.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(self.user)),
                            (self.password_,))
                for db in self.databases:
                    cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(db), sql.Identifier(self.user)))
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop the cluster and delete its folder."""
        if self.base_dir_ is None:
            return
        data = self.base_dir_ / "data"
        if self._started:
            # immediate: no shutdown checkpoint, the data are deleted next anyway
            r = self._pg("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "-t", "30", "stop", timeout=60)
            if r.returncode != 0:  # last resort: the postmaster's own pid
                with contextlib.suppress(OSError, ValueError, IndexError):
                    pid = int((data / "postmaster.pid").read_text().splitlines()[0])
                    os.kill(pid, signal.SIGQUIT)
            self._started = False
        shutil.rmtree(self.base_dir_, ignore_errors=True)
        self.base_dir_ = None

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------

    def dsn(self, dbname: str | None = None) -> str:
        """A libpq/psycopg2 URI for ``dbname`` as the MLflow role (password included)."""
        db = dbname or self.databases[0]
        return f"postgresql://{quote(self.user)}:{quote(self.password_ or '')}@127.0.0.1:{self.port_}/{quote(db)}"

    def uri(self, dbname: str | None = None) -> str:
        """The SQLAlchemy URI of ``dbname`` for MLflow (``postgresql+psycopg2://...``)."""
        return sqlalchemy_db_uri(self.dsn(dbname))


# ---------------------------------------------------------------------------
# the MLflow server


class TeamServer:
    """``mlflow server`` with authentication (``--app-name basic-auth``).

    Parameters
    ----------
    backend_store_uri : str
        Where runs, params and metrics go: a SQLAlchemy URI, e.g.
        ``postgresql://mlflow@db.example.org:5432/mlflow`` (``postgresql://`` is
        opened with psycopg2, see :func:`sqlalchemy_db_uri`).
    artifacts_destination : str or path
        Where artifacts go: a folder, or an object-store URI (``s3://bucket/prefix``).
        Clients never see it: the server proxies artifacts (``mlflow-artifacts:``).
    auth_db_uri : str
        The users-and-permissions database (SQLAlchemy URI; a second PostgreSQL
        database, or ``sqlite:////abs/path/auth.db``).
    host : str
        Interface to bind. Keep 127.0.0.1 unless a TLS proxy sits in front.
    port : int, optional
        Default a free port.
    admin_username, admin_password : str
        The admin account created on the first start (MLflow requires at least
        12 characters). ``admin_password=None`` takes ``$MLFLOW_AUTH_ADMIN_PASSWORD``
        (when that is unset too, MLflow refuses to start on an empty user
        store). Ignored once the admin exists in ``auth_db_uri``.
    default_permission : str
        What a user may do with other users' experiments: READ (default),
        EDIT, MANAGE or NO_PERMISSIONS.
    workers : int
        uvicorn worker processes.
    auth_cache_seconds : int
        Cache successful password checks this long (0 = off, MLflow's own
        default). Each check is a scrypt hash costing a fraction of a second
        of CPU, on every request: a run that logs a table and metrics makes
        about seven requests, so without the cache logging 10,000 areas'
        results took 5.5 s instead of 0.5 s (benchmarks/tracking/results.md).
        The price: a password changed or a user deleted through the API is
        seen at once by the worker that handled the change, but other
        workers (``workers > 1``) and changes made directly in the auth
        database keep accepting the old password until the cache expires.
    allowed_hosts : str, optional
        MLflow's ``--allowed-hosts`` (needed when users reach the server under
        a host name, e.g. behind a proxy).
    startup_timeout : float
        Seconds to wait for ``/health``.
    state_dir : path, optional
        Folder for the auth config (and the log); default a temporary
        folder, deleted by :meth:`stop`.
    log_path : path, optional
        The server's log file (appended to); default ``mlflow-server.log`` in
        the state folder.
    lockout : LockoutPolicy, optional
        Wrong passwords allowed before a user name or an address is answered
        HTTP 429 for a while (:mod:`riskmodel.server.lockout`; default 5 per
        user in 5 minutes -> 15 minutes locked).

    Attributes
    ----------
    url_ : str
        ``http://HOST:PORT`` once started.
    port_ : int
    process_ : subprocess.Popen
    log_path_ : Path
        The server's stdout and stderr.
    postgres_ : LocalPostgres or None
        The throwaway cluster when made by :func:`throwaway_team_server`.
    """

    def __init__(
        self,
        backend_store_uri: str,
        artifacts_destination: str | os.PathLike[str],
        auth_db_uri: str,
        host: str = "127.0.0.1",
        port: int | None = None,
        admin_username: str = "admin",
        admin_password: str | None = None,
        default_permission: str = "READ",
        workers: int = 1,
        auth_cache_seconds: int = 60,
        allowed_hosts: str | None = None,
        startup_timeout: float = 180.0,
        state_dir: str | os.PathLike[str] | None = None,
        log_path: str | os.PathLike[str] | None = None,
        lockout: LockoutPolicy | None = None,
    ):
        self.lockout = (lockout or LockoutPolicy()).checked()
        self.backend_store_uri = backend_store_uri
        self.artifacts_destination = artifacts_destination
        self.auth_db_uri = auth_db_uri
        self.host = host
        self.port = port
        self.admin_username = admin_username
        self.admin_password = admin_password
        self.default_permission = default_permission
        self.workers = workers
        self.auth_cache_seconds = auth_cache_seconds
        self.allowed_hosts = allowed_hosts
        self.startup_timeout = startup_timeout
        self.state_dir = state_dir
        self.log_path = log_path
        self.url_: str | None = None
        self.port_: int | None = None
        self.process_: subprocess.Popen[bytes] | None = None
        self.log_path_: Path | None = None
        self.postgres_: LocalPostgres | None = None
        self._own_state: Path | None = None

    # -- checks --------------------------------------------------------------

    def _validated(self) -> tuple[str, str, str | None]:
        problems = []
        backend = auth = ""
        try:
            backend = _check_db_uri(self.backend_store_uri, "--backend-store-uri")
        except InputError as e:
            problems += e.problems
        try:
            auth = _check_db_uri(self.auth_db_uri, "--auth-db-uri")
        except InputError as e:
            problems += e.problems
        if self.default_permission not in PERMISSIONS:
            problems.append(Problem(f"--default-permission: unknown value {self.default_permission!r}; "
                                    f"valid: {', '.join(PERMISSIONS)}"))
        pw = self.admin_password if self.admin_password is not None else os.environ.get("MLFLOW_AUTH_ADMIN_PASSWORD")
        if pw is not None and len(pw) < MIN_ADMIN_PASSWORD:
            problems.append(Problem(f"the admin password must have at least {MIN_ADMIN_PASSWORD} characters "
                                    "(MLflow's rule); set MLFLOW_AUTH_ADMIN_PASSWORD"))
        if self.workers < 1:
            problems.append(Problem(f"--workers: must be at least 1, got {self.workers}"))
        if self.auth_cache_seconds < 0:
            problems.append(Problem(f"--auth-cache-seconds: must be 0 or more, got {self.auth_cache_seconds}"))
        if problems:
            raise InputError(problems)
        return backend, auth, pw

    def _artifacts(self) -> str:
        dest = str(self.artifacts_destination)
        if "://" in dest:
            return dest
        p = Path(dest).expanduser().resolve()
        p.mkdir(parents=True, exist_ok=True)
        return str(p)

    # -- lifecycle -----------------------------------------------------------

    def command(self) -> list[str]:
        """The ``mlflow server`` command line (no secrets in it)."""
        cmd = [sys.executable, "-m", "mlflow", "server", "--app-name", "basic-auth",
               "--host", self.host, "--port", str(self.port_ or self.port or 5000),
               "--workers", str(self.workers), "--artifacts-destination", self._artifacts()]
        if self.allowed_hosts:
            cmd += ["--allowed-hosts", self.allowed_hosts]
        return cmd

    def start(self) -> TeamServer:
        """Write the auth config, start the server and wait until ``/health`` answers."""
        backend, auth_db, self.admin_password = self._validated()
        if self.state_dir is None:
            self._own_state = Path(tempfile.mkdtemp(prefix="riskmodel-mlflow-"))
            state = self._own_state
        else:
            state = Path(self.state_dir)
            state.mkdir(parents=True, exist_ok=True)
        ini = state / "basic_auth.ini"
        lines = [
            "[mlflow]",
            f"default_permission = {self.default_permission}",
            f"database_uri = {auth_db}",
            f"admin_username = {self.admin_username}",
            # MLflow's basic-auth check behind riskmodel's lockout on wrong passwords
            "authorization_function = riskmodel.server.lockout:authenticate_request_limited",
            f"auth_cache_ttl_seconds = {int(self.auth_cache_seconds)}",
        ]
        # the config holds the auth database's URI (maybe with a password): private
        fd = os.open(ini, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines).replace("%", "%%") + "\n")  # configparser interpolates %
        self.port_ = self.port or free_port(self.host if self.host != "0.0.0.0" else "127.0.0.1")
        env = {
            **os.environ,
            "MLFLOW_BACKEND_STORE_URI": backend,
            "MLFLOW_AUTH_CONFIG_PATH": str(ini),
            "MLFLOW_AUTH_ADMIN_USERNAME": self.admin_username,
            # CSRF protection of the auth pages needs a fixed key per server
            "MLFLOW_FLASK_SERVER_SECRET_KEY": os.environ.get("MLFLOW_FLASK_SERVER_SECRET_KEY") or secrets.token_hex(32),
            # MLflow's job runner (GenAI evaluation jobs) starts several worker
            # processes; riskmodel does not use it
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": os.environ.get("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false"),
            **self.lockout.env(),
        }
        if self.admin_password is not None:
            env["MLFLOW_AUTH_ADMIN_PASSWORD"] = self.admin_password
        for k in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            env.pop(k, None)  # the server's own settings only
        self.log_path_ = Path(self.log_path) if self.log_path else state / "mlflow-server.log"
        self.log_path_.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path_, "ab")  # handed to the child; closed in stop()
        self._log = log
        try:
            self.process_ = subprocess.Popen(self.command(), env=env, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            self.stop()
            raise TeamServerError("mlflow", f"could not start mlflow server: {exc}") from None
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        self.url_ = f"http://{host}:{self.port_}"
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        assert self.process_ is not None and self.log_path_ is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            code = self.process_.poll()
            if code is not None:
                raise TeamServerError(
                    "mlflow", f"mlflow server exited with code {code} before it was ready; its log:\n"
                    f"{_log_tail(self.log_path_)}"
                )
            try:
                with urllib.request.urlopen(f"{self.url_}/health", timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise TeamServerError(
            "mlflow", f"mlflow server did not answer {self.url_}/health within {self.startup_timeout:.0f} s; "
            f"its log:\n{_log_tail(self.log_path_)}"
        )

    def log_tail(self, n: int = 25) -> str:
        """The last ``n`` lines of the server's log ("" when there is none)."""
        return _log_tail(self.log_path_, n) if self.log_path_ is not None else ""

    def wait(self) -> int:
        """Block until the server exits; return its exit code."""
        assert self.process_ is not None
        return self.process_.wait()

    def stop(self) -> None:
        """Stop the server and its workers (SIGTERM, then SIGKILL after 20 s)."""
        p = self.process_
        if p is not None and p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)  # the session we started: server and workers
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
        if p is not None:
            # uvicorn's workers may outlive the parent by a moment
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
        self.process_ = None
        log = getattr(self, "_log", None)
        if log is not None:
            log.close()
            self._log = None
        if self._own_state is not None:
            shutil.rmtree(self._own_state, ignore_errors=True)
            self._own_state = None

    def __enter__(self) -> TeamServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def summary(self) -> str:
        """What runs where, and how users connect (no secrets)."""
        lines = [
            "MLflow team tracking server (authentication on)",
            f"  URL                 {self.url_ or '(not started)'}",
            f"  backend store       {redact_uri(self.backend_store_uri)}",
            f"  artifact store      {self.artifacts_destination} (proxied as mlflow-artifacts:)",
            f"  auth database       {redact_uri(self.auth_db_uri)}",
            f"  default permission  {self.default_permission}",
            f"  wrong passwords     {self.lockout.max_failures} per user in {self.lockout.window_seconds:g} s "
            f"-> locked {self.lockout.lockout_seconds:g} s (HTTP 429)",
            f"  admin user          {self.admin_username}",
            f"  workers             {self.workers}",
            "Users connect with:",
            f"  export MLFLOW_TRACKING_URI={self.url_ or 'http://HOST:PORT'}",
            "  export MLFLOW_TRACKING_USERNAME=<user> MLFLOW_TRACKING_PASSWORD=<password>",
        ]
        return "\n".join(lines)

    # -- users (admin) ---------------------------------------------------------

    def create_user(self, username: str, password: str) -> None:
        """Create a user through the auth REST API, as the admin."""
        self._admin_post("/api/2.0/mlflow/users/create", {"username": username, "password": password})

    def grant(self, experiment_id: str, username: str, permission: str = "EDIT") -> None:
        """Give ``username`` a permission on one experiment, as the admin.

        MLflow 3's unified permissions API; MLflow 2's experiment-permission
        endpoint when the server is older (HTTP 404 on the first).
        """
        try:
            self._admin_post("/api/3.0/mlflow/users/permissions/grant",
                             {"username": username, "resource_type": "experiment",
                              "resource_id": experiment_id, "permission": permission})
        except InputError as exc:
            if "HTTP 404" not in str(exc):
                raise
            self._admin_post("/api/2.0/mlflow/experiments/permissions/create",
                             {"experiment_id": experiment_id, "username": username, "permission": permission})

    def _admin_post(self, path: str, body: dict[str, str]) -> None:
        import base64
        import json

        token = base64.b64encode(f"{self.admin_username}:{self.admin_password}".encode()).decode()
        req = urllib.request.Request(
            f"{self.url_}{path}", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
        )
        try:
            with urllib.request.urlopen(req, timeout=60):
                pass
        except urllib.error.HTTPError as exc:
            detail = " ".join(exc.read().decode(errors="replace").split())[:200]
            raise InputError(Problem(f"{path} refused (HTTP {exc.code}): {detail}", source=self.url_)) from None


@contextlib.contextmanager
def throwaway_team_server(
    admin_password: str | None = None,
    port: int | None = None,
    default_permission: str = "READ",
    workers: int = 1,
    auth_cache_seconds: int = 60,
    startup_timeout: float = 180.0,
    lockout: LockoutPolicy | None = None,
) -> Iterator[TeamServer]:
    """A complete team server that lives for one ``with`` block.

    A :class:`LocalPostgres` cluster with two databases (``mlflow`` for runs,
    ``mlflow_auth`` for users), a temporary artifact folder and a
    :class:`TeamServer` on 127.0.0.1; everything is deleted on exit. The
    cluster is at ``server.postgres_``; the admin password at
    ``server.admin_password`` (random unless given).
    """
    with LocalPostgres(databases=("mlflow", "mlflow_auth")) as pg:
        state = Path(tempfile.mkdtemp(prefix="riskmodel-mlflow-"))
        try:
            server = TeamServer(
                backend_store_uri=pg.uri("mlflow"),
                artifacts_destination=state / "artifacts",
                auth_db_uri=pg.uri("mlflow_auth"),
                port=port,
                admin_password=admin_password or secrets.token_urlsafe(18),
                default_permission=default_permission,
                workers=workers,
                auth_cache_seconds=auth_cache_seconds,
                startup_timeout=startup_timeout,
                state_dir=state,
                lockout=lockout,
            )
            server.postgres_ = pg
            with server:
                yield server
        finally:
            shutil.rmtree(state, ignore_errors=True)


__all__ = [
    "LocalPostgres",
    "TeamServer",
    "TeamServerError",
    "free_port",
    "postgres_bindir",
    "redact_uri",
    "sqlalchemy_db_uri",
    "throwaway_team_server",
]
