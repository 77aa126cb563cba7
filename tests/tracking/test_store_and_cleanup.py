"""A new SQLite store made by two processes at once; runs left RUNNING by killed processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from riskmodel.tracking import Tracker
from riskmodel.tracking.cleanup import cleanup_runs, stale_reason
from riskmodel.tracking.core import process_start, process_tags, sqlite_path, store_lock

HOUR_MS = 3_600_000


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_two_processes_creating_a_new_store_at_once_both_record_their_run(tmp_path):
    # both wait for the 'go' file, so that they open the new store in the same instant
    # (before the lock, one of the two failed: "table alembic_version already exists")
    db = tmp_path / "mlruns.db"
    go = tmp_path / "go"
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from riskmodel.tracking import Tracker
        t = Tracker(experiment="race", uri={f"sqlite:///{db}"!r})
        Path(sys.argv[1]).touch()
        while not Path({str(go)!r}).exists():
            time.sleep(0.01)
        with t.run("r", params={{"who": sys.argv[2]}}) as run:
            run.log_metrics({{"x": 1.0}})
        print(run.run_id)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / f"ready{w}"), w],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in "ab"]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{w}").exists() for w in "ab") and time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            break
        time.sleep(0.02)
    go.touch()
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e[-1500:] for _, e in outs]
    c = MlflowClient(tracking_uri=f"sqlite:///{db}")
    runs = c.search_runs([c.get_experiment_by_name("race").experiment_id])
    assert sorted(r.data.params["who"] for r in runs) == ["a", "b"]
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert (tmp_path / "mlruns.db.lock").exists()


def test_store_lock_excludes_a_second_holder(tmp_path):
    import fcntl

    db = tmp_path / "x.db"
    with store_lock(db):
        with open(f"{db}.lock", "a+b") as fh, pytest.raises(BlockingIOError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(f"{db}.lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again
    assert sqlite_path("sqlite:////a/b.db?x=1") == sqlite_path("sqlite:////a/b.db")
    assert sqlite_path("http://host:5000") is None


def test_stale_rule_this_host_dead_or_reused_pid_other_host_by_age():
    host = socket.gethostname()
    now = 1_000_000.0
    start_ms = int(now * 1000) - 2 * HOUR_MS  # two hours ago
    me = process_tags()
    assert me["riskmodel.pid"] == str(os.getpid()) and me["riskmodel.host"] == host
    assert stale_reason(me, start_ms, now=now) is None  # alive
    dead = {"riskmodel.host": host, "riskmodel.pid": str(_dead_pid())}
    assert "is gone" in stale_reason(dead, start_ms, now=now)
    reused = {**me, "riskmodel.pid_start": str(int(process_start(os.getpid())) + 1)}  # same pid, another process
    assert "is gone" in stale_reason(reused, start_ms, now=now)
    other = {"riskmodel.host": "elsewhere-" + host, "riskmodel.pid": "1"}
    assert stale_reason(other, start_ms, now=now, max_age_hours=3) is None
    assert "2.0 h ago on host elsewhere-" in stale_reason(other, start_ms, now=now, max_age_hours=1)
    assert "no process recorded" in stale_reason({}, start_ms, now=now, max_age_hours=1)
    assert stale_reason(other, start_ms, now=now, max_age_hours=1, local_only=True) is None


def test_cleanup_marks_stale_running_runs_killed_and_leaves_live_ones(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    t = Tracker(experiment="cleanup", uri=uri)
    c = t.client
    exp = t.experiment_id()
    host = socket.gethostname()
    dead = c.create_run(exp, tags={"riskmodel.host": host, "riskmodel.pid": str(_dead_pid())}).info.run_id
    live = c.create_run(exp, tags=process_tags()).info.run_id
    elsewhere = c.create_run(exp, tags={"riskmodel.host": "other-host", "riskmodel.pid": "1"}).info.run_id
    with t.run("finished"):
        pass
    listed = cleanup_runs(t, dry_run=True)
    assert list(listed["run_id"]) == [dead] and c.get_run(dead).info.status == "RUNNING"
    marked = cleanup_runs(t)
    assert list(marked["run_id"]) == [dead]
    r = c.get_run(dead)
    assert r.info.status == "KILLED" and "is gone" in r.data.tags["riskmodel.cleanup"]
    assert c.get_run(live).info.status == "RUNNING" and c.get_run(elsewhere).info.status == "RUNNING"
    # another host's run once older than the limit (a day later)
    later = cleanup_runs(t, now=time.time() + 25 * 3600)
    assert list(later["run_id"]) == [elsewhere]
    assert c.get_run(live).info.status == "RUNNING"  # this host, alive: never by age


def test_cleanup_command(tmp_path, monkeypatch, capsys):
    from riskmodel import cli
    from riskmodel.cli import main

    assert "tracking" in cli.COMMANDS
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    t = Tracker(experiment="riskmodel")
    run_id = t.client.create_run(t.experiment_id(), tags={"riskmodel.host": socket.gethostname(),
                                                          "riskmodel.pid": str(_dead_pid())}).info.run_id
    assert main(["tracking", "cleanup", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would mark 1 stale run(s)" in out and run_id in out
    assert main(["tracking", "cleanup"]) == 0
    assert "marked 1 stale run(s)" in capsys.readouterr().out
    assert t.client.get_run(run_id).info.status == "KILLED"
    assert main(["tracking", "cleanup"]) == 0
    assert "no stale RUNNING run" in capsys.readouterr().out
    assert main(["tracking", "cleanup", "--max-age-hours", "0"]) == 2


def test_upload_temp_folders_of_dead_processes_are_removed(tmp_path):
    from riskmodel.tracking.cleanup import remove_stale_upload_dirs
    from riskmodel.tracking.core import UPLOAD_PREFIX, upload_dir

    with upload_dir() as d:  # named after this process
        assert Path(d).name.startswith(f"{UPLOAD_PREFIX}{os.getpid()}-{process_start(os.getpid())}-")
    dead = tmp_path / f"{UPLOAD_PREFIX}{_dead_pid()}-123-abc"
    reused = tmp_path / f"{UPLOAD_PREFIX}{os.getpid()}-{int(process_start(os.getpid())) + 1}-abc"
    live = tmp_path / f"{UPLOAD_PREFIX}{os.getpid()}-{process_start(os.getpid())}-abc"
    other = tmp_path / "tmpabc"
    for x in (dead, reused, live, other):
        x.mkdir()
        (x / "t.csv").write_text("a\n")
    removed = remove_stale_upload_dirs(tmp_path)
    assert sorted(removed) == sorted([(dead, 1, 2), (reused, 1, 2)])
    assert live.exists() and other.exists() and not dead.exists()
