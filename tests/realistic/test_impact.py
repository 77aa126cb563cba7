"""Claims on data shaped like real data (issue 14): annual panels, a treated series with a control category.

Each test checks the estimates against the truth the data were simulated
with (``tests.realistic.shapes``): annual_panel's S01 falls by 25% from
1995; treated_with_control's Z1 fraud falls by 30% from 2022-01 while
Z1 disputes is untouched.
"""

from __future__ import annotations

import pandas as pd
import pytest
from tests.realistic.shapes import annual_panel, treated_with_control

from riskmodel.cli import main
from riskmodel.data.loading import load_panel
from riskmodel.impact import EvaluationOptions, evaluate

ANNUAL_METHODS = ["observed", "rate_ratio", "its", "structural", "ratio_of_ratios", "did", "synthetic",
                  "placebo_in_time", "regression_to_mean"]


@pytest.fixture(scope="module")
def annual():
    df, truth = annual_panel()
    return df, load_panel(df, freq="Y"), truth


def test_annual_panel_methods_that_take_years_recover_the_truth(annual):
    """Before: read as monthly with 11 zero months a year (ITS failed, observed compared Jan..Jan windows)."""
    _, panel, truth = annual
    assert panel.freq == "Y" and len(panel.periods) == 26
    ev = evaluate(panel, truth.treated, truth.category, intervention=truth.start, comparison=("1995", "2005-12-31"),
                  baseline=("1984-01-01", "1994-12-31"), reported=truth.effect, methods=ANNUAL_METHODS,
                  options=EvaluationOptions(freq="Y", seed=1))
    assert ev.series.freq == "Y" and len(ev.series.counts) == 26
    for name in ("its", "ratio_of_ratios", "did", "synthetic"):
        r = ev.result(name)
        assert r.ok, (name, r.note)
        assert r.covers(truth.effect), (name, r)
        assert abs(r.estimate - truth.effect) < 0.05, (name, r)
    s = ev.result("structural")
    assert not s.ok and "refuses annual data" in s.note and "no season" in s.note
    assert ev.result("placebo_in_time").covers(0.0)  # ITS on years with a fake earlier start
    assert ev.primary == "synthetic"
    assert ev.verdict.finding == "shows_effect"
    assert "nan" not in ev.summary().lower()


def test_annual_panel_minimum_pre_period_is_in_years(annual):
    _, panel, truth = annual
    with pytest.raises(Exception, match="pre-period of 5 years; at least 8"):
        evaluate(panel, truth.treated, truth.category, intervention="1985-01-01", comparison=("1985", "1985-12-31"),
                 methods=["observed"], options=EvaluationOptions(freq="Y"))


def test_claim_cli_on_annual_data(annual, tmp_path, capsys):
    df, _, truth = annual
    df.to_csv(tmp_path / "states.csv", index=False)
    args = ["claim", "--counts", str(tmp_path / "states.csv"), "--area", truth.treated, "--category", "all",
            "--intervention", "1995-01-01", "--period", "1995:2005", "--method", "did,its",
            "--out", str(tmp_path / "o"), "--no-track", "--freq", "Y"]
    # an explicit baseline overlapping the 11-year comparison period: refused, both windows named
    assert main([*args, "--baseline", "1994:2004"]) == 2
    err = capsys.readouterr().err
    assert "1994-01-01..2004-12-31" in err and "1995-01-01..2005-12-31" in err
    assert "--baseline 1984-01-01:1994-12-31" in err
    # by default the comparison window moved back the fewest whole years that clear it (11 here)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "comparison 1995-01-01..2005-12-31 against baseline 1984-01-01..1994-12-31" in out
    eff = pd.read_csv(tmp_path / "o" / "effects.csv").set_index("method")
    assert eff.loc["did", "lo95"] <= truth.effect <= eff.loc["did", "hi95"]
    assert eff.loc["its", "lo95"] <= truth.effect <= eff.loc["its", "hi95"]
    assert "nan" not in out.lower()
    # monthly analysis of annual data would add 11 zero months a year: refused
    assert main([*args[:-1], "M", "--baseline", "1984:1994"]) == 2
    assert "give --freq Y" in capsys.readouterr().err


@pytest.fixture(scope="module")
def treated():
    df, truth = treated_with_control()
    return df, load_panel(df), truth


def test_did_with_a_control_category_recovers_the_effect(treated):
    """Before: no way to use the disputes series; DiD said 'no comparison areas at the same level'."""
    _, panel, truth = treated
    kw = {"intervention": truth.start, "comparison": ("2022-01-01", "2023-12-31"),
          "baseline": ("2020-01-01", "2021-12-31"), "reported": truth.effect, "methods": ["observed", "did"]}
    alone = evaluate(panel, truth.treated, truth.category, **kw)
    assert not alone.result("did").ok and "no comparison areas" in alone.result("did").note
    ev = evaluate(panel, truth.treated, truth.category, controls="category=disputes", **kw)
    r = ev.result("did")
    assert r.ok and r.covers(truth.effect), r
    assert abs(r.estimate - truth.effect) < 0.05
    assert r.note.startswith("compared with disputes in Z1")
    assert "Compared with disputes in Z1" in ev.verdict.en and "no comparison areas" not in ev.verdict.en
    assert "与Z1的disputes相比" in ev.verdict.zh
    assert ev.verdict.finding == "shows_effect"


def test_verdicts_on_simulated_data(treated):
    """The same data: a reported fall twice the truth is 'larger than the programme's effect'; with no effect
    simulated, the data cannot tell the change from no change."""
    _, panel, truth = treated
    kw = {"intervention": truth.start, "comparison": ("2022-01-01", "2023-12-31"),
          "baseline": ("2020-01-01", "2021-12-31"), "methods": ["observed", "did"], "controls": "category=disputes"}
    big = evaluate(panel, truth.treated, truth.category, reported=2 * truth.effect, **kw)
    assert big.verdict.finding == "larger_than_effect"
    df0, _ = treated_with_control(effect=0.0)
    none = evaluate(load_panel(df0), "Z1", "fraud", reported=-0.05, **kw)
    assert none.result("did").covers(0.0)
    assert none.verdict.finding == "cannot_tell"
    assert "cannot tell this change from no change" in none.verdict.en


def test_claim_cli_controls_recorded_in_outputs(treated, tmp_path, capsys):
    df, truth = treated[0], treated[2]
    df.to_csv(tmp_path / "z1.csv", index=False)
    assert main(["claim", "--counts", str(tmp_path / "z1.csv"), "--area", "Z1", "--category", "fraud",
                 "--intervention", truth.start, "--period", "2022:2023", "--baseline", "2020:2021",
                 "--controls", "category=disputes", "--method", "did", "--reported", "-0.3",
                 "--out", str(tmp_path / "o"), "--no-track"]) == 0
    out = capsys.readouterr().out
    assert "compared with: disputes in Z1" in out
    eff = pd.read_csv(tmp_path / "o" / "effects.csv").set_index("method")
    assert eff.loc["did", "note"].startswith("compared with disputes in Z1")
    assert "Compared with disputes in Z1" in (tmp_path / "o" / "verdict.txt").read_text(encoding="utf-8")
