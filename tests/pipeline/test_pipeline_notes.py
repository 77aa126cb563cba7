"""The study's data step says how many zeros riskmodel added (console and MLflow)."""

from __future__ import annotations

import pandas as pd
from mlflow.tracking import MlflowClient

from riskmodel.pipeline import run_experiment
from riskmodel.tracking import Tracker


def _cfg(tmp_path, counts: pd.DataFrame):
    counts.to_csv(tmp_path / "counts.csv", index=False)
    cfg = tmp_path / "z.toml"
    cfg.write_text(f"""
[study]
name = "z"
out = "{tmp_path / 'out'}"
experiment = "notes-test"
[data]
counts = "{tmp_path / 'counts.csv'}"
freq = "M"
[steps.validate]
""", encoding="utf-8")
    return cfg


def _counts() -> pd.DataFrame:
    per = pd.date_range("2020-01-01", periods=24, freq="MS")
    rows = [("A", "x", p, 5) for p in per] + [("B", "x", p, 3) for p in per]
    return pd.DataFrame(rows, columns=["area_id", "category", "period", "count"])


def test_added_zeros_are_said_on_stderr_and_recorded_on_the_runs(tmp_path, capsys):
    counts = _counts().drop(index=[30, 31, 32])  # B lacks three months: riskmodel counts them as 0
    t = Tracker(experiment="notes-test", uri=f"sqlite:///{tmp_path / 'mlruns.db'}")
    s = run_experiment(_cfg(tmp_path, counts), tracker=t, progress=False)
    err = capsys.readouterr().err
    assert err.count("counted as 0") == 1 and "counts.csv" in err
    c = MlflowClient(tracking_uri=t.uri)
    parent = c.get_run(s["run_id"])
    assert "counted as 0" in parent.data.tags["data.added_zeros"]
    assert parent.data.metrics["data.added_zeros"] == 3 and parent.data.metrics["data.added_zeros_series"] == 1
    step = c.get_run(s["steps"]["validate"]["run_id"])
    assert step.data.metrics["added_zeros"] == 3
    assert [a.path for a in c.list_artifacts(step.info.run_id, "tables")] == [
        "tables/added_zeros.csv", "tables/data_summary.csv"]


def test_nothing_is_said_when_no_zero_was_added(tmp_path, capsys):
    s = run_experiment(_cfg(tmp_path, _counts()), tracker=Tracker(enabled=False), progress=False)
    assert "counted as 0" not in capsys.readouterr().err
    assert s["results"]["validate"]["n_series"] == 2
