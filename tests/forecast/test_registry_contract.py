"""The contract every registered forecast model and reconciliation method keeps.

Like scikit-learn's ``check_estimator``: parametrized over the registries
(:data:`riskmodel.forecast.MODELS`, :data:`riskmodel.forecast.RECONCILERS`),
so a model is tested by being registered. On a small seeded monthly panel
(a few ordinary series, one all-zero series, one short series) each model
must give finite, non-negative means of shape (h, n), non-decreasing
quantiles that contain the interval ends and the median, fallbacks named in
``model``, the same bytes for the same seed, and refuse ``predict`` before
``fit`` and ``h < 1``. A toy model registered for one test is usable from
:class:`~riskmodel.forecast.Forecaster` and ``riskmodel forecast --model``
with no other edit.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.base import clone

from riskmodel.cli import main
from riskmodel.cli.forecast import ModelOpt, ReconcileOpt
from riskmodel.data.panel import IncidentPanel
from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError
from riskmodel.forecast import (
    DEFAULT_RECONCILE,
    MODELS,
    RECONCILERS,
    CountForecaster,
    Forecast,
    Forecaster,
    PanelBacktest,
    PanelForecast,
    make_model,
    with_all_levels,
)
from riskmodel.forecast.base import MAX_COUNT
from riskmodel.forecast.registry import needs_hierarchy
from riskmodel.pipeline.steps.forecast import ForecastStepConfig
from riskmodel.registry import Option
from riskmodel.results import IntervalResult, Result

H = 3
LEVELS = (80, 95)
T = 36  # three years of months: enough for every model's two seasons
SHORT = 8  # periods of the short series (below a seasonal model's two seasons)


def small_counts(seed: int = 0) -> pd.DataFrame:
    """Monthly counts: 2 streets x 2 categories, an all-zero and a short series."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2018-01-01", periods=T, freq="MS")
    season = 1 + 0.3 * np.sin(2 * np.pi * np.arange(T) / 12)
    rows = []
    for area, cat, level in (("S1", "fires", 6), ("S1", "thefts", 25), ("S2", "fires", 3), ("S2", "thefts", 40)):
        rows += [(area, cat, p, int(c)) for p, c in zip(periods, rng.poisson(level * season), strict=True)]
    rows += [("S2", "guns", p, 0) for p in periods]  # all zeros
    rows += [("S3", "thefts", p, int(c)) for p, c in zip(periods[-SHORT:], rng.poisson(12, SHORT), strict=True)]
    return pd.DataFrame(rows, columns=["area_id", "category", "period", "count"])


AREAS = pd.DataFrame({"area_id": ["D", "S1", "S2", "S3"], "parent_id": ["", "D", "D", "D"],
                      "level": ["district", "area", "area", "area"]})


@pytest.fixture(scope="module")
def panel() -> IncidentPanel:
    return IncidentPanel.from_counts(small_counts(), freq="M", areas=AREAS)


@pytest.fixture(scope="module")
def wide(panel) -> WidePanel:
    return WidePanel.from_panel(panel)


def derived_options(name: str) -> list[tuple[str, type, object]]:
    """(name, type, default) of a model's options as its class defines them: ``Model(**implied).get_params()``."""
    spec = MODELS[name]
    params = spec.target(**spec.extra.get("defaults", {})).get_params()
    return [(k, type(v) if v is not None else str, v) for k, v in params.items()]


def declared_options(name: str) -> list[tuple[str, type, object]]:
    """(name, type, default) of a model's options as its ``register`` call declares them."""
    return [(o.name, o.type, o.default) for o in MODELS[name].options]


@pytest.mark.parametrize("name", MODELS.names())
def test_declared_options_are_the_constructor_parameters(name):
    # the catalogue names each model by reference (imported on first use) and so declares its
    # options itself: they can never drift from the class's own
    assert MODELS[name].lazy
    assert declared_options(name) == derived_options(name)


@pytest.mark.parametrize("name", RECONCILERS.names())
def test_reconcilers_resolve(name):
    spec = RECONCILERS[name]
    assert callable(spec.target) and spec.target.__name__ == spec.ref.rpartition(":")[2]


def check_forecaster(name: str, wp: WidePanel) -> Forecast:
    """The model contract (see the module notes); returns the forecast it checked."""
    spec = MODELS[name]
    assert spec.label("zh") and spec.label("en") and spec.summary
    model = make_model(name, seed=0)
    assert isinstance(model, CountForecaster)

    # get_params / clone round trip; the registry's options are the constructor's parameters
    params = model.get_params()
    assert set(spec.option_names) == set(params), "registered options differ from the constructor's"
    assert declared_options(name) == derived_options(name), "declared options differ from get_params()"
    assert repr(clone(model).get_params()) == repr(params)
    assert repr(type(model)(**params).get_params()) == repr(params)
    MODELS.check_options(name, params)

    # predict before fit, h < 1
    with pytest.raises(RuntimeError, match="fit"):
        make_model(name, seed=0).predict(H, LEVELS)

    model.fit(wp)
    with pytest.raises(InputError):
        model.predict(0, LEVELS)
    fc = model.predict(H, LEVELS)
    n = len(wp.series)
    assert isinstance(fc, Forecast)
    assert fc.mean.shape == (H, n)
    assert np.isfinite(fc.mean).all() and (fc.mean >= 0).all()
    assert fc.quantiles.shape == (H, n, len(fc.probs))
    assert np.isfinite(fc.quantiles).all() and (fc.quantiles >= 0).all()
    assert (np.diff(fc.quantiles, axis=-1) >= 0).all(), "quantiles decrease"
    for p in (0.5, 0.1, 0.9, 0.025, 0.975):  # the median and the ends of the 80% and 95% intervals
        assert np.isclose(fc.probs, p).any(), f"{p} not on the quantile grid"
    med = fc.quantile(0.5)
    lo80, hi80 = fc.interval(80)
    lo95, hi95 = fc.interval(95)
    assert (lo95 <= lo80).all() and (lo80 <= med).all() and (med <= hi80).all() and (hi80 <= hi95).all()
    assert ((lo95 <= fc.mean) & (fc.mean <= hi95)).all(), "the point forecast is outside its 95% interval"
    assert list(fc.periods) == list(wp.future(H)) and fc.series == wp.series

    # fallbacks are named in `model`
    j_zero = wp.series.index(("S2", "guns"))
    j_short = wp.series.index(("S3", "thefts"))
    assert fc.model[j_zero] == "zero (all-zero history)"
    assert (fc.mean[:, j_zero] == 0).all() and (fc.quantiles[:, j_zero] == 0).all()
    for j, why in model.fallback_.items():
        assert fc.model[j] == why
    if model.min_periods(wp) > SHORT:
        assert "fallback" in fc.model[j_short] and f"needed by {model.name}" in fc.model[j_short]
    for j in set(range(n)) - set(model.fallback_):
        assert str(fc.model[j]).startswith(model.name), fc.model[j]

    # the result protocol of a Forecast
    ci = fc.conf_int(80)
    assert list(ci.columns) == ["area_id", "category", "period", "level", "lo", "hi"]
    np.testing.assert_array_equal(ci["lo"].to_numpy(), lo80.T.ravel())
    assert name in fc.summary() or model.name in fc.summary()

    # same seed, same bytes
    again = make_model(name, seed=0).fit(wp).predict(H, LEVELS)
    assert again.mean.tobytes() == fc.mean.tobytes() and again.quantiles.tobytes() == fc.quantiles.tobytes()
    assert again.to_frame().to_csv(index=False) == fc.to_frame().to_csv(index=False)
    return fc


@pytest.mark.parametrize("name", MODELS.names())
def test_every_registered_model_keeps_the_contract(name, wide):
    check_forecaster(name, wide)


@pytest.mark.parametrize("name", MODELS.names())
def test_every_model_on_an_all_zero_panel_forecasts_zero(name):
    # issue 16.9: auto and gbm crashed here (a Poisson loss cannot be fitted on zeros)
    c = small_counts().assign(count=0)
    wp = WidePanel.from_panel(IncidentPanel.from_counts(c, freq="M"))
    fc = make_model(name, seed=0).fit(wp).predict(H, LEVELS)
    assert (fc.mean == 0).all() and (fc.quantiles == 0).all()
    assert set(fc.model) == {"zero (all-zero history)"}


@pytest.mark.parametrize("name", MODELS.names())
def test_every_model_keeps_its_point_forecast_inside_its_interval_up_to_the_count_limit(name):
    # issue 16.8: counts of 1e18 gave a forecast outside its own interval (and nbglm/auto/gbm crashed);
    # they are now refused above MAX_COUNT, and up to it the contract holds
    base = WidePanel.from_panel(IncidentPanel.from_counts(small_counts(), freq="M"))
    wp = WidePanel(base.y * 1.5e10, base.periods, base.series, base.freq, base.n_obs)  # up to ~1e12 (MAX_COUNT)
    assert wp.y.max() <= MAX_COUNT
    fc = make_model(name, seed=0).fit(wp).predict(H, LEVELS)
    lo, hi = fc.interval(95)
    assert np.isfinite(fc.mean).all() and ((lo <= fc.mean) & (fc.mean <= hi)).all()
    # the loader refuses counts above 1e9 (RISKMODEL_MAX_COUNT); the models refuse above MAX_COUNT, naming the series
    huge = WidePanel(wp.y * 1e6, wp.periods, wp.series, wp.freq, wp.n_obs)
    with pytest.raises(InputError, match="largest count the forecast models handle") as e:
        make_model(name, seed=0).fit(huge)
    assert "S1/fires" in str(e.value)


@pytest.mark.parametrize("method", RECONCILERS.names())
def test_every_registered_reconciler_keeps_the_contract(method, panel):
    spec = RECONCILERS[method]
    assert spec.label("zh") and spec.label("en") and spec.summary
    res = Forecaster(["hmean"], reconcile=method).forecast(panel, H, level=LEVELS)
    fc = res.forecast
    assert np.isfinite(fc.mean).all() and (fc.mean >= 0).all()
    assert (np.diff(fc.quantiles, axis=-1) >= 0).all()
    areas = {a for a, _ in fc.series}
    if needs_hierarchy(method):
        assert "D" in areas
        assert all(str(m).endswith(f"+{method}") for m in fc.model)
        col = {s: j for j, s in enumerate(fc.series)}
        for cat in ("fires", "thefts"):  # coherent: the district is the sum of its streets
            kids = [col[(a, cat)] for a in ("S1", "S2", "S3") if (a, cat) in col]
            np.testing.assert_allclose(fc.mean[:, col[("D", cat)]], fc.mean[:, kids].sum(axis=1))
    else:
        assert "D" not in areas
    with pytest.raises(InputError, match="valid: none, bottom_up, mint_shrink"):
        Forecaster(["hmean"], reconcile="top_down")


def test_forecaster_results_keep_the_result_protocol(panel):
    res = Forecaster(models=["snaive", "hmean"], seed=0).forecast(panel, H, level=[80, 95])
    assert isinstance(res, PanelForecast) and isinstance(res, IntervalResult)
    one = Forecaster(models=["snaive"]).forecast(panel, H, level=[80, 95])
    cols = ["area_id", "category", "period", "model", "mean", "median", "lo_80", "hi_80", "lo_95", "hi_95",
            "q-5", "q-10", "q-25", "q-50", "q-75", "q-90", "q-95"]
    assert list(one.to_frame().columns) == cols
    # several models: blocks stacked in the order asked, with `forecaster` before `model`
    df = res.to_frame()
    assert list(df.columns) == cols[:3] + ["forecaster"] + cols[3:]
    assert list(dict.fromkeys(df["forecaster"])) == ["snaive", "hmean"]
    pd.testing.assert_frame_equal(res.to_frame("snaive"), one.to_frame())
    text = res.summary()
    assert isinstance(text, str) and "6 series" in text and "fallbacks: 2 series" in text and "zero (all-zero" in text
    ci = res.conf_int(0.95)
    assert set(ci["level"]) == {95.0} and (ci["lo"] <= ci["hi"]).all()
    assert (one.conf_int(90)["lo"].to_numpy() == one.to_frame()["q-5"].to_numpy()).all()
    with pytest.raises(InputError, match="levels: 50, 80, 90, 95"):
        one.conf_int(70)
    assert [a.name for a in one.artifacts()] == ["forecast.csv"]
    assert one.fallbacks()["snaive"][("S2", "guns")].startswith("zero")

    cv = Forecaster(models=["hmean"]).cross_validation(panel, H, n_windows=2, step_size=1)
    assert isinstance(cv, PanelBacktest) and isinstance(cv, Result)
    assert cv.models == ["hmean", "snaive"] and len(cv.cutoffs) == 2
    assert {"cutoff", "actual"} <= set(cv.to_frame().columns)
    assert "overall" in cv.summary() and "hmean" in cv.summary()
    assert [(a.name, a.logged) for a in cv.artifacts("backtest_")] == [
        ("backtest_forecasts.csv", False), ("backtest_metrics.csv", True), ("backtest_coverage.csv", True)]
    cov = cv.coverage
    assert list(cov.columns) == ["model", "level", "nominal", "coverage", "n", "mean_width", "interval_score"]
    assert set(cov["level"]) == {"area", "overall"} and set(cov["nominal"]) == {80.0, 95.0}
    # the coverage table agrees with the interval frame of the same backtest
    inside = []
    for w in cv.windows:
        if w.model == "hmean":
            lo, hi = w.forecast.interval(80)
            y = cv.wide.y[w.cutoff: w.cutoff + H]
            inside += list(((y >= lo) & (y <= hi)).ravel())
    row = cov[(cov["model"] == "hmean") & (cov["level"] == "overall") & (cov["nominal"] == 80.0)].iloc[0]
    assert row["n"] == len(inside) == 2 * H * 6
    assert row["coverage"] == pytest.approx(np.mean(inside))
    assert (cv.conf_int(80)["lo"] <= cv.conf_int(80)["hi"]).all()


def test_all_levels_panel_passed_in_gives_the_same_forecast(panel):
    f = Forecaster(["hmean"], reconcile="bottom_up")
    full = with_all_levels(panel)
    a = f.forecast(panel, H).to_frame()
    b = f.forecast(panel, H, all_levels=full).to_frame()
    pd.testing.assert_frame_equal(a, b)


class ToyMean(CountForecaster):
    """The mean of the last ``window`` periods, with Poisson quantiles (a model for the test)."""

    name = "toy"

    def __init__(self, window: int = 6):
        self.window = window

    def _fit(self, wp: WidePanel) -> None:
        self.level_ = wp.y[-self.window:].mean(axis=0)

    def _predict(self, h: int, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from scipy.stats import poisson

        mean = np.repeat(self.level_[None, :], h, axis=0)
        q = poisson.ppf(probs[None, None, :], np.maximum(mean, 1e-9)[:, :, None])
        return mean, q


@pytest.fixture
def toy() -> Iterator[str]:
    # one register call, as in riskmodel/forecast/models.py
    MODELS.register("toy", ToyMean, labels={"zh": "玩具模型", "en": "toy model"},
                    summary="the mean of the last periods (a test model)",
                    options=(Option("window", int, 6, "periods averaged"),))
    try:
        yield "toy"
    finally:
        MODELS._specs.pop("toy", None)  # noqa: SLF001 - registered for this test only


def test_a_registered_toy_model_works_everywhere_with_no_other_edit(toy, panel, wide, tmp_path):
    check_forecaster(toy, wide)
    res = Forecaster(models=[toy]).forecast(panel, H)
    assert res.to_frame()["model"].isin(["toy", "zero (all-zero history)"]).all()
    f = tmp_path / "counts.csv"
    small_counts().to_csv(f, index=False)
    out = tmp_path / "toy.csv"
    assert main(["forecast", "--counts", str(f), "--freq", "M", "--h", "2", "--model", toy,
                 "--out", str(out), "--no-track"]) == 0
    assert set(pd.read_csv(out)["model"]) == {"toy", "zero (all-zero history)"}


def test_step_config_and_cli_take_their_choices_and_default_from_the_registries(toy):
    cfg = ForecastStepConfig(model=toy, backtest_models=[toy, "pooled"])
    assert cfg.reconcile == DEFAULT_RECONCILE
    for bad in ({"model": "prophet"}, {"reconcile": "top_down"}, {"backtest_models": ["auto", "prophet"]}):
        with pytest.raises(ValidationError, match="valid: "):
            ForecastStepConfig(**bad)
    model_help = ModelOpt.__metadata__[0].help
    assert all(name in model_help for name in MODELS.names() if name != toy) and "pooled" in model_help
    assert all(name in ReconcileOpt.__metadata__[0].help for name in RECONCILERS.names())
