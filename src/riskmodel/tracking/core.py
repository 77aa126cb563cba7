"""The tracking core: one small API over MLflow.

Defaults: a local SQLite store ``mlruns.db`` and an artifact folder
``mlartifacts/`` in the working directory, nothing to start. The environment
variable ``MLFLOW_TRACKING_URI`` (for example a team's tracking server)
overrides the store.

Rules the rest of riskmodel follows through this API:

* per-area results are **one table per run** (:meth:`RunHandle.log_table`),
  never a run per area;
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
import hashlib
import json
import math
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

DEFAULT_EXPERIMENT = "riskmodel"
_MAX_PARAM_LEN = 6000


def default_tracking_uri(workdir: str | os.PathLike[str] | None = None) -> str:
    """``$MLFLOW_TRACKING_URI`` if set, else ``sqlite:///<workdir>/mlruns.db``."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    wd = Path(workdir or os.getcwd()).resolve()
    return f"sqlite:///{wd / 'mlruns.db'}"


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
    from riskmodel import __version__

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
        self.artifacts: list[str] = []

    @property
    def enabled(self) -> bool:
        return self.run_id is not None

    def _client(self):  # noqa: ANN202 - mlflow type
        return self.tracker.client

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log parameters (values turned to text; long ones truncated)."""
        from mlflow.entities import Param

        p = {_safe_key(k): str(v)[:_MAX_PARAM_LEN] for k, v in params.items()}
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

        t = {_safe_key(k): str(v)[:5000] for k, v in tags.items()}
        self.tags.update(t)
        if self.enabled and t:
            self._client().log_batch(self.run_id, tags=[RunTag(k, v) for k, v in t.items()])

    def log_fingerprint(self, name: str, obj: pd.DataFrame | str | os.PathLike[str]) -> str:
        """Record the fingerprint of an input as a tag ``input.<name>``."""
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
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / name
            if name.endswith(".parquet"):
                df.to_parquet(p, index=False)
            else:
                df.to_csv(p, index=False, lineterminator="\n")
            self._upload(p, artifact_path)

    def log_figure(self, fig: Any, name: str, artifact_path: str | None = "figures") -> None:
        """Log a matplotlib figure as a PNG (150 dpi)."""
        if not self.enabled:
            self.artifacts.append(f"{artifact_path}/{name}")
            return
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / name
            fig.savefig(p, dpi=150, bbox_inches="tight")
            self._upload(p, artifact_path)

    def log_text(self, text: str, name: str, artifact_path: str | None = None) -> None:
        if not self.enabled:
            self.artifacts.append(name)
            return
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / name
            p.write_text(text, encoding="utf-8")
            self._upload(p, artifact_path)

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

            self._client = MlflowClient(tracking_uri=self.uri)
        return self._client

    def experiment_id(self) -> str:
        if self._experiment_id is None:
            exp = self.client.get_experiment_by_name(self.experiment)
            if exp is not None:
                self._experiment_id = exp.experiment_id
            else:
                loc = None
                if self.uri.startswith("sqlite:///"):
                    root = Path(self.artifact_root or Path(self.uri[len("sqlite:///") :]).parent / "mlartifacts")
                    loc = root.resolve().as_uri()
                self._experiment_id = self.client.create_experiment(self.experiment, artifact_location=loc)
        return self._experiment_id

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
        from riskmodel import __version__

        base_tags = {"riskmodel.command": name, **code_version()}
        if self.enabled:
            all_tags = {**base_tags, **(tags or {})}
            if self._stack:
                all_tags["mlflow.parentRunId"] = self._stack[-1].run_id
            all_tags["mlflow.runName"] = name
            r = self.client.create_run(
                self.experiment_id(),
                tags={_safe_key(k): str(v) for k, v in all_tags.items()},
                run_name=name,
            )
            handle = RunHandle(self, r.info.run_id, name)
            handle.tags.update({k: str(v) for k, v in all_tags.items()})
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
                    self.client.set_terminated(handle.run_id, status="FAILED")
            raise
        else:
            if handle.enabled:
                self.client.set_terminated(handle.run_id, status="FINISHED")
        finally:
            self._stack.pop()
