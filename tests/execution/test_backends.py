"""Every backend returns the same results, bit for bit: in this process, local
processes and a Dask LocalCluster; and only the driver logs to MLflow.

One LocalCluster (2 single-threaded workers) and one local process pool serve
the whole module: starting them costs a few seconds each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.alerts.detect import detect
from riskmodel.cli import main
from riskmodel.errors import InputError
from riskmodel.execution import DaskBackend, LocalBackend, make_backend
from riskmodel.forecast.api import backtest_panel, forecast_panel

from .conftest import long_panel

distributed = pytest.importorskip("distributed", reason="dask.distributed (the riskmodel[dask] extra) not installed")

CHUNK = 7  # a category of 8 (or 11) series is split in two: several chunks, several workers


@pytest.fixture(scope="module")
def backends():
    """name -> backend; the in-process one is the reference."""
    local = LocalBackend(2)
    dask = DaskBackend(workers=2)
    yield {"inproc": LocalBackend(1), "local": local, "dask": dask}
    local.close()
    dask.close()


@pytest.fixture(scope="module")
def monthly():
    return long_panel("M", 48, areas=6, cats=2, seed=4, district=True)


@pytest.fixture(scope="module")
def weekly():
    return long_panel("W", 6 * 52, areas=8, cats=3, seed=5)


def _same(frames: dict[str, pd.DataFrame]) -> None:
    ref = frames.pop("inproc")
    for name, f in frames.items():
        pd.testing.assert_frame_equal(ref, f, check_exact=True, obj=f"{name} vs in-process")


def test_forecast_is_identical_on_every_backend(backends, monthly):
    """The seeded global GBM (random subsample and conformal split) and MinT,
    fitted in 4 chunks: the same frame on every backend."""
    out = {}
    for name, ex in backends.items():
        fc, info = forecast_panel(monthly, 3, "gbm", reconcile_method="mint_shrink", seed=11, chunk_size=CHUNK,
                                  backend=ex)
        assert info["chunks"] == 4  # 6 areas + 2 districts + the city = 9 series a category: 5 + 4 each
        out[name] = fc
    assert np.isfinite(out["inproc"][["mean", "lo_95", "hi_95"]].to_numpy()).all()
    _same(out)


def test_backtest_is_identical_on_every_backend(backends, monthly):
    fr, mt = {}, {}
    for name, ex in backends.items():
        f, m = backtest_panel(monthly, 3, 2, ["nbglm", "snaive"], 1, [80, 95], "bottom_up", seed=2,
                              chunk_size=CHUNK, backend=ex)
        fr[name], mt[name] = f, m.drop(columns=["seconds"])
    _same(fr)
    _same(mt)


def test_detections_are_identical_on_every_backend(backends, weekly):
    """Farrington (Noufaily) fits a quasi-Poisson GLM per series, vectorised over a chunk."""
    out = {name: detect(weekly, "farrington-noufaily", chunk_size=CHUNK, backend=ex).table
           for name, ex in backends.items()}
    assert out["inproc"]["alarm"].notna().any()
    _same(out)


def test_chunking_changes_pooled_fits_only_in_the_last_digits(weekly):
    """Farrington's GLMs iterate until every series of a chunk converged: other
    chunks, other stopping points -- the same alarms, tiny differences."""
    one = detect(weekly, "farrington-noufaily").table
    four = detect(weekly, "farrington-noufaily", chunk_size=CHUNK).table
    assert (one["alarm"] == four["alarm"]).all()
    e1, e4 = one["expected"].to_numpy(), four["expected"].to_numpy()
    ok = np.isfinite(e1)
    assert np.array_equal(ok, np.isfinite(e4))
    assert np.max(np.abs(e1[ok] - e4[ok]) / np.maximum(np.abs(e1[ok]), 1e-12)) < 1e-6


def _counts_file(tmp_path, panel) -> str:
    f = tmp_path / "counts.csv"
    d = panel.counts.copy()
    d["period"] = d["period"].dt.strftime("%Y-%m-%d")
    d.to_csv(f, index=False)
    return str(f)


def test_cli_on_a_running_cluster_writes_the_local_bytes_and_logs_once(tmp_path, monthly, monkeypatch, capsys):
    """``--scheduler`` joins a running cluster; the output file is byte-identical
    to the in-process run and the one MLflow run is the driver's."""
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'runs.db'}")
    f = _counts_file(tmp_path, monthly)
    args = ["forecast", "--counts", f, "--freq", "M", "--h", "2", "--model", "nbglm", "--chunk-size", str(CHUNK)]
    assert main([*args, "--workers", "1", "--out", str(tmp_path / "a.csv"), "--no-track"]) == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        assert main([*args, "--backend", "dask", "--scheduler", cluster.scheduler_address,
                     "--out", str(tmp_path / "b.csv")]) == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    client = MlflowClient()
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert len(runs) == 1  # workers never log
    p = runs[0].data.params
    assert p["execution.backend"] == "dask" and p["execution.scheduler"] == cluster.scheduler_address
    assert p["execution.workers"] == "2" and p["execution.chunk_size"] == str(CHUNK)
    assert runs[0].data.tags["riskmodel.backend"] == "dask"


@pytest.mark.parametrize(("extra", "message"), [
    (["--backend", "spark"], "unknown value 'spark' for --backend; valid: local, dask"),
    (["--scheduler", "tcp://127.0.0.1:9"], "--scheduler needs --backend dask"),
    (["--backend", "dask", "--workers", "2", "--scheduler", "tcp://127.0.0.1:9"], "either --workers"),
    (["--workers", "0"], "--workers must be a whole number >= 1"),
    (["--chunk-size", "0"], "--chunk-size must be a whole number of series >= 1"),
])
def test_bad_execution_options_exit_2_before_anything_starts(tmp_path, monthly, capsys, extra, message):
    f = _counts_file(tmp_path, monthly)
    for cmd in (["forecast", "--h", "2"], ["backtest", "--h", "2", "--windows", "1"], ["detect", "--method", "ears-c1"]):
        out = tmp_path / ("x" if cmd[0] == "backtest" else "x.csv")
        assert main([*cmd, "--counts", f, *extra, "--out", str(out), "--no-track"]) == 2, cmd
        assert message in capsys.readouterr().err, cmd
        assert not out.exists()


def test_an_unreachable_scheduler_is_named(tmp_path):
    with pytest.raises(InputError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9 within 1 s"):
        make_backend("dask", scheduler="tcp://127.0.0.1:9", timeout=1)


def test_study_execution_table_is_validated(tmp_path):
    from riskmodel.errors import ConfigError
    from riskmodel.pipeline import Experiment

    cfg = tmp_path / "s.toml"
    cfg.write_text('[study]\nname = "x"\n[data]\ncounts = "c.csv"\n[execution]\nbackend = "spark"\nchunk_size = 0\n'
                   'scheduler = "tcp://h:8786"\n[steps.validate]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        Experiment.load(cfg)
    text = str(e.value)
    assert "execution.backend" in text and "valid: local, dask" in text
    assert "execution.chunk_size" in text and "must be >= 1" in text


def test_local_workers_are_deaf_to_ctrl_c_from_their_first_instruction():
    # a worker used to start with Ctrl-C live until its initialiser ran (after Python and riskmodel had
    # loaded): SIGINT is now blocked while the pool spawns, so a worker inherits it blocked, and the
    # driver's own mask is restored (a Ctrl-C meanwhile stays pending for the driver)
    import pathlib
    import signal

    with LocalBackend(2) as backend:
        status = backend.map(pathlib.Path.read_text, [pathlib.Path("/proc/self/status")] * 2)
    for text in status:
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        assert int(fields["SigBlk"].strip(), 16) & (1 << (signal.SIGINT - 1)), fields["SigBlk"]
        assert int(fields["SigIgn"].strip(), 16) & (1 << (signal.SIGINT - 1))
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
