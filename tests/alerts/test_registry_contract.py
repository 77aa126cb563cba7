"""The contract every registered spike detector keeps.

Like scikit-learn's ``check_estimator``: parametrized over
:data:`riskmodel.alerts.DETECTORS`, so a detector is tested by being
registered. On small seeded panels (weekly, and daily for the daily-only
detectors: three series, one starting late, a known spike injected three
periods before the end) each detector, at a frequency it takes, must

* return arrays of the documented shapes and dtypes (:class:`DetectorOutput`:
  (monitored periods, series), float64 / bool alarm / str reason, increasing
  monitored rows) and a detection table of :data:`COLUMNS`;
* give an upper bound wherever ``reason == ""`` (the period was evaluated),
  a reason wherever there is no bound, no alarm where there is a reason, and
  an alarm only where the count is above its bound (``bound="above"``) or
  reaches it (``"at"``: the bound is the smallest count that alarms);
* never give an upper bound below the expected count;
* give ``score == (count - expected) / (upperbound - expected)`` (the one
  meaning of the score, :mod:`riskmodel.alerts.base`), so that among the
  evaluated periods an alarm is exactly ``score > 1`` (``"above"``) or
  ``score >= 1`` (``"at"``);
* say, in one line (:meth:`Detection.not_evaluated`), how many
  series-periods it could not evaluate and why (kind and series);
* raise an alarm at the injected spike (or within the two periods after it);
* accept every declared option, refuse an undeclared one, and behave with
  its declared defaults given explicitly exactly as without them;
* refuse a frequency it does not take, naming the reason it declared, and
  refuse its population option without a population table;
* give identical outputs for identical inputs.

A toy detector registered in a fresh registry passes the same checks and
runs through :func:`detect` with no other edit; registered for one test in
:data:`DETECTORS`, it is a ``riskmodel detect --method`` choice.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from riskmodel.alerts import (
    DEFAULT_METHOD,
    DETECTORS,
    Detection,
    DetectorOutput,
    DetectTask,
    detect,
)
from riskmodel.alerts.base import monitor_rows, score_on_count_scale
from riskmodel.alerts.detect import COLUMNS, detect_chunk, wide_counts
from riskmodel.cli import load_command, main
from riskmodel.data import IncidentPanel
from riskmodel.errors import InputError
from riskmodel.pipeline.steps.alerts import AlertsStepConfig
from riskmodel.registry import FREQ_NAMES, Needs, Option, Registry
from riskmodel.results import Result

SPIKE_BACK = 3  # the spike is this many periods before the end
MONITORED = {"W": 20, "D": 30}  # periods monitored at the end of the data
SAMPLE = {int: 2, float: 0.01, bool: True, dict: {}, str: None, tuple: (1, 2)}
"""A valid value per option type, for options declared without a default (str: the first choice)."""


def _panel(freq: str, n: int, mean: float, extra: int, late: int, seed: int = 20240613) -> IncidentPanel:
    """Three series with a yearly season; +extra in the first at n - SPIKE_BACK; the third starts ``late`` periods before the end."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2015-01-05", periods=n, freq={"W": "W-MON", "D": "D"}[freq])
    season = {"W": 52.0, "D": 365.25}[freq]
    rows = []
    for j, (area, cat) in enumerate((("A1", "x"), ("A2", "x"), ("A3", "y"))):
        mu = mean * (1 + 0.2 * j) * np.exp(0.25 * np.sin(2 * np.pi * np.arange(n) / season))
        y = rng.poisson(mu)
        if j == 0:
            y[n - SPIKE_BACK] += extra
        s0 = n - late if j == 2 else 0
        rows += [(area, cat, p, int(v)) for p, v in zip(periods[s0:], y[s0:], strict=True)]
    return IncidentPanel.from_counts(pd.DataFrame(rows, columns=["area_id", "category", "period", "count"]), freq=freq)


@pytest.fixture(scope="module")
def panels() -> dict[str, IncidentPanel]:
    """Weekly (7 years: Farrington's 5 years back) and daily (420 days) panels."""
    return {"W": _panel("W", 364, 10, 45, 70), "D": _panel("D", 420, 6, 30, 20)}


def _freq(spec: object) -> str:
    """The frequency a detector is tested at: weekly when it takes it, else daily."""
    freqs = spec.needs.freqs  # type: ignore[attr-defined]
    return "W" if "W" in freqs else "D"


def _start(panel: IncidentPanel) -> pd.Timestamp:
    return panel.periods[-MONITORED[panel.freq]]


def _sample(opt: Option) -> object:
    if opt.choices:
        return opt.choices[0]
    return SAMPLE[opt.type]


def _same(a: Detection, b: Detection) -> None:
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    assert a.options == b.options and a.method == b.method and a.freq == b.freq


def check_detector(registry: Registry, name: str, panels: dict[str, IncidentPanel]) -> None:
    """Every check of the module notes, for one registered detector."""
    spec = registry.get(name)
    freq = _freq(spec)
    panel = panels[freq]
    start = _start(panel)
    run = {"start": start, "registry": registry}

    # --- the detector itself: documented shapes and dtypes
    y, periods, series, first = wide_counts(panel)
    task = DetectTask(y, periods, series, first, freq, name, start, None, {}, None, registry)
    out = detect_chunk(task)
    assert isinstance(out, DetectorOutput)
    out.check(len(series), name)
    K = len(out.monitored)
    assert K == MONITORED[freq] and out.monitored[0] == len(periods) - MONITORED[freq]
    assert out.monitored.dtype.kind == "i" and out.monitored[-1] == len(periods) - 1
    for k in ("expected", "upperbound", "score", "pvalue"):
        assert getattr(out, k).dtype == np.float64 and getattr(out, k).shape == (K, len(series)), k
    assert out.alarm.dtype == np.bool_ and out.reason.dtype == object
    assert all(isinstance(r, str) for r in out.reason.ravel())
    assert isinstance(out.options, dict)

    # --- through detect(): the table, reasons, bounds, the spike
    d = detect(panel, name, **run)
    assert isinstance(d, Result) and isinstance(d.summary(), str) and name in d.summary()
    t = d.to_frame()
    assert list(t.columns) == COLUMNS and len(t) == K * len(series)
    assert t["alarm"].dtype == bool
    evaluated = t["reason"] == ""
    assert np.isfinite(t.loc[evaluated, "upperbound"]).all(), "a bound wherever the period was evaluated"
    assert (t.loc[~np.isfinite(t["upperbound"]), "reason"] != "").all(), "a reason wherever there is no bound"
    assert not t.loc[~evaluated, "alarm"].any(), "no alarm where the period was not evaluated"
    al = t[t["alarm"]]
    bound = spec.extra.get("bound")
    if bound == "above":
        assert (al["count"].astype(float) > al["upperbound"]).all()
    elif bound == "at":
        assert (al["count"].astype(float) >= al["upperbound"]).all()
    check_bound_and_score(t, bound, name)
    n_not = int((~evaluated).sum())
    line = d.not_evaluated()
    if n_not:
        assert line.startswith(f"{name}: {n_not:,} of {len(t):,} series-periods not evaluated: "), line
        late = t[(t["area_id"] == "A3") & (t["reason"] != "")]
        if len(late):  # the late series is named as a series short of history (or another kind)
            assert f"{late['reason'].iloc[0].split(':')[0]} in " in line
    else:
        assert line == ""
    spiked = t[(t["area_id"] == "A1") & (t["category"] == "x")]
    assert spiked["alarm"].iloc[-SPIKE_BACK:].any(), f"{name} misses the injected spike"
    assert [a.name for a in d.artifacts()][:1] == ["detections.csv"]

    # --- the same inputs give identical outputs
    _same(d, detect(panel, name, **run))

    # --- options: declared defaults are the defaults; every declared option accepted; others refused
    defaults = {o.name: o.default for o in spec.options if o.default is not None}
    if defaults:
        _same(d, detect(panel, name, **run, **defaults))
    every = {o.name: (o.default if o.default is not None else _sample(o)) for o in spec.options}
    detect(panel, name, **run, **every)
    with pytest.raises(InputError, match=f"unknown option.*{name}"):
        detect(panel, name, **run, no_such_option=1)
    pop = spec.extra.get("population_option")
    if pop:
        with pytest.raises(InputError, match="population"):
            detect(panel, name, **run, **{pop: True})

    # --- frequencies it does not take are refused, with its reason
    for other, p in panels.items():
        if other not in spec.needs.freqs:
            with pytest.raises(InputError, match=f"refuses {FREQ_NAMES[other]} data") as exc:
                detect(p, name, registry=registry)
            assert spec.needs.freq_reason and spec.needs.freq_reason in str(exc.value)


def check_bound_and_score(t: pd.DataFrame, bound: str | None, name: str) -> None:
    """Bound >= expected everywhere; score on the count scale; alarm == score rule where evaluated."""
    e, u = t["expected"].to_numpy(float), t["upperbound"].to_numpy(float)
    c = t["count"].astype(float).to_numpy()
    both = np.isfinite(e) & np.isfinite(u)
    assert (u[both] >= e[both]).all(), f"{name}: upper bound below expected in {int((u[both] < e[both]).sum())} rows"
    known = both & np.isfinite(c)
    want = score_on_count_scale(c[known], e[known], u[known])
    got = t["score"].to_numpy(float)[known]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=f"{name}: score is not (y - E)/(U - E)")
    ev = (t["reason"] == "").to_numpy() & known
    sc = t["score"].to_numpy(float)[ev]
    if bound == "above":
        assert np.array_equal(t["alarm"].to_numpy()[ev], sc > 1), f"{name}: alarm is not score > 1"
    elif bound == "at":
        assert np.array_equal(t["alarm"].to_numpy()[ev], sc >= 1), f"{name}: alarm is not score >= 1"


@pytest.mark.parametrize("name", DETECTORS.names())
def test_registered_detector_keeps_the_contract(name: str, panels: dict[str, IncidentPanel]) -> None:
    check_detector(DETECTORS, name, panels)


def test_every_detector_is_declared_completely() -> None:
    for spec in DETECTORS.specs():
        assert spec.labels["zh"] and spec.labels["en"] and spec.summary, spec.name
        assert set(spec.needs.freqs) <= {"D", "W", "M"} and spec.needs.freqs
        assert spec.extra.get("bound") in ("above", "at", None), spec.name
        pop = spec.extra.get("population_option")
        assert pop is None or (spec.option(pop) is not None and spec.option(pop).type is bool)
        for o in spec.options:
            assert o.help and o.type in SAMPLE, (spec.name, o.name)
    assert DEFAULT_METHOD in DETECTORS


def test_declared_defaults_and_choices_are_the_detector_modules_own() -> None:
    # the catalogue names the detectors by reference and writes their defaults out (their modules import
    # scipy, which listing the detectors must not): they must be the modules' own, so they cannot drift
    from riskmodel.alerts import (
        detectors,
        ears,
        farrington,
        farrington_detectors,
        forecast_detector,
        glrnb,
    )

    assert detectors.POWERTRANS == farrington.POWERTRANS
    assert detectors.THRESHOLD_METHODS == farrington.THRESHOLD_METHODS
    assert tuple(detectors._FARRINGTON_OPTIONS) == farrington_detectors.CONTROL_OPTIONS
    for preset, ctl in farrington.PRESETS.items():
        assert detectors.PRESETS[preset] == {k: getattr(ctl, k) for k in farrington_detectors.CONTROL_OPTIONS}
    assert detectors.DEFAULT_BASELINE == ears.DEFAULT_BASELINE
    assert detectors.DEFAULT_C_ARL == glrnb.DEFAULT_C_ARL
    assert detectors.GLR_DEFAULTS == farrington_detectors.GLR_DEFAULTS
    assert detectors.WINDOW_DEFAULTS == farrington_detectors.WINDOW_DEFAULTS
    assert (detectors.DEFAULT_MODEL, detectors.DEFAULT_ALPHA) == (forecast_detector.DEFAULT_MODEL,
                                                                  forecast_detector.DEFAULT_ALPHA)
    assert DETECTORS["farrington"].option("limit54").parse("3,2") == farrington_detectors.parse_limit54("3,2")
    for spec in DETECTORS.specs():
        assert spec.lazy and callable(spec.target), spec.name
        assert spec.target.__name__ == spec.ref.rpartition(":")[2]


# ---------------------------------------------------------------- a new detector: one register call
def toy_detector(task: DetectTask) -> DetectorOutput:
    """Count above the mean of the ``k`` periods before plus 3 Poisson sds (and 1)."""
    k = int(task.options.get("k", 4))
    mon = monitor_rows(task.periods, task.start, task.end, k)
    prev = np.stack([task.y[i - k:i] for i in mon])  # (K, k, S)
    seen = np.isfinite(prev).all(axis=1)
    expected = np.where(seen, np.nansum(prev, axis=1) / k, np.nan)
    upper = expected + 3 * np.sqrt(expected) + 1
    count = task.y[mon]
    with np.errstate(invalid="ignore", divide="ignore"):
        score = (count - expected) / (upper - expected)
    alarm = seen & (np.nan_to_num(count) > np.where(seen, upper, np.inf))
    reason = np.where(seen, "", f"history too short: needs {k} periods").astype(object)
    res = {"expected": expected, "upperbound": upper, "alarm": alarm, "score": score, "reason": reason}
    return DetectorOutput.from_arrays(res, {"k": k}, mon)


TOY = {
    "labels": {"zh": "玩具检测器", "en": "toy detector"},
    "summary": "the count against the mean of the periods before",
    "options": (Option("k", int, 4, "periods averaged", flag="--window"),),
    "needs": Needs(freqs=("W",), freq_reason="the toy is for weekly counts"),
    "bound": "above",
}


def test_a_toy_detector_in_a_fresh_registry_runs_through_detect_and_keeps_the_contract(panels):
    reg: Registry = Registry("spike detector", "--method")
    reg.register("toy", toy_detector, **TOY)
    check_detector(reg, "toy", panels)
    d = detect(panels["W"], "toy", start=_start(panels["W"]), registry=reg, k=6)
    assert d.options == {"k": 6} and d.method == "toy"
    with pytest.raises(InputError, match="valid: toy"):
        detect(panels["W"], "farrington", registry=reg)


@pytest.fixture
def toy() -> Iterator[str]:
    """The toy registered in DETECTORS for one test (and removed after)."""
    DETECTORS.register("toy", toy_detector, **TOY)
    try:
        yield "toy"
    finally:
        DETECTORS._specs.pop("toy", None)  # noqa: SLF001 - registered for this test only


def test_a_toy_registered_in_detectors_is_a_cli_and_config_choice(toy, panels, tmp_path):
    f = tmp_path / "counts.csv"
    c = panels["W"].counts.copy()
    c["period"] = c["period"].dt.strftime("%Y-%m-%d")
    c.to_csv(f, index=False)
    out = tmp_path / "toy.csv"
    start = _start(panels["W"]).date().isoformat()
    assert main(["detect", "--counts", str(f), "--method", toy, "--window", "6", "--start", start,
                 "--out", str(out), "--no-track"]) == 0
    t = pd.read_csv(out)
    assert list(t.columns) == COLUMNS and t["alarm"].any()
    assert main(["detect", "--counts", str(f), "--method", toy, "--b", "3", "--out", str(out), "--no-track"]) == 2
    assert AlertsStepConfig(method=toy, options={"k": 3}).method == toy


# ---------------------------------------------------------------- the adapters take everything from the registry
def test_cli_and_step_take_choices_options_and_default_from_the_registry(capsys) -> None:
    cmd = load_command("detect")
    params = {p.name: p for p in cmd.params}
    assert params["method"].default == DEFAULT_METHOD == AlertsStepConfig().method
    flags = {f for p in cmd.params for f in (*p.opts, *p.secondary_opts)}
    for flag in DETECTORS.options():
        assert flag.split("/")[0] in flags, flag
    assert main(["detect", "--help"]) == 0
    text = capsys.readouterr().out
    assert all(name in text for name in DETECTORS.names())
    with pytest.raises(ValidationError, match="valid: farrington"):
        AlertsStepConfig(method="cusum")
    with pytest.raises(ValidationError, match="unknown option.*glrnb"):
        AlertsStepConfig(method="glrnb", options={"b": 3})
    with pytest.raises(ValidationError, match="valid: 2/3, 1/2, none"):
        AlertsStepConfig(method="farrington", options={"powertrans": "3/4"})
    assert AlertsStepConfig(method="glrnb", options={"M": 5, "theta": 0.5}).options == {"M": 5, "theta": 0.5}
