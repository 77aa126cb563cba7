"""A study killed with SIGKILL leaves debris; the next start removes it, and only a study
whose outputs are in place registers its model, which serves what the study published."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.pipeline import run_experiment
from riskmodel.pipeline.debris import MARKER, remove_stale_temp_dirs
from riskmodel.tracking import Tracker


def _study(tmp_path: Path) -> Path:
    """A tiny city: 2 districts x 2 streets, 2 categories, 48 months; validate + forecast (reconciled)."""
    rng = np.random.default_rng(5)
    streets = {"S1": "D1", "S2": "D1", "S3": "D2", "S4": "D2"}
    areas = pd.DataFrame(
        [("C", "city", "City", "", "city"), ("D1", "d1", "D1", "C", "district"), ("D2", "d2", "D2", "C", "district")]
        + [(s, s.lower(), s, d, "street") for s, d in streets.items()],
        columns=["area_id", "name", "name_en", "parent_id", "level"])
    areas.to_csv(tmp_path / "areas.csv", index=False)
    per = pd.date_range("2019-01-01", periods=48, freq="MS")
    rows = [(s, c, p, int(rng.poisson(30 if c == "a" else 8)))
            for s in streets for c in ("a", "b") for p in per]
    pd.DataFrame(rows, columns=["area_id", "category", "period", "count"]).to_csv(tmp_path / "counts.csv", index=False)
    cfg = tmp_path / "k.toml"
    cfg.write_text(f"""
[study]
name = "k"
out = "{tmp_path / 'out'}"
seed = 3
experiment = "kill-test"
[data]
counts = "{tmp_path / 'counts.csv'}"
freq = "M"
areas = "{tmp_path / 'areas.csv'}"
[steps.validate]
[steps.forecast]
h = 2
model = "snaive"
reconcile = "mint_shrink"
backtest_windows = 0
fan_charts = false
""", encoding="utf-8")
    return cfg


def _db(uri: str, sql: str) -> list[tuple]:
    con = sqlite3.connect(uri[len("sqlite:///"):])
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_killed_study_debris_is_cleaned_at_next_start_and_the_model_serves_the_published_forecast(
        tmp_path, monkeypatch, capsys):
    import mlflow

    cfg = _study(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    # 1. a study killed (SIGKILL) once its temp folder holds the validate step's output
    p = subprocess.Popen([sys.executable, "-c", "import sys; from riskmodel.cli import main; sys.exit(main())",
                          "run", str(cfg), "--no-progress"], cwd=tmp_path,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while p.poll() is None and time.monotonic() < deadline:
        if any((d / "validate" / "data_summary.csv").exists() for d in tmp_path.glob(".out.*.tmp")):
            os.kill(p.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    p.wait(timeout=60)
    assert p.returncode == -signal.SIGKILL, p.stderr.read()[-2000:]
    debris = list(tmp_path.glob(".out.*.tmp"))
    assert len(debris) == 1 and (debris[0] / MARKER).exists()
    assert _db(uri, "select count(*) from runs where status = 'RUNNING'")[0][0] >= 1
    assert _db(uri, "select count(*) from model_versions") == [(0,)]  # not registered before the outputs

    # 2. the next start removes this host's debris of dead processes, and marks their runs KILLED
    summary = run_experiment(cfg, tracker=Tracker(experiment="kill-test", uri=uri), progress=False)
    err = capsys.readouterr().err
    assert "temporary folder(s) left by killed riskmodel processes" in err and ".out." in err
    assert "MLflow run(s) of killed studies KILLED" in err
    assert not list(tmp_path.glob(".out.*.tmp"))
    assert _db(uri, "select count(*) from runs where status = 'RUNNING'") == [(0,)]
    assert _db(uri, "select count(*) from runs where status = 'KILLED'")[0][0] >= 1
    assert not (tmp_path / "out" / MARKER).exists()

    # 3. one model version, pointing at the study that finished, serving exactly its forecast.csv
    assert summary["registered"] == [("riskmodel-k-forecaster", "1")]
    fc_run = summary["steps"]["forecast"]["run_id"]
    assert _db(uri, "select run_id from model_versions") == [(fc_run,)]
    published = pd.read_csv(tmp_path / "out" / "forecast" / "forecast.csv", parse_dates=["period"])
    model = mlflow.pyfunc.load_model("models:/riskmodel-k-forecaster/1")
    got = model.predict(pd.DataFrame({"h": [2]}))
    pd.testing.assert_frame_equal(got.reset_index(drop=True), published, check_dtype=False)
    assert {"C", "D1", "D2"} <= set(got["area_id"])  # the districts' and the city's reconciled rows
    one = model.predict(pd.DataFrame({"h": [1], "level": [80]}))
    pd.testing.assert_frame_equal(
        one, published[published["period"] == published["period"].min()].drop(columns=["lo_95", "hi_95"])
        .reset_index(drop=True), check_dtype=False)
    # asking for what the study did not publish is refused, naming what it has
    with pytest.raises(Exception, match="published 2 period"):
        model.predict(pd.DataFrame({"h": [3]}))
    with pytest.raises(Exception, match="published intervals at 80, 95%"):
        model.predict(pd.DataFrame({"h": [1], "level": [90]}))
    # only when asked: the fitted model's own forecasts (unreconciled: they differ)
    own = model.predict(pd.DataFrame({"h": [2], "level": [80], "source": ["model"]}))
    both = own.merge(published, on=["area_id", "category", "period"], suffixes=("_own", ""))
    assert len(both) == len(published)
    assert not np.allclose(both[["lo_80_own", "hi_80_own"]], both[["lo_80", "hi_80"]])


def test_only_marked_temp_folders_of_dead_processes_on_this_host_are_removed(tmp_path):
    import json
    import socket

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "out"
    host = socket.gethostname()

    def make(name: str, owner: dict | None) -> Path:
        d = tmp_path / name
        (d / "step").mkdir(parents=True)
        (d / "step" / "x.csv").write_text("a\n1\n")
        if owner is not None:
            (d / MARKER).write_text(json.dumps(owner))
        return d

    stale = make(".out.abc.tmp", {"riskmodel.host": host, "riskmodel.pid": str(dead.pid)})
    live = make(".out.def.tmp", {"riskmodel.host": host, "riskmodel.pid": str(os.getpid())})
    other_host = make(".out.ghi.tmp", {"riskmodel.host": "elsewhere", "riskmodel.pid": str(dead.pid)})
    unmarked = make(".out.jkl.tmp", None)
    other_out = make(".outputs.mno.tmp", {"riskmodel.host": host, "riskmodel.pid": str(dead.pid)})
    removed = remove_stale_temp_dirs(out)
    assert removed == [(stale, 1, 4)]
    assert not stale.exists() and live.exists() and other_host.exists() and unmarked.exists() and other_out.exists()
