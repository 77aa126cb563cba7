"""The forecaster as an MLflow pyfunc model, loaded and used in a fresh process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd

from riskmodel.data import IncidentPanel
from riskmodel.forecast import SeasonalNaive
from riskmodel.tracking import Tracker
from riskmodel.tracking.pyfunc import log_forecaster


def test_forecaster_loads_in_a_fresh_process_and_predicts(tmp_path):
    per = pd.date_range("2018-01-01", periods=48, freq="MS")
    rng = np.random.default_rng(3)
    counts = pd.DataFrame({"area_id": "a", "category": "x", "period": per, "count": rng.poisson(20, 48)})
    panel = IncidentPanel.from_counts(counts, freq="M")
    model = SeasonalNaive().fit(panel)
    expected = model.predict(3, levels=[80]).to_frame(levels=[80])
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    t = Tracker(experiment="pyfunc", uri=uri)
    with t.run("forecast") as run:
        pass
    import mlflow

    before = mlflow.get_tracking_uri()
    log_forecaster(model, run.run_id, uri, registered_name="riskmodel-test-forecaster")
    # the process-wide URI is left as it was (a leaked URI once sent later runs to this store)
    assert mlflow.get_tracking_uri() == before != uri
    script = textwrap.dedent(f"""
        import mlflow, pandas as pd
        mlflow.set_tracking_uri({uri!r})
        m = mlflow.pyfunc.load_model("models:/riskmodel-test-forecaster/1")
        out = m.predict(pd.DataFrame({{"h": [3], "level": [80]}}))
        out.to_csv({str(tmp_path / 'pred.csv')!r}, index=False)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    got = pd.read_csv(tmp_path / "pred.csv", parse_dates=["period"])
    assert len(got) == 3
    np.testing.assert_allclose(got["mean"], expected["mean"])
    # seasonal naive: next January = last January
    assert got["mean"].iloc[0] == counts["count"].iloc[36]
