"""Construction steps on small hand-made cases: denominate, impute, screen, rebuild."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.index.build import build_index, rebuild
from riskmodel.index.config import parse_config
from riskmodel.index.inputs import IndexData
from riskmodel.index.prepare import denominate, impute, screen
from riskmodel.index.spec import IndexSpec

SPEC = IndexSpec.from_table(pd.DataFrame({
    "iCode": ["a", "b", "Index"], "Parent": ["Index", "Index", ""], "Level": [1, 1, 2],
    "Direction": [1, 1, 1], "Weight": [1, 1, 1], "Denominator": ["pop", "", ""],
}))


def _data(a, b, groups=None, periods=None, pop=None):
    n = len(a)
    units = pd.DataFrame({"area_id": [f"u{i}" for i in range(n)] if periods is None else ["u0", "u1"] * (n // 2),
                          "period": periods, "name": "x"})
    if groups is not None:
        units["g"] = groups
    den = pd.DataFrame({"pop": pop if pop is not None else np.ones(n)})
    return IndexData(units, pd.DataFrame({"a": a, "b": b}, dtype=float), den)


def test_denominate_divides_and_a_zero_denominator_gives_missing():
    d, rec = denominate(_data([10, 20, 30], [1, 2, 3], pop=[2.0, 0.0, 3.0]), SPEC)
    np.testing.assert_array_equal(d.values["a"].to_numpy(), [5.0, np.nan, 10.0])
    np.testing.assert_array_equal(d.values["b"].to_numpy(), [1, 2, 3])  # no denominator
    assert rec["undefined_by_zero_denominator"] == 1


def test_group_mean_and_median_imputation():
    d = _data([1, 3, np.nan, 10, np.nan, 20], [1, 1, 1, 1, 1, 1], groups=list("AAABBB"))
    out, rec = impute(d, "group_mean", "g")
    np.testing.assert_allclose(out.values["a"], [1, 3, 2, 10, 15, 20])
    assert rec["imputed"] == 2 and rec["missing_after"] == 0
    out, _ = impute(d, "median")
    np.testing.assert_allclose(out.values["a"], [1, 3, 6.5, 10, 6.5, 20])


def test_carry_forward_uses_the_same_areas_previous_period():
    per = pd.to_datetime(["2020-01-01", "2020-01-01", "2020-02-01", "2020-02-01", "2020-03-01", "2020-03-01"])
    d = _data([1, 2, np.nan, 5, np.nan, np.nan], [0, 0, 0, 0, 0, 0], periods=per)
    out, rec = impute(d, "carry_forward")
    np.testing.assert_allclose(out.values["a"], [1, 2, 1, 5, 1, 5])
    assert rec["imputed"] == 3


def test_screen_removes_units_below_the_availability_threshold():
    d = _data([1, np.nan, 3], [1, np.nan, np.nan])
    out, rec = screen(d, min_availability=0.5)
    assert list(out.units["area_id"]) == ["u0", "u2"] and rec["units_removed_ids"] == ["u1"]


def test_rebuild_changes_one_setting(tmp_path):
    rng = np.random.default_rng(0)
    long = pd.DataFrame([{"area_id": f"s{i}", "indicator": k, "value": rng.uniform(1, 9)}
                         for i in range(12) for k in ("a", "b")])
    long.to_csv(tmp_path / "l.csv", index=False)
    SPEC.table.rename(columns={"code": "indicator"}).drop(columns=["denominator"]).to_csv(tmp_path / "s.csv", index=False)
    cfg = parse_config({"data": {"indicators": str(tmp_path / "l.csv"), "spec": str(tmp_path / "s.csv")}})
    res = build_index(cfg)
    z = rebuild(res, **{"steps.normalise.method": "zscore"})
    assert z.log["normalise"] == "zscore(0,1)" and res.log["normalise"] == "minmax[0,100]"
    wide = long.pivot(index="area_id", columns="indicator", values="value")
    zz = (wide - wide.mean()) / wide.std(ddof=1)
    exp = zz.mean(axis=1)
    got = z.index.set_index("area_id")["score"]
    np.testing.assert_allclose(got.reindex(exp.index), exp, atol=1e-12)
    with pytest.raises(Exception, match="unknown value"):
        rebuild(res, **{"steps.aggregate.method": "mode"})


def test_coinr_panel_years_become_periods_with_change_since_last(reference_dir, tmp_path):
    a = pd.read_csv(reference_dir / "asem" / "ASEM_iData.csv")
    b = a.copy()
    b["Time"] = 2019.0
    b.loc[b["uCode"] == "RUS", "CPI"] = b["CPI"].max() * 2  # Russia improves on one indicator only
    pd.concat([a, b]).to_csv(tmp_path / "panel.csv", index=False)
    meta = str(reference_dir / "asem" / "ASEM_iMeta.csv")
    cfg = parse_config({"data": {"idata": str(tmp_path / "panel.csv"), "imeta": meta},
                        "steps": {"normalise": {"method": "minmax", "pooled": True}}})
    idx = build_index(cfg).index
    assert sorted(idx["period"].dt.year.unique()) == [2018, 2019]
    ch = idx.loc[idx["period"].dt.year == 2019].set_index("area_id")
    assert ch.loc["RUS", "score_change"] > 0
    # pooled goalposts: nobody else's data changed except through the CPI maximum moving up
    assert (ch.drop("RUS")["score_change"] <= 1e-12).all()
