"""The contract of the index registries: every registered normaliser, weighting method and aggregator.

Like scikit-learn's ``check_estimator``: each test is parametrized over a
registry, so a method is tested by being registered. Generic checks run on
every method (shapes, NaN passing, directions, non-negative weights summing to
1, vectorised batches, a build from a config naming it); the methods shipped
with riskmodel also have known answers (closed forms) that must cover them all.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from riskmodel.errors import ConfigError, InputError
from riskmodel.index.aggregate import aggregate_level
from riskmodel.index.build import build_index, resolve_static_weights
from riskmodel.index.config import parse_config
from riskmodel.index.normalise import normalise
from riskmodel.index.registry import AGGREGATORS, NORMALISERS, WEIGHTS
from riskmodel.index.spec import IndexSpec, effective_weights
from riskmodel.index.uncertainty import rank_uncertainty
from riskmodel.registry import LANGS, Option

# ----------------------------------------------------------------------------- small known data
# 4 units x 3 indicators: the second is "good when low", the third has a missing value
X = np.array([[1.0, 10.0, 2.0],
              [2.0, 20.0, np.nan],
              [4.0, 40.0, 8.0],
              [3.0, 30.0, 4.0]])
D = np.array([1.0, -1.0, 1.0])
TARGETS = np.array([5.0, 5.0, 10.0])  # beyond the best value of each indicator (in its units)
CODES = ["a", "b", "c"]


def _norm(name: str, x: np.ndarray = X, d: np.ndarray = D) -> np.ndarray:
    return normalise(x, d, name, targets=TARGETS, codes=CODES)


def _col_minmax(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return a + (x - np.nanmin(x)) / (np.nanmax(x) - np.nanmin(x)) * (b - a)


def _ranks(y: np.ndarray, method: str = "average") -> np.ndarray:
    out = np.full(y.shape, np.nan)
    for j in range(y.shape[1]):
        ok = ~np.isnan(y[:, j])
        out[ok, j] = pd.Series(y[ok, j]).rank(method=method).to_numpy()
    return out


# The closed form of every normaliser riskmodel ships, on X with directions D.
Y = X * D
KNOWN_NORMALISED = {
    "minmax": np.column_stack([_col_minmax(Y[:, j], 0, 100) for j in range(3)]),
    "zscore": (Y - np.nanmean(Y, axis=0)) / np.nanstd(Y, axis=0, ddof=1),
    "rank": _ranks(Y),
    "prank": (_ranks(Y) - 1) / (np.sum(~np.isnan(Y), axis=0) - 1) * 100,
    "prank_min": (_ranks(Y, "min") - 1) / (np.sum(~np.isnan(Y), axis=0) - 1) * 100,  # COINr's n_prank
    "target": np.minimum((Y - np.nanmin(Y, axis=0)) / (TARGETS * D - np.nanmin(Y, axis=0)), 1.0) * 100,
    "best": np.column_stack([_col_minmax(Y[:, j], 0, 1) for j in range(3)]),
    "ratio": np.column_stack([X[:, 0] / 4, 10 / X[:, 1], X[:, 2] / 8]) * 100,
    "none": Y,
}


# ----------------------------------------------------------------------------- every registry
@pytest.mark.parametrize("registry", [NORMALISERS, WEIGHTS, AGGREGATORS], ids=lambda r: r.family)
def test_every_method_is_declared_completely(registry):
    assert len(registry) > 0
    for spec in registry.specs():
        assert all(spec.labels.get(lang) for lang in LANGS), spec.name
        assert spec.summary, spec.name
        assert callable(spec.target), spec.name
        assert all(isinstance(o, Option) for o in spec.options), spec.name


# ----------------------------------------------------------------------------- normalisers
def test_known_answers_cover_every_shipped_normaliser():
    assert set(KNOWN_NORMALISED) <= set(NORMALISERS.names())
    assert {"minmax", "zscore", "prank", "prank_min", "rank", "target", "best", "ratio", "none"} == set(KNOWN_NORMALISED)


@pytest.mark.parametrize("name", sorted(KNOWN_NORMALISED))
def test_normaliser_known_answer(name):
    np.testing.assert_allclose(_norm(name), KNOWN_NORMALISED[name], rtol=1e-12, atol=1e-12)


def test_normaliser_closed_form_properties():
    mm = _norm("minmax")
    # the worst value of every indicator (direction applied) maps to 0, the best to 100
    assert np.nanmin(mm, axis=0).tolist() == [0.0, 0.0, 0.0] and np.nanmax(mm, axis=0).tolist() == [100.0] * 3
    assert mm[0, 1] == 100.0 and mm[2, 1] == 0.0  # "good when low": the lowest value is the best
    z = _norm("zscore")
    np.testing.assert_allclose(np.nanmean(z, axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(np.nanstd(z, axis=0, ddof=1), 1, atol=1e-12)
    r = _norm("rank")
    assert sorted(r[:, 0]) == [1, 2, 3, 4] and r[0, 1] == 4  # 1 = worst; the lowest "good when low" is best
    z2 = normalise(X, D, "zscore", mean_sd=(100, 10))
    np.testing.assert_allclose(z2, 100 + 10 * z, rtol=1e-12)
    np.testing.assert_allclose(normalise(X, D, "minmax", range=(1, 10)), 1 + mm / 100 * 9, rtol=1e-12)


@pytest.mark.parametrize("name", NORMALISERS.names())
def test_normaliser_shape_nan_and_direction(name):
    out = _norm(name)
    assert out.shape == X.shape
    # NaN passes through, nothing else becomes NaN
    assert np.array_equal(np.isnan(out), np.isnan(X))
    # higher is better: the order of the values follows the direction (ties allowed)
    for j in range(X.shape[1]):
        ok = ~np.isnan(X[:, j])
        order = np.argsort(X[ok, j] * D[j])
        assert np.all(np.diff(out[ok, j][order]) >= 0), (name, j)
    # flipping an indicator's direction reverses its order
    flipped = normalise(X, np.ones(3), name, targets=np.array([5.0, 50.0, 10.0]), codes=CODES)
    assert np.all(np.diff(flipped[:, 1][np.argsort(X[:, 1])]) >= 0)
    assert not np.array_equal(flipped[:, 1], out[:, 1])


@pytest.mark.parametrize("name", NORMALISERS.names())
def test_normaliser_works_column_by_column(name):
    whole = _norm(name)
    for j in range(X.shape[1]):
        one = normalise(X[:, [j]], D[[j]], name, targets=TARGETS[[j]], codes=[CODES[j]])
        np.testing.assert_allclose(one[:, 0], whole[:, j], rtol=1e-12, equal_nan=True)


# ----------------------------------------------------------------------------- aggregators
C = np.array([[10.0, 20.0, 40.0, 5.0],
              [30.0, 30.0, 10.0, 50.0],
              [20.0, 80.0, 60.0, 25.0]])
W = np.array([1.0, 3.0, 2.0, 2.0])
M = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], float)  # children 1-2 -> parent 1, 3-4 -> parent 2


def _hand_mean(f, finv):  # noqa: ANN001, ANN202 - a quasi-arithmetic mean by hand
    out = np.empty((3, 2))
    for q in range(2):
        kids = np.flatnonzero(M[:, q])
        w = W[kids] / W[kids].sum()
        out[:, q] = finv((f(C[:, kids]) * w).sum(axis=1))
    return out


KNOWN_AGGREGATED = {
    "arithmetic": _hand_mean(lambda x: x, lambda m: m),
    "geometric": _hand_mean(np.log, np.exp),
    "harmonic": _hand_mean(lambda x: 1 / x, lambda m: 1 / m),
    "power": _hand_mean(lambda x: x, lambda m: m),  # p = 1 (the default) is the arithmetic mean
    # parent 1: unit 3 beats both (its higher child weighs 3 of 4), unit 2 beats unit 1;
    # parent 2 (equal weights): unit 3 beats unit 1, the other pairs split 1-1 and tie
    "copeland": np.array([[-2.0, -1.0], [0.0, 0.0], [2.0, 1.0]]),
}


def test_known_answers_cover_every_shipped_aggregator():
    assert {"arithmetic", "geometric", "harmonic", "power", "copeland"} == set(KNOWN_AGGREGATED)
    assert set(KNOWN_AGGREGATED) <= set(AGGREGATORS.names())


@pytest.mark.parametrize("name", sorted(KNOWN_AGGREGATED))
def test_aggregator_known_answer(name):
    np.testing.assert_allclose(aggregate_level(C, W, M, name), KNOWN_AGGREGATED[name], rtol=1e-12)


def test_means_are_ordered():
    h, g, a = (aggregate_level(C, W, M, m) for m in ("harmonic", "geometric", "arithmetic"))
    assert np.all(h <= g + 1e-12) and np.all(g <= a + 1e-12)  # harmonic <= geometric <= arithmetic
    p2 = aggregate_level(C, W, M, "power", p=2.0)
    np.testing.assert_allclose(p2, _hand_mean(lambda x: x**2, np.sqrt), rtol=1e-12)
    assert np.all(a <= p2 + 1e-12)
    for p, m in ((0.0, "geometric"), (-1.0, "harmonic")):
        np.testing.assert_allclose(aggregate_level(C, W, M, "power", p=p), aggregate_level(C, W, M, m), rtol=1e-12)
    # equal children: every mean is that value
    same = np.full((2, 4), 7.0)
    for m in ("arithmetic", "geometric", "harmonic"):
        np.testing.assert_allclose(aggregate_level(same, W, M, m), 7.0, rtol=1e-12)


@pytest.mark.parametrize("name", AGGREGATORS.names())
def test_aggregator_contract(name):
    out = aggregate_level(C, W, M, name)
    assert out.shape == (3, 2) and np.all(np.isfinite(out))
    # vectorised: a batch of weights gives each replication's result
    Wb = np.stack([W, W[::-1], np.ones(4)])
    batch = aggregate_level(C, Wb, M, name)
    assert batch.shape == (3, 3, 2)
    for b in range(3):
        np.testing.assert_allclose(batch[b], aggregate_level(C, Wb[b], M, name), rtol=1e-12)
    # weights matter only within their parent: scaling them changes nothing
    np.testing.assert_allclose(aggregate_level(C, 5 * W, M, name), out, rtol=1e-12)
    # a better child value never lowers a unit's score
    up = C.copy()
    up[0, 0] += 100
    assert np.all(aggregate_level(up, W, M, name)[0] >= out[0] - 1e-12)
    # a missing child is dropped (not an error); its parent still gets a score from the others
    miss = C.copy()
    miss[1, 2] = np.nan
    assert np.isfinite(aggregate_level(miss, W, M, name)[1, 1])


# ----------------------------------------------------------------------------- builds from a config
SPEC = pd.DataFrame({
    "indicator": ["i0", "i1", "i2", "i3", "i4", "P", "Q", "Index"],
    "parent": ["P", "P", "P", "Q", "Q", "Index", "Index", ""],
    "direction": [1, -1, 1, 1, -1, 1, 1, 1],
    "weight": [1, 3, 2, 1, 1, 0.4, 0.6, 1],
    "target": [30, 0.1, 30, 30, 0.1, np.nan, np.nan, np.nan],
})
IND = ["i0", "i1", "i2", "i3", "i4"]
DIRS = SPEC["direction"].to_numpy(float)[:5]


def _long(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 12
    vals = {"i0": rng.gamma(3, 2, n) + 0.5, "i1": rng.gamma(2, 1, n) + 0.5, "i2": rng.gamma(4, 1, n) + 0.5,
            "i3": rng.gamma(2, 3, n) + 0.5, "i4": rng.gamma(3, 1, n) + 0.5}
    return pd.DataFrame([{"area_id": f"A{i:02d}", "indicator": k, "value": float(v[i])}
                         for k, v in vals.items() for i in range(n)])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("contract")
    SPEC.to_csv(d / "spec.csv", index=False)
    _long(1).to_csv(d / "long1.csv", index=False)
    _long(2).to_csv(d / "long2.csv", index=False)
    return d


WEIGHT_SETTINGS = {  # what a method needs besides its name
    "expert": {"values": {"i0": 2.0, "i1": 1.0, "i2": 1.0, "i3": 3.0, "i4": 1.0, "P": 0.7, "Q": 0.3}},
    "ahp": {"ahp": [{"parent": "Index", "codes": ["P", "Q"], "matrix": [[1, 3], [1 / 3, 1]]}]},
}


def _cfg(files, data="long1.csv", **sections):
    raw = {"data": {"indicators": str(files / data), "spec": str(files / "spec.csv")}}
    raw.update(sections)
    return parse_config(raw)


def _within(res) -> pd.Series:  # noqa: ANN001
    return res.weights.set_index("code")["within_parent"]


@pytest.mark.parametrize("name", NORMALISERS.names())
def test_every_normaliser_builds_from_a_config(files, name):
    res = build_index(_cfg(files, steps={"normalise": {"method": name}}))
    assert res.log["normalise"] == res.config.steps.normalise.label()
    x = res.stages["normalised"][IND].to_numpy()
    raw = res.inputs.prepared.data.values[IND].to_numpy(float)
    np.testing.assert_array_equal(x, normalise(raw, DIRS, name, targets=SPEC["target"].to_numpy(float)[:5]))
    assert len(res.index) == 12


@pytest.mark.parametrize("name", AGGREGATORS.names())
def test_every_aggregator_builds_from_a_config(files, name):
    res = build_index(_cfg(files, steps={"normalise": {"method": "minmax", "range": [1, 100]},
                                         "aggregate": {"method": name}}))
    assert res.log["aggregate"] == res.config.steps.aggregate.label()
    assert np.all(np.isfinite(res.levels[-1]))
    lv = res.levels
    np.testing.assert_allclose(lv[2], aggregate_level(lv[1], _within(res)[["P", "Q"]].to_numpy(), np.ones((2, 1)),
                                                      name), rtol=1e-12)


@pytest.mark.parametrize("name", WEIGHTS.names())
def test_every_weighting_method_builds_nonnegative_weights_summing_to_one(files, name):
    res = build_index(_cfg(files, weights={"method": name, **WEIGHT_SETTINGS.get(name, {})}))
    assert res.log["weights"] == name
    w = res.weights.set_index("code")
    assert (w["within_parent"] >= 0).all()
    sums = w.loc[w["parent"] != ""].groupby("parent")["within_parent"].sum()
    np.testing.assert_allclose(sums, 1.0, rtol=1e-12)
    assert w.loc[IND, "effective"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("name", WEIGHTS.names())
def test_data_driven_weights_follow_the_data_and_static_ones_do_not(files, name):
    kw = {"method": name, **WEIGHT_SETTINGS.get(name, {})}
    a = _within(build_index(_cfg(files, "long1.csv", weights=kw)))
    b = _within(build_index(_cfg(files, "long2.csv", weights=kw)))
    if WEIGHTS[name].needs.data:
        assert not np.allclose(a[IND], b[IND])
    else:
        pd.testing.assert_series_equal(a, b)
        # a static method does not look at the data at all: the spec alone gives its weights
        spec, _ = resolve_static_weights(_cfg(files, weights=kw), IndexSpec.from_table(SPEC, source="spec"))
        np.testing.assert_allclose(effective_weights(spec).set_index("code")["within_parent"].reindex(a.index), a,
                                   rtol=1e-12)


@pytest.mark.parametrize("name", [n for n in WEIGHTS.names() if WEIGHTS[n].needs.data])
def test_data_driven_weight_target_signature(name):
    x = np.abs(X[[0, 2, 3]]) + np.array([0.0, 1.0, 0.5])
    w = WEIGHTS[name].target(x, D, codes=CODES, **{o.name: o.default for o in WEIGHTS[name].options})
    assert w.shape == (3,) and np.all(w >= 0) and w.sum() == pytest.approx(1.0)


# ----------------------------------------------------------------------------- config generated from the registries
@pytest.mark.parametrize("key, registry", [("normalise", NORMALISERS), ("aggregate", AGGREGATORS)])
def test_config_accepts_exactly_the_registered_names(files, key, registry):
    for name in registry.names():
        _cfg(files, steps={key: {"method": name}})
    with pytest.raises(ConfigError, match=f"steps.{key}.method.*unknown value 'nope'.*{registry.names()[0]}"):
        _cfg(files, steps={key: {"method": "nope"}})
    with pytest.raises(ConfigError, match="weights.method.*unknown value 'nope'"):
        _cfg(files, weights={"method": "nope"})


def test_a_key_no_method_reads_is_refused(files):
    with pytest.raises(ConfigError, match=r"steps.normalise.*unknown key\(s\) slope.*minmax"):
        _cfg(files, steps={"normalise": {"method": "minmax", "slope": 2}})


# ----------------------------------------------------------------------------- a new method, registered in a test
def logistic(x: np.ndarray, directions: np.ndarray, *, slope: float = 1.0) -> np.ndarray:
    """A toy normaliser: the logistic of the z-score, times 100."""
    y = np.asarray(x, float) * np.asarray(directions, float)
    z = (y - np.nanmean(y, axis=0)) / np.nanstd(y, axis=0, ddof=1)
    return 100 / (1 + np.exp(-slope * z))


@pytest.fixture
def toy_normaliser(monkeypatch):
    monkeypatch.setattr(NORMALISERS, "_specs", dict(NORMALISERS._specs))  # unregistered after the test
    NORMALISERS.register("logistic", logistic, labels={"zh": "逻辑斯蒂变换", "en": "logistic"},
                         summary="100 / (1 + exp(-slope z))", options=(Option("slope", float, 1.0, "steepness"),),
                         describe=lambda o: f"logistic({o['slope']:g})")
    return "logistic"


def test_a_registered_toy_normaliser_is_accepted_and_used_without_other_edits(files, toy_normaliser):
    cfg = _cfg(files, steps={"normalise": {"method": "logistic", "slope": 2}},
               sensitivity={"normalise": ["minmax", {"method": "logistic", "slope": 0.5}], "weights_noise": 0.1})
    assert cfg.steps.normalise.options() == {"slope": 2.0}
    res = build_index(cfg)
    raw = res.inputs.prepared.data.values[IND].to_numpy(float)
    exp = logistic(raw, DIRS, slope=2.0)
    np.testing.assert_allclose(res.stages["normalised"][IND].to_numpy(), exp, rtol=1e-12)
    assert res.log["normalise"] == "logistic(2)"
    # and the sensitivity analysis takes it as an alternative
    u = rank_uncertainty(res, n=40, seed=1)
    assert set(u.failures["normalise"]) == {"minmax[0,100]", "logistic(0.5)"} and u.n_failed == 0
    # its option is typed and refused on other methods
    with pytest.raises(ConfigError, match="slope"):
        _cfg(files, steps={"normalise": {"method": "logistic", "slope": "steep"}})
    with pytest.raises(ConfigError, match=r"unknown key\(s\) slope"):
        _cfg(files, steps={"normalise": {"method": "zscore", "slope": 2}})


def test_an_unknown_method_through_the_api_names_the_valid_ones():
    with pytest.raises(InputError, match="unknown value 'nope' for steps.normalise.method; valid: minmax"):
        normalise(X, D, "nope")
    with pytest.raises(InputError, match="unknown value 'nope' for steps.aggregate.method; valid: arithmetic"):
        aggregate_level(C, W, M, "nope")
    assert math.isclose(aggregate_level(C, W, M, "power", p=1.0)[0, 0], aggregate_level(C, W, M, "arithmetic")[0, 0])
