"""Output CSVs are spreadsheet-safe: an area named like a formula is written with a ' in front,
numbers (negative ones included) are untouched (issue 16.11)."""

from __future__ import annotations

import pandas as pd

from riskmodel.cli import main

from .conftest import tiny_counts

HOSTILE = ("=cmd|' /C calc'!A0", "@SUM(1+1)")


def test_backtest_outputs_prefix_formula_like_area_names(tmp_path, capsys):
    counts = tiny_counts(tmp_path / "counts.csv", areas=(*HOSTILE, "A1"), months=36)
    out = tmp_path / "bt"
    assert main(["backtest", "--counts", str(counts), "--out", str(out), "--h", "3", "--model", "snaive",
                 "--no-track"]) == 0, capsys.readouterr().err
    for name in ("forecasts.csv", "metrics.csv"):
        lines = (out / name).read_text(encoding="utf-8").splitlines()
        cells = [c for line in lines for c in line.split(",")]
        for area in HOSTILE:
            assert not any(c.startswith(area[:4]) for c in cells), (name, area)  # never a bare formula
        table = pd.read_csv(out / name)
        assert {"'" + a for a in HOSTILE} <= set(table["area_id"])
        assert "A1" in set(table["area_id"])
    fc = pd.read_csv(out / "forecasts.csv")
    assert fc.select_dtypes("number").shape[1] >= 3  # the numbers stay numbers
