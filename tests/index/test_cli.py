"""The index commands end to end (tracking on, to the suite's throwaway store)."""

from __future__ import annotations

import pandas as pd
from tests.conftest import ROOT

from riskmodel.cli import main
from riskmodel.index.registry import AGGREGATORS, NORMALISERS, WEIGHTS

ASEM = str(ROOT / "experiments" / "asem_coinr.toml")


def test_sensitivity_command_writes_the_contract_tables(reference_dir, tmp_path, capsys):
    out = tmp_path / "s"
    code = main(["index", "sensitivity", "--config", ASEM, "--n", "300", "--seed", "4", "--sobol-base", "32",
                 "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    rs = pd.read_csv(out / "rank_stats.csv")
    assert list(rs.columns[:5]) == ["area_id", "nominal", "median", "q05", "q95"] and len(rs) == 51
    assert rs.loc[rs["area_id"] == "CHE", "nominal"].item() == 1
    sob = pd.read_csv(out / "sobol.csv")
    assert list(sob.columns[:2]) == ["factor", "first_order"] and "total" in sob.columns
    assert {"normalise", "aggregate", "w:Conn"} <= set(sob["factor"])
    ro = pd.read_csv(out / "remove_one.csv")
    assert set(ro["level"]) == {1, 2} and ro["removed"].nunique() == 49 + 8
    assert (out / "rank_intervals.png").exists()
    # same seed, same tables (byte-identical)
    out2 = tmp_path / "s2"
    assert main(["index", "sensitivity", "--config", ASEM, "--n", "300", "--seed", "4", "--sobol-base", "32",
                 "--out", str(out2), "--no-track"]) == 0
    for f in ("rank_stats.csv", "sobol.csv", "remove_one.csv", "failures.csv"):
        assert (out / f).read_bytes() == (out2 / f).read_bytes(), f


def test_swap_command(reference_dir, tmp_path, capsys):
    code = main(["index", "swap", "--config", ASEM, "--a", "NLD", "--b", "CHE", "--level", "2",
                 "--out", str(tmp_path / "w"), "--no-track"])
    text = capsys.readouterr().out
    assert code == 0 and "tie when the level-2 weights move by" in text
    sw = pd.read_csv(tmp_path / "w" / "swap.csv")
    assert sw.groupby("parent")["new"].sum().round(9).eq(1).all()
    code = main(["index", "swap", "--config", ASEM, "--a", "NLD", "--b", "XXX", "--out", str(tmp_path / "x"), "--no-track"])
    assert code == 2 and "unknown area(s) XXX" in capsys.readouterr().err


def test_methods_command_lists_every_registered_method(capsys):
    assert main(["index", "methods", "--lang", "zh"]) == 0
    text = capsys.readouterr().out
    for reg in (NORMALISERS, WEIGHTS, AGGREGATORS):
        assert reg.option in text
        assert all(f"  {name} " in text for name in reg.names())
    assert "熵权法 [data-driven]" in text and "层次分析法" in text
    assert main(["index", "methods", "--lang", "fr"]) == 2
    assert "unknown value 'fr' for --lang" in capsys.readouterr().err
