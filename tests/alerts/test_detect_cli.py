"""detect() on panels and the ``riskmodel detect`` command: outputs and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.alerts import (
    detect,
    episodes,
    metrics_table,
    outbreak_metrics,
    severity,
    tune_threshold,
)
from riskmodel.cli import main
from riskmodel.data import IncidentPanel
from riskmodel.errors import InputError

COLS = ["area_id", "category", "period", "count", "expected", "upperbound", "alarm", "score"]


def _weekly(tmp_path: Path, late: bool = False, spike: bool = True) -> Path:
    rng = np.random.default_rng(7)
    per = pd.date_range("2014-01-06", periods=52 * 6 + 30, freq="W-MON")
    rows = []
    for a in ("A1", "A2", "A3"):
        for c in ("fires", "alerts"):
            mu = (4 if c == "fires" else 15) * np.exp(0.3 * np.sin(2 * np.pi * np.arange(len(per)) / 52))
            y = rng.poisson(mu)
            if spike and a == "A1" and c == "alerts":
                y[-3] += 60
            for i, (p, v) in enumerate(zip(per, y, strict=True)):
                if late and a == "A3" and i < 52 * 4:
                    continue
                rows.append((a, c, p.date().isoformat(), int(v)))
    f = tmp_path / "counts.csv"
    pd.DataFrame(rows, columns=["area_id", "category", "period", "count"]).to_csv(f, index=False)
    return f


def test_detect_flags_the_spike_and_names_late_series(tmp_path: Path) -> None:
    p = IncidentPanel.from_counts(_weekly(tmp_path, late=True), freq="W")
    d = detect(p, "farrington-noufaily", start="2020-01-06")
    t = d.table
    assert list(t.columns[:8]) == COLS
    last3 = t[(t["area_id"] == "A1") & (t["category"] == "alerts")].iloc[-3]
    assert last3["alarm"] and last3["count"] > last3["upperbound"]
    late = t[t["area_id"] == "A3"]
    assert not late["alarm"].any()
    assert late["reason"].str.contains("series starts 2018").all()
    s = d.per_series()
    assert set(s.columns) >= {"monitored", "evaluated", "alarms", "last_alarm", "main_reason"}
    for m in ("glrnb", "farrington-glr", "forecast", "farrington-original", "farrington-window"):
        dm = detect(p, m, start="2020-06-01")
        row = dm.table[(dm.table["area_id"] == "A1") & (dm.table["category"] == "alerts")]
        assert row["alarm"].iloc[-3:].any(), m


def test_detect_refuses_wrong_frequency(tmp_path: Path) -> None:
    p = IncidentPanel.from_counts(_weekly(tmp_path), freq="W")
    # EARS does not depend on the length of a period (R's earsC): weekly counts are taken
    assert len(detect(p, "ears-c2").table) > 0
    days = pd.DataFrame({"area_id": "A1", "category": "x",
                         "period": pd.date_range("2020-01-01", periods=60, freq="D").strftime("%Y-%m-%d"), "count": 3})
    with pytest.raises(InputError, match="refuses daily data"):
        detect(IncidentPanel.from_counts(days, freq="D"), "farrington")
    with pytest.raises(InputError, match="valid: farrington"):
        detect(p, "cusum")


def test_cli_detect_writes_the_table_and_refuses_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlruns.db")
    f = _weekly(tmp_path)
    out = tmp_path / "det.csv"
    code = main(["detect", "--counts", str(f), "--freq", "W", "--method", "farrington", "--b", "3",
                 "--no-periods", "10", "--past-weeks-not-included", "26", "--threshold-method", "nbPlugin",
                 "--limit54", "1,4", "--alpha", "0.01", "--powertrans", "1/2", "--no-trend", "--start", "2019-01-07",
                 "--out", str(out)])
    assert code == 0
    t = pd.read_csv(out)
    assert list(t.columns[:8]) == COLS and t["alarm"].any()
    assert "alarms" in capsys.readouterr().out
    bad = [
        ["--method", "ears-c1", "--baseline", "2"],         # EARS baseline below 3
        ["--method", "farrington", "--limit54", "5"],     # CASES,WEEKS
        ["--method", "farrington", "--threshold-method", "quantile"],
        ["--method", "farrington", "--powertrans", "3/4"],
        ["--method", "glrnb", "--b", "3"],                # Farrington flag on another method
        ["--method", "farrington", "--population-offset"],  # no population
        ["--method", "nope"],
        ["--freq", "D", "--method", "farrington"],        # cannot split weeks into days
    ]
    for extra in bad:
        args = ["detect", "--counts", str(f), "--out", str(tmp_path / "x.csv"), "--no-track", *extra]
        assert main(args) == 2, extra
        assert not (tmp_path / "x.csv").exists()
    err = capsys.readouterr().err
    assert "baseline must be >= 3" in err and "CASES,WEEKS" in err and "valid: 2/3, 1/2, none" in err


def test_daily_counts_ears_and_resampling(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    per = pd.date_range("2018-01-01", periods=800, freq="D")
    y = rng.poisson(6, size=800)
    y[700] = 30
    f = tmp_path / "d.csv"
    pd.DataFrame({"area_id": "A", "category": "x", "period": per.date, "count": y}).to_csv(f, index=False)
    out = tmp_path / "e.csv"
    assert main(["detect", "--counts", str(f), "--method", "ears-c3", "--out", str(out), "--no-track"]) == 0
    t = pd.read_csv(out, parse_dates=["period"])
    assert len(t) == 800 - 11
    out1 = tmp_path / "e1.csv"
    assert main(["detect", "--counts", str(f), "--method", "ears-c1", "--out", str(out1), "--no-track"]) == 0
    t1 = pd.read_csv(out1, parse_dates=["period"])
    assert t1.loc[t1["period"] == per[700], "alarm"].item()
    # daily counts summed to weeks for Farrington; too little history -> reasons, exit 0
    out2 = tmp_path / "w.csv"
    assert main(["detect", "--counts", str(f), "--freq", "W", "--method", "farrington", "--start", "2019-06-03",
                 "--out", str(out2), "--no-track"]) == 0
    t2 = pd.read_csv(out2)
    assert not t2["alarm"].any() and t2["reason"].str.contains("history too short").all()


def test_episodes_and_severity() -> None:
    per = pd.date_range("2021-01-04", periods=8, freq="W-MON")
    t = pd.DataFrame({"area_id": "A", "category": "x", "period": per, "count": [1, 9, 9, 9, 1, 7, 1, 1],
                      "expected": 2.0, "upperbound": 5.0,
                      "alarm": [False, True, True, True, False, True, False, False],
                      "score": [0, 2.5, 1.2, 1.1, 0, 1.6, 0, 0]})
    e = episodes(t, "W")
    assert list(e["alarms"]) == [3, 1] and list(e["severity"]) == ["red", "orange"]
    assert e["excess"].iloc[0] == 21 and e["start"].iloc[0] == per[1]
    assert len(episodes(t, "W", max_gap=1)) == 1
    assert list(severity(t["score"], t["alarm"])[1:4]) == ["red", "yellow", "yellow"]


def test_metrics_and_threshold_tuning() -> None:
    alarm = np.array([[0, 0], [1, 0], [0, 1], [1, 0]], bool)
    cur = np.array([[0, 0], [1, 0], [1, 0], [0, 0]], bool)
    m = outbreak_metrics(alarm, cur, cur)
    assert m["pod"] == 1.0 and m["fpr"] == 2 / 6 and m["sensitivity"] == 0.5 and m["delay"] == 0
    assert m["timeliness"] == 0.0
    rng = np.random.default_rng(0)
    s = rng.normal(size=20000)
    c = tune_threshold(s, np.ones_like(s, bool), 0.005)
    assert (s > c).mean() <= 0.005 and (s >= c).mean() > 0.005
    tab = metrics_table({"m": alarm}, cur, cur, np.array(["g1", "g2"]))
    assert set(tab["group"]) == {"g1", "g2", "all"}
