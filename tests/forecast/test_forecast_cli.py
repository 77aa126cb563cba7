"""The forecast and backtest commands and the pipeline step, end to end on small files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.cli import main


@pytest.fixture
def counts_file(tmp_path):
    rng = np.random.default_rng(0)
    periods = pd.date_range("2017-01-01", periods=40, freq="MS")
    rows = [(a, k, p.date().isoformat(), int(c)) for a in ("S1", "S2", "S3") for k in ("fires", "thefts")
            for p, c in zip(periods, rng.poisson(8 if k == "fires" else 30, 40), strict=True)]
    rows += [("S3", "guns", periods[0].date().isoformat(), 0), ("S3", "guns", periods[-1].date().isoformat(), 0)]
    f = tmp_path / "counts.csv"
    pd.DataFrame(rows, columns=["area_id", "category", "period", "count"]).to_csv(f, index=False)
    areas = tmp_path / "areas.csv"
    pd.DataFrame({"area_id": ["D", "S1", "S2", "S3"], "parent_id": ["", "D", "D", "D"],
                  "level": ["district", "area", "area", "area"]}).to_csv(areas, index=False)
    return f, areas


def test_forecast_command_columns_and_fallback(counts_file, tmp_path):
    f, areas = counts_file
    out = tmp_path / "fc.csv"
    assert main(["forecast", "--counts", str(f), "--freq", "M", "--h", "3", "--model", "nbglm", "--out", str(out), "--no-track"]) == 0
    df = pd.read_csv(out)
    qs = ["q-5", "q-10", "q-25", "q-50", "q-75", "q-90", "q-95"]
    assert list(df.columns) == ["area_id", "category", "period", "model", "mean", "median", "lo_80", "hi_80", "lo_95",
                                "hi_95", *qs]
    assert len(df) == 7 * 3
    # the quantiles are those of the intervals where they coincide, ordered, and the median is q-50
    assert (df["q-10"] == df["lo_80"]).all() and (df["q-90"] == df["hi_80"]).all()
    assert (df["median"] == df["q-50"]).all()
    assert (df[qs].diff(axis=1).iloc[:, 1:] >= 0).all().all()
    assert df.loc[df.category == "guns", "model"].str.startswith("zero").all()
    assert df[["mean", "lo_80", "hi_80", "lo_95", "hi_95"]].notna().all().all()
    out2 = tmp_path / "fc2.csv"
    assert main(["forecast", "--counts", str(f), "--freq", "M", "--h", "2", "--model", "snaive", "--level", "50",
                 "--reconcile", "bottom_up", "--areas", str(areas), "--out", str(out2), "--no-track"]) == 0
    d2 = pd.read_csv(out2)
    assert {"lo_50", "hi_50"} <= set(d2.columns) and "D" in set(d2.area_id)


def test_bad_options_exit_2_and_list_valid_values(counts_file, tmp_path, capsys):
    f, _ = counts_file
    assert main(["forecast", "--counts", str(f), "--model", "prophet", "--out", str(tmp_path / "x.csv"), "--no-track"]) == 2
    assert "valid: auto, naive, snaive" in capsys.readouterr().err
    assert main(["forecast", "--counts", str(f), "--reconcile", "top_down", "--out", str(tmp_path / "x.csv"), "--no-track"]) == 2
    assert "valid: none, bottom_up, mint_shrink" in capsys.readouterr().err
    assert main(["forecast", "--counts", str(f), "--freq", "M", "--gaps", "error", "--out", str(tmp_path / "x.csv"), "--no-track"]) == 2
    assert "S3/guns" in capsys.readouterr().err
    assert main(["forecast", "--counts", str(f), "--freq", "W", "--out", str(tmp_path / "x.csv"), "--no-track"]) == 2
    # monthly data are not summed into weeks: refused with the reason
    assert "cannot resample from M to W" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
    assert main(["backtest", "--counts", str(f), "--freq", "M", "--h", "12", "--windows", "6", "--out", str(tmp_path / "bt"), "--no-track"]) == 2
    assert "too few" in capsys.readouterr().err


def test_backtest_command_writes_forecasts_and_metrics(counts_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlruns.db")
    f, _ = counts_file
    out = tmp_path / "bt"
    assert main(["backtest", "--counts", str(f), "--freq", "M", "--h", "3", "--windows", "2",
                 "--model", "nbglm", "--model", "hmean", "--out", str(out)]) == 0
    fr = pd.read_csv(out / "forecasts.csv")
    mt = pd.read_csv(out / "metrics.csv")
    assert {"cutoff", "actual", "model", "mean", "lo_80", "hi_95"} <= set(fr.columns)
    for c in ("mase", "rmsse", "pinball", "crps", "coverage_80", "coverage_95", "seconds", "bias"):
        assert c in mt.columns
    assert set(mt.model) == {"nbglm", "hmean", "snaive"}
    overall = mt[mt.level == "overall"].set_index("model")
    assert overall.loc["snaive", "rel_mase"] == pytest.approx(1.0)
    assert len(fr) == 2 * 3 * 7 * 3
    # coverage per area level and nominal level (issue 14.8), printed too
    cov = pd.read_csv(out / "coverage.csv")
    assert list(cov.columns) == ["model", "level", "nominal", "coverage", "n", "mean_width", "interval_score"]
    assert set(cov.model) == {"nbglm", "hmean", "snaive"} and set(cov.nominal) == {80.0, 95.0}
    assert (cov.loc[cov.level == "overall", "n"] == 2 * 3 * 7).all()
    assert "interval coverage per area level" in capsys.readouterr().out


def test_forecast_step_in_the_main_job(counts_file, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlruns.db")
    f, areas = counts_file
    cfg = tmp_path / "exp.toml"
    cfg.write_text(
        f'[study]\nname = "t"\nout = "{tmp_path / "out"}"\nseed = 3\n\n[data]\ncounts = "{f}"\nfreq = "M"\n'
        f'areas = "{areas}"\n\n[steps.features]\n\n[steps.forecast]\nmodel = "nbglm"\nbacktest_models = ["nbglm"]\n'
        'backtest_windows = 2\nreconcile = "mint_shrink"\n'
    )
    assert main(["run", str(cfg)]) == 0
    out = tmp_path / "out" / "forecast"
    fc = pd.read_csv(out / "forecast.csv")
    assert set(fc.area_id) == {"D", "S1", "S2", "S3"} and fc.period.nunique() == 3
    assert fc["model"].str.endswith("+mint_shrink").all()
    mt = pd.read_csv(out / "backtest_metrics.csv")
    assert {"district", "area", "overall"} <= set(mt.level)
    assert (out / "figures" / "fan_D.png").stat().st_size > 10_000
    assert (tmp_path / "out" / "features" / "features.csv.gz").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text(cfg.read_text().replace('model = "nbglm"', 'model = "nbglm"\nhorizon = 3'))
    assert main(["run", str(bad)]) == 2


def test_auto_forecast_same_seed_same_bytes(counts_file, tmp_path):
    f, _ = counts_file
    outs = []
    for i in range(2):
        out = tmp_path / f"auto{i}.csv"
        assert main(["forecast", "--counts", str(f), "--freq", "M", "--h", "3", "--seed", "7", "--out", str(out), "--no-track"]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    df = pd.read_csv(tmp_path / "auto0.csv")
    assert df["model"].str.startswith(("auto(", "zero")).all()
