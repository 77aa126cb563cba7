"""Plausibility limits and malformed inputs (issue 16.8, 16.9, 16.11, 14.7): exit 2 naming file and row."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from riskmodel.cli import main
from riskmodel.data import load_panel, read_table
from riskmodel.data.calendar import covered_years, holiday_table, period_calendar
from riskmodel.data.events import AreaPolygons
from riskmodel.data.limits import Limits
from riskmodel.errors import InputError

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def _weekly(n: int = 60, first: str = "2014-01-06", count: int = 3) -> pd.DataFrame:
    weeks = pd.date_range(first, periods=n, freq="W-MON").strftime("%Y-%m-%d")
    return pd.DataFrame({"area_id": "A", "category": "c", "period": weeks, "count": count})


def _csv(tmp_path: Path, df: pd.DataFrame, name: str = "counts.csv") -> Path:
    p = tmp_path / name
    df.to_csv(p, index=False)
    return p


# ----------------------------------------------------------------- plausibility limits (16.8)
def test_one_date_of_1900_is_refused_naming_its_row(monkeypatch) -> None:
    # before: accepted, 114 years of weeks zero-filled
    df = _weekly()
    df.loc[7, "period"] = "1900-01-01"  # a Monday
    with pytest.raises(InputError) as exc:
        load_panel(df)
    msg = str(exc.value)
    assert "the dates span 115 years (1900-01-01 to 2015-02-23), more than the plausibility limit of 50" in msg
    assert "line 9 ('1900-01-01')" in msg and "RISKMODEL_MAX_SPAN_YEARS" in msg
    monkeypatch.setenv("RISKMODEL_MAX_SPAN_YEARS", "200")
    p = load_panel(df)
    assert p.freq == "W" and p.added_zeros.total == 5949  # the override works, and the zeros are counted
    assert load_panel(df, limits=Limits(max_span_years=None)).freq == "W"


def test_far_future_date_and_huge_count_are_refused(monkeypatch) -> None:
    df = _weekly()
    df.loc[3, "period"] = "2150-01-05"
    with pytest.raises(InputError, match=r"date after .* \(today \+ 10 years\).*line 5 \('2150-01-05'\)"):
        load_panel(df)
    df = _weekly()
    df["count"] = df["count"].astype(object)
    df.loc[4, "count"] = "5000000000"
    df.loc[5, "count"] = "1000000000000000000000"
    with pytest.raises(InputError) as exc:
        load_panel(df)
    msg = str(exc.value)
    assert "count above the plausibility limit of 1,000,000,000 per period" in msg and "line 6 ('5000000000')" in msg
    assert "too large to hold exactly" in msg and "line 7" in msg
    monkeypatch.setenv("RISKMODEL_MAX_COUNT", "none")
    with pytest.raises(InputError, match="too large to hold exactly"):
        load_panel(df)
    assert load_panel(df.drop(index=5)).counts["count"].max() == 5_000_000_000


def test_full_width_digits_are_read_and_other_text_refused_naming_the_row() -> None:
    # issue 15: "１２" (full-width, typed in a Chinese input method) and "1,234" are numbers (schemas.number_text)
    df = _weekly()
    df["count"] = df["count"].astype(str)
    df.loc[2, "count"], df.loc[3, "count"] = "１２", "1,234"
    assert load_panel(df).counts["count"].tolist()[2:4] == [12, 1234]
    df.loc[2, "count"] = "１２件"
    with pytest.raises(InputError, match=r"is not a count \(a whole number >= 0\).*line 4 \('１２件'\)"):
        load_panel(df)


# ----------------------------------------------------------------- files (16.9, 16.11)
def test_truncated_gzip_exits_2_naming_the_file(tmp_path, capsys) -> None:
    data = gzip.compress(_weekly(500).to_csv(index=False).encode())
    p = tmp_path / "c.csv.gz"
    p.write_bytes(data[: len(data) - 20])
    assert main(["validate", "--counts", str(p)]) == 2  # before: exit 1, "riskmodel: aborted"
    err = capsys.readouterr().err
    assert f"{p}: gzip file is truncated" in err and "Traceback" not in err


def test_gzip_bomb_is_refused(tmp_path) -> None:
    p = tmp_path / "bomb.csv.gz"
    p.write_bytes(gzip.compress(b"area_id,category,period,count\n" + b"0" * (40 * 1024**2), 9))
    with pytest.raises(InputError, match="refused as a possible decompression bomb"):
        read_table(p)
    good = tmp_path / "ok.csv.gz"
    good.write_bytes(gzip.compress(_weekly().to_csv(index=False).encode()) * 2)  # two members: both read
    assert len(read_table(good)[0]) == 121  # the second member's header is a data row (validated later)


def test_symlink_loop_is_called_a_loop(tmp_path, capsys) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    os.symlink(b, a)
    os.symlink(a, b)
    assert main(["validate", "--counts", str(a)]) == 2
    assert "counts file is a symlink loop" in capsys.readouterr().err  # before: "does not exist"


def test_validate_areas_checks_the_tree(tmp_path, capsys) -> None:
    counts = _csv(tmp_path, _weekly().assign(area_id="C"))
    areas = tmp_path / "areas.csv"
    areas.write_text("area_id,parent_id\nA,\nB,A\nC,D\nD,C\n")
    assert main(["validate", "--counts", str(counts), "--areas", str(areas)]) == 2
    err = capsys.readouterr().err
    assert "parent_id makes a cycle through C, D" in err and "line 4 ('C -> D')" in err
    yearly = tmp_path / "areas_y.csv"
    yearly.write_text("area_id,parent_id,year\nA,,2020\nB,A,2020\nB,C,2021\nC,,2020\n")
    assert main(["validate", "--counts", str(counts), "--areas", str(yearly)]) == 2
    assert "area(s) with more than one parent: B" in capsys.readouterr().err


# ----------------------------------------------------------------- polygons and grid (14.7, 16.9)
def test_grid_on_the_sample_merges_a_streets_polygons(tmp_path, capsys) -> None:
    out = tmp_path / "g"
    code = main(["grid", "--events", str(SAMPLE / "events_grid.csv.gz"), "--polygons",
                 str(SAMPLE / "grid_cells.geojson"), "--id-field", "area_id", "--cell-size", "250",
                 "--out", str(out)])
    cap = capsys.readouterr()
    assert code == 0, cap.err  # before: exit 2, "duplicate area_id"
    assert ("note: 50 features of" in cap.err and "share the area ids of 2 areas and were merged into one "
            "(multi)polygon per area: ZH-XZ-XW (30), ZH-XZ-GB (20)" in cap.err)
    counts = pd.read_csv(out / "counts.csv")
    assert counts["count"].sum() == 73_315 and "0 events not placed" in cap.out


def test_null_geometry_names_the_feature(tmp_path) -> None:
    gj = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "S1"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}},
        {"type": "Feature", "properties": {"id": "S2"}, "geometry": None}]}
    p = tmp_path / "p.geojson"
    p.write_text(json.dumps(gj))
    with pytest.raises(InputError, match=r"feature 1 \(id 'S2'\) has no geometry \(null\)"):
        AreaPolygons.read(p, "id")


@pytest.mark.parametrize("date", ["9999-01-01", "1677-06-01"])
def test_grid_event_far_off_date_exits_2_naming_the_row(tmp_path, capsys, date) -> None:
    gj = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "S1"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]]]}}]}
    poly = tmp_path / "p.geojson"
    poly.write_text(json.dumps(gj))
    ev = pd.DataFrame({"x": [10, 20, 30], "y": [10, 20, 30], "timestamp": ["2020-01-01", date, "2020-03-01"],
                       "category": "c"})
    evp = _csv(tmp_path, ev, "ev.csv")
    code = main(["grid", "--events", str(evp), "--polygons", str(poly), "--id-field", "id", "--cell-size", "50",
                 "--out", str(tmp_path / "g")])
    err = capsys.readouterr().err
    assert code == 2, err  # before: exit 1 (9999) or 3.2 million rows (1677)
    assert "column 'timestamp'" in err and f"line 3 ('{date}')" in err
    assert not (tmp_path / "g").exists()


# ----------------------------------------------------------------- calendar (14.7)
def test_calendar_refuses_an_unknown_year_and_takes_a_calendar_file(tmp_path, monkeypatch) -> None:
    lo, hi = covered_years()
    y = hi + 1
    with pytest.raises(InputError, match=f"{y} is not covered.*RISKMODEL_HOLIDAY_FILE"):
        holiday_table(f"{y}-01-01", f"{y}-12-31")
    with pytest.raises(InputError, match=f"{y} is not covered"):
        period_calendar(pd.DatetimeIndex([f"{y}-01-01"]), "M")
    cal = tmp_path / "cal.csv"
    cal.write_text(f"date,kind,name\n{y}-01-01,holiday,New Year's Day\n{y}-10-01,holiday,National Day\n"
                   f"{y}-10-02,holiday,National Day\n{y}-09-26,workday,National Day\n")
    monkeypatch.setenv("RISKMODEL_HOLIDAY_FILE", str(cal))
    t = holiday_table(f"{y}-01-01", f"{y}-12-31").set_index("date")
    assert covered_years() == (lo, y)
    assert t["is_holiday"].sum() == 3 and t.loc[f"{y}-10-01", "holiday_name_zh"] == "国庆节"
    assert t.loc[f"{y}-09-26", "is_makeup_workday"] and t.loc[f"{y}-09-30", "day_before_holiday"]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"date,kind\n{y}-13-01,holiday\n{y}-02-01,weekend\n")
    monkeypatch.setenv("RISKMODEL_HOLIDAY_FILE", str(bad))
    with pytest.raises(InputError, match=r"date is not YYYY-MM-DD.*line 2|kind is not 'holiday' or 'workday'"):
        holiday_table(f"{y}-01-01", f"{y}-01-31")


def test_nul_bytes_are_refused_and_a_gbk_note_reaches_the_panel(tmp_path) -> None:
    good = _weekly().to_csv(index=False).encode()
    p = tmp_path / "nul.csv"
    p.write_bytes(good[:200] + b"\x00" * 8 + good[200:])
    with pytest.raises(InputError, match=r"nul.csv: the file contains NUL bytes \(first at byte 200, line 12\)"):
        load_panel(p)  # before: read, with a new series made of the damaged row (exit 0)
    g = tmp_path / "gbk.csv"
    g.write_bytes(_weekly().assign(area_id="街道").to_csv(index=False).encode("gbk"))
    assert load_panel(g).meta["notes"] == [f"note: {g}: file was GBK/GB18030-encoded, not UTF-8; read it as GB18030"]


def test_written_tables_are_spreadsheet_safe(tmp_path) -> None:
    from riskmodel.data import write_table_atomic

    out = write_table_atomic(pd.DataFrame({"area_id": ["=HYPERLINK(\"x\")", "A"], "v": [-1, 2]}), tmp_path / "o.csv")
    assert out.read_text().splitlines()[1:] == ["\"'=HYPERLINK(\"\"x\"\")\",-1", "A,2"]
