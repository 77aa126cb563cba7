"""``riskmodel hotspots``: a run on the toy city, and clear errors for bad input."""

from __future__ import annotations

from contextlib import contextmanager

import pandas as pd
import pytest

from riskmodel.cli import hotspots as hotspots_cli
from riskmodel.cli import main
from riskmodel.tracking import Tracker


def _args(files, out, *extra):
    return ["hotspots", "--events", str(files["events"]), "--polygons", str(files["polygons"]),
            "--id-field", "street", "--areas", str(files["areas"]), "--cell-size", "4", "--coverage", "20",
            "--h", "1", "--h", "2", "--windows", "2", "--model", "hmean", "--out", str(out), "--no-track", *extra]


def test_hotspots_command_writes_the_tables(toy_files, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(_args(toy_files, out)) == 0
    assert {p.name for p in out.iterdir()} == {"metrics.csv", "means.csv", "timings.csv", "cells.csv", "summary.txt"}
    m = pd.read_csv(out / "metrics.csv")
    assert set(m["method"]) == {"forecast_hmean", "kde", "last", "history"}
    assert set(m["category"]) == {"theft", "burglary"}
    assert len(m) == 4 * 2 * 2 * 2  # methods x categories x origins x h
    assert ((m["pai"] >= 0) | m["pai"].isna()).all()
    cells = pd.read_csv(out / "cells.csv")
    assert cells["area"].sum() == pytest.approx(170.0)
    assert "Hotspot evaluation" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--events": "missing.csv"}, "does not exist"),
        ({"--id-field": "name"}, "no attribute 'name'"),
        ({"--cell-size": "0"}, "cell size must be a positive"),
        ({"--x-col": "lon"}, "missing column(s) lon"),
        ({"--coverage": "-1"}, "coverages must be positive"),
        ({"--freq": "Q"}, "frequency"),
        ({"--coverage-by": "km2"}, "--coverage-by"),
        ({"--model": "prophet"}, "--model"),
        ({"--h": "0"}, "--h must be >= 1"),
        ({"--ranker": "bogus"}, "unknown value 'bogus' for --ranker; valid: forecast, kde, last, history"),
        ({"--ranker": "last"}, "option --model applies to forecast, not to last"),
        ({"--reconcile": "sideways"}, "--reconcile"),
        ({"--lookback": "0"}, "--lookback"),
        ({"--model-params": "[1]"}, "--model-params must be a JSON object"),
        ({"--bandwidth": "-1"}, "--bandwidth must be positive"),
    ],
)
def test_hotspots_command_errors(toy_files, tmp_path, capsys, change, message):
    out = tmp_path / "out"
    args = _args(toy_files, out)
    for opt, value in change.items():
        if opt in args:
            args[args.index(opt) + 1] = str(tmp_path / value) if opt == "--events" else value
        else:
            args += [opt, value]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_origin_must_start_a_period(toy_files, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(_args(toy_files, out, "--origin", "2021-02-10")) == 2
    err = capsys.readouterr().err
    assert "2021-02-10 is not the first day of a period" in err and "weeks start on Monday" in err
    assert not out.exists()


def test_chosen_rankers_share_a_flag_and_only_means_are_logged(toy_files, tmp_path, monkeypatch):
    handles = []

    class Recording(Tracker):
        @contextmanager
        def run(self, name, params=None, tags=None):
            with super().run(name, params, tags) as h:
                handles.append(h)
                yield h

    monkeypatch.setattr(hotspots_cli, "make_tracker", lambda no_track: Recording(enabled=False))
    out = tmp_path / "out"
    args = [a for a in _args(toy_files, out) if a != "--no-track"]
    i = args.index("--model")
    del args[i: i + 2]
    assert main([*args, "--ranker", "history", "--ranker", "kde", "--lookback", "3", "--bandwidth", "4"]) == 0
    m = pd.read_csv(out / "metrics.csv")
    assert list(dict.fromkeys(m["method"])) == ["history", "kde"]
    (run,) = handles
    assert list(run.tables) == ["means.csv"] and run.artifacts == ["tables/means.csv"] and not run.texts
    assert run.tables["means.csv"].to_csv(index=False, lineterminator="\n") == (out / "means.csv").read_text()
    assert run.params["rankers"] == str(["history", "kde"]) and run.params["lookback"] == "3"
    # the options reached the rankers: a 3-week history differs from the whole history
    whole = tmp_path / "whole"
    assert main([*args[: args.index("--out")], "--out", str(whole), "--ranker", "history", "--no-track"]) == 0
    assert not pd.read_csv(whole / "metrics.csv")["n"].equals(m.loc[m["method"] == "history", "n"].reset_index(drop=True))
