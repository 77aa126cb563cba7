"""Metrics against hand-computed values; backtest cutoffs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.errors import InputError
from riskmodel.forecast.backtest import cutoffs
from riskmodel.forecast.metrics import pinball, scales, series_metrics
from riskmodel.forecast.result import Forecast, probs_for


def test_pinball_closed_form():
    y = np.array([[10.0]])
    q = np.array([[[8.0, 12.0]]])
    pl = pinball(y, q, np.array([0.1, 0.9]))
    np.testing.assert_allclose(pl[0, 0], [0.1 * 2, 0.1 * 2])


def test_series_metrics_known_values():
    train = np.array([[1.0], [3.0], [2.0], [6.0]])  # season 1 differences: 2, 1, 4 -> MAE 7/3, MSE 7
    mae, mse = scales(train, season=12)
    assert mae[0] == pytest.approx(7 / 3) and mse[0] == pytest.approx(7.0)
    probs = probs_for((80, 95), grid=True)
    y = np.array([[5.0], [7.0]])
    q = np.repeat(np.array([[[4.0]], [[8.0]]]), len(probs), axis=2)  # degenerate: every quantile = mean
    fc = Forecast(np.array([[4.0], [8.0]]), q, probs, pd.date_range("2020-01-01", periods=2, freq="MS"), [("a", "x")], np.array(["m"]))
    m = series_metrics(y, fc, train, season=12)
    assert m["mase"][0] == pytest.approx(1.0 / (7 / 3))
    assert m["rmsse"][0] == pytest.approx(np.sqrt(1.0 / 7))
    assert m["bias"][0] == pytest.approx(0.0)
    assert m["coverage_80"][0] == 0.0
    # CRPS of a point forecast is the absolute error: 2 * mean pinball over a symmetric grid = 1
    assert m["crps"][0] == pytest.approx(1.0)


def test_cutoffs_expanding_windows_and_errors():
    assert cutoffs(60, 12, 3, step=1) == [46, 47, 48]
    assert cutoffs(60, 6, 2) == [48, 54]
    with pytest.raises(InputError, match="too few"):
        cutoffs(20, 12, 6)
