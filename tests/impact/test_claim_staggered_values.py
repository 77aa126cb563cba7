"""``riskmodel claim`` with staggered starts (``--method staggered --starts``) and outcomes that are not counts.

Known answers: the ``did`` R package's published ``mpdta`` example (the
group-time ATTs, the event study and the simple ATT of did's reference pages,
tests/impact/data/mpdta.csv, benchmarks/impact/staggered_results.md), and
simulated panels of rates with a known effect (a constant effect for the
synthetic DiD; heterogeneous, dynamic effects under staggered starts, where
two-way fixed effects is biased and the group-time estimator is not).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.realistic.shapes import annual_panel

from riskmodel.cli import main
from riskmodel.errors import InputError
from riskmodel.impact import METHODS, EvaluationOptions
from riskmodel.impact.outcomes import evaluate_values, read_values, supports_values
from riskmodel.impact.results import EFFECT_COLUMNS
from riskmodel.impact.rollout import read_starts

DATA = Path(__file__).parent / "data"

#: did's published event study on mpdta (nevertreated, varying base; docs/reference/aggte.md), e = -3..3.
MPDTA_EVENT = [0.0305, -0.0006, -0.0245, -0.0199, -0.0510, -0.1373, -0.1008]


@pytest.fixture(scope="module")
def mpdta_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("mpdta")
    m = pd.read_csv(DATA / "mpdta.csv")
    pd.DataFrame({"area_id": m["countyreal"].astype(str), "category": "lemp",
                  "period": m["year"].astype(str) + "-01-01", "value": m["lemp"]}).to_csv(d / "values.csv",
                                                                                          index=False)
    one = m.drop_duplicates("countyreal")
    pd.DataFrame({"area_id": one["countyreal"].astype(str),
                  "start": [f"{g}-01-01" if g > 0 else "" for g in one["first.treat"]]}).to_csv(d / "starts.csv",
                                                                                               index=False)
    return d


def test_mpdta_through_the_command_line_reproduces_did(mpdta_files, tmp_path, capsys):
    d, out = mpdta_files, tmp_path / "out"
    assert main(["claim", "--counts", str(d / "values.csv"), "--starts", str(d / "starts.csv"), "--area", "8001",
                 "--category", "lemp", "--method", "staggered", "--control-group", "nevertreated", "--period",
                 "2007", "--out", str(out), "--no-track"]) == 0
    err = capsys.readouterr().err
    eff = pd.read_csv(out / "effects.csv").set_index("method")
    assert tuple(eff.reset_index().columns) == EFFECT_COLUMNS
    st = eff.loc["staggered"]
    assert round(st["att"], 4) == -0.0400  # did: simple ATT -0.0400 (analytical se 0.0120, bootstrap 0.0119)
    assert st["att"] == st["coef"] and abs(st["se"] - 0.0120) < 0.0005
    assert st["att_lo95"] < st["att"] < st["att_hi95"]
    es = pd.read_csv(out / "staggered_event_study.csv")
    assert list(es["event_time"]) == [-3, -2, -1, 0, 1, 2, 3]
    assert np.allclose(es["att"].round(4), MPDTA_EVENT, atol=1e-4)
    assert (es["band_lo"] < es["lo"]).all() and (es["band_hi"] > es["hi"]).all()  # simultaneous band wider
    cells = pd.read_csv(out / "staggered_attgt.csv")
    assert len(cells) == 12 and abs(cells["att"].iloc[1] - (-0.0704)) < 5e-5  # ATT(2004, 2005)
    # TWFE: one negative weight and heterogeneous effects (equal-effects p = 0.0002): flagged
    tw = pd.read_csv(out / "staggered_twfe_check.csv").iloc[0]
    assert round(tw["twfe_beta"], 4) == -0.0365 and tw["n_negative_weights"] == 1 and bool(tw["biased"])
    assert "two-way fixed effects would be biased here" in err
    assert (out / "staggered_twfe_weights.csv").exists()
    # Goodman-Bacon: the 2x2 comparisons' weights sum to 1 and their weighted estimates are TWFE's coefficient
    bacon = pd.read_csv(out / "staggered_bacon.csv")
    assert len(bacon) == 9 and bacon["weight"].sum() == pytest.approx(1.0)
    assert (bacon["weight"] * bacon["estimate"]).sum() == pytest.approx(tw["twfe_beta"], abs=1e-12)
    forbidden = bacon.loc[bacon["kind"] == "later vs earlier", "weight"].sum()
    assert tw["forbidden_share"] == pytest.approx(forbidden) and round(forbidden, 4) == 0.0539
    assert "2004-01-01" in set(bacon["control"]) and "never" in set(bacon["control"])


def _staggered_rates(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """60 areas x 16 years of a rate (per 1,000): area and year effects, noise sd 0.5; cohorts of 15 areas
    start in 2006, 2009 and 2012 (15 never); effect at event time e >= 0: b_g - 0.5 e, b = -1, -2, -3.
    Returns (values, starts, true simple ATT: the mean effect over treated area-years)."""
    rng = np.random.default_rng(seed)
    years = np.arange(2000, 2016)
    starts = {2006: -1.0, 2009: -2.0, 2012: -3.0}
    rows, st, effects = [], [], []
    for i in range(60):
        g = list(starts)[i // 15] if i < 45 else None
        a = f"S{i:02d}"
        st.append((a, f"{g}-01-01" if g else "never"))
        level = 30 + rng.normal(0, 3)
        for t, y in enumerate(years):
            eff = starts[g] - 0.5 * (y - g) if g and y >= g else 0.0
            if g and y >= g:
                effects.append(eff)
            rows.append((a, "rate", f"{y}-01-01", level + 0.4 * t + np.sin(t) + eff + rng.normal(0, 0.5)))
    return (pd.DataFrame(rows, columns=["area_id", "category", "period", "value"]),
            pd.DataFrame(st, columns=["area_id", "start"]), float(np.mean(effects)))


def test_staggered_rates_with_dynamic_effects_unbiased_where_twfe_is_biased(tmp_path, capsys):
    values, starts, truth = _staggered_rates()
    values.to_csv(tmp_path / "rates.csv", index=False)
    starts.to_csv(tmp_path / "starts.csv", index=False)
    out = tmp_path / "out"
    assert main(["claim", "--counts", str(tmp_path / "rates.csv"), "--starts", str(tmp_path / "starts.csv"),
                 "--area", "S00", "--category", "rate", "--method", "staggered", "--freq", "Y", "--period", "2015",
                 "--baseline", "2005", "--out", str(out), "--no-track"]) == 0
    err = capsys.readouterr().err
    st = pd.read_csv(out / "effects.csv").set_index("method").loc["staggered"]
    assert st["att_lo95"] < truth < st["att_hi95"], (st["att"], truth)
    assert abs(st["att"] - truth) < 3 * st["se"]
    tw = pd.read_csv(out / "staggered_twfe_check.csv").iloc[0]
    # TWFE uses earlier-treated areas as controls of later ones: biased towards 0 by far more than its noise
    assert abs(tw["twfe_beta"] - truth) > 4 * tw["twfe_se"] and bool(tw["biased"])  # 0.71 = 20% of the truth
    assert tw["n_negative_weights"] > 0
    assert "two-way fixed effects would be biased here" in err and "on later-vs-earlier comparisons" in err
    bacon = pd.read_csv(out / "staggered_bacon.csv")
    assert (bacon["weight"] * bacon["estimate"]).sum() == pytest.approx(tw["twfe_beta"], abs=1e-9)
    assert tw["forbidden_share"] > 0.15  # 18% of TWFE's weight on comparisons whose controls are treated
    es = pd.read_csv(out / "staggered_event_study.csv").set_index("event_time")
    true_path = {e: np.mean([b - 0.5 * e for g, b in {2006: -1.0, 2009: -2.0, 2012: -3.0}.items() if g + e <= 2015])
                 for e in range(0, 10)}
    for e, v in true_path.items():  # the dynamic effects, inside the simultaneous band
        assert es.loc[e, "band_lo"] < v < es.loc[e, "band_hi"], e
    assert (es.loc[es.index < 0, "band_lo"] < 0).all() and (es.loc[es.index < 0, "band_hi"] > 0).all()


def _rates_one_treated(seed: int = 5, effect: float = -4.0) -> pd.DataFrame:
    """20 areas x 26 years of a rate: area levels, a shared wiggly trend, noise sd 1; A00 from 2008 gets ``effect``."""
    rng = np.random.default_rng(seed)
    years = np.arange(1990, 2016)
    common = 0.3 * np.arange(len(years)) + 2 * np.sin(np.arange(len(years)) / 2)
    rows = []
    for i in range(20):
        level = 40 + rng.normal(0, 5)
        for t, y in enumerate(years):
            v = level + common[t] + rng.normal(0, 1) + (effect if i == 0 and y >= 2008 else 0.0)
            rows.append((f"A{i:02d}", "rate", f"{y}-01-01", v))
    return pd.DataFrame(rows, columns=["area_id", "category", "period", "value"])


def test_a_rate_through_sdid_and_staggered_recovers_the_known_effect(tmp_path):
    _rates_one_treated().to_csv(tmp_path / "rates.csv", index=False)
    out = tmp_path / "out"
    assert main(["claim", "--counts", str(tmp_path / "rates.csv"), "--area", "A00", "--category", "rate",
                 "--intervention", "2008-01-01", "--method", "sdid,staggered", "--freq", "Y", "--out", str(out),
                 "--no-track"]) == 0
    eff = pd.read_csv(out / "effects.csv").set_index("method")
    assert list(eff.index) == ["observed", "sdid", "staggered"]
    for m in ("sdid", "staggered"):
        r = eff.loc[m]
        assert r["att_lo95"] < -4.0 < r["att_hi95"], (m, r["att"])
        assert abs(r["att"] - -4.0) < 1.5, (m, r["att"])
    assert eff.loc["sdid", "att"] == eff.loc["sdid", "coef"]  # the estimator's own ATT, outcome units
    assert "values as given" in eff.loc["sdid", "note"]
    assert np.isnan(eff.loc["observed", "att"]) and "not an effect" in eff.loc["observed", "att_note"]


def test_all_methods_on_a_value_outcome_leave_out_the_count_models(tmp_path, capsys):
    _rates_one_treated().to_csv(tmp_path / "rates.csv", index=False)
    out = tmp_path / "out"
    assert main(["claim", "--counts", str(tmp_path / "rates.csv"), "--area", "A00", "--category", "rate",
                 "--intervention", "2008-01-01", "--freq", "Y", "--out", str(out), "--no-track"]) == 0
    assert "the count models are left out (rate_ratio, its" in capsys.readouterr().err
    eff = pd.read_csv(out / "effects.csv")
    assert list(eff["method"]) == [n for n in METHODS.names() if supports_values(n)]
    assert eff["estimate"].notna().all()


@pytest.mark.parametrize("method, name", [("its", "its (interrupted time series)"), ("rate-ratio", "rate_ratio")])
def test_a_count_model_refuses_a_value_outcome(tmp_path, capsys, method, name):
    _rates_one_treated().to_csv(tmp_path / "rates.csv", index=False)
    assert main(["claim", "--counts", str(tmp_path / "rates.csv"), "--area", "A00", "--category", "rate",
                 "--intervention", "2008-01-01", "--method", method, "--out", str(tmp_path / "o"),
                 "--no-track"]) == 2
    err = capsys.readouterr().err
    assert name in err and "cannot take an outcome that is not a count" in err
    assert "use did, synthetic, sdid, staggered instead" in err
    assert not (tmp_path / "o").exists()


def test_value_tables_are_checked_naming_rows(tmp_path, capsys):
    df = _rates_one_treated().astype({"value": object})
    df.loc[3, "value"] = "high"
    df.loc[5, "period"] = "2020-13-01"
    df.to_csv(tmp_path / "bad.csv", index=False)
    assert main(["claim", "--counts", str(tmp_path / "bad.csv"), "--area", "A00", "--category", "rate",
                 "--intervention", "2008-01-01", "--method", "sdid", "--out", str(tmp_path / "o"),
                 "--no-track"]) == 2
    err = capsys.readouterr().err
    assert "bad.csv, column 'value': is not a number" in err and "5" in err  # line 5 = row 3
    assert "column 'period': is not a date" in err
    with pytest.raises(InputError, match="--freq M asked for monthly analysis of annual values"):
        read_values(_rates_one_treated(), freq="M")
    dup = pd.concat([_rates_one_treated().iloc[:3], _rates_one_treated().iloc[:1]])
    with pytest.raises(InputError, match="more than one value"):
        read_values(dup)
    signed = _rates_one_treated().assign(value=lambda x: x["value"] - 45)  # a score around 0
    signed.to_csv(tmp_path / "score.csv", index=False)
    assert main(["claim", "--counts", str(tmp_path / "score.csv"), "--area", "A00", "--category", "rate",
                 "--intervention", "2008-01-01", "--method", "sdid", "--out", str(tmp_path / "o"),
                 "--no-track"]) == 2
    assert "negative value(s) of rate (A00 1990-01-01" in capsys.readouterr().err


def test_start_dates_are_checked_naming_rows(tmp_path):
    f = tmp_path / "starts.csv"
    pd.DataFrame({"area_id": ["A", "B", "C", "B"], "start": ["2019-07-01", "soon", "never", "2020-01"]}).to_csv(
        f, index=False)
    with pytest.raises(InputError) as exc:
        read_starts(f)
    text = str(exc.value)
    assert "starts.csv, column 'start': is not a date" in text and "3" in text  # "soon" is line 3
    assert "an area given more than once" in text
    ok = read_starts(pd.DataFrame({"area_id": ["A", "B", "C"], "start": ["2019-07", "", "never"]}))
    assert ok == {"A": pd.Timestamp("2019-07-01"), "B": None, "C": None}
    with pytest.raises(InputError, match="missing column"):
        read_starts(pd.DataFrame({"area": ["A"], "start": ["2019"]}))


def test_starts_needs_the_staggered_method_and_its_options_refuse_other_methods(mpdta_files, tmp_path, capsys):
    d = mpdta_files
    base = ["claim", "--counts", str(d / "values.csv"), "--area", "8001", "--category", "lemp", "--period", "2007",
            "--out", str(tmp_path / "o"), "--no-track"]
    assert main([*base, "--starts", str(d / "starts.csv"), "--method", "sdid"]) == 2
    assert "--starts (each area's start date) is read by --method staggered only" in capsys.readouterr().err
    assert main([*base, "--intervention", "2007-01-01", "--method", "sdid", "--control-group", "nevertreated"]) == 2
    assert "option --control-group applies to staggered, not to observed, sdid" in capsys.readouterr().err
    assert main([*base, "--starts", str(d / "starts.csv"), "--method", "staggered", "--control-group",
                 "sometimes"]) == 2
    assert "unknown value 'sometimes' for --control-group" in capsys.readouterr().err


def test_every_method_fills_att_or_says_why(tmp_path):
    df, truth = annual_panel()  # 12 states 1980-2005, S01 falls 25% from 1995
    df.to_csv(tmp_path / "counts.csv", index=False)
    out = tmp_path / "out"
    assert main(["claim", "--counts", str(tmp_path / "counts.csv"), "--area", truth.treated, "--category",
                 truth.category, "--intervention", truth.start, "--period", "1995:2005", "--baseline", "1984:1994",
                 "--method", "did,sdid,rate-ratio", "--out", str(out), "--no-track"]) == 0
    eff = pd.read_csv(out / "effects.csv").set_index("method")
    y = df[(df["area_id"] == truth.treated) & (df["period"] >= "1995-01-01")]["count"].mean()
    true_att = y * truth.effect / (1 + truth.effect)  # incidents per year the programme removed, about -150
    for m in ("did", "sdid", "ratio_of_ratios"):  # effects: incidents per year, with intervals covering the truth
        assert eff.loc[m, "att_lo95"] < true_att < eff.loc[m, "att_hi95"], (m, eff.loc[m, "att"], true_att)
    assert "O r / (1 + r)" in eff.loc["did", "att_note"]
    r = eff.loc["did"]
    assert r["att"] == pytest.approx(y * r["estimate"] / (1 + r["estimate"]))
    assert eff.loc["sdid", "att"] == eff.loc["sdid", "coef"]
    for m in ("observed", "rate_ratio"):
        assert np.isnan(eff.loc[m, "att"]) and "not an effect against a counterfactual" in eff.loc[m, "att_note"]


@pytest.mark.parametrize("freq, first, n", [("W", "2019-01-07", 156), ("M", "2015-01-01", 72)])
def test_weekly_and_monthly_values_keep_their_frequency(freq, first, n):
    """Values are analysed at their own frequency: a weekly or monthly rate with a known -2 effect."""
    rng = np.random.default_rng(11)
    periods = pd.date_range(first, periods=n, freq="W-MON" if freq == "W" else "MS")
    start = periods[n * 2 // 3]
    rows = [(f"A{i:02d}", "rate", p.strftime("%Y-%m-%d"),
             20 + i + 0.02 * t + (-2.0 if i == 0 and p >= start else 0.0) + rng.normal(0, 0.5))
            for i in range(10) for t, p in enumerate(periods)]
    vp = read_values(pd.DataFrame(rows, columns=["area_id", "category", "period", "value"]))
    assert vp.freq == freq
    ev = evaluate_values(vp, "A00", "rate", intervention=start, methods=["observed", "staggered"],
                         options=EvaluationOptions(freq=freq, n_sims=10))
    st = ev.result("staggered")
    assert ev.design.outcome == "value" and len(ev.series.counts) == n
    assert st.att_lo < -2.0 < st.att_hi and abs(st.att + 2.0) < 0.5
    with pytest.raises(InputError, match="the count models|models counts"):
        evaluate_values(vp, "A00", "rate", intervention=start, methods=["its"],
                        options=EvaluationOptions(freq=freq))
