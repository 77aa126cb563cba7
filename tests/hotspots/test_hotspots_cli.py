"""``riskmodel hotspots``: a run on the toy city, and clear errors for bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from riskmodel.cli import main


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
