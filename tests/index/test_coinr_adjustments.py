"""COINr parity beyond the default build: ``n_prank`` and the builds of COINr's adjustments vignette.

Expected values are COINr 1.1.14's own outputs, committed in
benchmarks/index/coinr_adjustments/ and made by
benchmarks/index/coinr_adjustments.R (R 4.2.2, COINr installed from its
v1.1.14 source; the script says how). That R run reproduces, entry for entry,
the three comparison tables the vignette prints in COINr's rendered
documentation (docs/articles/adjustments.html of the v1.1.14 tag).

The four builds (COINr's names): Nominal (the default example build, also
checked by test_parity.py), Prank (percentile ranks in place of min-max),
NoLPIFor (LPI and Forest dropped), Screen90 (no imputation; countries with
less than 90% of their indicators removed). The n_prank tests need nothing
else; the builds need the ASEM data of ../shared/reference/asem/, absent on a
fresh clone, and skip with the reason then.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.conftest import ROOT

from riskmodel.cli import main
from riskmodel.index.build import IndexResult, build_index
from riskmodel.index.config import load_config
from riskmodel.index.normalise import normalise

COINR = ROOT / "benchmarks" / "index" / "coinr_adjustments"
BUILDS = {  # the vignette's name -> riskmodel's experiment
    "Nominal": "asem_coinr",
    "Prank": "asem_coinr_prank",
    "NoLPIFor": "asem_coinr_drop",
    "Screen90": "asem_coinr_screen90",
}


# ----------------------------------------------------------------------------- n_prank itself
def test_prank_min_is_coinr_n_prank_with_ties_missing_values_and_directions():
    # COINr: Normalise(x, f_n = "n_prank", direction = d), i.e. n_prank(x * d):
    # (rank(x * d, ties.method = "min", na.last = "keep") - 1) / (sum(!is.na(x)) - 1)
    cases = pd.read_csv(COINR / "n_prank_cases.csv")
    assert set(cases["case"]) == {"ties", "all_tied", "one_value", "neg"}
    for (case, d), g in cases.groupby(["case", "direction"]):
        got = normalise(g[["x"]].to_numpy(float), np.array([float(d)]), "prank_min", scale=1.0)[:, 0]
        np.testing.assert_array_equal(got, g["prank"].to_numpy(float), err_msg=f"{case}, direction {d}")
    # the known answer by hand: 3, 1, NA, 3, 2, 2, 5 -> ranks (min) 4, 1, -, 4, 2, 2, 6 of n = 6
    x = np.array([[3.0], [1.0], [np.nan], [3.0], [2.0], [2.0], [5.0]])
    np.testing.assert_array_equal(normalise(x, np.array([1.0]), "prank_min", scale=1.0)[:, 0],
                                  [0.6, 0.0, np.nan, 0.6, 0.2, 0.2, 1.0])
    # riskmodel's default scale is its 0-100 score scale
    np.testing.assert_allclose(normalise(x, np.array([1.0]), "prank_min")[:, 0],
                               [60.0, 0.0, np.nan, 60.0, 20.0, 20.0, 100.0], rtol=1e-15)


def test_prank_min_differs_from_prank_only_where_values_tie():
    rng = np.random.default_rng(18)
    x = rng.integers(0, 6, size=(40, 3)).astype(float)   # many ties
    x[rng.random(x.shape) < 0.1] = np.nan
    d = np.array([1.0, -1.0, 1.0])
    lo, avg = normalise(x, d, "prank_min"), normalise(x, d, "prank")
    tied = np.zeros(x.shape, bool)
    for j in range(x.shape[1]):
        s = pd.Series(x[:, j])
        tied[:, j] = s.duplicated(keep=False).to_numpy() & s.notna().to_numpy()
    np.testing.assert_array_equal(np.isnan(lo), np.isnan(x))
    np.testing.assert_allclose(lo[~tied & ~np.isnan(x)], avg[~tied & ~np.isnan(x)], rtol=1e-14)
    assert (lo[tied] < avg[tied]).all()      # a tied group takes its lowest rank, not the average
    # untied data: the two are one method
    u = rng.normal(size=(30, 2))
    np.testing.assert_allclose(normalise(u, d[:2], "prank_min"), normalise(u, d[:2], "prank"), rtol=1e-14)


# ----------------------------------------------------------------------------- the vignette's builds
@pytest.fixture(scope="module")
def builds(reference_dir) -> dict[str, IndexResult]:
    if not (reference_dir / "asem" / "ASEM_iData.csv").exists():
        pytest.skip(f"the ASEM data (COINr's example) not found at {reference_dir / 'asem'}")
    return {b: build_index(load_config(ROOT / "experiments" / f"{f}.toml")) for b, f in BUILDS.items()}


@pytest.fixture(scope="module")
def coinr() -> pd.DataFrame:
    return pd.read_csv(COINR / "scores.csv")


def _aggregates(res: IndexResult) -> pd.DataFrame:
    s = res.scores.loc[res.scores["level"] > 1]
    return s.rename(columns={"area_id": "uCode", "code": "iCode"})[["uCode", "iCode", "score", "rank"]]


def _joined(res: IndexResult, coinr: pd.DataFrame, build: str) -> pd.DataFrame:
    ref = coinr.loc[coinr["build"] == build]
    j = ref.merge(_aggregates(res), on=["uCode", "iCode"], how="outer", indicator=True)
    assert (j["_merge"] == "both").all(), j.loc[j["_merge"] != "both", ["uCode", "iCode", "_merge"]]
    return j


def _tolerant_ranks(scores: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """Ranks from the highest, scores within ``tol`` (relative) tied at their lowest rank; NaN kept."""
    s = np.asarray(scores, float)
    out = np.full(s.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(s))
    order = ok[np.argsort(-s[ok], kind="stable")]
    rank = 0
    for pos, i in enumerate(order):
        if pos == 0 or s[order[pos - 1]] - s[i] > tol * max(1.0, abs(s[i])):
            rank = pos + 1
        out[i] = rank
    return out


def test_coinr_run_here_is_the_one_of_the_shared_reference(reference_dir, coinr):
    # the COINr that made benchmarks/index/coinr_adjustments/ gives the shared reference's Index
    shared = pd.read_csv(reference_dir / "asem" / "UA_results_Nominal.csv").set_index("uCode")
    ours = coinr.loc[(coinr["build"] == "Nominal") & (coinr["iCode"] == "Index")].set_index("uCode")
    assert (ours["Score"] - shared["Score"].reindex(ours.index)).abs().max() < 1e-12
    assert (ours["Rank"] == shared["Rank"].reindex(ours.index)).all()


@pytest.mark.parametrize("build", list(BUILDS))
def test_build_reproduces_coinr_scores_and_index_ranks(builds, coinr, build):
    j = _joined(builds[build], coinr, build)
    # every pillar, sub-index and the Index, for every country COINr keeps
    assert len(j) == j["uCode"].nunique() * 11
    assert (j["score"] - j["Score"]).abs().max() < 1e-12
    top = j.loc[j["iCode"] == "Index"]
    assert (top["rank"].astype(int) == top["Rank"]).all(), top.loc[top["rank"] != top["Rank"]]


@pytest.mark.parametrize("build", list(BUILDS))
def test_aggregate_ranks_match_coinr_up_to_floating_point_ties(builds, coinr, build):
    j = _joined(builds[build], coinr, build)
    same = j["rank"].astype(int) == j["Rank"]
    if build != "Prank":
        assert same.all(), j.loc[~same]
        return
    # percentile ranks are multiples of 1/50, so many pillar scores tie in exact arithmetic; the
    # last digit then decides each tool's ranking, and R sums in 80-bit long double. Every rank
    # that differs is inside such a tie: counted as ties to 1e-12 on both sides, all agree.
    assert 0 < (~same).sum() < 40
    for code, g in j.groupby("iCode"):
        np.testing.assert_array_equal(_tolerant_ranks(g["score"].to_numpy()), _tolerant_ranks(g["Score"].to_numpy()),
                                      err_msg=code)


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 63, reason="needs 80-bit long double (x86) to sum as R does")
def test_prank_build_is_coinr_bit_for_bit_when_summed_as_r_sums(builds, coinr):
    # COINr's a_amean: w <- w / sum(w); sum(w * x), NAs dropped; R's sum() accumulates in long double.
    # Summed so from riskmodel's normalised values, every aggregate equals COINr's exactly, and so
    # does every rank: the normalised values (n_prank with its ties) are COINr's to the last bit.
    res = builds["Prank"]
    spec = res.spec
    parent = spec.table.set_index("code")["parent"]
    weight = spec.table.set_index("code")["weight"].astype(float)
    norm = res.stages["normalised"]
    cur = pd.DataFrame(norm[spec.indicators].to_numpy(float), index=norm["area_id"], columns=spec.indicators)
    ref = coinr.loc[coinr["build"] == "Prank"]
    for level in (2, 3, 4):
        out = {}
        for code in spec.codes_at(level):
            kids = [k for k in cur.columns if parent[k] == code]
            vals = []
            for u in cur.index:
                x = cur.loc[u, kids].to_numpy(float)
                w = weight[kids].to_numpy(float)[~np.isnan(x)]
                x = x[~np.isnan(x)]
                acc = np.longdouble(0)
                for v in w:
                    acc += np.longdouble(v)
                w = w / float(acc)
                acc = np.longdouble(0)
                for v in w * x:
                    acc += np.longdouble(v)
                vals.append(float(acc))
            out[code] = vals
        cur = pd.DataFrame(out, index=cur.index)
        r = ref.loc[ref["Level"] == level].pivot(index="uCode", columns="iCode", values="Score")
        pd.testing.assert_frame_equal(cur, r.loc[cur.index, cur.columns], check_exact=True, check_names=False)
        for code in cur.columns:
            ranks = pd.Series(-cur[code]).rank(method="min").astype(int)
            want = ref.loc[ref["iCode"] == code].set_index("uCode")["Rank"]
            assert (ranks == want.reindex(ranks.index)).all(), code


def test_prank_normalised_indicators_are_coinr_n_prank(builds):
    want = pd.read_csv(COINR / "prank_normalised.csv").set_index("uCode")
    norm = builds["Prank"].stages["normalised"].set_index("area_id")
    got = norm[list(want.columns)].loc[want.index]
    np.testing.assert_array_equal(got.to_numpy(float), want.to_numpy(float))
    # ties are there and were ranked as COINr does (the lowest rank of the group)
    assert sum(int(got[c].duplicated().sum()) for c in got.columns) > 100


def test_screen90_removes_coinr_units_and_keeps_the_gaps(builds):
    res = builds["Screen90"]
    avail = pd.read_csv(COINR / "screen90_availability.csv").set_index("uCode")
    assert sorted(res.log["units_removed_ids"]) == sorted(avail.index[~avail["Included"]]) == \
        ["BGD", "BRN", "KHM", "LAO", "MMR"]
    den = res.stages["denominated"].set_index("area_id").drop(columns="period")
    np.testing.assert_allclose(den.notna().mean(axis=1).reindex(avail.index), avail["Dat_Avail"], rtol=1e-14)
    assert "imputed" not in res.stages and "impute_method" not in res.log
    # no imputation: the 46 countries left keep their missing values to the end, yet each has an Index
    norm = res.stages["normalised"]
    assert len(norm) == 46 and int(norm.isna().sum().sum()) > 0
    assert res.index["score"].notna().all()


def test_drop_build_has_no_lpi_and_forest_and_keeps_their_pillars(builds):
    res = builds["NoLPIFor"]
    assert len(res.spec.indicators) == 47 and not {"LPI", "Forest"} & set(res.spec.indicators)
    assert {"Physical", "Environ"} <= set(res.spec.codes_at(2))


def test_vignettes_printed_comparison_of_the_four_builds(builds):
    # compare_coins_multi(list(Nominal, Prank, NoLPIFor, Screen90), dset = "Aggregated", iCode = "Index")
    want = pd.read_csv(COINR / "compare_multi.csv").set_index("uCode")
    for b, res in builds.items():
        got = res.index.set_index("area_id")["rank"].astype(float).reindex(want.index)
        pd.testing.assert_series_equal(got, want[b].astype(float), check_names=False)


def test_cli_builds_the_screened_variant(tmp_path, builds):
    out = tmp_path / "screen90"
    code = main(["index", "build", "--config", str(ROOT / "experiments" / "asem_coinr_screen90.toml"),
                 "--out", str(out), "--no-track"])
    assert code == 0
    scores = pd.read_csv(out / "scores.csv")
    top = scores.loc[scores["code"] == "Index"].set_index("area_id")
    assert len(top) == 46
    want = builds["Screen90"].index.set_index("area_id")["score"]
    assert (top["score"] - want.reindex(top.index)).abs().max() < 1e-12
