"""Spike detectors on the real-data shapes of issue 14 (sparse monthly counts, weekly sources).

Each test holds a behaviour measured on these shapes: expected counts floored
at the series' long-run rate (glrnb's was 9.4e-14 on sparse_monthly, so one
count alarmed), bounds never below expected counts, a score with one meaning,
a reason and a counted summary line where a method cannot evaluate a period,
the limit54 rule in every Farrington detector, EARS on weekly counts, no
overflow warning, and a clean refusal of a ``--past-weeks-not-included``
that leaves nothing to fit.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.realistic.shapes import sparse_monthly, weekly_missing_week53

from riskmodel.alerts import DETECTORS, detect
from riskmodel.alerts.base import expected_floor
from riskmodel.alerts.farrington import R_DEFAULT, farrington_flexible
from riskmodel.cli import main
from riskmodel.data import IncidentPanel


@pytest.fixture(scope="module")
def sparse() -> IncidentPanel:
    return IncidentPanel.from_counts(sparse_monthly(), freq="M")


def spike_free_sparse(n_areas: int = 33, months: int = 120, seed: int = 11) -> pd.DataFrame:
    """Monthly Poisson counts at 0.03..0.6 a month and no spike: every alarm is a false alarm."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2012-01-01", periods=months, freq="MS")
    rows = []
    for i in range(n_areas):
        r = 0.3 * (0.1 if i == 0 else rng.uniform(0.5, 2.0))
        rows += [(f"B{i + 1:02d}", "homicide", p, int(v)) for p, v in zip(periods, rng.poisson(r, months), strict=True)]
    return pd.DataFrame(rows, columns=["area_id", "category", "period", "count"])


# ---------------------------------------------------------------- 14.4: expected counts, bounds, score
def test_glrnb_expected_counts_are_floored_at_the_series_rate(sparse):
    d = detect(sparse, "glrnb")
    t = d.table
    # before: min expected 9.4e-14 and 60 alarms; floor: (sum + 0.5) / n over the 24 training months
    y = sparse.counts.pivot(index="period", columns="area_id", values="count").to_numpy(float)
    floor = expected_floor(y[:24])
    assert t["expected"].min() >= floor.min() - 1e-12 and t["expected"].min() > 0.02
    assert int(t["alarm"].sum()) <= 10
    # one count after a quiet half-year is no alarm (before: 9.4e-14 expected, an alarm)
    t = t.sort_values(["area_id", "period"])
    quiet = t.groupby("area_id")["count"].transform(lambda c: c.shift(1).rolling(6).sum()) == 0
    assert (quiet & (t["count"] == 1)).sum() > 5 and not t.loc[quiet & (t["count"] == 1), "alarm"].any()
    # the floor is an option: 0 gives the model's own means back (the old behaviour)
    raw = detect(sparse, "glrnb", floor=0.0).table
    assert raw["expected"].min() < 1e-10 and int(raw["alarm"].sum()) > 40


def test_forecast_detector_bound_never_below_expected_and_score_positive_at_alarms(sparse):
    t = detect(sparse, "forecast", model="own").table
    # before: expected 3e-6 with bound 0, score -348,638 at an alarm
    assert (t["upperbound"] >= t["expected"]).all()
    assert (t.loc[t["alarm"], "score"] > 1).all()
    # default floor 0.5: 65 false alarms before, 20 now (0.6% of 3,168); floor 1: 6
    assert t["expected"].min() > 0.01 and int(t["alarm"].sum()) <= 24
    assert int(detect(sparse, "forecast", model="own", floor=1.0).table["alarm"].sum()) <= 12
    raw = detect(sparse, "forecast", model="own", floor=0.0).table
    assert raw["expected"].min() < 1e-10 and (raw["upperbound"] >= raw["expected"]).all()


@pytest.mark.parametrize("name", [n for n in DETECTORS.names() if "M" in DETECTORS.get(n).needs.freqs
                                  and n != "forecast"])
def test_every_monthly_detector_keeps_bounds_and_score_on_sparse_counts(sparse, name):
    t = detect(sparse, name).table
    both = t["expected"].notna() & t["upperbound"].notna()
    assert (t.loc[both, "upperbound"] >= t.loc[both, "expected"]).all()
    known = both & t["count"].notna() & (t["upperbound"] > t["expected"])
    c, e, u = (t.loc[known, k].astype(float) for k in ("count", "expected", "upperbound"))
    np.testing.assert_allclose(t.loc[known, "score"], (c - e) / (u - e), rtol=1e-9)
    assert not t.loc[t["reason"] != "", "alarm"].any()


@pytest.mark.parametrize("name,most", [("glrnb", 0.005), ("farrington-glr", 0.005), ("farrington-window", 0.005)])
def test_false_alarms_on_spike_free_sparse_counts(name, most):
    """Before: glrnb 54 of 3,168 (1.7%), farrington-glr 35 and farrington-window 41 of 1,881 series-months."""
    panel = IncidentPanel.from_counts(spike_free_sparse(), freq="M")
    t = detect(panel, name).table
    assert t["alarm"].mean() <= most, f"{name}: {int(t['alarm'].sum())} false alarms in {len(t)}"


# ---------------------------------------------------------------- 14.4: why a period is not evaluated
def test_farrington_says_why_and_what_would_evaluate_more(sparse):
    d = detect(sparse, "farrington")
    line = d.not_evaluated()
    t = d.table
    n_not = int((t["reason"] != "").sum())
    assert line.startswith(f"farrington: {n_not:,} of {len(t):,} series-periods not evaluated: limit54 in 33 series")
    # b = 5 years + w = 3 of 120 months: the first 63 months are not monitored; b = 1 would monitor
    # 48 more months in each of the 33 series (all have data from the start)
    assert d.hints["--b 1"] == 48 * 33 and d.hints["--b 4"] == 12 * 33
    assert "1,584 with --b 1" in line
    ps = d.per_series()
    assert {"not_evaluated", "main_reason", "reasons"} <= set(ps.columns)
    assert (ps["not_evaluated"] == ps["monitored"] - ps["evaluated"]).all()
    assert ps["reasons"].str.startswith("limit54: ").all()
    assert line in d.summary()


def test_a_series_that_starts_late_is_named_short_of_history():
    df = weekly_missing_week53(n_areas=3)
    late = df["area_id"] == "D03"
    df = df[~late | (pd.to_datetime(df["period"]) >= "2005-06-06")]
    panel = IncidentPanel.from_counts(df, freq="W")
    d = detect(panel, "farrington", b=1, start="2005-09-05")
    line = d.not_evaluated()
    assert "history too short in 1 series" in line
    assert d.hints.get("--b 1") is None  # b = 1 is what it runs with
    ps = d.per_series().set_index("area_id")
    assert ps.loc["D03", "main_reason"].startswith("history too short: series starts 2005-06-06")


def test_farrington_refuses_data_shorter_than_b_years_naming_b(tmp_path: Path, capsys):
    f = tmp_path / "w.csv"
    weekly_missing_week53().to_csv(f, index=False)
    out = tmp_path / "o.csv"
    assert main(["detect", "--counts", str(f), "--method", "farrington", "--out", str(out), "--no-track"]) == 2
    err = capsys.readouterr().err
    assert "--b 5" in err and "the largest value the data allow is 3" in err and not out.exists()


# ---------------------------------------------------------------- 14.4: limit54 keeps expected and bound
def test_limit54_blocks_the_alarm_but_keeps_expected_and_bound(sparse):
    t = detect(sparse, "farrington").table
    blocked = t["reason"].str.startswith("limit54")
    assert blocked.sum() > 1000
    # R's farringtonFlexible blanks both (upperbound <- ifelse(enoughCases, lu$upper, NA)); the
    # array port still does (parity), the detection table keeps them
    assert t.loc[blocked, "expected"].notna().all() and t.loc[blocked, "upperbound"].notna().all()
    assert not t.loc[blocked, "alarm"].any()
    y = sparse.counts.pivot(index="period", columns="area_id", values="count").to_numpy(float)
    r = farrington_flexible(y, np.arange(63, 120), R_DEFAULT, freq=12,
                            dates=pd.DatetimeIndex(sorted(sparse.counts["period"].unique())).values, period="M")
    assert np.isnan(r["upperbound"][r["limit54"]]).all() and np.isfinite(r["upper_all"][r["limit54"]]).all()


# ---------------------------------------------------------------- 16.12: options that did nothing
def test_farrington_window_applies_limit54(sparse):
    """Before: identical results for limit54 (0,4) and (5,4)."""
    on = detect(sparse, "farrington-window", limit54=(5, 4)).table.sort_values(["area_id", "period"])
    last4 = on.groupby("area_id")["count"].transform(lambda c: c.rolling(4).sum())
    assert not on.loc[last4 < 5, "alarm"].any()  # before: 55 alarms, most with fewer than 5 cases
    assert on.loc[last4 < 5, "reason"].str.startswith("limit54").all()
    off = detect(sparse, "farrington-window", limit54=(0, 4)).table
    assert not off["reason"].str.startswith("limit54").any()


def test_farrington_window_alpha_default_is_the_one_in_the_help(capsys):
    spec = DETECTORS.get("farrington-window")
    assert spec.option("alpha").default == 0.005
    assert main(["detect", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "farrington-window: level of the NB test of the window sum (default 0.005)" in text


def test_ears_runs_on_weekly_counts_and_names_c3_undefined():
    df = weekly_missing_week53(n_areas=2)
    df.loc[df["area_id"] == "D02", "count"] = 4  # a constant series: sd 0, R gives NA for C3
    panel = IncidentPanel.from_counts(df, freq="W")
    for m in ("ears-c1", "ears-c2", "ears-c3"):
        t = detect(panel, m).table  # before: refused ("EARS ... is meant for daily counts")
        assert len(t) > 150
    t = detect(panel, "ears-c3").table
    const = t[t["area_id"] == "D02"]
    undefined = const["reason"].str.startswith("C3 undefined")
    assert undefined.mean() > 0.8 and not const["alarm"].any()  # (week 53 of 2004 was added as 0)
    assert const.loc[undefined, "upperbound"].isna().all() and const.loc[~undefined, "upperbound"].notna().all()


def _onset_series() -> tuple[np.ndarray, np.ndarray]:
    """Weekly series that are 0 for years and then start: a diverging trend fit (eta0 > 709)."""
    rng = np.random.default_rng(1)
    T, S = 52 * 7, 20
    y = np.zeros((T, S))
    for j in range(S):
        onset = rng.integers(52, T - 10)
        y[onset:, j] = rng.poisson(rng.uniform(0.5, 50), T - onset)
        if rng.random() < 0.5:
            y[rng.integers(0, T, 3), j] += rng.integers(1, 1000, 3)
    return y, pd.date_range("2010-01-04", periods=T, freq="W-MON").values


def test_no_overflow_warning_from_farrington():
    """Before: 'overflow encountered in exp' at the trend check (farrington.py, pred = np.exp(eta0))."""
    y, dates = _onset_series()
    ctl = R_DEFAULT.__class__(b=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        farrington_flexible(y, np.arange(52 + 4, len(dates)), ctl, freq=52, dates=dates, period="W")


def test_no_runtime_warning_on_sparse_monthly(sparse):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for m in ("farrington", "farrington-noufaily", "farrington-original", "farrington-glr", "farrington-window"):
            detect(sparse, m)


# ---------------------------------------------------------------- 16.9: a huge --past-weeks-not-included
def test_huge_past_weeks_not_included_is_refused_with_the_largest_value(tmp_path: Path, capsys):
    f = tmp_path / "s.csv"
    sparse_monthly().to_csv(f, index=False)
    out = tmp_path / "o.csv"
    code = main(["detect", "--counts", str(f), "--method", "farrington", "--past-weeks-not-included",
                 "99999999999999999999", "--out", str(out), "--no-track"])
    err = capsys.readouterr().err
    assert code == 2 and "--past-weeks-not-included" in err and "largest value allowed is 62" in err
    assert not out.exists()


# ---------------------------------------------------------------- the added-zeros note
def test_detect_prints_the_added_zeros_note(tmp_path: Path, capsys):
    f = tmp_path / "w53.csv"
    weekly_missing_week53().to_csv(f, index=False)
    out = tmp_path / "o.csv"
    assert main(["detect", "--counts", str(f), "--method", "glrnb", "--out", str(out), "--no-track"]) == 0
    err = capsys.readouterr().err
    assert err.count("counted as 0") == 1
