"""Excel workbooks as input (issue 15, item 1): sheets, header rows, merged cells, dates, numbers, refusals.

Every workbook is built here with openpyxl from the sample city or a few rows; the .xls test converts one
with LibreOffice (skipped without it: xlwt, the .xls writer, is not a dependency).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from tests.conftest import SAMPLE

from riskmodel.cli import main
from riskmodel.data import load_panel
from riskmodel.data.excel import sheet_names
from riskmodel.data.readers import read_table, split_sheet, write_table_atomic
from riskmodel.errors import InputError
from riskmodel.index.weights import read_ahp_file

ZH = {"area_id": "街道", "category": "类别", "period": "日期", "count": "数量"}


@pytest.fixture(scope="module")
def monthly() -> pd.DataFrame:
    df = pd.read_csv(SAMPLE / "counts_monthly.csv", dtype=str)
    keep = df["area_id"].isin(df["area_id"].unique()[:3]) & df["category"].isin(["fires", "disputes"])
    return df[keep].reset_index(drop=True)


def _city_workbook(df: pd.DataFrame, path: Path) -> Path:
    """The counts as an official would keep them: a 说明 sheet, then 计数 with a merged title, a blank row,
    Chinese headers and date cells; a 人口 sheet after it."""
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active["A1"] = "数据来源：区综治中心"
    ws = wb.create_sheet("计数")
    ws["A1"] = "2014-2019年各街道警情统计"
    ws.merge_cells("A1:D1")
    ws.append([])
    ws.append([ZH[c] for c in ("area_id", "category", "period", "count")])
    for a, c, p, n in df[["area_id", "category", "period", "count"]].itertuples(index=False):
        ws.append([a, c, dt.datetime.fromisoformat(p), float(n)])  # floats, as Excel stores every number
    pop = wb.create_sheet("人口")
    pop.append(["area_id", "year", "population"])
    pop.append([df["area_id"].iloc[0], 2019, 50000])
    wb.save(path)
    return path


def _book(path: Path, sheets: dict[str, list[list[object]]], merged: dict[str, list[str]] | None = None,
          epoch: dt.datetime | None = None) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if epoch is not None:
        wb.epoch = epoch
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
        for rng in (merged or {}).get(name, []):
            ws.merge_cells(rng)
    wb.save(path)
    return path


def _err(fn, *args, **kw) -> str:
    with pytest.raises(InputError) as exc:
        fn(*args, **kw)
    return str(exc.value)


# ----------------------------------------------------------------- the known answer: the sample city
def test_sample_city_workbook_gives_the_csv_panel_and_says_what_it_chose(monthly, tmp_path):
    book = _city_workbook(monthly, tmp_path / "警情.xlsx")
    panel = load_panel(book)
    ref = load_panel(monthly)
    pd.testing.assert_frame_equal(panel.counts, ref.counts)
    assert panel.freq == ref.freq == "M"
    notes = " ".join(panel.meta["notes"])
    assert ("read sheet 计数 of 警情.xlsx (3 sheets: 说明, 计数, 人口; the only one whose header has area_id, "
            "category, period, count (or their known headers))") in notes
    assert "header in row 3; rows 1-2 above it skipped (they hold: '2014-2019年各街道警情统计')" in notes
    assert "read 街道 as area_id" in notes
    # the sheet by name and by position gives the same panel, without the choice note
    for name in ("#计数", "#2"):
        p2 = load_panel(f"{book}{name}")
        pd.testing.assert_frame_equal(p2.counts, ref.counts)
        assert "read sheet" not in " ".join(p2.meta["notes"])


def test_forecast_from_the_workbook_is_byte_identical_to_the_csv_path(monthly, tmp_path, capsys):
    book = _city_workbook(monthly, tmp_path / "book.xlsx")
    en = tmp_path / "en.csv"
    monthly.to_csv(en, index=False)
    args = ["forecast", "--model", "snaive", "--h", "2", "--no-track"]
    assert main([*args, "--counts", str(book), "--out", str(tmp_path / "xl_fc.csv")]) == 0
    err = capsys.readouterr().err
    assert "read sheet 计数 of book.xlsx" in err and "read 街道 as area_id" in err
    assert main([*args, "--counts", str(en), "--out", str(tmp_path / "en_fc.csv")]) == 0
    assert (tmp_path / "xl_fc.csv").read_bytes() == (tmp_path / "en_fc.csv").read_bytes()


# ----------------------------------------------------------------- header rows and merged cells
def test_title_unit_line_and_merged_group_header(tmp_path):
    rows = [["2020年各街道警情统计"], [], ["单位：起"],
            ["街道", "类别", "日期", "警情", None], [None, None, None, "数量", "同比"],
            ["S1", "alerts", dt.date(2020, 1, 1), 3, 0.5],
            [None, "fires", dt.date(2020, 1, 1), 4, -0.25],
            ["S2", "alerts", dt.date(2020, 1, 1), 5, 1]]
    book = _book(tmp_path / "b.xlsx", {"表": rows},
                 {"表": ["A1:E1", "D4:E4", "A4:A5", "B4:B5", "C4:C5", "A6:A7"]})
    df, src = read_table(book, what="table")
    assert list(df.columns) == ["街道", "类别", "日期", "警情 数量", "警情 同比"]
    assert df.to_dict("list") == {"街道": ["S1", "S1", "S2"], "类别": ["alerts", "fires", "alerts"],
                                  "日期": ["2020-01-01"] * 3, "警情 数量": ["3", "4", "5"],
                                  "警情 同比": ["0.5", "-0.25", "1"]}
    assert "header in rows 4-5; rows 1-3 above it skipped" in src.note
    assert "two header rows joined under a merged group header: 警情 数量, 警情 同比" in src.note
    assert "1 merged range(s) in the data rows: each cell they cover read as their value" in src.note


def test_two_header_rows_are_not_joined_without_a_merged_group_header(tmp_path):
    # the row under the header is data of text columns only (no merged cell above it): one header row
    rows = [["code", "parent", "name"], ["A", "", "总指数"], ["A1", "A", "治安"]]
    book = _book(tmp_path / "s.xlsx", {"spec": rows})
    df, src = read_table(book, what="index spec")
    assert list(df.columns) == ["code", "parent", "name"] and len(df) == 2 and src.note is None
    # a caption line above a wider all-text header is skipped
    rows = [["填报单位：综治中心", None, "日期：2020年"], ["area_id", "category", "period", "count"],
            ["S1", "c", "2020-01-01", 1]]
    df, src = read_table(_book(tmp_path / "c.xlsx", {"c": rows}), what="counts")
    assert list(df.columns) == ["area_id", "category", "period", "count"]
    assert "header in row 2; row 1 above it skipped (they hold: '填报单位：综治中心', '日期：2020年')" in src.note
    # a header merged across two columns over data (not over a second header row): one header row, named twice
    rows = [["街道", "地址", None], ["S1", "路一", "1号"], ["S2", "路二", "2号"]]
    df, src = read_table(_book(tmp_path / "m.xlsx", {"m": rows}, {"m": ["B1:C1"]}), what="table")
    assert df.to_dict("list") == {"街道": ["S1", "S2"], "地址": ["路一", "路二"], "地址.1": ["1号", "2号"]}
    assert src.note is None


# ----------------------------------------------------------------- sheets
def test_sheet_choice_and_its_refusals(tmp_path):
    counts = [["area_id", "category", "period", "count"], ["S1", "c", "2020-01-01", 1]]
    book = _book(tmp_path / "b.xlsx", {"说明": [["见计数表"]], "计数": counts, "空": []})
    assert sheet_names(book) == ["说明", "计数", "空"]
    # no sheet: the only one with the counts' columns for counts; for a table of unknown columns, a refusal
    assert read_table(book, what="counts")[1].note.startswith("read sheet 计数 of b.xlsx (3 sheets")
    msg = _err(read_table, book, what="events")
    assert "the workbook has 2 non-empty sheets (说明, 计数, 空): choose one" in msg and "b.xlsx#说明" in msg
    msg = _err(read_table, f"{book}#统计", what="counts")
    assert "the workbook has no sheet '统计'; its sheets: 说明, 计数, 空 (3; a position is 1 to 3)" in msg
    assert "no sheet '4'" in _err(read_table, f"{book}#4", what="counts")
    assert "sheet '空' is empty" in _err(read_table, f"{book}#3", what="counts")
    # two sheets with the counts' columns: refused, naming both
    two = _book(tmp_path / "two.xlsx", {"2019": counts, "2020": counts})
    msg = _err(read_table, two, what="counts")
    assert "2 have (2019, 2020) the columns of counts" in msg and "two.xlsx#2019" in msg
    # one non-empty sheet is read whatever it holds
    one = _book(tmp_path / "one.xlsx", {"Sheet1": [["x", "y"], [1, 2]], "Sheet2": []})
    df, src = read_table(one, what="events")
    assert df.to_dict("list") == {"x": ["1"], "y": ["2"]} and "the only non-empty one of 2" in src.note


def test_split_sheet():
    assert split_sheet("a/b.xlsx#计数") == (Path("a/b.xlsx"), "计数")
    assert split_sheet("b.XLS#2") == (Path("b.XLS"), "2")
    assert split_sheet("b.xlsx#表#2") == (Path("b.xlsx"), "表#2")
    assert split_sheet("a#b/c.xlsx") == (Path("a#b/c.xlsx"), None)
    assert split_sheet("c.csv#x") == (Path("c.csv#x"), None)


# ----------------------------------------------------------------- values
@pytest.mark.parametrize("epoch", [openpyxl.utils.datetime.CALENDAR_WINDOWS_1900,
                                   openpyxl.utils.datetime.CALENDAR_MAC_1904])
def test_dates_in_either_date_system_and_numbers_as_text(tmp_path, epoch):
    rows = [["街道", "类别", "日期", "数量", "报警时刻"],
            ["S1", "c", dt.datetime(2020, 1, 1), "1,234", dt.datetime(2020, 1, 1, 8, 30)],
            ["S1", "c", dt.datetime(2020, 2, 1), "１２３", dt.datetime(2020, 1, 1)],
            ["S1", "c", dt.datetime(2020, 3, 1), "12 ", None],
            ["S1", "c", "2020年4月", 3.0, None]]
    book = _book(tmp_path / "d.xlsx", {"计数": rows}, epoch=epoch)
    with zipfile.ZipFile(book) as z:  # the dates are stored as serial numbers with a date format
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert ("<v>43831</v>" if epoch.year == 1899 else "<v>42369</v>") in xml
    df, _ = read_table(book, what="counts")
    assert df["日期"].tolist() == ["2020-01-01", "2020-02-01", "2020-03-01", "2020年4月"]
    assert df["报警时刻"].tolist()[:2] == ["2020-01-01 08:30:00", "2020-01-01"]
    assert df["数量"].tolist() == ["1,234", "１２３", "12 ", "3"]
    counts = load_panel(book).counts
    assert counts["count"].tolist() == [1234, 123, 12, 3]
    assert counts["period"].dt.strftime("%Y-%m-%d").tolist() == ["2020-01-01", "2020-02-01", "2020-03-01",
                                                               "2020-04-01"]


def test_serial_numbers_without_a_date_format_in_the_period_column(tmp_path):
    rows = [["街道", "类别", "日期", "数量"], ["S1", "c", 43831, 5], ["S1", "c", 43862, 6]]
    df, src = read_table(_book(tmp_path / "s.xlsx", {"c": rows}), what="counts")
    assert df["日期"].tolist() == ["2020-01-01", "2020-02-01"] and df["数量"].tolist() == ["5", "6"]
    assert "numbers in column 日期 read as Excel date serials (they have no date format; 43831 = 2020-01-01)" in src.note
    # years are not serials: left as they are (the validator names them)
    rows = [["街道", "类别", "日期", "数量"], ["S1", "c", 2019, 5], ["S1", "c", 2020, 6]]
    df, src = read_table(_book(tmp_path / "y.xlsx", {"c": rows}), what="counts")
    assert df["日期"].tolist() == ["2019", "2020"] and src.note is None


def test_a_cell_that_is_not_a_number_is_named_by_sheet_and_cell(tmp_path):
    rows = [["2020年警情"], ["街道", "类别", "日期", "数量"]]
    rows += [["S1", "c", dt.datetime(2020, m, 1), m] for m in range(1, 13)]
    rows[5][3] = "十二"
    book = _book(tmp_path / "n.xlsx", {"计数": rows, "备注": [["x"]]}, {"计数": ["A1:D1"]})
    msg = _err(load_panel, f"{book}#计数")
    assert "value is not a count (a whole number >= 0) (cells 计数!D6; lines are the sheet's rows)" in msg
    assert "line 6 ('十二')" in msg
    # a sheet name with a space is quoted as Excel writes it
    book = _book(tmp_path / "q.xlsx", {"Sheet 1": rows})
    assert "cells 'Sheet 1'!D6" in _err(load_panel, book)


def test_error_cells_and_formulas_without_a_saved_result_are_refused_by_cell(tmp_path):
    rows = [["area_id", "category", "period", "count", "ratio"],
            ["S1", "c", "2020-01-01", 1, "#DIV/0!"], ["S1", "c", "2020-02-01", "#N/A", 1]]
    msg = _err(read_table, _book(tmp_path / "e.xlsx", {"计数": rows}), what="counts")
    assert "cell(s) 计数!E2 hold an Excel error value" in msg and "line 2 ('#DIV/0!')" in msg
    assert "cell(s) 计数!D3 hold an Excel error value" in msg and "line 3 ('#N/A')" in msg
    rows = [["area_id", "category", "period", "count"], ["S1", "c", "2020-01-01", "=1+2"]]
    msg = _err(read_table, _book(tmp_path / "f.xlsx", {"计数": rows}), what="counts")
    assert "formula cell(s) 计数!D2 have no saved result" in msg
    assert "open and save the workbook in Excel, or export it as CSV" in msg
    # a formula whose saved result is the empty string (Excel writes t="str" and an empty value) is an empty cell
    rows = [["area_id", "category", "period", "count", "备注"], ["S1", "c", "2020-01-01", 1, '=IF(1,"",1)']]
    book = _book(tmp_path / "g.xlsx", {"计数": rows})
    with zipfile.ZipFile(book) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(b'<c r="E2"', b'<c r="E2" t="str"')
    with zipfile.ZipFile(book, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    df, _ = read_table(book, what="counts")
    assert df["count"].tolist() == ["1"] and pd.isna(df["备注"].iloc[0])


# ----------------------------------------------------------------- not workbooks
def test_disguised_encrypted_and_damaged_files_are_refused_clearly(tmp_path):
    html = tmp_path / "导出.xls"
    html.write_text("<html><head><meta charset='utf-8'></head><body><table><tr><td>街道</td></tr></table>",
                    encoding="utf-8")
    assert "this is an HTML page named like a workbook" in _err(read_table, html, what="counts")
    xml = tmp_path / "x.xls"
    xml.write_text('<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">')
    assert "'XML Spreadsheet 2003' file" in _err(read_table, xml, what="counts")
    csv = tmp_path / "c.xlsx"
    csv.write_text("area_id,category,period,count\nS1,c,2020-01-01,1\n")
    assert "a text file (CSV?) named like a workbook: if it is a CSV table, rename it to .csv" in _err(
        read_table, csv, what="counts")
    # an encrypted .xlsx is an OLE2 compound file holding an "EncryptedPackage" stream
    enc = tmp_path / "e.xlsx"
    enc.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1000 + "EncryptedPackage".encode("utf-16-le"))
    assert "password-protected (encrypted)" in _err(read_table, enc, what="counts")
    ods = tmp_path / "o.xlsx"
    with zipfile.ZipFile(ods, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    assert "an OpenDocument spreadsheet (.ods" in _err(read_table, ods, what="counts")
    bad = tmp_path / "bad.xlsx"
    good = _book(tmp_path / "g.xlsx", {"s": [["a"], [1]]})
    bad.write_bytes(good.read_bytes()[:200])
    msg = _err(read_table, bad, what="counts")
    assert "cannot read the .xlsx workbook (damaged, or not really a workbook)" in msg and str(bad) in msg
    assert main(["validate", "--counts", str(html)]) == 2


def test_xls_workbook_read_with_merged_cells(tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: no way to write an .xls here (xlwt is not a dependency)")
    rows = [["2020年警情"], ["街道", "类别", "日期", "警情", None], [None, None, None, "数量", "同比"],
            ["S1", "c", dt.datetime(2020, 1, 1), 3, 0.5], ["S1", "c", dt.datetime(2020, 2, 1), 4, None]]
    src = _book(tmp_path / "b.xlsx", {"说明": [["x"]], "计数": rows},
                {"计数": ["A1:E1", "D2:E2", "A2:A3", "B2:B3", "C2:C3"]})
    env = {**os.environ, "HOME": str(tmp_path)}
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "xls",
                    "--outdir", str(tmp_path / "out"), str(src)], check=True, capture_output=True, env=env,
                   timeout=120)
    xls = tmp_path / "out" / "b.xls"
    assert xls.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    assert sheet_names(xls) == ["说明", "计数"]
    df, note = read_table(f"{xls}#计数", what="counts")
    assert list(df.columns) == ["街道", "类别", "日期", "警情 数量", "警情 同比"]
    assert df["日期"].tolist() == ["2020-01-01", "2020-02-01"] and df["警情 数量"].tolist() == ["3", "4"]
    assert df["街道"].tolist() == ["S1", "S1"] and df["警情 同比"].iloc[0] == "0.5" and pd.isna(df["警情 同比"].iloc[1])
    assert "two header rows joined under a merged group header" in note.note
    # the same workbook named .xlsx is read by its content, and said
    named = tmp_path / "named.xlsx"
    named.write_bytes(xls.read_bytes())
    assert "the file is an .xls workbook named .xlsx: read it as .xls" in read_table(f"{named}#2")[1].note


# ----------------------------------------------------------------- index inputs
def test_ahp_judgements_and_indicators_from_a_workbook(tmp_path):
    judg = pd.DataFrame({"expert": ["e1", "e1", "e1", "e2"], "parent": ["P"] * 4, "row": ["a", "a", "b", "a"],
                         "col": ["b", "c", "c", "b"], "value": [3.0, 5.0, 1 / 3, 2.0]})
    judg.to_csv(tmp_path / "ahp.csv", index=False)
    book = _book(tmp_path / "ahp.xlsx", {"说明": [["专家打分表"]],
                                         "打分": [["AHP判断矩阵"], list(judg.columns), *judg.values.tolist()]},
                 {"打分": ["A1:E1"]})
    assert read_ahp_file(str(book)) == read_ahp_file(str(tmp_path / "ahp.csv"))
    ind = pd.read_csv(SAMPLE / "indicators_monthly.csv", dtype=str).head(40)
    book = _book(tmp_path / "ind.xlsx", {"指标": [list(ind.columns)] + [
        [a, dt.datetime.fromisoformat(p), i, float(v)] for a, p, i, v in ind.itertuples(index=False)]})
    df, _ = read_table(book, what="indicators")
    ref, _ = read_table(SAMPLE / "indicators_monthly.csv", what="indicators")
    ref = ref.head(40)
    pd.testing.assert_frame_equal(df[["area_id", "period", "indicator"]], ref[["area_id", "period", "indicator"]])
    assert (pd.to_numeric(df["value"]) == pd.to_numeric(ref["value"])).all()


def test_a_table_riskmodel_writes_as_xlsx_reads_back_equal(monthly, tmp_path):
    df = monthly.head(30).reset_index(drop=True)
    write_table_atomic(df, tmp_path / "out.xlsx")
    back, src = read_table(tmp_path / "out.xlsx", what="counts")
    pd.testing.assert_frame_equal(back, df)
    assert src.note is None


def test_a_frame_read_from_a_workbook_can_be_written_to_parquet(tmp_path):
    # pandas writes DataFrame.attrs into Parquet as JSON: the sheet's row map must be plain data
    rows = [["t"], ["area_id", "x"], ["A", 1], [], ["B", 2]]
    df, _ = read_table(_book(tmp_path / "p.xlsx", {"s": rows}), what="areas")
    info = df.attrs["riskmodel.sheet_rows"]
    assert [info.row(i) for i in range(info.n)] == [3, 5] and info.letters == ["A", "B"]
    df.to_parquet(tmp_path / "p.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "p.parquet"), df, check_dtype=False)
