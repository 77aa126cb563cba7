"""The sample city: byte-identical regeneration and truth consistent with the claims."""

from __future__ import annotations

import filecmp

import numpy as np
import pandas as pd
import pytest

from riskmodel.cli import main


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    assert main(["sample", "--out", str(out), "--no-track"]) == 0
    return out


def test_regeneration_is_byte_identical_to_committed(regenerated, sample_dir):
    files = sorted(p.relative_to(regenerated) for p in regenerated.rglob("*") if p.is_file())
    assert len(files) >= 15
    for f in files:
        assert filecmp.cmp(regenerated / f, sample_dir / f, shallow=False), f


def test_different_seed_gives_different_counts(tmp_path):
    from riskmodel.data.sample_city import generate

    generate(tmp_path, seed=1)
    assert not filecmp.cmp(tmp_path / "counts_monthly.csv", "data/sample/counts_monthly.csv", shallow=False)


def test_claims_truth_and_reported_figures(sample_dir):
    claims = pd.read_csv(sample_dir / "claims.csv")
    truth = pd.read_csv(sample_dir / "truth" / "claim_truth.csv").set_index("claim_id")
    assert len(claims) == 8
    for c in claims.itertuples():
        # the expected (noise-free) change is exactly the reported one
        assert truth.at[c.claim_id, "expected_change"] == pytest.approx(c.reported_change, abs=2e-4)
    xw = truth.loc[["C1", "C2", "C3"]]
    # the programme's own effect is smaller than the naive year-on-year fall
    assert (xw["true_programme_effect"] > xw["expected_change"]).all()
    assert (xw["true_programme_effect"] < 0).all() and (xw["true_citywide_effect"] < 0).all()


def test_observed_changes_are_near_the_reports(sample_dir):
    d = pd.read_csv(sample_dir / "counts_monthly.csv", parse_dates=["period"])
    d["year"] = d["period"].dt.year
    xw = d[d.area_id == "ZH-XZ-XW"].groupby(["category", "year"])["count"].sum().unstack()
    assert xw.loc["alerts", 2020] / xw.loc["alerts", 2019] - 1 == pytest.approx(-0.354, abs=0.05)
    assert xw.loc["traffic_accidents", 2020] / xw.loc["traffic_accidents", 2019] - 1 == pytest.approx(-0.213, abs=0.05)
    assert xw.loc["urban_management", 2019] / 365 == pytest.approx(329, rel=0.03)
    assert xw.loc["urban_management", 2020] / 366 == pytest.approx(240, rel=0.03)
    city = d.groupby(["category", "year"])["count"].sum().unstack()
    assert city.loc["alerts", 2018] / city.loc["alerts", 2014] - 1 == pytest.approx(-0.4596, abs=0.02)
    assert city.loc["fires", 2018] / city.loc["fires", 2014] - 1 == pytest.approx(-0.8298, abs=0.03)


def test_overdispersion_matches_the_negative_binomial(sample_dir):
    """Pearson dispersion of daily counts around the true mean matches var = mu + mu^2/size."""
    exp = pd.read_csv(sample_dir / "truth" / "expected_monthly.csv", parse_dates=["period"])
    cat = pd.read_csv(sample_dir / "categories.csv").set_index("category")
    m = pd.read_csv(sample_dir / "counts_monthly.csv", parse_dates=["period"])
    spikes = pd.read_csv(sample_dir / "truth" / "spikes.csv")
    x = m.merge(exp, on=["area_id", "category", "period"])
    x = x[(x.category == "alerts") & ~x.area_id.isin(spikes.area_id[spikes.category == "alerts"])]
    resid = (x["count"] - x["expected"]) / np.sqrt(x["expected"])
    # monthly sums of daily NB draws: variance ~ mu + sum(mu_d^2)/size > mu
    assert resid.mean() == pytest.approx(0, abs=0.1)
    assert 1.0 < (resid**2).mean() < 1 + (x["expected"] / 30 / cat.at["alerts", "nb_size"]).mean() * 3


def test_spikes_are_in_the_data(sample_dir):
    s = pd.read_csv(sample_dir / "truth" / "spikes.csv")
    assert len(s) == 40 and (s["extra_total"] >= 3).all()
    assert set(s.columns) >= {"spike_id", "area_id", "category", "start", "days", "extra_total"}
    assert pd.to_datetime(s["start"]).min() >= pd.Timestamp("2016-01-01")
