"""Bad input gets one clear message per problem, naming file, column and rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmodel.cli import main
from riskmodel.data import IncidentPanel, read_table, validate_counts
from riskmodel.errors import InputError


def _write(tmp_path: Path, text: str, name: str = "counts.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


GOOD = "area_id,category,period,count\na,alerts,2020-01-01,3\na,alerts,2020-01-02,0\nb,alerts,2020-01-01,5\n"


def test_good_file_reads_and_types(tmp_path):
    panel = IncidentPanel.from_counts(_write(tmp_path, GOOD))
    c = panel.counts
    assert panel.freq == "D"
    assert c["count"].dtype == "int64"
    assert pd.api.types.is_datetime64_any_dtype(c["period"])
    assert c["count"].tolist() == [3, 0, 5]


@pytest.mark.parametrize(
    ("text", "column", "fragment", "line"),
    [
        ("area_id,category,period,count\na,x,2020-02-30,1\n", "period", "not a date that exists", 2),
        ("area_id,category,period,count\na,x,2020-01-01,-1\n", "count", "not a count", 2),
        ("area_id,category,period,count\na,x,2020-01-01,1\na,x,2020-01-02,2.5\n", "count", "not a count", 3),
        ("area_id,category,period,count\na,x,2020-01-01,many\n", "count", "not a count", 2),
        ("area_id,category,period,count\n,x,2020-01-01,1\n", "area_id", "empty", 2),
        ("area_id,category,period,count\na,x,2020-01-01,1\na,x,2020-01-01,2\n", "area_id, category, period", "duplicate", 2),
    ],
)
def test_each_problem_names_column_and_line(tmp_path, text, column, fragment, line):
    p = _write(tmp_path, text)
    with pytest.raises(InputError) as err:
        IncidentPanel.from_counts(p)
    msg = str(err.value)
    assert str(p) in msg
    assert f"column '{column}'" in msg
    assert fragment in msg
    assert f"line {line}" in msg


def test_missing_columns_are_listed(tmp_path):
    p = _write(tmp_path, "area,category,date,count\na,x,2020-01-01,1\n")
    with pytest.raises(InputError, match=r"missing column\(s\) area_id, period"):
        IncidentPanel.from_counts(p)


def test_empty_and_header_only_files(tmp_path):
    with pytest.raises(InputError, match="empty"):
        IncidentPanel.from_counts(_write(tmp_path, ""))
    with pytest.raises(InputError, match="no data rows"):
        IncidentPanel.from_counts(_write(tmp_path, "area_id,category,period,count\n", "h.csv"))


def test_periods_must_align_with_frequency(tmp_path):
    p = _write(tmp_path, "area_id,category,period,count\na,x,2020-01-01,1\na,x,2020-02-15,1\n")
    with pytest.raises(InputError, match="not the first day of a month") as err:
        IncidentPanel.from_counts(p, freq="M")
    assert "line 3" in str(err.value)
    q = _write(tmp_path, "area_id,category,period,count\na,x,2020-01-06,1\na,x,2020-01-14,1\n", "w.csv")
    with pytest.raises(InputError, match="Monday"):
        IncidentPanel.from_counts(q, freq="W")


def test_unknown_area_ids_against_areas_file(tmp_path):
    areas = _write(tmp_path, "area_id,name\na,甲\n", "areas.csv")
    with pytest.raises(InputError, match="not in the areas table: b"):
        IncidentPanel.from_counts(_write(tmp_path, GOOD), areas=areas)


def test_many_problems_reported_at_once_with_five_rows_max(tmp_path):
    rows = "".join(f"a,x,2020-01-{d:02d},-{d}\n" for d in range(1, 10))
    p = _write(tmp_path, "area_id,category,period,count\n" + rows + "b,y,2021-02-29,1\n")
    with pytest.raises(InputError) as err:
        IncidentPanel.from_counts(p)
    e = err.value
    assert len(e.problems) == 2
    count_problem = next(pr for pr in e.problems if pr.column == "count")
    assert "9 rows" in str(count_problem) and "and 4 more" in str(count_problem)
    assert str(count_problem).count("line ") == 5


def test_gbk_file_is_read_with_a_note(tmp_path):
    text = "area_id,name,parent_id\nXW,香湾街道,\nGB,拱北街道,\n"
    p = _write(tmp_path, text, "areas_gbk.csv", encoding="gbk")
    df, src = read_table(p, what="areas")
    assert df["name"].tolist() == ["香湾街道", "拱北街道"]
    assert src.encoding == "gb18030" and "GBK" in src.note


def test_undecodable_file_says_so(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_bytes(b"area_id,category,period,count\n\xff\xfe\xfa,x,2020-01-01,1\n")
    with pytest.raises(InputError, match="neither UTF-8 nor GBK"):
        read_table(p)


def test_validate_command_lists_every_problem_and_exits_2(tmp_path, capsys):
    p = _write(tmp_path, "area_id,category,period,count\na,x,2020-02-30,1\nb,x,2020-01-01,-4\n")
    code = main(["validate", "--counts", str(p)])
    err = capsys.readouterr().err
    assert code == 2
    assert "2 problems" in err and "2020-02-30" in err and "'-4'" in err
    assert "Traceback" not in err


def test_validate_command_ok(tmp_path, capsys):
    code = main(["validate", "--counts", str(_write(tmp_path, GOOD))])
    assert code == 0
    assert "OK" in capsys.readouterr().out


def test_inputs_are_not_modified(tmp_path):
    p = _write(tmp_path, GOOD)
    before = p.read_bytes()
    IncidentPanel.from_counts(p).complete().resample("M")
    assert p.read_bytes() == before


# --------------------------------------------------------------- property-based
cells = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-10**6, max_value=10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["2020-02-30", "2020-13-01", "", " ", "NA", "nan", "1e3", "０", "香湾"]),
)


@st.composite
def malformed_tables(draw):
    cols = draw(
        st.lists(
            st.sampled_from(["area_id", "category", "period", "count", "extra", "Count", "日期"]),
            min_size=0,
            max_size=6,
            unique=True,
        )
    )
    n = draw(st.integers(min_value=0, max_value=6))
    rows = [[draw(cells) for _ in cols] for _ in range(n)]
    return cols, rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=malformed_tables(), freq=st.sampled_from([None, "D", "W", "M"]))
def test_random_malformed_tables_give_clean_errors(tmp_path, table, freq, capsys):
    cols, rows = table
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if cols:
        w.writerow(cols)
    w.writerows(rows)
    p = tmp_path / "random.csv"
    p.write_text(buf.getvalue(), encoding="utf-8")
    args = ["validate", "--counts", str(p)] + (["--freq", freq] if freq else [])
    code = main(args)
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err
    if code == 2:
        assert err.startswith("riskmodel: error:")


@settings(max_examples=60, deadline=None)
@given(
    df=st.lists(
        st.tuples(st.text(max_size=4), st.text(max_size=4), cells, cells), min_size=1, max_size=8
    ).map(lambda r: pd.DataFrame(r, columns=["area_id", "category", "period", "count"]))
)
def test_validate_counts_never_raises_anything_but_input_error(df):
    try:
        out, problems = validate_counts(df, raise_on_error=False)
    except InputError:
        return
    if not problems:
        assert (out["count"] >= 0).all()
        assert out.duplicated(["area_id", "category", "period"]).sum() == 0
