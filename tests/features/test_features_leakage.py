"""No leakage: every data-derived feature at period t depends on counts up to t-1 only.

Changing the counts of periods >= t0 (to arbitrary values) must leave every
feature of every period <= t0 unchanged; and changing the count at t0 - 1
must change some feature at t0 (the features do use the recent past).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmodel.data import IncidentPanel
from riskmodel.features import FeatureBuilder


def _perturb(panel: IncidentPanel, start: pd.Timestamp, seed: int, end: pd.Timestamp | None = None) -> IncidentPanel:
    rng = np.random.default_rng(seed)
    c = panel.counts.copy()
    m = c["period"] >= start
    if end is not None:
        m &= c["period"] <= end
    c.loc[m, "count"] = rng.integers(0, 500, m.sum())
    return IncidentPanel.from_counts(c, freq=panel.freq, areas=panel.areas[["area_id", "parent_id", "level"]],
                                     population=panel.population, neighbours=panel.neighbours)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(t0=st.integers(min_value=1, max_value=29), seed=st.integers(0, 10_000))
def test_features_at_t_use_data_up_to_t_minus_1(make_panel, t0, seed):
    p = make_panel()
    periods = p.periods
    q = _perturb(p, periods[t0], seed)
    fb = FeatureBuilder(include_count=False).fit(p)
    a, b = fb.transform(p), fb.transform(q)
    keep = a["period"] <= periods[t0]
    pd.testing.assert_frame_equal(a[keep].reset_index(drop=True), b[keep].reset_index(drop=True))
    # and the past period matters: change only t0-1 and the features at t0 move
    r = _perturb(p, periods[t0 - 1], seed + 1, end=periods[t0 - 1])
    c = fb.transform(r)
    at = a["period"] == periods[t0]
    assert not a[at].reset_index(drop=True).equals(c[at].reset_index(drop=True))
