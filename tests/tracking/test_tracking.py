"""The tracking core against a real (throwaway) MLflow SQLite store."""

from __future__ import annotations

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from riskmodel.tracking import Tracker, fingerprint


@pytest.fixture(scope="module")
def tracker(tmp_path_factory):
    # one store for the module: creating a SQLite store runs MLflow's migrations (seconds)
    d = tmp_path_factory.mktemp("store")
    return Tracker(experiment="test-tracking", uri=f"sqlite:///{d / 'mlruns.db'}")


def test_parent_child_runs_metrics_tables_and_fingerprint(tracker, tmp_path):
    df = pd.DataFrame({"area_id": ["a", "b"], "mase": [0.9, 1.1]})
    with tracker.run("study", params={"seed": 1}) as parent:
        with tracker.run("step", params={"h": 3}) as child:
            child.log_metrics({"mase": 0.95, "coverage_80": 0.81, "bad": float("nan"), "text": "x"})
            child.log_table(df, "per_area.csv")
            child.log_fingerprint("counts", df)
    c = MlflowClient(tracking_uri=tracker.uri)
    run = c.get_run(child.run_id)
    assert run.data.metrics == {"mase": 0.95, "coverage_80": 0.81}
    assert run.data.params == {"h": "3"}
    assert run.data.tags["mlflow.parentRunId"] == parent.run_id
    assert run.data.tags["input.counts"] == fingerprint(df)
    assert "riskmodel_version" in run.data.tags
    assert run.info.status == "FINISHED"
    arts = [a.path for a in c.list_artifacts(child.run_id, "tables")]
    assert arts == ["tables/per_area.csv"]
    local = c.download_artifacts(child.run_id, "tables/per_area.csv", str(tmp_path))
    pd.testing.assert_frame_equal(pd.read_csv(local), df)


def test_metrics_go_in_one_batch(tracker, monkeypatch):
    calls = []
    with tracker.run("batch") as run:
        real = tracker.client.log_batch
        monkeypatch.setattr(tracker.client, "log_batch", lambda *a, **k: (calls.append(k), real(*a, **k)))
        run.log_metrics({f"m{i}": i for i in range(500)})
    assert len([k for k in calls if k.get("metrics")]) == 1
    assert len(MlflowClient(tracking_uri=tracker.uri).get_run(run.run_id).data.metrics) == 500


def test_failed_block_marks_run_failed_with_the_error(tracker):
    with pytest.raises(ValueError, match="boom"):
        with tracker.run("fails") as run:
            raise ValueError("boom")
    r = MlflowClient(tracking_uri=tracker.uri).get_run(run.run_id)
    assert r.info.status == "FAILED"
    assert r.data.tags["error.type"] == "ValueError" and r.data.tags["error.message"] == "boom"


def test_disabled_tracker_writes_nothing_but_remembers(tmp_path):
    t = Tracker(enabled=False, uri=f"sqlite:///{tmp_path / 'x.db'}")
    with t.run("off", params={"a": 1}) as run:
        run.log_metrics({"m": 1.0})
        run.log_table(pd.DataFrame({"x": [1]}), "t.csv")
    assert run.run_id is None and run.metrics == {"m": 1.0} and "t.csv" in run.tables
    assert not (tmp_path / "x.db").exists()


def test_fingerprint_is_stable_and_sensitive(tmp_path):
    a = pd.DataFrame({"x": [1, 2, 3]})
    assert fingerprint(a) == fingerprint(a.copy())
    assert fingerprint(a) != fingerprint(pd.DataFrame({"x": [1, 2, 4]}))
    p = tmp_path / "f.csv"
    p.write_text("x\n1\n")
    assert fingerprint(p) == fingerprint(b"x\n1\n")


def test_compare_runs_pairs_steps(tracker, capsys):
    from riskmodel.cli import main
    from riskmodel.tracking.compare import compare_runs

    ids = []
    for mase, w in ((1.0, 0.5), (0.8, 0.5)):
        with tracker.run("study:x") as p:
            p.log_metrics({"seconds": 10})
            with tracker.run("x:forecast", tags={"riskmodel.step": "forecast"}) as c:
                c.log_metrics({"mase": mase, "w": w})
        ids.append(p.run_id)
    t = compare_runs(*ids, tracking_uri=tracker.uri)
    row = t[(t.scope == "forecast") & (t.metric == "mase")].iloc[0]
    assert row["a"] == 1.0 and row["b"] == 0.8
    assert row["diff"] == pytest.approx(-0.2) and row["rel_diff"] == pytest.approx(-0.2)
    import os

    old = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = tracker.uri
    try:
        assert main(["compare", *ids]) == 0
        out = capsys.readouterr().out
        assert "mase" in out and "-20.0%" in out and " w " not in out  # unchanged metrics hidden
        assert main(["compare", ids[0], "f" * 32]) == 2
    finally:
        os.environ["MLFLOW_TRACKING_URI"] = old
