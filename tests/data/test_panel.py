"""IncidentPanel: zero-filling, resampling, hierarchy, Nixtla round trip, rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.data import AreaHierarchy, IncidentPanel
from riskmodel.errors import InputError

AREAS = pd.DataFrame(
    {
        "area_id": ["C", "D1", "D2", "S1", "S2", "S3"],
        "parent_id": [None, "C", "C", "D1", "D1", "D2"],
        "level": ["city", "district", "district", "area", "area", "area"],
        "name": ["市", "一区", "二区", "甲街道", "乙街道", "丙镇"],
    }
)


def daily_panel(seed: int = 0, days: int = 70) -> IncidentPanel:
    rng = np.random.default_rng(seed)
    per = pd.date_range("2021-01-01", periods=days, freq="D")
    rows = []
    for a in ("S1", "S2", "S3"):
        for k in ("x", "y"):
            y = rng.poisson(3, days)
            keep = rng.random(days) > 0.2  # some days have no row (zero events)
            rows.append(pd.DataFrame({"area_id": a, "category": k, "period": per[keep], "count": y[keep]}))
    return IncidentPanel.from_counts(pd.concat(rows), areas=AREAS)


def test_complete_fills_zeros_and_keeps_totals():
    p = daily_panel()
    full = p.complete()
    assert len(full.counts) == 6 * 70
    assert full.counts["count"].sum() == p.counts["count"].sum()
    added = full.counts.merge(p.counts, how="left", on=["area_id", "category", "period"], indicator=True)
    assert (added.loc[added["_merge"] == "left_only", "count_x"] == 0).all()


def test_complete_series_span_does_not_extend_before_a_late_start():
    c = pd.DataFrame(
        {"area_id": ["a", "a", "b"], "category": "x", "period": ["2021-01-01", "2021-01-04", "2021-01-03"], "count": [1, 2, 3]}
    )
    p = IncidentPanel.from_counts(c, freq="D")
    s = p.complete(span="series").counts
    assert s[s.area_id == "b"]["period"].min() == pd.Timestamp("2021-01-03")
    assert len(s[s.area_id == "a"]) == 4
    assert len(p.complete().counts[lambda d: d.area_id == "b"]) == 4


def test_resample_sums_to_iso_weeks_and_months():
    p = daily_panel().complete()
    w = p.resample("W")
    m = p.resample("M")
    assert (w.counts["period"].dt.day_of_week == 0).all()
    assert (m.counts["period"].dt.day == 1).all()
    for q in (w, m):
        assert q.counts["count"].sum() == p.counts["count"].sum()
    # 2021-01-01 is a Friday: its ISO week starts on Monday 2020-12-28
    assert w.counts["period"].min() == pd.Timestamp("2020-12-28")
    assert w.meta["partial_first"] is True
    jan = p.counts[(p.counts.period.dt.month == 1) & (p.counts.area_id == "S1") & (p.counts.category == "x")]
    got = m.counts[(m.counts.area_id == "S1") & (m.counts.category == "x")].iloc[0]["count"]
    assert got == jan["count"].sum()
    with pytest.raises(InputError, match="weeks do not nest"):
        w.resample("M")
    with pytest.raises(InputError, match="cannot resample"):
        m.resample("D")


def test_aggregate_up_the_hierarchy_adds_up():
    p = daily_panel().complete()
    d = p.aggregate("district")
    c = p.aggregate("city")
    assert set(d.area_ids) == {"D1", "D2"}
    assert c.area_ids == ["C"]
    w = p.to_wide()
    d1 = d.to_wide()[("D1", "x")]
    assert (d1 == w[("S1", "x")] + w[("S2", "x")]).all()
    assert c.counts["count"].sum() == p.counts["count"].sum()
    lv = p.all_levels()
    assert set(lv["level"]) == {"area", "district", "city"}
    for level, g in lv.groupby("level"):
        assert g["count"].sum() == p.counts["count"].sum(), level


def test_summing_matrix():
    h = AreaHierarchy(AREAS)
    S, ids = h.summing_matrix(["S1", "S2", "S3"])
    assert ids == ["C", "D1", "D2", "S1", "S2", "S3"]
    np.testing.assert_array_equal(S, [[1, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])


def test_hierarchy_cycle_is_refused():
    bad = pd.DataFrame({"area_id": ["a", "b"], "parent_id": ["b", "a"]})
    with pytest.raises(InputError, match="cycle"):
        AreaHierarchy(bad)


def test_nixtla_round_trip():
    p = daily_panel().complete()
    nx = p.to_nixtla()
    assert list(nx.columns) == ["unique_id", "ds", "y"]
    back = IncidentPanel.from_nixtla(nx, freq="D")
    pd.testing.assert_frame_equal(back.counts, p.counts)


def test_population_and_rates():
    c = pd.DataFrame({"area_id": ["a", "a", "a"], "category": "x",
                      "period": ["2019-06-01", "2020-06-01", "2023-06-01"], "count": [10, 20, 30]})
    pop = pd.DataFrame({"area_id": ["a", "a"], "year": [2019, 2020], "population": [100_000, 200_000]})
    p = IncidentPanel.from_counts(c, population=pop, freq="M")
    r = p.rates()
    # nearest known year is used beyond the table
    np.testing.assert_allclose(r["rate"], [1.0, 1.0, 1.5])


def test_select_errors_name_the_unknown():
    p = daily_panel()
    with pytest.raises(InputError, match="unknown area id"):
        p.select(areas=["nope"])
    with pytest.raises(InputError, match="unknown category: z; known: x, y"):
        p.select(categories=["z"])
    s = p.select(areas=["S1"], categories=["x"], start="2021-01-10", end="2021-01-20")
    assert s.series_ids == [("S1", "x")]
    assert s.counts["period"].between("2021-01-10", "2021-01-20").all()


def test_sample_city_panel_loads(sample_dir):
    from riskmodel.data import load_panel_dir

    p = load_panel_dir(sample_dir, "counts_monthly.csv", freq="M")
    assert len(p.area_ids) == 25 and len(p.categories) == 9
    assert p.hierarchy.levels == ["grid", "area", "district", "city"]
    assert p.neighbours is not None and len(p.neighbours) > 50
    d = p.aggregate("district")
    assert d.counts["count"].sum() == p.counts["count"].sum()


@pytest.mark.parametrize(("name", "freq"), [("counts_monthly.csv", "M"), ("counts_weekly.csv", "W")])
def test_frequency_is_inferred(sample_dir, name, freq):
    from riskmodel.data import read_table

    df, _ = read_table(sample_dir / name)
    assert IncidentPanel.from_counts(df.head(3000)).freq == freq
