"""The reporting-delay nowcast (riskmodel.alerts.nowcast): closed forms, R's surveillance::nowcast, seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.alerts import detect
from riskmodel.alerts.nowcast import (
    COLUMNS,
    ReportingTriangle,
    nowcast,
    nowcast_arrays,
    nowcast_panel,
    reporting_triangle,
)
from riskmodel.errors import InputError
from riskmodel.results import IntervalResult, artifact_bytes

DATA = Path(__file__).parent / "data"


def geometric_pmf(q: float, D: int) -> np.ndarray:
    """P(delay = d), d = 0..D, geometric with P(delay > d) = q^(d+1), the tail beyond D put at D."""
    p = (1 - q) * q ** np.arange(D + 1)
    p[D] += q ** (D + 1)
    return p


def expected_triangle(N: float, pmf: np.ndarray, T1: int, S: int = 1) -> np.ndarray:
    """The triangle of a constant series with exactly its expected counts (NaN where not observable)."""
    D1 = len(pmf)
    n = np.tile(N * pmf, (S, T1, 1)).astype(float)
    obs = np.arange(T1)[:, None] + np.arange(D1)[None, :] <= T1 - 1
    n[:, ~obs] = np.nan
    return n


def simulate_events(n_series: int = 30, days: int = 60, mean: float = 6.0, q: float = 0.5, *, seed: int = 0,
                    spike: dict[int, float] | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Events with geometric delays (P(delay > d) = q^(d+1)); returns (events, complete counts (S, days))."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-01")
    rows = []
    full = np.zeros((n_series, days), dtype=int)
    for s in range(n_series):
        lam = np.full(days, mean)
        for d, k in (spike or {}).items():
            lam[d] *= k
        n = rng.poisson(lam)
        full[s] = n
        occ = np.repeat(np.arange(days), n)
        delay = rng.geometric(1 - q, size=occ.size) - 1
        rows.append(pd.DataFrame({"area_id": f"A{s:03d}", "category": "theft",
                                  "occurred": start + pd.to_timedelta(occ, unit="D"),
                                  "reported": start + pd.to_timedelta(occ + delay, unit="D")}))
    return pd.concat(rows, ignore_index=True), full


# ------------------------------------------------------------------ closed forms
@pytest.mark.parametrize("prior", ["empirical", "flat"])
def test_constant_series_with_geometric_delay_is_recovered(prior: str) -> None:
    # counts large enough that the posterior of the delays is tight: the Monte Carlo mean over its
    # 400 draws is within about 1e-5 (relative) of the value at the true delays
    D, q, N = 6, 0.55, 4e5
    pmf = geometric_pmf(q, D)
    n = expected_triangle(N, pmf, T1=50)
    res = nowcast_arrays(n, prior=prior, kappa=1e-9, n_samples=400, draws=False, seed=3)
    # the share complete at delay d is the delay CDF: 1 - q^(d+1), and 1 at D
    want = np.minimum(np.cumsum(pmf), 1.0)
    np.testing.assert_allclose(res["cdf"][0], want, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res["share"][0], want[np.arange(D - 1, -1, -1)], rtol=1e-9)
    # the reported-so-far of period T - d is N * F(d); the nowcast recovers N
    np.testing.assert_allclose(res["reported"][0], N * want[np.arange(D - 1, -1, -1)], rtol=1e-12)
    np.testing.assert_allclose(res["mean"][0], N, rtol=5e-5)


def test_pools_estimate_their_own_delays() -> None:
    D = 4
    fast, slow = geometric_pmf(0.2, D), geometric_pmf(0.7, D)
    n = np.concatenate([expected_triangle(30, fast, 30, S=2), expected_triangle(30, slow, 30, S=1)])
    res = nowcast_arrays(n, groups=np.array([0, 0, 1]), kappa=1e-9, draws=False)
    np.testing.assert_allclose(res["cdf"][0], np.cumsum(fast), atol=1e-9)
    np.testing.assert_allclose(res["cdf"][1], np.minimum(np.cumsum(slow), 1), atol=1e-9)
    np.testing.assert_allclose(res["mean"], 30, rtol=2e-3)  # Monte Carlo over the delay posterior


def test_intervals_cover_the_complete_counts() -> None:
    """95% predictive intervals of simulated series cover their true complete counts about 95% of the time."""
    ev, full = simulate_events(n_series=120, days=50, mean=5.0, q=0.5, seed=11)
    nc = nowcast(ev, freq="D", max_delay=7, now="2026-02-19", n_samples=500, seed=2)
    t = nc.to_frame()
    truth = full[:, -7:].ravel()
    cover = ((t["lo_95"] <= truth) & (truth <= t["hi_95"])).mean()
    assert 0.91 <= cover <= 0.995, cover
    # the reported counts are biased low; the nowcast mean is not (within 3 standard errors)
    err = t["nowcast_mean"].to_numpy() - truth
    assert abs(err.mean()) < 3 * err.std() / np.sqrt(err.size)
    assert (t["reported_so_far"].to_numpy() - truth).mean() < -0.5  # expected: -5 * sum(0.5^(d+1)) / 7 = -0.71


# ------------------------------------------------------------------ R's surveillance::nowcast
def test_agrees_with_r_surveillance_bayes_trunc() -> None:
    """tests/alerts/data/nowcast_reference.R: the delay CDF exactly (a closed form of the posterior); the
    predictive (Monte Carlo, 20,000 draws in R and here) mean within 1%, median and 95% interval equal."""
    r = pd.read_csv(DATA / "nowcast_r.csv")
    nc = nowcast(DATA / "nowcast_events.csv", freq="D", max_delay=7, now="2026-03-11", n_samples=20000, seed=1)
    t = nc.to_frame()
    assert list(t["period"].dt.strftime("%Y-%m-%d")) == list(r["period"])
    np.testing.assert_array_equal(t["reported_so_far"], r["reported_so_far"])
    np.testing.assert_allclose(t["delay_complete_share"], r["delay_cdf"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(t["nowcast_mean"], r["mean"], rtol=0.01)
    np.testing.assert_array_equal(t["nowcast_median"], r["median"])
    np.testing.assert_array_equal(t["lo_95"], r["lo_95"])
    np.testing.assert_array_equal(t["hi_95"], r["hi_95"])
    assert any("reported after 2026-03-11 left out" in n for n in nc.notes)
    assert any("more than 7 periods late" in n for n in nc.notes)


# ------------------------------------------------------------------ the result, seeds, inputs
def test_result_protocol_and_seeded_bytes() -> None:
    ev, _ = simulate_events(n_series=4, days=40, seed=5)
    a = nowcast(ev, freq="D", max_delay=5, seed=7, n_samples=300)
    b = nowcast(ev, freq="D", max_delay=5, seed=7, n_samples=300)
    c = nowcast(ev, freq="D", max_delay=5, seed=8, n_samples=300)
    assert isinstance(a, IntervalResult)
    assert list(a.to_frame().columns) == COLUMNS
    assert len(a.to_frame()) == 4 * 5
    same = [artifact_bytes(x) for x in a.artifacts()]
    assert same == [artifact_bytes(x) for x in b.artifacts()]
    assert artifact_bytes(a.artifacts()[0]) != artifact_bytes(c.artifacts()[0])
    ci = a.conf_int(0.5)
    assert list(ci.columns) == ["area_id", "category", "period", "level", "lo", "hi"]
    assert (ci["lo"] >= a.table["lo_95"]).all() and (ci["hi"] <= a.table["hi_95"]).all()
    assert (a.table["lo_95"] >= a.table["reported_so_far"]).all()
    assert "bayes.trunc" in a.summary() and "share complete at delay 0" in a.summary()


def test_triangle_from_frame_matches_events() -> None:
    ev = pd.read_csv(DATA / "nowcast_events.csv")
    tri = reporting_triangle(ev, freq="D", max_delay=7, now="2026-03-11")
    wide = pd.DataFrame(tri.n[0], index=tri.periods, columns=range(8))
    tri2 = ReportingTriangle.from_frame(wide, freq="D", area_id="A1", category="theft")
    a = nowcast(tri, seed=4, n_samples=200).to_frame()
    b = nowcast(tri2, seed=4, n_samples=200).to_frame()
    pd.testing.assert_frame_equal(a, b)


def test_weekly_delays_count_week_starts() -> None:
    ev = pd.DataFrame({
        "area_id": "A", "category": "c",
        # Sunday reported Monday: one week late; Monday reported Sunday: same week
        "occurred": ["2026-01-04", "2026-01-05", "2026-01-05", "2025-12-01"],
        "reported": ["2026-01-05", "2026-01-11", "2026-01-26", "2025-12-01"],
        "count": [2, 3, 1, 1],
    })
    tri = reporting_triangle(ev, freq="W", max_delay=2, now="2026-01-12")
    n = pd.DataFrame(tri.n[0], index=tri.periods)
    assert n.loc["2025-12-29", 1] == 2  # week of Sunday 2026-01-04
    assert n.loc["2026-01-05", 0] == 3
    assert np.isnan(n.loc["2026-01-12", 1])
    assert n.loc["2026-01-05"].sum() == 3  # the report of 2026-01-26 is after now
    assert any("1 event(s) reported after 2026-01-12" in x for x in tri.notes)


def test_bad_events_are_refused_with_rows() -> None:
    ev = pd.DataFrame({"area_id": ["A", "A", "A"], "category": "c",
                       "occurred": ["2026-01-05", "2026-01-06", "not a day"],
                       "reported": ["2026-01-04", "2026-01-06", "2026-01-07"]})
    with pytest.raises(InputError, match=r"occurred.*not a date.*line 4"):
        reporting_triangle(ev, freq="D", max_delay=3, source="events.csv")
    ev.loc[2, "occurred"] = "2026-01-06"
    with pytest.raises(InputError, match=r"events.csv, column 'reported': reported before it occurred.*line 2"):
        reporting_triangle(ev, freq="D", max_delay=3, source="events.csv")
    with pytest.raises(InputError, match="missing column"):
        reporting_triangle(ev.drop(columns="reported"), freq="D", max_delay=3)
    with pytest.raises(InputError, match="at least"):
        reporting_triangle(ev.assign(reported=ev["occurred"]), freq="D", max_delay=3)
    with pytest.raises(InputError, match="daily, weekly or monthly"):
        nowcast(ev, freq="Y")


# ------------------------------------------------------------------ detectors on nowcast counts
def test_nowcast_panel_feeds_a_detector_and_says_what_it_changed() -> None:
    # a tripling on the last two days: reported so far it is hidden by the delays
    ev, full = simulate_events(n_series=6, days=60, mean=6.0, q=0.6, seed=3, spike={58: 3.0, 59: 3.0})
    now = "2026-03-01"
    rep = nowcast_panel(ev, freq="D", max_delay=7, now=now, use="median", n_samples=300)
    note = rep.notes()[-1]
    assert "the last 7 days (2026-02-23 .. 2026-03-01) of 6 series hold the nowcast median" in note
    tri = reporting_triangle(ev, freq="D", max_delay=7, now=now)
    w = rep.to_wide().to_numpy().T  # (S, T)
    np.testing.assert_array_equal(w[:, :-7], tri.reported()[:, :-7])
    assert (w[:, -7:] >= tri.reported()[:, -7:]).all()
    # the last day's nowcast is nearer the complete count than the count reported so far
    assert abs(w[:, -1].sum() - full[:, -1].sum()) < abs(tri.reported()[:, -1].sum() - full[:, -1].sum())
    d = detect(rep, "ears-c2", start="2026-02-20")
    assert len(d.table) == 6 * 10
    upper = nowcast_panel(ev, freq="D", max_delay=7, now=now, use="upper", n_samples=300)
    assert (upper.to_wide().to_numpy() >= rep.to_wide().to_numpy()).all()
    with pytest.raises(InputError, match="use"):
        nowcast_panel(ev, freq="D", use="max")


def test_pool_by_category_names_its_delay_tables() -> None:
    ev, _ = simulate_events(n_series=4, days=30, seed=9)
    ev.loc[ev["area_id"].isin(["A002", "A003"]), "category"] = "fraud"
    nc = nowcast(ev, freq="D", max_delay=5, pool="category", n_samples=100)
    assert list(dict.fromkeys(nc.delay["pool"])) == ["theft", "fraud"]  # in the order of the series
    assert np.allclose(nc.delay.groupby("pool")["pmf"].sum(), 1.0)
    with pytest.raises(InputError, match="pool"):
        nowcast(ev, freq="D", pool="street")


def test_detect_runs_on_nowcast_counts_from_the_command_line(tmp_path):
    """`riskmodel detect --nowcast EVENTS`: the detector runs on the nowcast panel, the note says what was
    corrected; giving both --counts and --nowcast (or neither) is refused, exit 2."""
    import contextlib
    import io

    from riskmodel.cli import main

    events = Path(__file__).parent / "data" / "nowcast_events.csv"
    out = tmp_path / "det.csv"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["detect", "--nowcast", str(events), "--freq", "D", "--method", "ears-c1",
                     "--nowcast-max-delay", "7", "--out", str(out), "--no-track"])
    assert code == 0, err.getvalue()
    assert "note: nowcast: the last 7 days" in err.getvalue()
    det = pd.read_csv(out)
    assert len(det) and set(det["area_id"]) <= set(pd.read_csv(events)["area_id"])
    for args in (["--counts", str(events), "--nowcast", str(events)], []):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            assert main(["detect", *args, "--out", str(tmp_path / "x.csv"), "--no-track"]) == 2
        assert "--counts" in err.getvalue() and "--nowcast" in err.getvalue()
