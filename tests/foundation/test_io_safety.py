"""Output safety: inputs never replaced, writes whole even under Ctrl-C, spreadsheet-safe CSV
(riskmodel.io_safety, riskmodel.results.table_bytes; issue 16.4, 16.9, 16.11)."""

from __future__ import annotations

import gzip
import io
import os
import signal

import pandas as pd
import pytest

import riskmodel.io_safety as io_safety
from riskmodel.errors import InputError
from riskmodel.io_safety import (
    atomic_dir,
    atomic_path,
    check_writable,
    protecting_inputs,
    refuse_overwriting_inputs,
    spreadsheet_safe,
    written_files,
)
from riskmodel.results import Artifact, table_bytes, write_artifacts

HOSTILE = ["=cmd|' /C calc'!A0", "@SUM(1+1)", "+1+cmd|x", "-2+3", "\tTAB", "\rCR"]


def test_formula_like_text_is_prefixed_and_numbers_are_not() -> None:
    df = pd.DataFrame({
        "area_id": [*HOSTILE, "D1", "-", "a=b"],
        "text_numbers": ["-3", "+1.5e3", "-35.4%", "-inf", "7", "-0.5", "NaN", "1", "+2"],  # numbers written as text
        "count": [-3, -1, 0, 2, 5, -7, 1, 1, -2],  # numeric column: never changed
        "rate": [-0.5, 1.5, float("nan"), -1e-9, 0.0, 2.0, 3.0, 4.0, -5.0],
    })
    safe = spreadsheet_safe(df)
    assert safe["area_id"].tolist() == ["'" + v for v in HOSTILE] + ["D1", "'-", "a=b"]
    assert safe["text_numbers"].tolist() == df["text_numbers"].tolist()
    pd.testing.assert_series_equal(safe["count"], df["count"])
    pd.testing.assert_series_equal(safe["rate"], df["rate"])
    assert df["area_id"][0] == HOSTILE[0]  # the caller's table is not changed
    clean = df.drop(columns="area_id")
    assert spreadsheet_safe(clean) is clean  # nothing to do: no copy


def test_csv_artifacts_are_spreadsheet_safe_and_read_back_as_text(tmp_path) -> None:
    df = pd.DataFrame({"area_id": ["=cmd|' /C calc'!A0", "@SUM(1+1)", "ZH-XZ"], "count": [-3, 4, -5],
                       "=formula header": [1, 2, 3]})
    for name in ("t.csv", "t.csv.gz"):
        raw = table_bytes(df, name)
        text = (gzip.decompress(raw) if name.endswith(".gz") else raw).decode("utf-8")
        assert text.splitlines() == [
            "area_id,count,'=formula header",
            "'=cmd|' /C calc'!A0,-3,1",
            "'@SUM(1+1),4,2",
            "ZH-XZ,-5,3",
        ]
        back = pd.read_csv(io.StringIO(text))
        assert back["count"].dtype.kind == "i" and back["count"].tolist() == [-3, 4, -5]
    write_artifacts([Artifact("a.csv", df)], tmp_path)
    assert (tmp_path / "a.csv").read_bytes() == table_bytes(df, "a.csv")
    # Parquet keeps the values as they are (it is data, not a spreadsheet)
    assert pd.read_parquet(io.BytesIO(table_bytes(df, "t.parquet")))["area_id"].tolist() == df["area_id"].tolist()


def test_refuse_overwriting_inputs_sees_links_and_input_folders(tmp_path) -> None:
    inp = tmp_path / "counts.csv"
    inp.write_text("x\n")
    folder = tmp_path / "truth"
    folder.mkdir()
    sym, hard = tmp_path / "sym.csv", tmp_path / "hard.csv"
    sym.symlink_to(inp)
    os.link(inp, hard)
    for out in (inp, sym, hard, tmp_path / "." / "counts.csv"):
        with pytest.raises(InputError, match="--out is the input file given to --counts"):
            refuse_overwriting_inputs({"--out": out}, {"--counts": inp})
    with pytest.raises(InputError, match="lies inside the input folder given to --truth"):
        refuse_overwriting_inputs({"--out": folder / "a" / "b.csv"}, {"--truth": folder})
    with pytest.raises(InputError) as err:  # every clash at once
        refuse_overwriting_inputs({"--out": inp, "--out-dir": folder / "x"}, {"--counts": [inp], "--truth": folder})
    assert len(err.value.problems) == 2
    # an output beside the inputs, or a folder holding them, is fine; a missing input is its reader's business
    refuse_overwriting_inputs({"--out": tmp_path / "f.csv"}, {"--counts": inp, "--truth": folder})
    refuse_overwriting_inputs({"--out": tmp_path}, {"--counts": inp})
    refuse_overwriting_inputs({"--out": tmp_path / "gone.csv"}, {"--counts": tmp_path / "gone.csv"})


def test_a_commit_over_a_protected_input_writes_nothing(tmp_path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    inp = data / "metrics.csv"
    inp.write_text("original\n")
    link = tmp_path / "counts_link.csv"  # the input was given through a symlink
    link.symlink_to(inp)
    arts = [Artifact("forecasts.csv", pd.DataFrame({"a": [1]})), Artifact("metrics.csv", pd.DataFrame({"a": [2]}))]
    with protecting_inputs({"--counts": link}):
        with pytest.raises(InputError, match="would replace the input given to --counts"):
            write_artifacts(arts, data)
        with pytest.raises(InputError, match="would replace the input given to --counts"), atomic_path(inp) as tmp:
            tmp.write_text("new\n")
        write_artifacts(arts[:1], data)  # a new file beside the input is fine
    assert inp.read_text() == "original\n"
    assert sorted(p.name for p in data.iterdir()) == ["forecasts.csv", "metrics.csv"]
    assert not list(tmp_path.glob(".*"))  # no temporary debris
    write_artifacts(arts, data)  # no longer protected
    assert inp.read_text() == "a\n2\n"


def test_ctrl_c_during_a_folder_commit_is_held_until_every_file_is_in_place(tmp_path, monkeypatch) -> None:
    real_replace = os.replace
    calls = []

    def replace_and_interrupt(src, dst):  # Ctrl-C arrives while the first file is being moved
        calls.append(dst)
        if len(calls) == 1:
            signal.raise_signal(signal.SIGINT)
        real_replace(src, dst)

    monkeypatch.setattr(io_safety.os, "replace", replace_and_interrupt)
    # a suite started in the background by a non-interactive shell inherits SIGINT ignored: give it
    # Python's handler, as a command started from a terminal has
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    n_before = len(written_files())
    try:
        _interrupted_commit(tmp_path)
    finally:
        signal.signal(signal.SIGINT, old)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"f{i}.csv" for i in range(5)]
    assert [p.name for p in written_files()[n_before:]] == [f"f{i}.csv" for i in range(5)]
    assert not list(tmp_path.glob(".*"))


def _interrupted_commit(tmp_path) -> None:
    with pytest.raises(KeyboardInterrupt), atomic_dir(tmp_path / "out") as tmp:
        for i in range(5):
            (tmp / f"f{i}.csv").write_text(str(i))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_check_writable_names_the_file_in_the_way(tmp_path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("x")
    with pytest.raises(InputError, match=f"--out: {f} is a file, not a folder"):
        check_writable(f / "b" / "c.csv")
    check_writable(tmp_path / "new" / "deeper" / "c.csv")  # folders that will be made
    check_writable(f)  # an existing file is replaced, not written under
    with pytest.raises(InputError, match="is a folder; a file was to be written there"), atomic_path(tmp_path) as tmp:
        tmp.write_text("x")


def test_a_database_source_in_a_caption_is_redacted_decoded_and_cut():
    from riskmodel.io_safety import source_label

    url = "postgresql://u:s3cret@h/db?query=SELECT+area_id%2C+count+FROM+alerts+WHERE+city+%3D+%27zh%27+AND+y+%3E+2014"
    shown = source_label(url, width=60)
    assert "s3cret" not in shown and shown.startswith("postgresql://u:***@h/db?query=SELECT area_id, count")
    assert len(shown) == 60 and shown.endswith("…")
    assert source_label("data/sample/counts_monthly.csv") == "data/sample/counts_monthly.csv"
