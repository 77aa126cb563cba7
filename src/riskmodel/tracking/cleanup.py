"""Runs left RUNNING by a killed process: find them and mark them KILLED.

A riskmodel process that is killed (SIGKILL, a power cut, an out-of-memory
kill) cannot close its MLflow runs: they stay RUNNING for good. Every run
riskmodel opens records who runs it (:func:`riskmodel.tracking.core.process_tags`):
the tags ``riskmodel.host`` (host name), ``riskmodel.pid`` (process id) and
``riskmodel.pid_start`` (when that process started, from ``/proc``).

The rule (:func:`stale_reason`): a RUNNING run is **stale** when

* it was started on this host and its process is gone: no process has that
  pid, or the process that has it now started at another time (the pid was
  reused); or
* it was started on another host, or records no process (runs made before
  these tags, or by other tools), and it started more than ``max_age_hours``
  ago (default :data:`STALE_AFTER_HOURS`, 24 h: no riskmodel study runs that
  long on the sample city; raise it for longer jobs). A live run on another
  host cannot be told from a dead one, so only its age counts.

Stale runs are marked ``KILLED`` (end time now) with the tag
``riskmodel.cleanup`` saying why. ``riskmodel tracking cleanup`` applies the
whole rule; a study (``riskmodel run``) applies its first part, for this
host's dead processes only, to its experiment when it starts.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from riskmodel.tracking.core import UPLOAD_PREFIX, Tracker, process_start

STALE_AFTER_HOURS = 24.0
"""A RUNNING run from another host (or without process tags) is stale after this many hours."""

CLEANUP_COLUMNS = ["run_id", "experiment", "name", "start", "host", "pid", "reason"]


def _pid_alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OverflowError:
        return False
    if start is None:
        return True
    now = process_start(pid)
    return now is None or now == start


def stale_reason(
    tags: dict[str, str],
    start_ms: int,
    *,
    max_age_hours: float = STALE_AFTER_HOURS,
    host: str | None = None,
    now: float | None = None,
    local_only: bool = False,
) -> str | None:
    """Why a RUNNING run is stale, or None when it may still be running.

    Parameters
    ----------
    tags : dict
        The run's tags (``riskmodel.host``, ``riskmodel.pid``, ``riskmodel.pid_start``).
    start_ms : int
        The run's start time, milliseconds since the epoch (MLflow's ``start_time``).
    max_age_hours : float
        Age (hours) after which a run whose process cannot be checked is stale.
    host : str, optional
        This host's name (default :func:`socket.gethostname`).
    now : float, optional
        Seconds since the epoch (default now; for tests).
    local_only : bool
        Apply only the first part of the rule (this host, process gone).
    """
    host = host or socket.gethostname()
    now = time.time() if now is None else now
    pid = tags.get("riskmodel.pid")
    if tags.get("riskmodel.host") == host and pid is not None and pid.isdigit():
        if not _pid_alive(int(pid), tags.get("riskmodel.pid_start")):
            return f"process {pid} on {host} is gone"
        return None
    if local_only:
        return None
    age_h = (now - start_ms / 1000.0) / 3600.0
    if age_h > max_age_hours:
        where = f"on host {tags['riskmodel.host']}" if "riskmodel.host" in tags else "with no process recorded"
        return f"started {age_h:.1f} h ago {where} (more than {max_age_hours:g} h)"
    return None


def cleanup_runs(
    tracker: Tracker,
    *,
    all_experiments: bool = False,
    max_age_hours: float = STALE_AFTER_HOURS,
    dry_run: bool = False,
    local_only: bool = False,
    now: float | None = None,
) -> pd.DataFrame:
    """Mark stale RUNNING runs KILLED (see the module notes for the rule); return them.

    Parameters
    ----------
    tracker : Tracker
        The store and experiment to look in (``tracker.experiment``).
    all_experiments : bool
        Look in every experiment of the store instead.
    max_age_hours : float
        See :func:`stale_reason`.
    dry_run : bool
        Only list them.
    local_only : bool
        Only runs of this host whose process is gone (what a study does at its start).
    now : float, optional
        Seconds since the epoch (for tests).

    Returns
    -------
    DataFrame
        One row per stale run: ``run_id, experiment, name, start`` (UTC),
        ``host, pid, reason``; empty when there is none (or tracking is off).
    """
    if not tracker.enabled:
        return pd.DataFrame(columns=CLEANUP_COLUMNS)
    from mlflow.entities import RunTag, ViewType

    client = tracker.client
    with tracker._server_refusals():  # noqa: SLF001 - the same clear messages on a team server
        if all_experiments:
            exps = {e.experiment_id: e.name for e in client.search_experiments(view_type=ViewType.ALL)}
        else:
            exp = client.get_experiment_by_name(tracker.experiment)
            exps = {} if exp is None else {exp.experiment_id: exp.name}
        rows: list[dict[str, Any]] = []
        if exps:
            runs = client.search_runs(list(exps), "attributes.status = 'RUNNING'", run_view_type=ViewType.ALL,
                                      max_results=50000)
            host = socket.gethostname()
            for r in runs:
                tags = r.data.tags
                why = stale_reason(tags, r.info.start_time or 0, max_age_hours=max_age_hours, host=host,
                                   now=now, local_only=local_only)
                if why is None:
                    continue
                rows.append({"run_id": r.info.run_id, "experiment": exps.get(r.info.experiment_id, ""),
                             "name": r.info.run_name, "start": pd.Timestamp(r.info.start_time or 0, unit="ms"),
                             "host": tags.get("riskmodel.host", ""), "pid": tags.get("riskmodel.pid", ""),
                             "reason": why})
                if not dry_run:
                    client.log_batch(r.info.run_id, tags=[RunTag("riskmodel.cleanup", f"marked KILLED: {why}")])
                    with contextlib.redirect_stdout(io.StringIO()):
                        client.set_terminated(r.info.run_id, status="KILLED")
    return pd.DataFrame(rows, columns=CLEANUP_COLUMNS)


def remove_stale_upload_dirs(folder: str | os.PathLike[str] | None = None) -> list[tuple[Path, int, int]]:
    """Remove the artifact-upload temp folders of processes that are gone.

    :class:`~riskmodel.tracking.core.RunHandle` writes each table, figure or
    text into ``riskmodel-upload-<pid>-<pid start>-<random>`` in the temp
    folder (``folder``, default :func:`tempfile.gettempdir`) before uploading
    it; a killed process leaves that folder. Removed: those whose process no
    longer runs (no such pid, or a process that started at another time).

    Returns
    -------
    list of (folder, files, bytes)
    """
    base = Path(folder or tempfile.gettempdir())
    pattern = re.compile(rf"^{re.escape(UPLOAD_PREFIX)}(\d+)-(\d+)-")
    removed = []
    for d in sorted(base.glob(f"{UPLOAD_PREFIX}*")):
        m = pattern.match(d.name)
        if m is None or not d.is_dir() or d.is_symlink():
            continue
        start = None if m.group(2) == "0" else m.group(2)
        if _pid_alive(int(m.group(1)), start):
            continue
        files = [f for f in d.rglob("*") if f.is_file()]
        size = sum(f.stat().st_size for f in files)
        shutil.rmtree(d, ignore_errors=True)
        removed.append((d, len(files), size))
    return removed


__all__ = ["CLEANUP_COLUMNS", "STALE_AFTER_HOURS", "cleanup_runs", "remove_stale_upload_dirs", "stale_reason"]
