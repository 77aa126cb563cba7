"""The tracking core: one small API over MLflow.

Defaults: a local SQLite store ``mlruns.db`` and an artifact folder
``mlartifacts/`` in the working directory, nothing to start. The environment
variable ``MLFLOW_TRACKING_URI`` (for example a team's tracking server,
``http://host:port``) overrides the store; on a server with authentication
MLflow's client reads ``MLFLOW_TRACKING_USERNAME`` and
``MLFLOW_TRACKING_PASSWORD`` from the environment at each request (riskmodel
passes them through untouched), and a refusal (HTTP 401 or 403) becomes an
:class:`~riskmodel.errors.InputError` saying what to set
(docs/tracking_server.md).

Rules the rest of riskmodel follows through this API:

* per-area results are **one table per run** (:meth:`RunHandle.log_table`, or
  :meth:`RunHandle.log_area_results`: the table plus summary metrics), never a
  run per area nor a metric per area;
* metrics are logged in batches (:meth:`RunHandle.log_metrics` sends one
  ``log_batch`` call), never one call per metric in a loop;
* every run records a fingerprint of its inputs (:func:`fingerprint`) and the
  code version (package version and, when run from a git checkout, the commit);
* a run whose block raises is marked FAILED, with the error as a tag.

``Tracker(enabled=False)`` (the ``--no-track`` flag) keeps the same API but
writes nothing; what would have been logged stays in memory on the handle, so
code and tests can read it back.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel import __version__
from riskmodel.errors import InputError, Problem
from riskmodel.io_safety import is_database_url, redacted, split_sheet
from riskmodel.results import FIGURE_PNG, Artifact, Result, figure_png, write_artifacts

DEFAULT_EXPERIMENT = "riskmodel"
_MAX_PARAM_LEN = 6000
AREA_STATS = ("mean", "min", "p10", "median", "p90", "max")


def default_tracking_uri(workdir: str | os.PathLike[str] | None = None) -> str:
    """``$MLFLOW_TRACKING_URI`` if set, else ``sqlite:///<workdir>/mlruns.db``."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    wd = Path(workdir or os.getcwd()).resolve()
    return f"sqlite:///{wd / 'mlruns.db'}"


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` tracking URI, or None for any other store."""
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri[len("sqlite:///") :].split("?", 1)[0])


@contextlib.contextmanager
def store_lock(db: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive lock on ``<db>.lock`` (``fcntl.flock``) for a block.

    Creating a SQLite store runs MLflow's migrations (``CREATE TABLE ...``):
    two processes doing it at once on a new ``mlruns.db`` collide ("table
    alembic_version already exists", "duplicate column name") and one of them
    fails. :attr:`Tracker.client` creates the store under this lock, so the
    second process waits and then finds the tables made. The lock file stays
    beside the database (empty; the lock itself goes with the process).
    """
    lock = Path(f"{os.fspath(db)}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, ``/proc/<pid>/stat``), or None.

    None when the process does not exist (or on a system without ``/proc``).
    With the pid it identifies a process even after the pid is reused.
    """
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text(encoding="ascii", errors="replace")
    except (OSError, ValueError):
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None  # field 22 of the line: starttime


def process_tags() -> dict[str, str]:
    """Who runs this: ``riskmodel.host``, ``riskmodel.pid`` and ``riskmodel.pid_start``.

    Recorded on every run at its start, so that a run left RUNNING by a
    killed process can be told from a live one (:mod:`riskmodel.tracking.cleanup`).
    """
    pid = os.getpid()
    out = {"riskmodel.host": socket.gethostname(), "riskmodel.pid": str(pid)}
    start = process_start(pid)
    if start is not None:
        out["riskmodel.pid_start"] = start
    return out


UPLOAD_PREFIX = "riskmodel-upload-"
"""Temp folders of artifact uploads: ``riskmodel-upload-<pid>-<pid start>-<random>`` in the temp folder."""


def upload_dir() -> tempfile.TemporaryDirectory[str]:
    """A temporary folder for one artifact upload, named after this process (see :data:`UPLOAD_PREFIX`).

    Removed when the upload is done; a killed process leaves it, and
    :func:`riskmodel.tracking.cleanup.remove_stale_upload_dirs` removes it later.
    """
    return tempfile.TemporaryDirectory(prefix=f"{UPLOAD_PREFIX}{os.getpid()}-{process_start(os.getpid()) or 0}-")


def fingerprint(obj: pd.DataFrame | str | os.PathLike[str] | bytes) -> str:
    """A SHA-256 fingerprint (hex, 16 characters) of a table, a file, a folder or bytes.

    For a DataFrame the hash covers column names, dtypes and every value
    (``pandas.util.hash_pandas_object``, row order included), so the same data
    give the same fingerprint whatever file format they came from.
    """
    h = hashlib.sha256()
    if isinstance(obj, pd.DataFrame):
        h.update(json.dumps([[str(c), str(t)] for c, t in obj.dtypes.items()]).encode())
        h.update(pd.util.hash_pandas_object(obj, index=False).to_numpy().tobytes())
    elif isinstance(obj, bytes):
        h.update(obj)
    else:
        p = Path(obj)
        if not p.exists():
            p = split_sheet(p)[0]  # a workbook's sheet, book.xlsx#Sheet: the workbook's bytes (init)
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            if p.is_dir():
                h.update(str(f.relative_to(p)).encode())
            with open(f, "rb") as fh:
                for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()[:16]


def code_version() -> dict[str, str]:
    """The package version and, when available, the git commit of the source."""
    out = {"riskmodel_version": __version__}
    src = Path(__file__).resolve().parents[3]
    try:
        commit = subprocess.run(
            ["git", "-C", str(src), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
        if commit:
            out["git_commit"] = commit
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def _clean_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for k, v in metrics.items():
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out[_safe_key(k)] = f
    return out


def _shown(value: object) -> str:
    """A param's or tag's text; a database URL without its password (:func:`riskmodel.io_safety.redacted`)."""
    text = str(value)
    return redacted(text) if "://" in text and is_database_url(text) else text


def _safe_key(k: str) -> str:
    # MLflow keys allow alphanumerics, _ - . space / only
    return "".join(ch if ch.isalnum() or ch in "_-. /" else "_" for ch in str(k))


class RunHandle:
    """A tracked run (or, when tracking is off, an in-memory record of one)."""

    def __init__(self, tracker: Tracker, run_id: str | None, name: str):
        self.tracker = tracker
        self.run_id = run_id
        self.name = name
        self.params: dict[str, str] = {}
        self.metrics: dict[str, float] = {}
        self.tags: dict[str, str] = {}
        self.tables: dict[str, pd.DataFrame] = {}
        self.figures: dict[str, Any] = {}
        self.texts: dict[str, str] = {}
        self.artifacts: list[str] = []

    @property
    def enabled(self) -> bool:
        return self.run_id is not None

    def _client(self):  # noqa: ANN202 - mlflow type
        return self.tracker.client

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log parameters (values turned to text; long ones truncated)."""
        from mlflow.entities import Param

        p = {_safe_key(k): _shown(v)[:_MAX_PARAM_LEN] for k, v in params.items()}
        new = {k: v for k, v in p.items() if k not in self.params}
        self.params.update(p)
        if self.enabled and new:
            self._client().log_batch(self.run_id, params=[Param(k, v) for k, v in new.items()])

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Log many metrics in one batch; non-finite or non-numeric values are skipped."""
        from mlflow.entities import Metric

        m = _clean_metrics(metrics)
        self.metrics.update(m)
        if self.enabled and m:
            ts = int(time.time() * 1000)
            items = [Metric(k, v, ts, step or 0) for k, v in m.items()]
            for i in range(0, len(items), 1000):  # MLflow's batch limit
                self._client().log_batch(self.run_id, metrics=items[i : i + 1000])

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        from mlflow.entities import RunTag

        t = {_safe_key(k): _shown(v)[:5000] for k, v in tags.items()}
        self.tags.update(t)
        if self.enabled and t:
            self._client().log_batch(self.run_id, tags=[RunTag(k, v) for k, v in t.items()])

    def log_fingerprint(self, name: str, obj: pd.DataFrame | str | os.PathLike[str]) -> str:
        """Record the fingerprint of an input as a tag ``input.<name>``.

        A database URL is not fingerprinted (its rows can change under the same
        URL): the tag says so and shows the URL without its password."""
        if is_database_url(obj):
            fp = f"not fingerprinted: database {redacted(str(obj))}"
            self.set_tags({f"input.{name}": fp})
            return fp
        fp = fingerprint(obj)
        self.set_tags({f"input.{name}": fp})
        return fp

    def _upload(self, local: Path, artifact_path: str | None) -> None:
        self.artifacts.append(f"{artifact_path + '/' if artifact_path else ''}{local.name}")
        if self.enabled:
            self._client().log_artifact(self.run_id, str(local), artifact_path)

    def log_table(self, df: pd.DataFrame, name: str, artifact_path: str | None = "tables") -> None:
        """Log a table as a CSV artifact (one table for all areas)."""
        self.tables[name] = df
        if not self.enabled:
            self.artifacts.append(f"{artifact_path}/{name}")
            return
        with upload_dir() as d:
            p = Path(d) / name
            if name.endswith(".parquet"):
                df.to_parquet(p, index=False)
            else:
                df.to_csv(p, index=False, lineterminator="\n")
            self._upload(p, artifact_path)

    def log_area_results(
        self,
        df: pd.DataFrame,
        name: str,
        area_col: str = "area_id",
        stats: tuple[str, ...] = AREA_STATS,
        artifact_path: str | None = "tables",
    ) -> dict[str, float]:
        """Log per-area results the fast way: one table plus a few summary metrics.

        Thousands of areas as one metric each cost one database row per value
        (10,000 areas: about 5 s into a local SQLite store and 13 s through a
        team server, benchmarks/tracking/results.md). Instead the whole table
        goes up as one artifact (Parquet when ``name`` ends in ``.parquet``,
        else CSV) and only its summaries become metrics, in ``log_batch``
        calls of at most 1000.

        Parameters
        ----------
        df : DataFrame
            Long format, one or more rows per area (e.g. area x category x
            period); not modified.
        name : str
            Artifact file name, e.g. ``forecast_per_area.parquet``; its stem
            prefixes the metric names.
        area_col : str
            The column naming the area.
        stats : tuple of str
            Summaries of each numeric column over the rows, missing values
            ignored: any of ``mean``, ``min``, ``max``, ``median``, ``std``
            (ddof=1) and ``pNN`` (the NN-th percentile, linear interpolation).

        Returns
        -------
        dict
            The metrics logged: ``<stem>.n_areas``, ``<stem>.n_rows`` and
            ``<stem>.<column>.<stat>`` (columns with no finite value are left out).
        """
        if area_col not in df.columns:
            raise InputError(Problem(f"column '{area_col}' (the area) is missing; columns: "
                                     f"{', '.join(map(str, df.columns))}", source=name, column=area_col))
        for st in stats:
            if st not in ("mean", "min", "max", "median", "std") and not (
                st.startswith("p") and st[1:].isdigit() and 0 <= int(st[1:]) <= 100
            ):
                raise InputError(Problem(f"unknown summary {st!r}; valid: mean, min, max, median, std, p0..p100",
                                         source=name))
        stem = name.rsplit(".", 1)[0] if "." in name else name
        metrics: dict[str, float] = {f"{stem}.n_areas": float(df[area_col].nunique()),
                                     f"{stem}.n_rows": float(len(df))}
        numeric = df.drop(columns=[area_col]).select_dtypes(include="number")
        for col in numeric.columns:
            v = numeric[col].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            if v.size == 0:
                continue
            for st in stats:
                if st == "mean":
                    x = v.mean()
                elif st == "min":
                    x = v.min()
                elif st == "max":
                    x = v.max()
                elif st == "median":
                    x = np.median(v)
                elif st == "std":
                    x = v.std(ddof=1) if v.size > 1 else np.nan
                else:
                    x = np.percentile(v, int(st[1:]))
                metrics[f"{stem}.{col}.{st}"] = float(x)
        self.log_table(df, name, artifact_path)
        self.log_metrics(metrics)
        return {k: v for k, v in metrics.items() if math.isfinite(v)}

    def log_figure(self, fig: Any, name: str, artifact_path: str | None = "figures") -> None:
        """Log a matplotlib figure as a PNG (:data:`FIGURE_PNG`: 150 dpi, tight box).

        What was published is kept in :attr:`figures` (by artifact path), so
        that later steps of a study (the appendix) use it without reading it
        back from the store: the PNG bytes when tracking is on (rendered once),
        the figure itself when it is off (rendered only if someone asks, with
        :func:`figure_bytes`).
        """
        key = f"{artifact_path + '/' if artifact_path else ''}{name}"
        if not self.enabled:
            self.figures[key] = fig
            self.artifacts.append(f"{artifact_path}/{name}")
            return
        with upload_dir() as d:
            p = Path(d) / name
            fig.savefig(p, **FIGURE_PNG)
            self.figures[key] = p.read_bytes()
            self._upload(p, artifact_path)

    def figure_bytes(self, key: str) -> bytes:
        """The PNG a logged figure is published as (rendered now, and kept, if it was not yet)."""
        fig = self.figures[key]
        if not isinstance(fig, bytes):
            fig = self.figures[key] = figure_png(fig, **FIGURE_PNG)
        return fig

    def log_text(self, text: str, name: str, artifact_path: str | None = None) -> None:
        """Log a text file (kept in :attr:`texts` as well)."""
        self.texts[f"{artifact_path + '/' if artifact_path else ''}{name}"] = text
        if not self.enabled:
            self.artifacts.append(name)
            return
        with upload_dir() as d:
            p = Path(d) / name
            p.write_text(text, encoding="utf-8")
            self._upload(p, artifact_path)

    def publish(self, artifacts: list[Artifact] | Result, folder: str | os.PathLike[str]) -> list[Path]:
        """Publish a result: log its artifacts to this run, then write them into ``folder``.

        The one writer of results for the commands and the pipeline steps
        (a result, or its list of :class:`~riskmodel.results.Artifact`).
        Files are written whole or not at all, after the run has them, so a
        refused upload leaves no files behind.
        """
        arts = artifacts.artifacts() if isinstance(artifacts, Result) else list(artifacts)
        self.log_artifacts(arts)
        return write_artifacts(arts, folder)

    def log_artifacts(self, artifacts: list[Artifact]) -> None:
        """Log artifacts: tables under ``tables/``, figures under ``figures/``, texts at the top.

        Each goes under its ``log_name``; those with ``log_as=""`` are not logged.
        """
        for a in artifacts:
            if not a.logged:
                continue
            if a.kind == "table":
                self.log_table(a.content, a.log_name)  # type: ignore[arg-type]
            elif a.kind == "figure":
                self.log_figure(a.content, a.log_name)
            else:
                self.log_text(a.content, a.log_name)  # type: ignore[arg-type]

    def log_artifact(self, path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        p = Path(path)
        if not self.enabled:
            self.artifacts.append(p.name)
            return
        if p.is_dir():
            self.artifacts.append(p.name)
            self._client().log_artifacts(self.run_id, str(p), artifact_path)
        else:
            self._upload(p, artifact_path)


class Tracker:
    """Entry point: opens runs in an MLflow experiment.

    Parameters
    ----------
    enabled : bool
        False for ``--no-track``: nothing is written anywhere.
    experiment : str
        MLflow experiment name.
    uri : str, optional
        Tracking URI; default :func:`default_tracking_uri`.
    artifact_root : path, optional
        Where a new experiment keeps artifacts when the store is a local
        SQLite file (default ``mlartifacts/`` beside it).
    """

    def __init__(
        self,
        enabled: bool = True,
        experiment: str = DEFAULT_EXPERIMENT,
        uri: str | None = None,
        artifact_root: str | os.PathLike[str] | None = None,
    ):
        self.enabled = enabled
        self.experiment = experiment
        self.uri = uri or default_tracking_uri()
        self.artifact_root = artifact_root
        self._client = None
        self._experiment_id: str | None = None
        self._stack: list[RunHandle] = []

    @property
    def client(self):  # noqa: ANN201 - mlflow type
        if self._client is None:
            import logging

            from mlflow.tracking import MlflowClient

            # after the import: mlflow sets up its own loggers when imported
            logging.getLogger("alembic").setLevel(logging.WARNING)
            logging.getLogger("mlflow").setLevel(logging.WARNING)

            db = sqlite_path(self.uri)
            if db is None:
                self._client = MlflowClient(tracking_uri=self.uri)
            else:
                # the client opens the store, running MLflow's migrations on a new one:
                # under the lock, so that two commands started together do not both do it
                with store_lock(db):
                    self._client = MlflowClient(tracking_uri=self.uri)
        return self._client

    def check(self) -> Tracker:
        """Check now that the store takes this user's runs; return the tracker.

        Opens the store (creating it if new) and finds or creates the
        experiment, so that a refusal by a team server (wrong password: HTTP
        401; no permission: 403) stops a command with a clear
        :class:`~riskmodel.errors.InputError` before it does any work. A
        tracker with ``enabled=False`` checks nothing. Commands call it at
        their start (``riskmodel run`` does, through the study's parent run).
        """
        if self.enabled:
            self.experiment_id()
        return self

    def _terminate(self, run_id: str, status: str) -> None:
        import io

        # on an http(s) store MLflow prints two "View run/experiment at" lines per run to
        # stdout; riskmodel commands print the run id and tracking URI themselves
        with contextlib.redirect_stdout(io.StringIO()):
            self.client.set_terminated(run_id, status=status)

    @contextlib.contextmanager
    def _server_refusals(self) -> Iterator[None]:
        """Turn a tracking server's HTTP 401/403 into an InputError saying what to do."""
        from mlflow.exceptions import MlflowException

        try:
            yield
        except MlflowException as exc:
            status = exc.get_http_status_code()
            user = os.environ.get("MLFLOW_TRACKING_USERNAME")
            if status == 401:
                why = ("MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD are not set" if not user
                       else f"wrong password for user {user!r}, or no such user")
                raise InputError(Problem(
                    f"the tracking server refused the credentials (HTTP 401: {why}); set "
                    "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD to your account on it",
                    source=self.uri)) from None
            # MLflow's client retries a 429 and then reports urllib3's "too many 429 error responses"
            if status == 429 or "too many 429 error responses" in str(exc):
                raise InputError(Problem(
                    f"the tracking server refuses user {user!r} for now after too many wrong passwords "
                    "(HTTP 429); wait and retry with the right MLFLOW_TRACKING_PASSWORD "
                    "(docs/tracking_server.md, 'Wrong passwords')", source=self.uri)) from None
            if status == 403:
                raise InputError(Problem(
                    f"the tracking server does not let user {user!r} write to experiment "
                    f"{self.experiment!r} (HTTP 403); ask its admin for EDIT permission on it, "
                    "or log to an experiment of your own (study.experiment in the config)",
                    source=self.uri)) from None
            raise

    def experiment_id(self) -> str:
        if self._experiment_id is None:
            with self._server_refusals():
                exp = self.client.get_experiment_by_name(self.experiment)
                if exp is not None:
                    self._experiment_id = exp.experiment_id
                else:
                    loc = None
                    db = sqlite_path(self.uri)
                    if db is not None:
                        root = Path(self.artifact_root or db.parent / "mlartifacts")
                        loc = root.resolve().as_uri()
                    self._experiment_id = self._create_experiment(loc)
        return self._experiment_id

    def _create_experiment(self, artifact_location: str | None) -> str:
        """Create the experiment; if another process created it meanwhile, use that one."""
        from mlflow.exceptions import MlflowException

        try:
            return self.client.create_experiment(self.experiment, artifact_location=artifact_location)
        except MlflowException:
            exp = self.client.get_experiment_by_name(self.experiment)
            if exp is None:
                raise
            return exp.experiment_id

    @contextlib.contextmanager
    def run(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> Iterator[RunHandle]:
        """Open a run; nested inside another open run it becomes a child run.

        On an exception the run ends FAILED with the error's type and message
        in the tags ``error.type`` and ``error.message``, and the exception
        propagates.
        """
        base_tags = {"riskmodel.command": name, **code_version(), **process_tags()}
        if self.enabled:
            all_tags = {**base_tags, **(tags or {})}
            if self._stack:
                all_tags["mlflow.parentRunId"] = self._stack[-1].run_id
            all_tags["mlflow.runName"] = name
            exp_id = self.experiment_id()
            with self._server_refusals():
                r = self.client.create_run(
                    exp_id,
                    tags={_safe_key(k): _shown(v) for k, v in all_tags.items()},
                    run_name=name,
                )
            handle = RunHandle(self, r.info.run_id, name)
            handle.tags.update({k: _shown(v) for k, v in all_tags.items()})
        else:
            handle = RunHandle(self, None, name)
            handle.tags.update({**base_tags, "riskmodel_version": __version__, **(tags or {})})
        if params:
            handle.log_params(params)
        self._stack.append(handle)
        try:
            yield handle
        except BaseException as exc:
            if handle.enabled:
                with contextlib.suppress(Exception):
                    handle.set_tags({"error.type": type(exc).__name__, "error.message": str(exc)[:4000]})
                    self._terminate(handle.run_id, "FAILED")
            raise
        else:
            if handle.enabled:
                self._terminate(handle.run_id, "FINISHED")
        finally:
            self._stack.pop()
