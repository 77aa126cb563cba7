"""Users' headers -> riskmodel's columns: --columns, [data.columns], and the common Chinese headers (issue 15.2)."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.conftest import SAMPLE

from riskmodel.cli import main
from riskmodel.data import load_panel
from riskmodel.data.columns import map_columns, parse_columns
from riskmodel.data.loading import DataSource, load_source
from riskmodel.errors import InputError

ZH = {"area_id": "街道", "category": "类别", "period": "日期", "count": "数量"}


@pytest.fixture(scope="module")
def monthly() -> pd.DataFrame:
    df = pd.read_csv(SAMPLE / "counts_monthly.csv", dtype=str)
    keep = df["area_id"].isin(df["area_id"].unique()[:3]) & df["category"].isin(["fires", "disputes"])
    return df[keep].reset_index(drop=True)


def test_chinese_headers_are_read_and_said(monthly, tmp_path):
    f = tmp_path / "警情.csv"
    monthly.rename(columns=ZH).to_csv(f, index=False, encoding="gbk")
    panel = load_panel(f)
    ref = load_panel(monthly)
    pd.testing.assert_frame_equal(panel.counts, ref.counts)
    notes = " ".join(panel.meta["notes"])
    assert "read 街道 as area_id, 类别 as category, 日期 as period, 数量 as count (built-in headers" in notes


def test_forecast_from_a_gbk_chinese_header_file_equals_the_csv_path(monthly, tmp_path, capsys):
    zh, en = tmp_path / "zh.csv", tmp_path / "en.csv"
    monthly.rename(columns=ZH).to_csv(zh, index=False, encoding="gbk")
    monthly.to_csv(en, index=False)
    args = ["forecast", "--model", "snaive", "--h", "2", "--no-track"]
    assert main([*args, "--counts", str(zh), "--out", str(tmp_path / "zh_fc.csv")]) == 0
    err = capsys.readouterr().err
    assert "read 街道 as area_id" in err
    assert main([*args, "--counts", str(en), "--out", str(tmp_path / "en_fc.csv")]) == 0
    assert (tmp_path / "zh_fc.csv").read_bytes() == (tmp_path / "en_fc.csv").read_bytes()


def test_an_explicit_mapping_for_headers_riskmodel_does_not_know(monthly, tmp_path, capsys):
    own = {"area_id": "镇街编码", "category": "警情大类", "period": "统计月份", "count": "警情数量"}
    f = tmp_path / "own.csv"
    monthly.rename(columns=own).to_csv(f, index=False)
    assert main(["validate", "--counts", str(f)]) == 2
    assert "missing column(s)" in capsys.readouterr().err
    cols = ",".join(f"{v}={k}" for k, v in own.items())
    assert main(["validate", "--counts", str(f), "--columns", cols]) == 0
    cap = capsys.readouterr()
    assert "OK - 576 rows, 6 series, frequency M" in cap.out and "(as mapped;" in cap.err
    # the same mapping from a study's [data.columns] table
    panel = load_source(DataSource(counts=str(f), columns=tuple((v, k) for k, v in own.items())))
    assert len(panel.series_ids) == 6 and "read 镇街编码 as area_id" in " ".join(panel.meta["notes"])


def test_mapping_mistakes_are_refused_by_name(monthly):
    df = monthly.rename(columns=ZH)
    with pytest.raises(InputError, match="header '区县' is not in the file; its headers: 街道, 类别, 日期, 数量"):
        map_columns(df, mapping={"区县": "area_id"}, source="x.csv")
    with pytest.raises(InputError, match="'area' is not a column riskmodel reads here; valid: area_id"):
        map_columns(df, mapping={"街道": "area"}, source="x.csv")
    with pytest.raises(InputError, match="two headers map to 'period'"):
        map_columns(df, mapping={"日期": "period", "类别": "period"}, source="x.csv")
    both = df.assign(月份=df["日期"])
    with pytest.raises(InputError, match=r"several headers riskmodel knows as 'period' \(日期, 月份\).*--columns 日期=period"):
        map_columns(both, source="x.csv")
    # an explicit mapping settles it; riskmodel's own names are never replaced
    out, note = map_columns(both, mapping={"月份": "period"}, source="x.csv")
    assert "period" in out.columns and "日期" in out.columns and "as mapped, and by built-in headers" in note
    same, none = map_columns(monthly, source="x.csv")
    assert same is monthly and none == ""


def test_parse_columns():
    assert parse_columns("街道=area_id，类别=category") == {"街道": "area_id", "类别": "category"}
    assert parse_columns(None) == {} and parse_columns(" ") == {}
    for bad in ("街道", "=area_id", "街道=", "a=area_id,a=category"):
        with pytest.raises(InputError, match="--columns"):
            parse_columns(bad)
