import matplotlib.pyplot as plt
import pandas as pd
import pytest

from riskmodel.cli import main
from riskmodel.data import IncidentPanel
from riskmodel.errors import InputError
from riskmodel.impact import EvaluationOptions, evaluate
from riskmodel.impact.results import EFFECT_COLUMNS

OPT = EvaluationOptions(n_sims=300)


@pytest.fixture(scope="module")
def evaluation(city):
    counts, popt, truth = city
    panel = IncidentPanel.from_counts(counts, freq="M", population=popt)
    ev = evaluate(panel, "A00", "alerts", intervention="2019-07-01", comparison=("2020-01-01", "2020-12-31"),
                  reported=-0.354, options=OPT)
    return ev, truth


def test_every_method_runs_and_covers_the_truth(evaluation):
    ev, truth = evaluation
    eff = ev.effects().set_index("method")
    assert list(eff.index) == ["observed", "rate_ratio", "its", "structural", "ratio_of_ratios", "did",
                               "synthetic", "sdid", "staggered", "placebo_in_time", "regression_to_mean"]
    for m in ("its", "structural", "ratio_of_ratios", "did", "synthetic", "sdid", "staggered"):
        assert eff.loc[m, "lo95"] < truth < eff.loc[m, "hi95"], m
    assert eff.loc["placebo_in_time", "note"].startswith("fake intervention at 2018-07-01")
    # 11 comparison areas: the ITS interval comes from them, the regression's is kept in the diagnostics
    its = ev.result("its")
    assert "interval from 11 placebo areas" in its.note
    assert its.diagnostics["model_lo"] < its.estimate < its.diagnostics["model_hi"]
    # the observed year-on-year fall mixes the programme with the city-wide 2020 shock
    assert eff.loc["observed", "estimate"] < truth - 0.05
    assert ev.primary == "structural"


def test_verdict_in_both_languages(evaluation):
    ev, _ = evaluation
    v = ev.verdict
    assert "the data show a fall of" in v.en and "programme's effect is" in v.en
    assert "数据显示下降" in v.zh and "项目本身的效果" in v.zh
    assert "35.4%" in v.en and "35.4%" in v.zh
    assert v.consistent is (ev.result("structural").lo <= -0.354 <= ev.result("structural").hi)


def test_its_model_inference_is_the_classical_regression_interval(city, evaluation):
    counts, popt, _ = city
    ev, _ = evaluation
    panel = IncidentPanel.from_counts(counts, freq="M", population=popt)
    model = evaluate(panel, "A00", "alerts", intervention="2019-07-01", comparison=("2020-01-01", "2020-12-31"),
                     methods=["its"], options=EvaluationOptions(its_inference="model")).result("its")
    placebo = ev.result("its")
    assert model.estimate == placebo.estimate
    assert (model.lo, model.hi) == (placebo.diagnostics["model_lo"], placebo.diagnostics["model_hi"])
    assert "placebo" not in model.note
    with pytest.raises(InputError, match="its_inference"):
        evaluate(panel, "A00", "alerts", intervention="2019-07-01", methods=["its"],
                 options=EvaluationOptions(its_inference="bootstrap"))


def test_unknown_method_and_bad_dates_are_input_errors(city):
    counts, popt, _ = city
    panel = IncidentPanel.from_counts(counts, freq="M", population=popt)
    with pytest.raises(InputError, match="unknown method"):
        evaluate(panel, "A00", "alerts", intervention="2019-07-01", methods=["magic"])
    with pytest.raises(InputError, match="outside the data"):
        evaluate(panel, "A00", "alerts", intervention="2030-01-01")
    with pytest.raises(InputError, match="pre-period of 6 months"):
        evaluate(panel, "A00", "alerts", intervention="2014-07-01")
    with pytest.raises(InputError, match="runs past the end"):
        evaluate(panel, "A00", "alerts", intervention="2019-07-01", comparison=("2021-06-01", "2022-05-31"))
    with pytest.raises(InputError, match="unknown area 'ZZ'"):
        evaluate(panel, "ZZ", "alerts", intervention="2019-07-01")
    with pytest.raises(InputError, match="unknown category 'fires'.*valid: alerts"):
        evaluate(panel, "A00", "fires", intervention="2019-07-01")


def _args(d, *extra):
    return ["claim", "--counts", str(d / "counts.csv"), "--population", str(d / "population.csv"),
            "--area", "A00", "--category", "alerts", "--intervention", "2019-07-01", *extra]


def test_cli_writes_effects_and_verdict(city_files, tmp_path):
    d, truth = city_files
    out = tmp_path / "out"
    code = main(_args(d, "--reported", "-0.354", "--period", "2020", "--method", "structural,did",
                      "--full-sample", "--log", "--out", str(out), "--no-track"))
    assert code == 0
    eff = pd.read_csv(out / "effects.csv")
    assert tuple(eff.columns) == EFFECT_COLUMNS
    assert list(eff["method"]) == ["observed", "structural", "structural_full", "ratio_of_ratios", "did"]
    assert eff["estimate"].notna().all()
    text = (out / "verdict.txt").read_text(encoding="utf-8")
    assert "数据显示" in text and "the data show" in text
    assert (out / "chart.png").stat().st_size > 0


def test_cli_method_that_cannot_run_says_why_while_others_run(city_files, tmp_path):
    d, _ = city_files
    one = tmp_path / "one.csv"
    c = pd.read_csv(d / "counts.csv")
    c[c["area_id"] == "A00"].to_csv(one, index=False)  # no comparison areas
    out = tmp_path / "o2"
    code = main(["claim", "--counts", str(one), "--area", "A00", "--category", "alerts",
                 "--intervention", "2019-07-01", "--period", "2020", "--method", "all",
                 "--out", str(out), "--no-track"])
    assert code == 0
    eff = pd.read_csv(out / "effects.csv").set_index("method")
    assert pd.isna(eff.loc["synthetic", "estimate"])
    assert "no comparison areas" in eff.loc["synthetic", "note"]
    assert pd.notna(eff.loc["structural", "estimate"]) and pd.notna(eff.loc["its", "estimate"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--intervention", "2035-01-01"], "outside the data"),
        (["--intervention", "2014-06-01"], "pre-period"),
        (["--intervention", "soon"], "--intervention 'soon' is not a date"),
        (["--area", "NOPE"], "unknown area 'NOPE'"),
        (["--category", "fires"], "unknown category 'fires'"),
        (["--period", "2030"], "has no data"),
        (["--period", "20x0"], "cannot read --period"),
        (["--method", "bayes"], "unknown value 'bayes' for --method"),
        (["--seasonal", "weekly"], "unknown value 'weekly' for --seasonal"),
    ],
)
def test_cli_bad_input_exit_2_with_a_clear_message(city_files, tmp_path, capsys, extra, message):
    d, _ = city_files
    args = _args(d, "--out", str(tmp_path / "x"), "--no-track")
    for i in range(0, len(extra), 2):
        if extra[i] in args:
            args[args.index(extra[i]) + 1] = extra[i + 1]
        else:
            args += extra[i:i + 2]
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_cli_exog_file_is_used_and_checked(city_files, tmp_path, capsys):
    d, _ = city_files
    periods = pd.date_range("2014-01-01", "2021-12-01", freq="MS")
    ex = pd.DataFrame({"period": periods.strftime("%Y-%m-%d"), "name": "holiday_share",
                       "value": (periods.month == 2).astype(float)})
    f = tmp_path / "exog.csv"
    ex.to_csv(f, index=False)
    out = tmp_path / "ex"
    assert main(_args(d, "--period", "2020", "--method", "its", "--exog", str(f), "--out", str(out), "--no-track")) == 0
    bad = ex.copy()
    bad["value"] = bad["value"].astype(object)
    bad.loc[3, "value"] = "n/a"
    bad.to_csv(f, index=False)
    assert main(_args(d, "--period", "2020", "--exog", str(f), "--out", str(out), "--no-track")) == 2
    assert "column 'value': not a number" in capsys.readouterr().err


def test_same_inputs_and_seed_give_byte_identical_outputs(city_files, tmp_path):
    d, _ = city_files
    outs = []
    for k in range(2):
        out = tmp_path / f"r{k}"
        assert main(_args(d, "--period", "2020", "--method", "structural,synthetic", "--seed", "4",
                          "--out", str(out), "--no-track")) == 0
        outs.append(out)
    for name in ("effects.csv", "verdict.txt", "series.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes()


def test_evaluation_follows_the_result_protocol(evaluation):
    ev, _ = evaluation
    text = ev.summary()
    assert isinstance(text, str) and ev.verdict.en in text and ev.verdict.zh in text
    assert "structural" in text and "12 of" not in text  # structural_full is off: 11 methods
    assert ev.to_frame().equals(ev.effects())
    ci = ev.conf_int(95)
    assert list(ci["method"]) == list(ev.effects()["method"]) and (ci["level"] == 95).all()
    with pytest.raises(InputError, match="95% interval only"):
        ev.conf_int(90)
    row = ev.summary_row()
    assert row.shape == (1, 15) and row.loc[0, "method"] == "structural"
    arts = ev.artifacts()
    assert [a.name for a in arts] == ["effects.csv", "verdict.txt", "series.csv", "chart.png"]
    assert [a.log_name for a in arts if a.logged] == ["effects.csv", "verdict.txt", "observed_vs_counterfactual.png"]
    plt.close(arts[-1].content)
