"""``auto`` records its choice: per group of series, the members' internal scores and weights, in the outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.data.panel import IncidentPanel
from riskmodel.forecast import Forecaster
from riskmodel.forecast.selection import SELECTION_COLUMNS, selection_table


def _panel(seed: int = 0) -> IncidentPanel:
    """Two categories: 6 seasonal series (one group) and 2 flat ones (pooled into the group ALL)."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2016-01-01", periods=48, freq="MS")
    season = 1 + 0.4 * np.sin(2 * np.pi * np.arange(48) / 12)
    rows = []
    for a in range(6):
        rows += [(f"S{a}", "thefts", p, int(c)) for p, c in zip(periods, rng.poisson(20 * season), strict=True)]
    for a in range(2):
        rows += [(f"S{a}", "fires", p, int(c)) for p, c in zip(periods, rng.poisson(4, 48), strict=True)]
    return IncidentPanel.from_counts(pd.DataFrame(rows, columns=["area_id", "category", "period", "count"]), freq="M")


def test_auto_selection_reaches_artifacts_and_summary():
    params = {"auto": {"candidates": ("snaive", "hmean", "nbglm", "theta"), "max_models": 2}}
    res = Forecaster(["auto"], params=params).forecast(_panel(), 3)
    arts = {a.name: a.content for a in res.artifacts()}
    assert list(arts) == ["forecast.csv", "auto_selection.csv"]
    sel = arts["auto_selection.csv"]
    assert list(sel.columns) == list(SELECTION_COLUMNS)
    assert set(sel["group"]) == {"thefts", "ALL"}
    assert set(sel["model"]) == {"snaive", "hmean", "nbglm", "theta"}
    assert (sel["windows"] == 2).all() and (sel["h"] == 3).all()
    for g, d in sel.groupby("group"):
        assert np.isclose(d["weight"].sum(), 1.0)
        assert (d["weight"] > 0).sum() <= 2
        assert d["n_series"].iloc[0] == (6 if g == "thefts" else 2)
        # the stacking grid contains each single member: the combination is never worse on the internal windows
        assert d["combined_score"].iloc[0] <= d["score"].min() + 1e-12
        # only the best-scored members get weight
        used = set(d.loc[d["weight"] > 0, "model"])
        assert used <= set(d.nsmallest(2, "score")["model"])
    # the weights are those the forecasts' labels name
    fc = arts["forecast.csv"]
    lab = fc.loc[fc["category"] == "thefts", "model"].iloc[0]
    for r in sel[(sel["group"] == "thefts") & (sel["weight"] > 0)].itertuples():
        assert r.model in lab
    text = res.summary()
    assert "choice per group" in text and "thefts (6 series)" in text and "members' scores" in text
    # a model that is not auto records no selection
    assert selection_table(Forecaster(["hmean"]).forecast(_panel(), 2).model) is None


def test_auto_selection_with_chunks():
    params = {"auto": {"candidates": ("hmean", "theta"), "min_group": 1}}
    res = Forecaster(["auto"], params=params, chunk_size=4).forecast(_panel(1), 2)
    sel = selection_table(res.model)
    assert sel is not None and sel["chunk"].nunique() == len(res.model.chunks_) > 1
    assert (sel.groupby(["chunk", "group"])["weight"].sum().round(9) == 1).all()
