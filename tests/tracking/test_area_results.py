"""Per-area results logged the fast way: one table plus summary metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from riskmodel.errors import InputError
from riskmodel.tracking import Tracker


@pytest.fixture
def areas() -> pd.DataFrame:
    # 2000 areas x 2 categories; x = 1..4000, so every summary has a closed form
    n = 2000
    return pd.DataFrame({
        "area_id": np.repeat([f"A{i:04d}" for i in range(n)], 2),
        "category": np.tile(["theft", "burglary"], n),
        "x": np.arange(1, 2 * n + 1, dtype=float),
        "empty": np.nan,
    })


def test_area_results_are_one_table_and_closed_form_summaries(areas, tmp_path, monkeypatch):
    tracker = Tracker(experiment="test-area-results")  # the suite's throwaway store
    before = areas.copy()
    calls = []
    with tracker.run("areas") as run:
        real = tracker.client.log_batch
        monkeypatch.setattr(tracker.client, "log_batch", lambda *a, **k: (calls.append(k), real(*a, **k)))
        got = run.log_area_results(areas, "per_area.parquet")
    pd.testing.assert_frame_equal(areas, before)  # input untouched
    n = 4000
    expected = {
        "per_area.n_areas": 2000.0, "per_area.n_rows": float(n),
        "per_area.x.mean": (n + 1) / 2, "per_area.x.median": (n + 1) / 2,
        "per_area.x.min": 1.0, "per_area.x.max": float(n),
        # linear-interpolation percentile of 1..n: 1 + q (n - 1)
        "per_area.x.p10": 1 + 0.1 * (n - 1), "per_area.x.p90": 1 + 0.9 * (n - 1),
    }
    assert got == pytest.approx(expected)
    c = MlflowClient(tracking_uri=tracker.uri)
    assert c.get_run(run.run_id).data.metrics == pytest.approx(expected)  # no metric per area
    assert len([k for k in calls if k.get("metrics")]) == 1
    local = c.download_artifacts(run.run_id, "tables/per_area.parquet", str(tmp_path))
    pd.testing.assert_frame_equal(pd.read_parquet(local), areas)


def test_area_results_name_a_missing_area_column_and_an_unknown_summary(areas):
    run_ctx = Tracker(enabled=False).run("off")
    with run_ctx as run:
        with pytest.raises(InputError, match="column 'area_id'.*missing"):
            run.log_area_results(areas.rename(columns={"area_id": "street"}), "t.csv")
        with pytest.raises(InputError, match="unknown summary 'p101'"):
            run.log_area_results(areas, "t.csv", stats=("p101",))
        got = run.log_area_results(areas, "t.csv", area_col="area_id", stats=("std",))
    # sample sd of 1..n is sqrt(n (n + 1) / 12)
    assert got["t.x.std"] == pytest.approx(np.sqrt(4000 * 4001 / 12))
    assert "t.csv" in run.tables and run.metrics["t.n_areas"] == 2000

