"""``--format xlsx`` where a command writes tables: one workbook per table, formatted, text as text."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from tests.cli.conftest import tiny_counts

from riskmodel.cli import main
from riskmodel.data.readers import read_table, write_table_atomic

HOSTILE = '=HYPERLINK("http://evil.example/x","open")'


def _formulas(path: Path) -> int:
    with zipfile.ZipFile(path) as z:
        return sum(z.read(n).count(b"<f>") for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_forecast_format_xlsx(tmp_path, capsys) -> None:
    counts = tiny_counts(tmp_path / "counts.csv", areas=("A1", HOSTILE), months=36)
    args = ["forecast", "--counts", str(counts), "--h", "2", "--model", "snaive", "--no-track"]
    assert main([*args, "--out", str(tmp_path / "fc.csv")]) == 0
    assert main([*args, "--out", str(tmp_path / "fc.xlsx"), "--format", "xlsx"]) == 0
    assert main([*args, "--out", str(tmp_path / "b" / "fc.xlsx")]) == 0  # the suffix alone says xlsx
    book = tmp_path / "fc.xlsx"
    assert book.read_bytes() == (tmp_path / "b" / "fc.xlsx").read_bytes()  # same forecast, same bytes
    assert book.read_bytes()[:2] == b"PK" and _formulas(book) == 0
    wb = openpyxl.load_workbook(book)
    ws = wb["fc"]
    assert wb.sheetnames == ["fc"] and ws.freeze_panes == "A2"  # the header row stays in view
    header = [c.value for c in ws[1]]
    assert header[:5] == ["area_id", "category", "period", "model", "mean"] and ws["A1"].font.b
    col = {h: i + 1 for i, h in enumerate(header)}
    rows = list(ws.iter_rows(min_row=2))
    names = {r[0].value for r in rows}
    assert HOSTILE in names and all(r[0].data_type == "s" for r in rows)  # shown, never run
    period = rows[0][col["period"] - 1]
    assert period.is_date and period.number_format == "yyyy-mm-dd"
    assert all(r[col["lo_95"] - 1].data_type == "n" for r in rows)  # numbers, not text
    # the same values as the CSV (which prefixes the formula-like name with ')
    csv = pd.read_csv(tmp_path / "fc.csv")
    got = pd.DataFrame([[c.value for c in r] for r in rows], columns=header)
    assert got["area_id"].tolist() == [a.lstrip("'") for a in csv["area_id"]]
    assert got["period"].dt.strftime("%Y-%m-%d").tolist() == csv["period"].tolist()
    for c in ("mean", "lo_80", "hi_80", "lo_95", "hi_95"):
        assert got[c].astype(float).tolist() == pytest.approx(csv[c].astype(float).tolist())


def test_format_contradicting_out_is_refused_before_work(tmp_path, capsys) -> None:
    counts = tiny_counts(tmp_path / "counts.csv", months=36)
    code = main(["forecast", "--counts", str(counts), "--out", str(tmp_path / "fc.csv"), "--format", "xlsx",
                 "--no-track"])
    err = capsys.readouterr().err
    assert code == 2 and "--format xlsx" in err and "fc.xlsx" in err
    assert not (tmp_path / "fc.csv").exists()
    assert main(["forecast", "--counts", str(counts), "--out", str(tmp_path / "fc.csv"), "--format", "ods",
                 "--no-track"]) == 2
    assert "valid: csv, xlsx, parquet" in capsys.readouterr().err


def test_backtest_folder_format_xlsx_writes_a_workbook_per_table(tmp_path) -> None:
    counts = tiny_counts(tmp_path / "counts.csv", months=36)
    out = tmp_path / "bt"
    assert main(["backtest", "--counts", str(counts), "--out", str(out), "--h", "2", "--model", "snaive",
                 "--format", "xlsx", "--no-track"]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == ["coverage.xlsx", "forecasts.xlsx", "metrics.xlsx"]  # no CSV beside them
    wb = openpyxl.load_workbook(out / "metrics.xlsx")
    ws = wb["metrics"]
    header = [c.value for c in ws[1]]
    assert ws.freeze_panes == "A2" and "coverage_80" in header
    cov = ws.cell(2, header.index("coverage_80") + 1)
    assert cov.number_format == "0.0%" and 0 <= cov.value <= 1


def test_grid_folder_format_xlsx_feeds_forecast(tmp_path) -> None:
    shapefile = pytest.importorskip("shapefile")
    import numpy as np

    poly = tmp_path / "streets"
    with shapefile.Writer(str(poly), shapeType=shapefile.POLYGON) as w:
        w.field("area_id", "C")
        w.poly([[[0, 0], [0, 1000], [1000, 1000], [1000, 0], [0, 0]]])
        w.record("S1")
    rng = np.random.default_rng(0)
    n = 600
    days = pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365, n), unit="D")
    pd.DataFrame({"x": rng.uniform(0, 1000, n), "y": rng.uniform(0, 1000, n), "timestamp": days.strftime("%Y-%m-%d"),
                  "category": "theft"}).to_csv(tmp_path / "events.csv", index=False)
    out = tmp_path / "grid"
    assert main(["grid", "--events", str(tmp_path / "events.csv"), "--polygons", str(poly) + ".shp",
                 "--id-field", "area_id", "--cell-size", "500", "--freq", "M", "--out", str(out),
                 "--format", "xlsx"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["areas.xlsx", "cells.xlsx", "counts.xlsx", "unmatched.xlsx"]
    wb = openpyxl.load_workbook(out / "counts.xlsx")
    ws = wb["counts"]
    assert [c.value for c in ws[1]] == ["area_id", "category", "period", "count"] and ws["C2"].is_date
    assert ws["D2"].number_format == "#,##0"
    # the workbook is an input like the CSV: forecast reads it (the one sheet, with a note)
    assert main(["forecast", "--counts", str(out / "counts.xlsx"), "--areas", str(out / "areas.xlsx"), "--h", "1",
                 "--model", "snaive", "--out", str(tmp_path / "fc.csv"), "--no-track"]) == 0
    assert len(pd.read_csv(tmp_path / "fc.csv")) >= 4


def test_write_table_atomic_xlsx_round_trips_through_read_table(tmp_path) -> None:
    df = pd.DataFrame({"area_id": ["A1", HOSTILE, "街道"], "category": ["theft"] * 3,
                       "period": ["2021-01-01", "2021-02-01", "2021-03-01"], "count": [12_345, 0, 7],
                       "share": [0.25, 0.5, 0.125]})
    p = write_table_atomic(df, tmp_path / "t.xlsx")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["t.xlsx"]
    wb = openpyxl.load_workbook(p)
    assert wb["t"]["D2"].value == 12345 and wb["t"]["D2"].number_format == "#,##0"
    assert wb["t"]["E2"].number_format == "0.0%" and wb["t"]["A3"].data_type == "s"
    back, _ = read_table(p, what="counts")
    assert back["area_id"].tolist() == df["area_id"].tolist()
    assert back["category"].tolist() == df["category"].tolist()
    assert pd.to_datetime(back["period"]).dt.strftime("%Y-%m-%d").tolist() == df["period"].tolist()
    assert pd.to_numeric(back["count"]).tolist() == df["count"].tolist()
    assert pd.to_numeric(back["share"]).tolist() == df["share"].tolist()
    assert write_table_atomic(df, tmp_path / "u" / "t.xlsx").read_bytes() == p.read_bytes()


TABLE_COMMANDS = ["forecast", "backtest", "detect", "claim", "index build", "index sensitivity", "index swap", "grid",
                  "hotspots"]
"""Every command that writes tables (files or a folder of them)."""


@pytest.mark.parametrize("name", TABLE_COMMANDS)
def test_every_table_writing_command_takes_format(name) -> None:
    from riskmodel.cli import load_command

    top, _, sub = name.partition(" ")
    cmd = load_command(top)
    cmd = cmd.commands[sub] if sub else cmd
    opt = next((p for p in cmd.params if "--format" in getattr(p, "opts", [])), None)
    assert opt is not None and "xlsx" in opt.help, name
