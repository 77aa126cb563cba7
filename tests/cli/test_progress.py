"""Progress bars (issue 15, item 7): shown to a watcher only, counting to the total, changing nothing."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from riskmodel.alerts import detect
from riskmodel.cli import main
from riskmodel.cli.progress import ENV, backtest_position, bar, enabled
from riskmodel.data.panel import IncidentPanel
from riskmodel.execution.backends import LocalBackend
from riskmodel.forecast import Forecaster
from riskmodel.impact import evaluate

from .conftest import sha, tiny_counts

ROOT = Path(__file__).resolve().parents[2]


class Calls:
    """A progress callback that records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))

    def check(self, total: int) -> None:
        """Counts never go back and end at the total."""
        done = [d for d, _ in self.calls]
        assert done == sorted(done)
        assert self.calls[-1] == (total, total)
        assert all(0 <= d <= t for d, t in self.calls)


@pytest.fixture
def no_forcing(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)


def _square(x: int) -> int:
    return x * x


def plain(text: str) -> str:
    """``text`` without its terminal escape sequences."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


# ---------------------------------------------------------------- when a bar is shown
def test_a_forced_bar_counts_to_the_total_on_stderr(monkeypatch, capsys):
    monkeypatch.setenv(ENV, "1")
    with bar("work", unit="items") as progress:
        for k in range(1, 8):
            progress(k, 7)
    err = capsys.readouterr().err
    assert "\x1b[" in err  # drawn as on a terminal
    assert "work" in plain(err) and "7/7 items" in plain(err)


def test_the_describe_text_follows_the_count(monkeypatch, capsys):
    monkeypatch.setenv(ENV, "1")
    with bar("backtest", describe=backtest_position(["nbglm"], 2)) as progress:
        progress(4, 4)
    assert "backtest: 2 window(s) x 2 model(s) done" in plain(capsys.readouterr().err)
    where = backtest_position(["nbglm", "ets"], 4)
    # 3 models (snaive added) x 4 windows: the 5th fit (index 4) is window 2's second model
    assert where(4, 12) == "window 2/4, model ets"
    assert where(4, 24) == "chunk 1/2, window 2/4, model ets"
    assert where(13, 24) == "chunk 2/2, window 1/4, model ets"


@pytest.mark.parametrize("env, term, quiet", [("", "xterm", False), ("0", "xterm", False), ("1", "xterm", True),
                                              ("", "dumb", False)])
def test_no_bar_when_not_a_terminal_off_or_quiet(monkeypatch, capsys, env, term, quiet):
    # under pytest stderr is not a terminal: no bar unless forced, and never with --quiet or =0
    if env:
        monkeypatch.setenv(ENV, env)
    else:
        monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setenv("TERM", term)
    assert not enabled(quiet)
    with bar("work", quiet=quiet) as progress:
        assert progress is None  # the libraries then run as without a callback
    assert capsys.readouterr().err == ""


def test_a_terminal_shows_a_bar_but_not_a_dumb_one(monkeypatch, no_forcing):
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stderr", Tty())
    monkeypatch.setenv("TERM", "xterm")
    assert enabled(False) and not enabled(True)
    monkeypatch.setenv("TERM", "dumb")
    assert not enabled(False)


def test_updates_are_throttled_but_the_last_is_shown(monkeypatch, capsys):
    monkeypatch.setenv(ENV, "1")
    with bar("many") as progress:
        for k in range(1, 100_001):
            progress(k, 100_000)
    err = plain(capsys.readouterr().err)
    assert "100000/100000" in err
    assert err.count("/100000") < 200  # not one redraw per call


# ---------------------------------------------------------------- the libraries' callbacks
def test_the_local_backend_reports_each_item_in_process():
    calls = Calls()
    assert LocalBackend(1).map(_square, [1, 2, 3], progress=calls) == [1, 4, 9]
    assert calls.calls == [(1, 3), (2, 3), (3, 3)]


def test_the_local_pool_reports_items_as_they_complete_results_in_order(monkeypatch):
    # the pool's code path (submit, as_completed, results in input order) with threads standing in for
    # the spawned processes, which take seconds to start (each imports numpy, scipy and scikit-learn)
    monkeypatch.setattr("riskmodel.execution.backends.ProcessPoolExecutor",
                        lambda max_workers, mp_context, initializer: ThreadPoolExecutor(max_workers))
    finished: list[int] = []

    def slow_square(x: int) -> int:
        time.sleep(0.05 * (4 - x))  # the last items finish first
        finished.append(x)
        return x * x

    calls = Calls()
    with LocalBackend(4) as ex:
        assert ex.map(slow_square, [0, 1, 2, 3], progress=calls) == [0, 1, 4, 9]
    assert calls.calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert finished[0] != 0  # they did complete out of order


@pytest.fixture(scope="module")
def panel(tmp_path_factory) -> IncidentPanel:
    from riskmodel.data.loading import load_panel

    return load_panel(tiny_counts(tmp_path_factory.mktemp("p") / "c.csv", areas=("A1", "A2", "A3"), months=60))


def test_a_backtest_reports_every_fit_and_gives_the_same_numbers(panel):
    calls = Calls()
    fc = Forecaster(["nbglm", "hmean"], chunk_size=2)
    with_bar = fc.cross_validation(panel, h=3, n_windows=2, progress=calls)
    plain = fc.cross_validation(panel, h=3, n_windows=2)
    calls.check(2 * 2 * 3)  # 2 chunks (chunk_size 2, 3 series) x 2 windows x 3 models (snaive added)
    # one call per fit in this process (and one as each chunk ends, repeating its count)
    assert sorted(set(calls.calls)) == [(k, 12) for k in range(1, 13)]
    pd.testing.assert_frame_equal(with_bar.to_frame(), plain.to_frame())
    pd.testing.assert_frame_equal(with_bar.metrics.drop(columns="seconds"), plain.metrics.drop(columns="seconds"))


def test_a_forecast_reports_its_chunks(panel):
    calls = Calls()
    fc = Forecaster(["nbglm"], chunk_size=2)
    with_bar = fc.forecast(panel, h=3, progress=calls)
    calls.check(2)
    pd.testing.assert_frame_equal(with_bar.to_frame(), fc.forecast(panel, h=3).to_frame())


def test_detection_reports_series_and_gives_the_same_table(panel):
    calls = Calls()
    with_bar = detect(panel, "forecast", progress=calls, model="nbglm", refit=12)
    calls.check(3)
    # 36 months monitored, refitted every 12: before each of the 3 refits, then the chunk's end
    assert calls.calls == [(0, 3), (1, 3), (2, 3), (3, 3)]
    pd.testing.assert_frame_equal(with_bar.table, detect(panel, "forecast", model="nbglm", refit=12).table)


def test_a_claim_reports_each_method(panel):
    calls = Calls()
    kw = dict(intervention="2021-01-01", comparison=("2021-01-01", "2021-12-31"), methods=["observed", "its"])
    with_bar = evaluate(panel, "A1", "theft", progress=calls, **kw)
    calls.check(2)
    pd.testing.assert_frame_equal(with_bar.to_frame(), evaluate(panel, "A1", "theft", **kw).to_frame())


# ---------------------------------------------------------------- the commands
def test_backtest_shows_a_bar_when_forced_and_writes_the_same_bytes(tmp_path, monkeypatch, capsys):
    counts = tiny_counts(tmp_path / "counts.csv")
    args = ["backtest", "--counts", str(counts), "--model", "hmean", "--h", "3", "--windows", "2", "--no-track"]
    monkeypatch.setenv(ENV, "1")
    assert main([*args, "--out", str(tmp_path / "bar")]) == 0
    captured = capsys.readouterr()
    err = plain(captured.err)
    assert "backtest: 2 window(s) x 2 model(s) done" in err and "4/4 fits" in err
    out_bar = captured.out
    assert main([*args, "--out", str(tmp_path / "quiet"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "fits" not in captured.err and "\x1b[" not in captured.err
    monkeypatch.delenv(ENV)
    assert main([*args, "--out", str(tmp_path / "pipe")]) == 0  # stderr is not a terminal here
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.replace("pipe", "bar").splitlines()[0] == out_bar.splitlines()[0]
    for name in ("forecasts.csv", "coverage.csv"):
        assert sha(tmp_path / "bar" / name) == sha(tmp_path / "quiet" / name) == sha(tmp_path / "pipe" / name)
    drop = ["seconds"]
    m = [pd.read_csv(tmp_path / d / "metrics.csv").drop(columns=drop) for d in ("bar", "quiet", "pipe")]
    pd.testing.assert_frame_equal(m[0], m[1])
    pd.testing.assert_frame_equal(m[0], m[2])


def test_detect_and_forecast_take_quiet(tmp_path, monkeypatch, capsys):
    counts = tiny_counts(tmp_path / "counts.csv")
    monkeypatch.setenv(ENV, "1")
    for cmd, extra in (("detect", ["--method", "ears-c1"]), ("forecast", ["--model", "hmean"])):
        base = [cmd, "--counts", str(counts), "--no-track", *extra]
        assert main([*base, "--out", str(tmp_path / f"{cmd}-bar.csv")]) == 0
        err = plain(capsys.readouterr().err)
        assert cmd in err and ("2/2 series" in err if cmd == "detect" else "1/1" in err)
        assert main([*base, "--out", str(tmp_path / f"{cmd}-q.csv"), "-q"]) == 0
        assert "\x1b[" not in capsys.readouterr().err
        assert sha(tmp_path / f"{cmd}-bar.csv") == sha(tmp_path / f"{cmd}-q.csv")


def test_index_sensitivity_counts_its_builds(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(ENV, "1")
    monkeypatch.chdir(ROOT)
    args = ["index", "sensitivity", "--config", "experiments/pingan_sample.toml", "--n", "40",
            "--sobol-base", "8", "--no-track"]
    assert main([*args, "--out", str(tmp_path / "bar")]) == 0
    err = plain(capsys.readouterr().err)
    assert "index sensitivity" in err and "builds" in err
    total = [int(t) for t in re.findall(r"(\d+)/(\d+)", err)[-1]]
    assert total[0] == total[1] > 40  # the Monte Carlo's 40, then Sobol''s 8 x (factors + 2)
    assert main([*args, "--out", str(tmp_path / "quiet"), "--quiet"]) == 0
    assert "builds" not in capsys.readouterr().err
    for name in ("rank_stats.csv", "sobol.csv"):
        assert sha(tmp_path / "bar" / name) == sha(tmp_path / "quiet" / name)


def test_hotspots_counts_each_ranker_at_each_origin(tmp_path, monkeypatch, capsys):
    import json

    import numpy as np
    import shapely

    streets = {"A": shapely.box(0, 0, 10, 10), "B": shapely.box(10, 0, 17, 10)}
    feats = [{"type": "Feature", "properties": {"street": k}, "geometry": shapely.geometry.mapping(g)}
             for k, g in streets.items()]
    (tmp_path / "streets.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    rng = np.random.default_rng(1)
    n = 300
    ts = pd.Timestamp("2021-01-04") + pd.to_timedelta(rng.integers(0, 7 * 12, n), unit="D")
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d"), "category": "theft", "x": rng.uniform(0, 17, n),
                  "y": rng.uniform(0, 10, n)}).to_csv(tmp_path / "events.csv", index=False)
    args = ["hotspots", "--events", str(tmp_path / "events.csv"), "--polygons", str(tmp_path / "streets.geojson"),
            "--id-field", "street", "--cell-size", "4", "--coverage", "20", "--windows", "2",
            "--ranker", "last", "--ranker", "history", "--no-track"]
    monkeypatch.setenv(ENV, "1")
    assert main([*args, "--out", str(tmp_path / "bar")]) == 0
    assert "4/4 fits" in plain(capsys.readouterr().err)  # 2 origins x 2 rankers
    assert main([*args, "--out", str(tmp_path / "quiet"), "--quiet"]) == 0
    assert "fits" not in capsys.readouterr().err
    assert sha(tmp_path / "bar" / "metrics.csv") == sha(tmp_path / "quiet" / "metrics.csv")


def test_a_study_step_reports_its_inner_loop_into_the_study_bar(tmp_path, monkeypatch):
    from riskmodel.pipeline import run as pipeline_run
    from riskmodel.pipeline import run_experiment
    from riskmodel.tracking import Tracker

    counts = tiny_counts(tmp_path / "counts.csv", months=36)
    cfg = tmp_path / "s.toml"
    cfg.write_text(f"""
[study]
name = "p"
out = "{tmp_path / 'out'}"
[data]
counts = "{counts}"
freq = "M"
[steps.forecast]
model = "hmean"
reconcile = "none"
backtest_windows = 2
backtest_models = ["hmean"]
fan_charts = false
register_model = false
""", encoding="utf-8")
    calls = Calls()
    inner = pipeline_run._Progress.step_progress

    def recording(self):  # noqa: ANN001, ANN202 - wraps the study bar's callback of each step
        shown = inner(self)
        assert shown is not None

        def both(done: int, total: int) -> None:
            calls(done, total)
            shown(done, total)
        return both

    monkeypatch.setattr(pipeline_run._Progress, "step_progress", recording)
    run_experiment(cfg, tracker=Tracker(enabled=False), progress=True)
    # the forecast (1 chunk), then the backtest: 2 windows x 2 models (hmean, snaive)
    assert calls.calls == [(1, 1), (1, 4), (2, 4), (3, 4), (4, 4), (4, 4)]
