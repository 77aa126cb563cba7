"""The registry every method family is built on (riskmodel.registry)."""

from __future__ import annotations

import pytest

from riskmodel.errors import InputError
from riskmodel.registry import Needs, Option, Registry


def _reg() -> Registry:
    r = Registry("toy method", "--method")
    r.register("a", len, labels={"zh": "甲", "en": "alpha"}, summary="first",
               options=(Option("k", int, 3, "how many"), Option("mode", str, "x", "mode", choices=("x", "y"))))
    r.register("b", str, labels={"zh": "乙", "en": "beta"}, needs=Needs(freqs=("W", "M"), freq_reason="it needs weeks"),
               options=(Option("k", int, 5, "how many"),))
    return r


def test_register_keeps_order_and_declarations() -> None:
    r = _reg()
    assert r.names() == ("a", "b") and list(r) == ["a", "b"] and len(r) == 2 and "a" in r
    assert r["a"].target is len and r["a"].option("k").default == 3
    assert r.label("b", "zh") == "乙" and r.label("b") == "beta" and r.label("zzz") == "zzz"
    assert r.choices_help() == "a or b"
    assert r.options() == {"--k": [("a", r["a"].option("k")), ("b", r["b"].option("k"))],
                           "--mode": [("a", r["a"].option("mode"))]}


def test_register_refuses_a_second_name_missing_labels_and_repeated_options() -> None:
    r = _reg()
    with pytest.raises(ValueError, match="registered twice"):
        r.register("a", len, labels={"zh": "x", "en": "x"})
    with pytest.raises(ValueError, match="labels need zh"):
        r.register("c", len, labels={"en": "gamma"})
    with pytest.raises(ValueError, match="declared twice"):
        r.register("d", len, labels={"zh": "x", "en": "x"}, options=(Option("k"), Option("k")))


def test_unknown_names_frequencies_and_options_are_refused_with_the_valid_ones() -> None:
    r = _reg()
    with pytest.raises(InputError, match=r"unknown value 'c' for --method; valid: a, b"):
        r.get("c")
    with pytest.raises(InputError, match="toy method 'b' refuses daily data: it needs weeks"):
        r.check("b", freq="D")
    assert r.check("b", freq="W").name == "b"
    with pytest.raises(InputError, match=r"unknown option\(s\) z for toy method 'a'; valid: k, mode"):
        r.check_options("a", {"z": 1})
    with pytest.raises(InputError, match="unknown value 'q' for --mode of a; valid: x, y"):
        r.check_options("a", {"mode": "q"})
    assert r.check_options("a", {"k": 7, "mode": "y"}) == {"k": 7, "mode": "y"}


def test_every_family_registry_is_filled_and_labelled() -> None:
    from riskmodel.alerts.registry import DETECTORS
    from riskmodel.forecast.registry import MODELS, RECONCILERS
    from riskmodel.hotspots.registry import RANKERS
    from riskmodel.impact.registry import METHODS
    from riskmodel.index.registry import AGGREGATORS, NORMALISERS, WEIGHTS

    for reg in (MODELS, RECONCILERS, DETECTORS, METHODS, NORMALISERS, WEIGHTS, AGGREGATORS, RANKERS):
        assert len(reg) >= 3, reg
        for spec in reg.specs():
            assert spec.labels["zh"] and spec.labels["en"], (reg.family, spec.name)
