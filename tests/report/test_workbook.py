"""The appendix's tables as an Excel workbook: sheets, labels, formats, suppression, bytes, text safety."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

import openpyxl
import pandas as pd
import pytest

from riskmodel.report.appendix import TEXT, StudyData, _fmt_count, render_html
from riskmodel.report.workbook import (
    WORKBOOK_TEXT,
    appendix_workbook,
    check_formats,
    write_appendix_workbook,
)
from riskmodel.results import text_width

HOSTILE = '=HYPERLINK("http://evil.example/x","点我")'


@dataclass
class Study:
    """A small study in memory (the :class:`~riskmodel.report.appendix.StudyOutputs` view)."""

    tables: dict[tuple[str, str], pd.DataFrame]
    run_id: str = "r0"
    name: str = "mini"
    tags: dict = field(default_factory=dict)
    config: dict = field(default_factory=lambda: {"data": {"counts": "data/sample/counts_monthly.csv"},
                                                  "steps": {"forecast": {"freq": "M", "h": 2}}})

    @property
    def steps(self) -> dict:
        return {s: None for s, _ in self.tables}

    def table(self, step: str, name: str) -> pd.DataFrame | None:
        t = self.tables.get((step, name))
        return None if t is None else t.copy()

    def images(self, step: str, pattern: str = "*.png", limit: int | None = None) -> list[bytes]:  # noqa: ARG002
        return []


def _study(area_name: str = "香湾街道") -> tuple[Study, StudyData]:
    fc = pd.DataFrame({
        "area_id": ["D1", "S1", "D1", "S1"] * 2, "level": ["district", "area"] * 4,
        "category": ["fires", "fires", "alerts", "alerts"] * 2,
        "period": ["2022-01-01"] * 4 + ["2022-02-01"] * 4, "model": "auto",
        "mean": [40.0, 2.25, 1900.0, 80.0, 41.0, 3.0, 2100.0, 82.0],
        "lo_80": [30, 0, 1800, 70, 31, 1, 2000, 71], "hi_80": [50, 4, 2000, 90, 51, 5, 2200, 93],
        "lo_95": [25, 0, 1750, 60, 26, 0, 1950, 61], "hi_95": [55, 6, 2050, 100, 56, 7, 2250, 104]})
    warn = pd.DataFrame({"area_id": ["S1", "S1"], "category": ["alerts", "fires"], "period": ["2021-12-20"] * 2,
                         "count": [30, 3], "expected": [12.5, 0.4], "upperbound": [22.0, 2.0], "alarm": [True, True],
                         "severity": ["red", "yellow"], "severity_zh": ["红色", "黄色"]})
    scores = pd.DataFrame({"area_id": ["S1", "D1"], "level": ["area", "district"], "code": ["Index", "Index"],
                           "period": ["2021-12-01"] * 2, "score": [71.25, 64.5], "rank": [1, 2], "grade": ["A", "B"]})
    ranks = pd.DataFrame({"area_id": ["S1", "D1"], "nominal": [1, 2], "median": [1.0, 2.0], "q05": [1, 1], "q95": [2, 3]})
    claims = pd.DataFrame({"claim_id": ["C1"], "area_id": ["S1"], "category": ["alerts"], "reported_change": [-0.354],
                           "observed_change": [-0.38], "effect": [-0.25], "effect_lo95": [-0.33],
                           "effect_hi95": [-0.16], "verdict_en": ["not consistent"], "verdict_zh": ["不一致"]})
    study = Study({("forecast", "forecast.csv"): fc, ("alerts", "alerts_warnings.csv"): warn,
                   ("index", "scores.csv"): scores, ("sensitivity", "rank_stats.csv"): ranks,
                   ("claims", "claims_summary.csv"): claims})
    areas = pd.DataFrame({"area_id": ["C", "D1", "S1"], "name": ["全市", "香洲区", area_name],
                          "name_en": ["City", "Xiangzhou", "Xiangwan"], "parent_id": [None, "C", "D1"],
                          "level": ["city", "district", "area"]})
    cats = pd.DataFrame({"category": ["fires", "alerts"], "name_zh": ["火灾", "警情"], "name_en": ["Fires", "Alerts"]})
    hist = pd.DataFrame({"area_id": ["D1", "S1", "D1", "S1"] * 2, "level": ["district", "area"] * 4,
                         "category": ["fires", "fires", "alerts", "alerts"] * 2,
                         "period": pd.to_datetime(["2021-01-01"] * 4 + ["2021-02-01"] * 4),
                         "count": [38, 4, 1500, 60, 39, 1, 1600, 70]})
    return study, StudyData(areas, cats, hist)


def _book(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


def _table(ws) -> tuple[int, list[str], list[list]]:  # noqa: ANN001 - an openpyxl sheet
    """The header row (the row above the frozen pane), its labels and the rows below it."""
    header = int(ws.freeze_panes[1:]) - 1
    rows = [list(r) for r in ws.iter_rows(min_row=header, values_only=True)]
    return header, [str(h) for h in rows[0] if h is not None], rows[1:]


def test_sheets_and_headers_are_the_documents_labels_in_each_language() -> None:
    study, sd = _study()
    for lang in ("zh", "en"):
        T, W = TEXT[lang], WORKBOOK_TEXT[lang]
        wb = _book(appendix_workbook(study, lang=lang, data=sd))
        assert wb.sheetnames == [W["overview"], T["forecast"], T["forecast_total"], T["warnings"], T["index"],
                                 T["claims"], T["methods"]]
        ws = wb[T["forecast"]]
        assert ws["A1"].value == T["forecast"] and ws["A2"].value == W["forecast_note"]
        _, header, rows = _table(ws)
        assert header[:4] == [("区" if lang == "zh" else "District"), T["area"], T["category"], T["period"]]
        assert header[4] == W["mean"] and len(rows) == 8
        _, header, _ = _table(wb[T["warnings"]])
        assert header == [T[k] for k in ("area", "category", "period", "count", "expected", "upper", "severity")]
        _, header, rows = _table(wb[T["claims"]])
        assert header[0] == T["claim"] and header[-1] == T["verdict"]
        assert rows[0][-1] == ("不一致" if lang == "zh" else "not consistent")
    # the zh workbook has no English label or name where the document has Chinese
    wb = _book(appendix_workbook(study, lang="zh", data=sd))
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                assert v not in ("Xiangwan", "Fires", "Alerts", "red", "Area", "Category"), (ws.title, v)
    assert _table(wb[TEXT["zh"]["forecast"]])[2][0][1:3] == ["香洲区", "火灾"]  # the district first, in the document's order


def test_header_frozen_number_formats_and_dates() -> None:
    study, sd = _study()
    wb = _book(appendix_workbook(study, lang="zh", data=sd))
    T, W = TEXT["zh"], WORKBOOK_TEXT["zh"]
    for ws in wb.worksheets:
        header = int(ws.freeze_panes[1:]) - 1
        assert ws.freeze_panes == f"A{header + 1}", ws.title  # panes frozen just below the header row
        assert ws.cell(header, 1).font.b, ws.title  # the header row is bold
    ws = wb[T["forecast"]]
    header, labels, _ = _table(ws)
    col = {h: i + 1 for i, h in enumerate(labels)}
    first = ws.cell(header + 1, col[T["period"]])
    assert first.is_date and first.value == dt.datetime(2022, 1, 1) and first.number_format == 'yyyy"年"m"月"'
    big = ws.cell(header + 3, col[W["mean"]])  # the district's fires in 2 months, then its alerts: 1,900.0
    assert big.value == 1900 and big.number_format == "#,##0"  # as the document: 1,900
    ws = wb[T["forecast_total"]]
    header, labels, rows = _table(ws)
    col = {h: i + 1 for i, h in enumerate(labels)}
    ly = ws.cell(header + 2, col[T["last_year"]])  # the district's fires (38 + 39), then its alerts
    assert ly.value == 1500 + 1600 and ly.number_format == "#,##0"
    ch = ws.cell(header + 2, col[T["change"]])
    assert ch.value == pytest.approx((1900 + 2100) / 3100 - 1) and ch.number_format == "0.0%"
    ws = wb[T["claims"]]
    header, labels, rows = _table(ws)
    assert ws.cell(header + 1, 2).value == -0.354 and ws.cell(header + 1, 2).number_format == "0.0%"
    ws = wb[T["warnings"]]
    header, _, _ = _table(ws)
    assert ws.cell(header + 1, 3).is_date and ws.cell(header + 1, 3).number_format == "yyyy-mm-dd"
    ws = wb[T["index"]]
    header, labels, rows = _table(ws)
    assert rows[0][:3] == ["香湾街道", 71.25, 1] and rows[0][4:6] == [1, 2]  # the rank interval as two numbers


def test_columns_fit_cjk_text() -> None:
    study, sd = _study(area_name="一二三四五六七八九十街道")  # 12 wide characters: 24 Latin widths
    wb = _book(appendix_workbook(study, lang="zh", data=sd))
    ws = wb[TEXT["zh"]["forecast"]]
    assert text_width("一二三四五六七八九十街道") == 24 and text_width("abc") == 3
    assert ws.column_dimensions["C"].width < 24 <= ws.column_dimensions["B"].width < 30
    header, labels, _ = _table(ws)
    # a number column is as wide as its header (4 wide characters) and its widest number (1,900.0)
    assert ws.column_dimensions["E"].width >= max(text_width(labels[4]), 7)


def test_suppression_is_the_documents() -> None:
    study, sd = _study()
    wb = _book(appendix_workbook(study, lang="zh", data=sd, suppress_below=5))
    html = render_html(study, lang="zh", data=sd, suppress_below=5)
    T, W = TEXT["zh"], WORKBOOK_TEXT["zh"]
    assert wb[W["overview"]]["A2"].value == T["simulated"]
    assert T["suppressed"].format(n=5) in [ws.value for ws in wb[W["overview"]]["A"]]
    cells = [v for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row]
    # the street's fires (2.25 and 3 forecast, 0-7 bounds, last year 4+1, a warning of 3) are all hidden
    assert "<5" in cells
    assert "&lt;5 [&lt;5–&lt;5] (&lt;5–6)" in html  # the document shows the bounds >= 5 (6) and hides the rest
    _, labels, rows = _table(wb[T["forecast"]])
    street_fires = [r for r in rows if r[1] == "香湾街道" and r[2] == "火灾"]
    assert street_fires[0][4:9] == ["<5", "<5", "<5", "<5", 6]
    assert street_fires[1][4:9] == ["<5", "<5", 5, "<5", 7]
    _, _, totals = _table(wb[T["forecast_total"]])
    st = next(r for r in totals if r[1] == "香湾街道" and r[2] == "火灾")
    assert st[3:5] == [5, 5.25]  # last year 4 + 1 = 5 and the forecast total 5.25: not below 5, shown
    _, _, warn = _table(wb[T["warnings"]])
    assert [r[3] for r in warn] == [30, "<5"]
    # every forecast cell of the document is the workbook's row, formatted: the same values hidden, no other
    for r in rows:
        m, lo80, hi80, lo95, hi95 = (v if isinstance(v, str) else _fmt_count(v, None) for v in r[4:9])
        assert f"{m} [{lo80}–{hi80}] ({lo95}–{hi95})".replace("<", "&lt;") in html, r
    for r in totals:
        assert "".join(f"<td>{_fmt_count(v, None) if not isinstance(v, str) else v}</td>" for v in r[3:5]).replace(
            "<5<", "&lt;5<") in html, r
    hidden = {2.25, 3.0}  # the street's fires forecast in January and its warning count
    assert not hidden & {v for ws in (wb[T["forecast"]], wb[T["warnings"]]) for row in ws.iter_rows(values_only=True)
                         for v in row if isinstance(v, int | float)}


def test_same_bytes_for_the_same_study(tmp_path) -> None:
    study, sd = _study()
    a = write_appendix_workbook(study, tmp_path / "a" / "appendix_zh.xlsx", lang="zh", data=sd, suppress_below=5)
    b = write_appendix_workbook(study, tmp_path / "b" / "appendix_zh.xlsx", lang="zh", data=sd, suppress_below=5)
    assert a.read_bytes() == b.read_bytes()
    assert _book(a.read_bytes()).properties.created == dt.datetime(2022, 1, 1)  # the first forecast period
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["appendix_zh.xlsx"]  # no temporary file left


def test_formula_like_names_are_text() -> None:
    study, sd = _study(area_name=HOSTILE)
    content = appendix_workbook(study, lang="zh", data=sd)
    wb = _book(content)
    found = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == HOSTILE]
    assert found and all(c.data_type == "s" for c in found)
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as z:
        sheets = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert b"<f>" not in sheets  # no formula anywhere


def test_unknown_format_is_refused() -> None:
    from riskmodel.errors import InputError

    assert check_formats(["html", "xlsx"]) == ("html", "xlsx")
    with pytest.raises(InputError, match="valid: html, pdf, xlsx"):
        check_formats(("docx",))


def test_the_study_writes_the_workbook_beside_the_document(tmp_path) -> None:
    from pathlib import Path

    from riskmodel.pipeline import run_experiment
    from riskmodel.tracking import Tracker

    root = Path(__file__).resolve().parents[2]
    cfg = tmp_path / "exp.toml"
    cfg.write_text(f'[study]\nname = "off"\nout = "{tmp_path / "out"}"\n[data]\n'
                   f'counts = "{root / "data/sample/counts_monthly.csv"}"\nfreq = "M"\n'
                   f'areas = "{root / "data/sample/areas.csv"}"\n'
                   '[steps.appendix]\nformats = ["xlsx"]\nlangs = ["zh", "en"]\n', encoding="utf-8")
    run_experiment(cfg, tracker=Tracker(enabled=False), progress=False)
    files = sorted(p.name for p in (tmp_path / "out" / "appendix").iterdir())
    assert files == ["appendix_en.xlsx", "appendix_zh.xlsx"]  # no HTML or PDF asked for, none drawn
    wb = _book((tmp_path / "out" / "appendix" / "appendix_zh.xlsx").read_bytes())
    assert wb.sheetnames == [WORKBOOK_TEXT["zh"]["overview"], TEXT["zh"]["methods"]]  # the sections the study has
    assert wb[WORKBOOK_TEXT["zh"]["overview"]]["B5"].value == "not tracked"


def test_a_table_too_long_for_a_sheet_is_refused(tmp_path, monkeypatch) -> None:
    import riskmodel.results as results
    from riskmodel.data.readers import write_table_atomic
    from riskmodel.errors import InputError

    monkeypatch.setattr(results, "XLSX_MAX_ROWS", 2)
    with pytest.raises(InputError, match="3 rows; an Excel sheet holds 2 .*csv or parquet"):
        write_table_atomic(pd.DataFrame({"a": [1, 2, 3]}), tmp_path / "t.xlsx")
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file left


def test_riskmodel_appendix_writes_the_workbook_of_a_tracked_run(tmp_path, capsys) -> None:
    from riskmodel.cli import main
    from riskmodel.tracking import Tracker

    study, sd = _study(area_name=HOSTILE)
    t = Tracker(experiment="workbook-test")
    with t.run("study:mini") as parent:
        parent.log_text('[study]\nname = "mini"\n[steps.forecast]\nfreq = "M"\n', "experiment.toml")
        with t.run("mini:forecast", tags={"riskmodel.step": "forecast"}) as r:
            r.log_table(study.table("forecast", "forecast.csv"), "forecast.csv")
        with t.run("mini:appendix", tags={"riskmodel.step": "appendix"}) as r:
            for name, table in (("areas.csv", sd.areas), ("categories.csv", sd.categories),
                                ("history.csv", sd.history.assign(period=sd.history["period"].dt.strftime("%Y-%m-%d")))):
                r.log_table(table, name)
    out = tmp_path / "app"
    assert main(["appendix", "--run", parent.run_id, "--out", str(out), "--format", "xlsx",
                 "--suppress-below", "5"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["appendix_zh.xlsx"]
    wb = _book((out / "appendix_zh.xlsx").read_bytes())
    _, _, rows = _table(wb[TEXT["zh"]["forecast"]])
    street = [r for r in rows if r[1] == HOSTILE]
    assert street and street[0][4] == "<5"  # names from the run's logged tables, small counts hidden
    assert main(["appendix", "--run", parent.run_id, "--out", str(out), "--format", "docx"]) == 2
    assert "valid: html, pdf, xlsx" in capsys.readouterr().err


def test_the_median_follows_the_mean_where_it_differs() -> None:
    """Issue 18, item 1: the headline stays the mean; the median is shown beside it only where it reads
    differently, in the document, and is a column of the workbook's forecast sheet."""
    study, sd = _study()
    fc = study.table("forecast", "forecast.csv")
    # medians: equal to the mean for the big series, 2 (vs mean 2.25) and 3 (= mean 3.0) for the street's fires
    fc["median"] = [40.0, 2.0, 1900.0, 80.0, 41.0, 3.0, 2100.0, 82.0]
    study.tables[("forecast", "forecast.csv")] = fc
    html = render_html(study, lang="en", data=sd)
    assert "2.2 (median 2) [0–4] (0–6)" in html
    assert "3 (median" not in html and "40 (median" not in html
    wb = _book(appendix_workbook(study, lang="en", data=sd))
    _, labels, rows = _table(wb[TEXT["en"]["forecast"]])
    assert labels[4:6] == [WORKBOOK_TEXT["en"]["mean"], WORKBOOK_TEXT["en"]["median"]]
    street_fires = [r for r in rows if r[1] == "Xiangwan" and r[2] == "Fires"]
    assert [r[4:6] for r in street_fires] == [[2.25, 2], [3, 3]]
