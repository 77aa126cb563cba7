"""The contract every registered claim-evaluation method meets (like scikit-learn's ``check_estimator``).

Each method in ``riskmodel.impact.METHODS`` runs on a small simulated city
with a known programme effect: 9 monthly areas 2014-2021 sharing season,
trend and a 2020 city-wide shock, area A00 with a programme from 2019-07
(6-month ramp) that multiplies its expected count by 0.75, so the true
effect over 2020 is -25% (``conftest.simulate_city``, seeded). A method is
tested by being registered: nothing here names a method, but the frozen
verdict names and ``--method`` groups of today's methods at the end.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re

import numpy as np
import pandas as pd
import pytest
from tests.realistic.shapes import annual_panel

from riskmodel.cli import main
from riskmodel.data import IncidentPanel
from riskmodel.impact import (
    METHODS,
    EffectResult,
    EvaluationOptions,
    StudyDesign,
    build_design,
    evaluate,
)
from riskmodel.impact.evaluate import run_method
from riskmodel.impact.registry import (
    EVERY_GROUP,
    KINDS,
    NO_COMPARISON,
    expand_choices,
    kind,
    method_groups,
    primary_order,
)
from riskmodel.results import IntervalResult

from .conftest import simulate_city

NAMES = METHODS.names()
INTERVENTION = "2019-07-01"
COMPARISON = ("2020-01-01", "2020-12-31")
#: Every method runs (structural_full needs full_sample); fewer paths than the default, for speed.
OPT = EvaluationOptions(n_sims=300, param_draws=200, full_sample=True, seed=1)
FIELDS = {f.name: f for f in dataclasses.fields(EvaluationOptions)}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def known():
    """(panel with 1 treated + 8 comparison areas, the one-area panel, true relative effect over 2020)."""
    counts, popt, truth = simulate_city(seed=7, n_areas=9)
    panel = IncidentPanel.from_counts(counts, freq="M", population=popt)
    alone = IncidentPanel.from_counts(counts[counts["area_id"] == "A00"], freq="M", population=popt)
    return panel, alone, truth


def _design(panel: IncidentPanel) -> StudyDesign:
    return build_design(panel, "A00", "alerts", intervention=INTERVENTION, comparison=COMPARISON,
                        methods=NAMES, options=OPT)


@pytest.fixture(scope="module")
def first_run(known):
    """Every method run once on the design with comparison areas."""
    panel, _, _ = known
    d = _design(panel)
    return {spec.name: run_method(spec, d, OPT) for spec in METHODS.specs()}


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


# ---------------------------------------------------------------- declaration
@pytest.mark.parametrize("name", NAMES)
def test_declaration_is_complete(name):
    spec = METHODS[name]
    assert spec.labels["zh"] and spec.labels["en"], "labels in both languages"
    assert CJK.search(spec.labels["zh"]), "the zh label is Chinese"
    assert spec.summary
    params = list(inspect.signature(spec.target).parameters)
    assert len(params) == 2, "an impact method is method(design, options)"
    assert kind(name) in KINDS
    group = spec.extra.get("group")
    assert group is None or isinstance(group, str)
    rank = spec.extra.get("primary")
    assert rank is None or (isinstance(rank, int) and kind(name) == "effect")
    req = spec.extra.get("requires")
    assert req is None or (req in FIELDS and FIELDS[req].type in (bool, "bool"))
    assert (spec.extra.get("caution") is not None) <= (kind(name) == "check"), "only checks add cautions"
    for o in spec.options:  # the options a method declares are the EvaluationOptions it reads
        assert o.name in FIELDS, f"{name} declares {o.name}, not an EvaluationOptions field"
        assert o.default == FIELDS[o.name].default, (name, o.name)
        if o.choices:
            assert FIELDS[o.name].default in o.choices


def test_primary_ranks_are_distinct():
    ranks = [s.extra["primary"] for s in METHODS.specs() if s.extra.get("primary") is not None]
    assert len(ranks) == len(set(ranks))


# ---------------------------------------------------------------- behaviour on known data
@pytest.mark.parametrize("name", NAMES)
def test_finite_estimate_inside_its_interval(name, first_run, known):
    r = first_run[name]
    assert isinstance(r, EffectResult) and isinstance(r, IntervalResult)
    assert r.method == name
    assert r.ok, r.note
    assert np.isfinite([r.estimate, r.lo, r.hi]).all()
    assert r.lo <= r.estimate <= r.hi
    ci = r.conf_int(95)
    assert list(ci.columns) == ["method", "level", "estimate", "lo", "hi"]
    assert (ci.loc[0, "lo"], ci.loc[0, "hi"]) == (r.lo, r.hi)
    assert isinstance(r.summary(), str) and name in r.summary()
    assert r.to_frame().shape == (1, 8)


@pytest.mark.parametrize("name", [n for n in NAMES if kind(n) == "effect"])
def test_effect_interval_covers_the_true_effect(name, first_run, known):
    _, _, truth = known
    r = first_run[name]
    assert r.covers(truth), (name, r, truth)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_numbers(name, first_run, known):
    panel, _, _ = known
    again = run_method(METHODS[name], _design(panel), OPT)
    a, b = first_run[name].row(), again.row()
    assert a.keys() == b.keys()
    for k in a:
        assert _same(a[k], b[k]) if isinstance(a[k], float) else a[k] == b[k], (name, k)


@pytest.mark.parametrize("name", NAMES)
def test_without_comparison_areas(name, known):
    """A method that needs comparison areas says so; the others still give an estimate."""
    _, alone, _ = known
    ev = evaluate(alone, "A00", "alerts", intervention=INTERVENTION, comparison=COMPARISON, methods=[name],
                  options=OPT)
    r = ev.result(name)
    assert r is not None
    if METHODS[name].needs.comparison:
        assert not r.ok and r.note == NO_COMPARISON
    else:
        assert r.ok and r.lo <= r.estimate <= r.hi, r.note


def test_a_method_runs_only_with_the_option_it_requires(known):
    panel, _, _ = known
    for spec in METHODS.specs():
        req = spec.extra.get("requires")
        if req is None:
            continue
        off = evaluate(panel, "A00", "alerts", intervention=INTERVENTION, comparison=COMPARISON,
                       methods=["observed", spec.name],
                       options=dataclasses.replace(OPT, **{req: False}))
        assert off.result(spec.name) is None


# ---------------------------------------------------------------- the --method groups
def test_every_method_is_in_all_and_every_group_has_an_effect_or_change():
    groups = method_groups()
    assert groups["all"] == NAMES
    for g, names in groups.items():
        assert names and all(n in NAMES for n in names), g
    every = [n for n in NAMES if METHODS[n].extra.get("group") == EVERY_GROUP]
    assert all(set(every) <= set(v) for v in groups.values())
    assert expand_choices("all") == list(NAMES)


# ---------------------------------------------------------------- a new method: one register call
def toy_effect(design: StudyDesign, options: EvaluationOptions) -> EffectResult:
    """Evaluation window against the same months a year earlier, with a made-up +-10 point interval."""
    y = design.series.counts.to_numpy(float)
    w = slice(design.eval_start, design.end)
    before = slice(design.eval_start - 12, design.end - 12)
    est = y[w].sum() / y[before].sum() - 1
    return EffectResult(method="ignored", estimate=est, lo=est - 0.1, hi=est + 0.1, level=options.level,
                        note="toy")


@pytest.fixture
def toy(monkeypatch):
    """``toy`` registered for this test only (the registry's methods restored afterwards)."""
    monkeypatch.setattr(METHODS, "_specs", dict(METHODS._specs))
    METHODS.register("toy", toy_effect, labels={"zh": "玩具方法", "en": "a toy method"},
                     summary="for the contract test", kind="effect", group="toy", primary=0)
    return "toy"


def test_a_registered_method_runs_through_evaluate_and_the_cli(toy, known, tmp_path):
    panel, _, _ = known
    ev = evaluate(panel, "A00", "alerts", intervention=INTERVENTION, comparison=COMPARISON,
                  methods=["observed", toy], options=OPT)
    assert list(ev.to_frame()["method"]) == ["observed", "toy"]
    assert ev.primary == "toy"  # rank 0: before the structural model
    assert "(a toy method)" in ev.verdict.en and "（玩具方法）" in ev.verdict.zh
    # the command line: the group is a --method choice, the row is in effects.csv
    counts, popt, _ = simulate_city(seed=7, n_areas=9)
    c = counts.assign(period=counts["period"].dt.strftime("%Y-%m-%d"))
    c.to_csv(tmp_path / "counts.csv", index=False)
    out = tmp_path / "out"
    assert main(["claim", "--counts", str(tmp_path / "counts.csv"), "--area", "A00", "--category", "alerts",
                 "--intervention", INTERVENTION, "--period", "2020", "--method", "toy", "--out", str(out),
                 "--no-track"]) == 0
    eff = pd.read_csv(out / "effects.csv")
    assert list(eff["method"]) == ["observed", "toy"]
    assert eff.loc[1, "note"] == "toy"
    assert "a toy method" in (out / "verdict.txt").read_text(encoding="utf-8")


# ---------------------------------------------------------------- today's methods keep their names
def test_verdict_names_of_todays_methods_are_unchanged():
    legacy = {
        "structural": ("结构时间序列反事实预测", "a structural time-series counterfactual"),
        "structural_full": ("含干预变量的结构时间序列", "a structural time-series model with an intervention term"),
        "synthetic": ("合成控制", "synthetic control"),
        "did": ("双重差分", "difference in differences"),
        "ratio_of_ratios": ("比率之比", "ratio of ratios"),
        "its": ("间断时间序列", "interrupted time series"),
        "rate_ratio": ("率比", "rate ratio"),
    }
    for name, (zh, en) in legacy.items():
        assert (METHODS.label(name, "zh"), METHODS.label(name, "en")) == (zh, en)


def test_todays_groups_order_and_primary_rank():
    """Today's methods keep their --method groups, effects.csv order and verdict rank (new ones may join)."""
    today = ("observed", "rate_ratio", "its", "structural", "structural_full", "ratio_of_ratios", "did",
             "synthetic", "placebo_in_time", "regression_to_mean")
    groups = {g: {n for n in v if n in today} for g, v in method_groups().items()}
    assert {g: groups[g] for g in ("all", "rate-ratio", "its", "structural", "synthetic", "did")} == {
        "all": set(today),
        "rate-ratio": {"observed", "rate_ratio"},
        "its": {"observed", "its"},
        "structural": {"observed", "structural", "structural_full"},
        "synthetic": {"observed", "synthetic"},
        "did": {"observed", "ratio_of_ratios", "did"},
    }
    assert tuple(n for n in NAMES if n in today) == today
    assert tuple(n for n in primary_order() if n in today) == (
        "structural", "synthetic", "did", "its", "structural_full", "ratio_of_ratios")


# ---------------------------------------------------------------- annual data: taken or refused with a reason
@pytest.fixture(scope="module")
def annual_design():
    df, truth = annual_panel()
    panel = IncidentPanel.from_counts(df, freq="Y")
    opt = dataclasses.replace(OPT, freq="Y")
    d = build_design(panel, truth.treated, truth.category, intervention=truth.start,
                     comparison=("1995-01-01", "2005-12-31"), baseline=("1984-01-01", "1994-12-31"),
                     methods=NAMES, options=opt)
    return d, opt, truth


@pytest.mark.parametrize("name", NAMES)
def test_annual_data_taken_or_refused_with_the_methods_reason(name, annual_design):
    d, opt, truth = annual_design
    spec = METHODS[name]
    r = run_method(spec, d, opt)
    if "Y" in spec.needs.freqs:
        assert r.ok and np.isfinite([r.estimate, r.lo, r.hi]).all(), r.note
        if kind(name) == "effect":
            assert r.covers(truth.effect), (name, r)
    else:
        assert not r.ok and spec.needs.freq_reason and spec.needs.freq_reason in r.note
