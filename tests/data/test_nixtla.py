"""The Nixtla long format (unique_id, ds, y) read directly by every command that reads counts (issue 15.8)."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.conftest import SAMPLE

from riskmodel.cli import main
from riskmodel.data import load_panel
from riskmodel.data.columns import COLUMNS_READ, map_columns, to_nixtla_forecast
from riskmodel.data.loading import DataSource, load_source
from riskmodel.errors import InputError

AREAS = ["ZH-XZ-XW", "ZH-XZ-GB", "ZH-DM-BJ"]
FC = ["forecast", "--h", "2", "--model", "snaive", "--no-track"]


@pytest.fixture(scope="module")
def three() -> pd.DataFrame:
    """Three monthly series of the sample city (one category), riskmodel's shape."""
    df = pd.read_csv(SAMPLE / "counts_monthly.csv")
    return df[df["area_id"].isin(AREAS) & df["category"].eq("fires")].reset_index(drop=True)


def _forecast(tmp_path, counts, *extra: str) -> pd.DataFrame:
    out = tmp_path / f"fc_{counts.stem}.csv"
    assert main([*FC, "--counts", str(counts), "--out", str(out), *extra]) == 0
    return pd.read_csv(out)


def test_nixtla_csv_forecasts_as_the_riskmodel_table(three, tmp_path, capsys):
    ref_file, nx_file = tmp_path / "rm.csv", tmp_path / "nx.csv"
    three.to_csv(ref_file, index=False)
    pd.DataFrame({"unique_id": three["area_id"], "ds": three["period"], "y": three["count"]}).to_csv(nx_file,
                                                                                                      index=False)
    ref = _forecast(tmp_path, ref_file)
    nx = _forecast(tmp_path, nx_file)
    err = capsys.readouterr().err
    assert ("read the Nixtla long format (unique_id, ds, y): unique_id as area_id, ds as period, y as count; "
            "category 'all' for every series") in err
    assert len(ref) == 6 and set(nx["category"]) == {"all"}
    pd.testing.assert_frame_equal(nx.drop(columns="category"), ref.drop(columns="category"))


def test_split_unique_id_gives_the_same_bytes(three, tmp_path, capsys):
    ref_file, nx_file = tmp_path / "rm.csv", tmp_path / "nx.csv"
    three.to_csv(ref_file, index=False)
    pd.DataFrame({"unique_id": three["area_id"] + "/" + three["category"], "ds": three["period"],
                  "y": three["count"]}).to_csv(nx_file, index=False)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main([*FC, "--counts", str(ref_file), "--out", str(a)]) == 0
    assert main([*FC, "--counts", str(nx_file), "--out", str(b), "--columns", "unique_id=area_id/category"]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert "unique_id split on '/' into area_id and category" in capsys.readouterr().err


def test_statsforecast_parquet_with_timestamps_float_y_and_exogenous_columns(three, tmp_path, capsys):
    nx = pd.DataFrame({"unique_id": three["area_id"], "ds": pd.to_datetime(three["period"]),
                       "y": three["count"].astype("float64"), "temperature": 21.5, "holiday": 0})
    assert str(nx["ds"].dtype).startswith("datetime64")
    f = tmp_path / "sf.parquet"
    nx.to_parquet(f, index=False)
    ref_file = tmp_path / "rm.csv"
    three.to_csv(ref_file, index=False)
    out, ref = _forecast(tmp_path, f), _forecast(tmp_path, ref_file)
    pd.testing.assert_frame_equal(out.drop(columns="category"), ref.drop(columns="category"))
    assert ("ignored column(s) temperature, holiday (exogenous variables: riskmodel's count models use none)"
            in capsys.readouterr().err)


def test_y_that_is_not_a_whole_number_is_refused(three, tmp_path, capsys):
    nx = pd.DataFrame({"unique_id": three["area_id"], "ds": three["period"], "y": three["count"].astype(float)})
    nx.loc[3, "y"] = 2.5
    f = tmp_path / "nx.csv"
    nx.to_csv(f, index=False)
    assert main([*FC, "--counts", str(f), "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "value is not a count" in err and "line 5 ('2.5')" in err
    assert not (tmp_path / "o.csv").exists()


def test_month_end_dates_point_to_align_dates_and_then_read(three, tmp_path, capsys):
    """pandas' "M" frequency dates months by their last day, as many statsforecast examples do."""
    ds = (pd.to_datetime(three["period"]) + pd.offsets.MonthEnd(0)).dt.strftime("%Y-%m-%d")
    f = tmp_path / "me.csv"
    pd.DataFrame({"unique_id": three["area_id"], "ds": ds, "y": three["count"]}).to_csv(f, index=False)
    assert main([*FC, "--counts", str(f), "--out", str(tmp_path / "o.csv")]) == 2
    assert "--freq M with --align-dates" in capsys.readouterr().err
    assert main([*FC, "--counts", str(f), "--out", str(tmp_path / "o.csv"), "--freq", "M", "--align-dates"]) == 0


def test_ambiguous_and_unsplittable_tables_are_refused(three, tmp_path, capsys):
    both = pd.DataFrame({"unique_id": three["area_id"], "ds": three["period"], "y": three["count"],
                         "period": three["period"]})
    with pytest.raises(InputError, match="both the Nixtla long format's columns .* ds and period"):
        load_panel(both)
    ids = three["area_id"] + "/" + three["category"]
    ids.iloc[[2, 7]] = ["ZH-XZ-XW", "a/b/c"]
    f = tmp_path / "bad.csv"
    pd.DataFrame({"unique_id": ids, "ds": three["period"], "y": three["count"]}).to_csv(f, index=False)
    assert main([*FC, "--counts", str(f), "--out", str(tmp_path / "o.csv"),
                 "--columns", "unique_id=area_id/category"]) == 2
    err = capsys.readouterr().err
    assert "does not split on '/' into exactly two non-empty parts" in err
    assert "line 4 ('ZH-XZ-XW'), line 9 ('a/b/c')" in err
    # a separator of letters, digits or _ is not one: the target is refused as an unknown column
    assert main([*FC, "--counts", str(f), "--out", str(tmp_path / "o.csv"),
                 "--columns", "unique_id=area_id_category"]) == 2
    assert "'area_id_category' is not a column riskmodel reads here" in capsys.readouterr().err


def test_a_category_column_is_used_and_other_tables_are_untouched(three):
    nx = pd.DataFrame({"unique_id": three["area_id"], "category": three["category"], "ds": three["period"],
                       "y": three["count"]})
    out, note = map_columns(nx, source="f.csv")
    assert list(out.columns) == ["area_id", "category", "period", "count"] and set(out["category"]) == {"fires"}
    assert "category 'all'" not in note and note.startswith("note: f.csv: read the Nixtla long format")
    assert map_columns(three, source="f.csv") == (three, "")
    # a split on any header, outside the Nixtla format
    s = three.assign(series=three["category"] + "|" + three["area_id"]).drop(columns=["area_id", "category"])
    out, note = map_columns(s, mapping={"series": "category|area_id"}, source="f.csv")
    pd.testing.assert_frame_equal(out[["area_id", "category", "period", "count"]], three)
    assert "series split on '|' into category and area_id (as mapped" in note


def test_validate_reads_nixtla(three, tmp_path, capsys):
    f = tmp_path / "nx.csv"
    pd.DataFrame({"unique_id": three["area_id"], "ds": three["period"], "y": three["count"]}).to_csv(f, index=False)
    assert main(["validate", "--counts", str(f)]) == 0
    out = capsys.readouterr()
    assert "OK - 288 rows, 3 series, frequency M" in out.out and "Nixtla long format" in out.err


def test_forecast_table_in_statsforecast_shape(three, tmp_path):
    f = tmp_path / "nx.csv"
    pd.DataFrame({"unique_id": three["area_id"], "ds": three["period"], "y": three["count"]}).to_csv(f, index=False)
    fc = _forecast(tmp_path, f)
    wide = to_nixtla_forecast(fc)
    assert list(wide.columns) == ["unique_id", "ds", "snaive", "snaive-lo-95", "snaive-lo-80", "snaive-hi-80",
                                  "snaive-hi-95", *(f"snaive-q-{p}" for p in (5, 10, 25, 50, 75, 90, 95))]
    assert sorted(wide["unique_id"].unique()) == sorted(AREAS) and len(wide) == 6  # ids as they were read
    row = fc[(fc["area_id"] == "ZH-XZ-XW") & (fc["period"] == "2022-02-01")].iloc[0]
    got = wide[(wide["unique_id"] == "ZH-XZ-XW") & (wide["ds"] == "2022-02-01")].iloc[0]
    assert (got["snaive"], got["snaive-lo-80"], got["snaive-hi-95"]) == (row["mean"], row["lo_80"], row["hi_95"])
    assert (got["snaive-q-5"], got["snaive-q-50"]) == (row["q-5"], row["median"])
    # the seasonal naive repeats the same month a year before
    assert got["snaive"] == three[(three["area_id"] == "ZH-XZ-XW") & (three["period"] == "2021-02-01")]["count"].item()
    split = to_nixtla_forecast(fc.assign(category="fires"))
    assert sorted(split["unique_id"].unique()) == sorted(a + "/fires" for a in AREAS)
    with pytest.raises(InputError, match="not a forecast table: no column"):
        to_nixtla_forecast(three)


def test_split_mapping_mistakes_are_named():
    df = pd.DataFrame({"unique_id": ["a/b"], "ds": ["2020-01-01"], "y": ["1"]})
    with pytest.raises(InputError, match="header 'uid' is not in the file; its headers: unique_id, ds, y"):
        map_columns(df, mapping={"uid": "area_id/category"}, source="f.csv")
    with pytest.raises(InputError, match="two headers map to 'category'"):
        map_columns(df, mapping={"unique_id": "area_id/category", "ds": "category"}, source="f.csv")


def test_the_mapping_applied_is_given_as_columns_would_say_it(three):
    """attrs[COLUMNS_READ] read back as the explicit mapping gives the same table (init writes it to a config)."""
    nx = pd.DataFrame({"unique_id": three["area_id"] + "/" + three["category"], "ds": three["period"],
                       "y": three["count"], "temp": 1.0})
    for mapping, want in [(None, {"unique_id": "area_id", "ds": "period", "y": "count"}),
                          ({"unique_id": "area_id/category"}, {"unique_id": "area_id/category", "ds": "period",
                                                               "y": "count"})]:
        out, _ = map_columns(nx, mapping=mapping, source="f.csv")
        assert out.attrs[COLUMNS_READ] == want and COLUMNS_READ not in nx.attrs
        again, _ = map_columns(nx, mapping=out.attrs[COLUMNS_READ], source="f.csv")
        pd.testing.assert_frame_equal(again, out)
    zh = three.rename(columns={"area_id": "街道", "count": "数量"})
    assert map_columns(zh, source="f.csv")[0].attrs[COLUMNS_READ] == {"街道": "area_id", "数量": "count"}


def test_a_study_reads_nixtla_with_a_split_in_its_data_columns(three, tmp_path):
    f = tmp_path / "nx.csv"
    pd.DataFrame({"unique_id": three["area_id"] + "/" + three["category"], "ds": three["period"],
                  "y": three["count"]}).to_csv(f, index=False)
    panel = load_source(DataSource(counts=str(f), columns=(("unique_id", "area_id/category"),)))
    pd.testing.assert_frame_equal(panel.counts, load_panel(three).counts)
    assert "unique_id split on '/' into area_id and category" in " ".join(panel.meta["notes"])
