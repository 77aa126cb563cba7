"""The pipeline step 'alerts' end to end on a small study."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskmodel.pipeline import run_experiment
from riskmodel.tracking import Tracker

from .test_detect_cli import _weekly


def test_alerts_step_writes_warnings_episodes_figures_and_evaluation(tmp_path: Path) -> None:
    counts = _weekly(tmp_path)
    per = pd.read_csv(counts)["period"].drop_duplicates().sort_values()
    spike_week = per.iloc[-3]
    truth = tmp_path / "truth"
    truth.mkdir()
    pd.DataFrame({"spike_id": ["S1"], "area_id": ["A1"], "category": ["alerts"], "start": [spike_week],
                  "days": [7], "extra_total": [60]}).to_csv(truth / "spikes.csv", index=False)
    cfg = tmp_path / "exp.toml"
    cfg.write_text(f"""
[study]
name = "t"
out = "{tmp_path / 'out'}"
[data]
counts = "{counts}"
freq = "W"
truth = "{truth}"
[steps.alerts]
method = "farrington-noufaily"
lookback = 4
max_figures = 2
options = {{ alpha = 0.01 }}
""", encoding="utf-8")
    tr = Tracker(enabled=False)
    res = run_experiment(cfg, tracker=tr, progress=False)
    out = tmp_path / "out" / "alerts"
    for f in ("detections.csv", "warnings.csv", "episodes.csv", "evaluation.csv"):
        assert (out / f).exists(), f
    ep = pd.read_csv(out / "episodes.csv")
    assert ((ep["area_id"] == "A1") & (ep["category"] == "alerts")).any()
    ev = pd.read_csv(out / "evaluation.csv")
    allrow = ev[ev["category"] == "all"].iloc[0]
    assert allrow["spikes"] == 1 and allrow["pod"] == 1.0 and allrow["fpr"] < 0.05
    figs = list((out / "figures").glob("*.png"))
    assert 1 <= len(figs) <= 2
    r = res["results"]["alerts"]
    assert r["method"] == "farrington-noufaily" and str(r["last_period"])[:10] == per.iloc[-1]
