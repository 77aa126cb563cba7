"""``riskmodel grid``: cell counts that forecast and detect take, adding up to streets and the city."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.cli import main


def test_grid_cells_forecast_per_cell_and_reconcile_up(toy_files, tmp_path, capsys):
    out = tmp_path / "grid"
    assert main(["grid", "--events", str(toy_files["events"]), "--polygons", str(toy_files["polygons"]),
                 "--id-field", "street", "--cell-size", "4", "--areas", str(toy_files["areas"]),
                 "--freq", "W", "--out", str(out)]) == 0
    assert "400 events in" in capsys.readouterr().out
    counts = pd.read_csv(out / "counts.csv")
    areas = pd.read_csv(out / "areas.csv")
    cells = pd.read_csv(out / "cells.csv")
    assert counts["count"].sum() == 400 and len(pd.read_csv(out / "unmatched.csv")) == 0
    # every counted cell is a cell of the grid, under street A or B, under D1, under CITY
    parent = dict(zip(areas["area_id"], areas["parent_id"], strict=True))
    assert set(counts["area_id"]) <= set(cells["area_id"])
    assert {parent[parent[parent[c]]] for c in counts["area_id"]} == {"CITY"}
    # the squares of column 2 straddle the A|B border: one cell in each street
    assert set(cells.loc[cells["col"] == 2, "parent_id"]) == {"A", "B"}
    # weekly series over the whole span, zero-filled
    assert counts.groupby(["area_id", "category"]).size().nunique() == 1

    fc = tmp_path / "fc.csv"
    assert main(["forecast", "--counts", str(out / "counts.csv"), "--areas", str(out / "areas.csv"), "--freq", "W",
                 "--h", "2", "--model", "hmean", "--reconcile", "mint_shrink", "--out", str(fc), "--no-track"]) == 0
    f = pd.read_csv(fc)
    lvl = f.assign(street=f["area_id"].map(parent))
    for cat in ("theft", "burglary"):
        for period in f["period"].unique():
            sel = lvl[(lvl["category"] == cat) & (lvl["period"] == period)].set_index("area_id")["mean"]
            cell_rows = lvl[(lvl["category"] == cat) & (lvl["period"] == period) & lvl["street"].isin(["A", "B"])]
            by_street = cell_rows.groupby("street")["mean"].sum()
            assert np.allclose(by_street, sel[by_street.index], atol=1e-9)  # cells add up to streets
            assert abs(sel["A"] + sel["B"] - sel["CITY"]) < 1e-9 and abs(sel["D1"] - sel["CITY"]) < 1e-9

    # daily cell counts feed the EARS detectors
    daily, det = tmp_path / "daily", tmp_path / "det.csv"
    assert main(["grid", "--events", str(toy_files["events"]), "--polygons", str(toy_files["polygons"]),
                 "--id-field", "street", "--cell-size", "4", "--freq", "D", "--out", str(daily)]) == 0
    assert main(["detect", "--counts", str(daily / "counts.csv"), "--freq", "D", "--method", "ears-c2",
                 "--out", str(det), "--no-track"]) == 0
    d = pd.read_csv(det)
    assert set(d["area_id"]) == set(pd.read_csv(daily / "counts.csv")["area_id"])


def test_grid_command_bad_input_names_the_problem(toy_files, tmp_path, capsys):
    args = ["grid", "--events", str(toy_files["events"]), "--polygons", str(toy_files["polygons"]),
            "--id-field", "street", "--out", str(tmp_path / "g")]
    assert main([*args, "--cell-size", "-1"]) == 2
    assert "cell size must be a positive number" in capsys.readouterr().err
    assert main([*args, "--cell-size", "4", "--freq", "Q"]) == 2
    assert "Q" in capsys.readouterr().err
    assert main([*args, "--cell-size", "4", "--x-col", "lon"]) == 2
    assert "lon" in capsys.readouterr().err
    assert not (tmp_path / "g").exists()
