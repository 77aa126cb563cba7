"""COINr parity: the default example build of COINr 1.1.14 on the ASEM data.

Expected scores and ranks: ../shared/reference/asem/UA_results_Nominal.csv,
COINr's own output (reference/README.md gives the settings).
"""

from __future__ import annotations

import pandas as pd
import pytest
from tests.conftest import ROOT

from riskmodel.cli import main
from riskmodel.index.build import build_index
from riskmodel.index.config import load_config


@pytest.fixture(scope="module")
def expected(reference_dir):
    return pd.read_csv(reference_dir / "asem" / "UA_results_Nominal.csv").set_index("uCode")


def test_asem_build_reproduces_coinr_scores_and_ranks(expected):
    res = build_index(load_config(ROOT / "experiments" / "asem_coinr.toml"))
    idx = res.index.set_index("area_id")
    assert sorted(idx.index) == sorted(expected.index)
    diff = (idx["score"] - expected["Score"].reindex(idx.index)).abs()
    assert diff.max() < 1e-9, diff.sort_values().tail()
    assert (idx["rank"].astype(int) == expected["Rank"].reindex(idx.index)).all()
    # what the build did: 17 denominated indicators, nobody screened out, treatment recorded
    assert res.log["denominated"] == 17
    assert res.log["units_removed"] == 0
    assert res.log["missing_after"] == 0
    treated = res.treatment.loc[res.treatment["action"] != "none"]
    assert len(treated) > 0 and treated["passes_after"].all()


def test_asem_cli_writes_contract_columns(tmp_path, expected):
    out = tmp_path / "asem"
    code = main(["index", "build", "--config", str(ROOT / "experiments" / "asem_coinr.toml"), "--out", str(out), "--no-track"])
    assert code == 0
    scores = pd.read_csv(out / "scores.csv")
    assert list(scores.columns[:5]) == ["area_id", "level", "code", "score", "rank"]
    top = scores.loc[scores["code"] == "Index"].set_index("area_id")
    assert (top["level"] == 4).all()
    assert (top["score"] - expected["Score"].reindex(top.index)).abs().max() < 1e-9
    # every level is there: 49 indicators + 8 pillars + 2 sub-indices + Index, for 51 countries
    assert len(scores) == 51 * (49 + 8 + 2 + 1)
