"""The ``mstl`` model against statsforecast's ``MSTL`` (benchmarks/forecast/auto_mstl_reference.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError
from riskmodel.forecast.distributions import nb_quantiles
from riskmodel.forecast.registry import make_model

REF = Path(__file__).resolve().parents[2] / "benchmarks" / "forecast" / "auto_mstl_reference.csv"
H = 28


def _panel(ys: list[np.ndarray]) -> WidePanel:
    """Daily series of unequal lengths ending on the same day (late starts as zeros before, ``n_obs``)."""
    T = max(len(y) for y in ys)
    Y = np.zeros((T, len(ys)))
    for j, y in enumerate(ys):
        Y[T - len(y):, j] = y
    return WidePanel(Y, pd.date_range("2016-01-01", periods=T, freq="D"), [(f"A{j}", "c") for j in range(len(ys))],
                     "D", np.array([len(y) for y in ys]))


@pytest.mark.parametrize("trend", ["drift", "theta"])
def test_point_forecasts_are_statsforecast_mstl(trend):
    """Weekly + yearly seasons on daily counts: statsforecast's MSTL point forecasts to 1e-9.

    With ``theta`` the adjusted series' Theta fit could in principle stop elsewhere than
    statsforecast's Nelder-Mead (see test_theta.py); on these smooth adjusted series both reach
    the same optimum, and the forecasts agree to 1e-9 as well.
    """
    d = pd.read_csv(REF)
    d = d[(d["trend"] == trend) & d["unique_id"].isin(["s0", "s2"])]
    ys = [np.array(s.split(), dtype=float) for s in d["y"]]
    model = make_model("mstl", trend=trend).fit(_panel(ys))
    pf = model.point_forecast(H)
    for j, r in enumerate(d.itertuples()):
        ref = np.array(r.mean.split(), dtype=float)
        np.testing.assert_allclose(pf[:, j], ref, rtol=1e-9, atol=1e-9, err_msg=r.unique_id)
        assert model.seasonal_[j][0] == [7, 365]
    fc = model.predict(H)
    np.testing.assert_allclose(fc.mean, np.maximum(pf, 0.0))
    assert set(fc.model) == {"mstl"}
    var = model._var
    np.testing.assert_array_equal(fc.quantiles, nb_quantiles(fc.mean, var, fc.probs))
    # the intervals widen with the horizon (the trend forecaster's variance grows)
    lo, hi = fc.interval(95)
    assert ((hi - lo)[-1] >= (hi - lo)[0]).all()


def test_short_series_use_the_periods_they_span_and_bad_trend_is_refused():
    rng = np.random.default_rng(2)
    weekend = pd.date_range("2016-01-01", periods=100, freq="D").day_of_week >= 5  # the dates of _panel
    y = rng.poisson(10 * (1 + 0.5 * weekend)).astype(float)
    model = make_model("mstl").fit(_panel([y]))
    assert model.seasonal_[0][0] == [7]  # 100 days: no yearly season
    fc = model.predict(14)
    # the weekly profile carries into the forecast: weekend days above weekdays
    days = fc.periods.day_of_week
    assert fc.mean[days >= 5, 0].mean() > 1.2 * fc.mean[days < 5, 0].mean()
    with pytest.raises(InputError, match="valid: theta, drift, ets"):
        make_model("mstl", trend="arima").fit(_panel([y]))
